/**
 * The little of the WebSocket API the client uses, satisfied by the browser's `WebSocket` and by
 * the `ws` package. Handlers are typed `(event: never) => void` so that both implementations'
 * handler properties are assignable; the client assigns handlers typed with the `*EventLike`
 * shapes below.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface MessageEventLike {
  readonly data: unknown;
}
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}
export interface ErrorEventLike {
  readonly message?: string;
  readonly error?: unknown;
}

/** `readyState` of an open socket (same value in browsers and `ws`). */
export const WS_OPEN = 1;

/**
 * The WebSocket implementation to use: the caller's, else `globalThis.WebSocket` (browsers, Node
 * 22+), else the `ws` package, imported lazily so a browser bundle never needs it.
 */
export async function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (native) return native;
  const mod = await import('ws');
  const WebSocket: unknown = mod.WebSocket ?? mod.default;
  if (typeof WebSocket !== 'function') throw new Error('no WebSocket implementation: pass one as the `WebSocket` option');
  return WebSocket as WebSocketConstructor;
}

/** The bytes of a binary message (`ArrayBuffer` with binaryType 'arraybuffer', or any byte view), else undefined. */
export function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
