import uWS, { type TemplatedApp, type us_listen_socket } from './uws.ts';

export function createApp(): TemplatedApp {
  return uWS.App();
}

/** Resolves with the bound port; rejects when uWS reports failure (it does not throw). */
export function listen(app: TemplatedApp, host: string, port: number): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket: us_listen_socket | false) => {
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
