import uWS, { type TemplatedApp, type us_listen_socket } from './uws.ts';

export function createApp(): TemplatedApp {
  return uWS.App();
}

/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT: without it uWS sets SO_REUSEPORT, and a second node on a busy port starts and takes part of its clients silently. */
const EXCLUSIVE_PORT = 1;
/** The native `listen(host, port, options, cb)`, which the package's typings leave out. */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

/** Resolves with the bound port; rejects when uWS reports failure (it does not throw). */
export function listen(app: TemplatedApp, host: string, port: number): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    (app.listen as unknown as ListenWithOptions).call(app, host, port, EXCLUSIVE_PORT, (socket: us_listen_socket | false) => {
      if (socket === false) {
        reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
        return;
      }
      let open = true;
      resolve({
        port: uWS.us_socket_local_port(socket),
        close: () => {
          if (open) uWS.us_listen_socket_close(socket);
          open = false;
        },
      });
    });
  });
}
