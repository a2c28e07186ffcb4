/**
 * A minimal WebSocket client over raw `net` sockets (RFC 6455), built for a load generator:
 * an HTTP upgrade handshake, masked client frames, and a frame splitter that only reads headers.
 * Server frames are never masked, so payloads are handed out as views of the receive buffer.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One masked client frame (FIN set). `mask` may be given for tests; it is random otherwise. */
export function maskedFrame(opcode: number, payload: Uint8Array, mask: Uint8Array = randomBytes(4)): Buffer {
  const len = payload.length;
  const headerLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLen + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  out.set(mask.subarray(0, 4), headerLen);
  const body = headerLen + 4;
  for (let i = 0; i < len; i++) out[body + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export function upgradeRequest(host: string, port: number, path: string): string {
  const key = randomBytes(16).toString('base64');
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** Called once per complete frame; `payload` is a view valid only during the call. */
export type FrameHandler = (opcode: number, buf: Buffer, payloadStart: number, payloadLen: number) => void;

/**
 * Splits a byte stream into WebSocket frames. Only a frame cut by a read boundary is copied
 * (into a small carry buffer); everything else is handled in place.
 */
export class FrameSplitter {
  private carry: Buffer | null = null;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Total length (header + payload) of the frame at `off`, or -1 when its header is incomplete. */
  private static frameLength(buf: Buffer, off: number, end: number): number {
    if (end - off < 2) return -1;
    const len7 = buf[off + 1]! & 0x7f;
    const masked = (buf[off + 1]! & 0x80) !== 0 ? 4 : 0;
    if (len7 < 126) return 2 + masked + len7;
    if (len7 === 126) return end - off < 4 ? -1 : 4 + masked + buf.readUInt16BE(off + 2);
    if (end - off < 10) return -1;
    return 10 + masked + buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
  }

  private emit(buf: Buffer, off: number, total: number): void {
    const len7 = buf[off + 1]! & 0x7f;
    const header = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    this.onFrame(buf[off]! & 0x0f, buf, off + header, total - header);
  }

  /** Feeds `n` bytes of `buf`. The buffer may be reused by the caller after this returns. */
  push(buf: Buffer, n: number): void {
    let off = 0;
    if (this.carry !== null) {
      // Finish the frame that the previous read cut, copying only its bytes.
      let carry = this.carry;
      let used = 0;
      let total = FrameSplitter.frameLength(carry, 0, carry.length);
      if (total < 0) {
        used = Math.min(n, 14 - carry.length); // a header is at most 14 bytes
        carry = Buffer.concat([carry, buf.subarray(0, used)]);
        total = FrameSplitter.frameLength(carry, 0, carry.length);
        if (total < 0) {
          this.carry = carry;
          return;
        }
      }
      if (carry.length >= total) {
        this.carry = null;
        this.emit(carry, 0, total);
        off = used - (carry.length - total);
      } else {
        const need = total - carry.length;
        if (used + need > n) {
          this.carry = Buffer.concat([carry, buf.subarray(used, n)]);
          return;
        }
        this.carry = null;
        this.emit(Buffer.concat([carry, buf.subarray(used, used + need)]), 0, total);
        off = used + need;
      }
    }
    while (off < n) {
      const total = FrameSplitter.frameLength(buf, off, n);
      if (total < 0 || off + total > n) {
        this.carry = Buffer.from(buf.subarray(off, n)); // copy: the caller reuses `buf`
        return;
      }
      this.emit(buf, off, total);
      off += total;
    }
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  path?: string;
  localAddress?: string;
  /** Source port (with `localAddress`): a chosen port binds at once, where the kernel's search for a free one slows down past a few thousand sockets per address. */
  localPort?: number;
  /** Shared receive buffer (reads are synchronous, so many sockets can share one). */
  readBuffer?: Buffer;
  timeoutMs?: number;
}

/**
 * Opens a TCP connection and performs the WebSocket upgrade. Resolves with the socket and a
 * `feed` setter: bytes after the 101 response go to whatever handler is installed.
 */
export function connectWebSocket(
  opts: ConnectOptions,
  onBytes: (buf: Buffer, n: number) => void,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let upgraded = false;
    let head = '';
    const readBuffer = opts.readBuffer ?? Buffer.allocUnsafe(64 * 1024);
    const timer = setTimeout(() => fail(new Error('upgrade timeout')), opts.timeoutMs ?? 15_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.localPort ? { localPort: opts.localPort } : {}),
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          const b = buf as Buffer;
          if (upgraded) {
            onBytes(b, n);
            return true;
          }
          head += b.toString('latin1', 0, n);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > 16_384) fail(new Error('oversized upgrade response'));
            return true;
          }
          if (!/^HTTP\/1\.1 101 /.test(head)) {
            const retryAfter = /\r\nRetry-After: *(\d+)/i.exec(head)?.[1];
            fail(new Error(`upgrade refused: ${head.slice(0, head.indexOf('\r\n'))}${retryAfter === undefined ? '' : ` (Retry-After: ${retryAfter})`}`));
            return false;
          }
          upgraded = true;
          clearTimeout(timer);
          const rest = Buffer.from(head.slice(end + 4), 'latin1');
          head = '';
          resolve(socket);
          if (rest.length > 0) onBytes(rest, rest.length);
          return true;
        },
      },
    });
    socket.once('connect', () => socket.write(upgradeRequest(opts.host, opts.port, opts.path ?? '/ws')));
    socket.on('error', (error) => {
      if (!upgraded) fail(error);
    });
  });
}
