/**
 * The one place that imports uWebSockets.js, so swapping the build is a one-line change.
 * The registry build used here falls back *silently* to a slow JS stand-in when its native binary
 * cannot load; refuse to start instead of serving at a fraction of the speed.
 */
import uWS from '@trufflesuite/uws-js-unofficial';

if (typeof uWS.SSLApp !== 'function' || typeof uWS.us_socket_local_port !== 'function') {
  throw new Error(
    'uWebSockets.js native binary did not load (the package fell back to its JS stand-in). ' +
      `livecart needs the native build for Node ${process.versions.node} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}.`,
  );
}

export default uWS;
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
