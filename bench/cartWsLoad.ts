/**
 * A WebSocket cart load for bench:cart: `connections` sockets, one buyer each, each keeping
 * `window` add-to-carts in flight (a fresh idempotency key each) until the deadline. Counts the
 * answers by status and samples request-to-answer latency. Runs in the bench's own process.
 */
import { decode, encode } from '../protocol/src/codec.ts';
import { PROTOCOL_VERSION } from '../protocol/src/messages.ts';
import { summarizeLatency } from './stats.ts';
import { connectWebSocket, FrameSplitter, maskedFrame, OP_BINARY } from './wsClient.ts';

export interface WsCartLoadOptions {
  host: string;
  port: number;
  room: string;
  sku: string;
  tokens: readonly string[];
  connections: number;
  window: number;
  seconds: number;
}

export interface WsCartLoadResult {
  /** Answers in all, the ones that came after the deadline included (what the server's CPU was spent on). */
  answered: number;
  /** Answers per second before the deadline. */
  reqPerSec: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

interface Buyer {
  send(frame: Buffer): void;
  sentAt: Map<number, number>;
  nextId: number;
}

/** Runs the load; resolves once every socket's last answer is in (or 5 s after the deadline). */
export async function wsCartLoad(o: WsCartLoadOptions): Promise<WsCartLoadResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let answered = 0;
  let answeredInTime = 0;
  let inFlight = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  const readBuffer = Buffer.allocUnsafe(256 * 1024);
  let keyCounter = 0;
  let drained: (() => void) | undefined;

  const request = (buyer: Buyer): void => {
    const id = buyer.nextId++;
    buyer.sentAt.set(id, performance.now());
    inFlight++;
    buyer.send(maskedFrame(OP_BINARY, encode({ t: 'addToCart', id, key: `w${keyCounter++}`, sku: o.sku, quantity: 1 })));
  };

  const buyers = await Promise.all(Array.from({ length: o.connections }, async (_, c) => {
    let welcomed: (() => void) | undefined;
    const welcome = new Promise<void>((resolve) => (welcomed = resolve));
    const buyer: Buyer = { send: () => undefined, sentAt: new Map(), nextId: 1 };
    const splitter = new FrameSplitter((opcode, buf, start, len) => {
      if (opcode !== OP_BINARY) return;
      const message = decode(buf.subarray(start, start + len)) as { t: string; id?: number; code?: number; result?: { status?: string } };
      if (message.t === 'welcome') {
        welcomed?.();
        return;
      }
      if ((message.t !== 'ok' && message.t !== 'err') || message.id === undefined) return;
      const sent = buyer.sentAt.get(message.id);
      if (sent === undefined) return;
      buyer.sentAt.delete(message.id);
      inFlight--;
      answered++;
      latencies.push(performance.now() - sent);
      const status = message.t === 'ok' ? String(message.result?.status) : `err ${message.code}`;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (performance.now() < stopAt) {
        answeredInTime++;
        request(buyer);
      } else if (inFlight === 0) drained?.();
    });
    const socket = await connectWebSocket({ host: o.host, port: o.port, readBuffer }, (buf, n) => splitter.push(buf, n));
    buyer.send = (frame) => void socket.write(frame);
    buyer.send(maskedFrame(OP_BINARY, encode({ t: 'hello', id: 0, v: PROTOCOL_VERSION, token: o.tokens[c % o.tokens.length]!, room: o.room })));
    await welcome;
    return { buyer, socket };
  }));

  const started = performance.now();
  stopAt = started + o.seconds * 1000;
  for (const { buyer } of buyers) for (let i = 0; i < o.window; i++) request(buyer);
  await new Promise<void>((resolve) => {
    drained = resolve;
    setTimeout(resolve, o.seconds * 1000 + 5000);
  });
  const elapsed = (Math.min(performance.now(), stopAt) - started) / 1000;
  for (const { socket } of buyers) socket.destroy();
  const summary = summarizeLatency(Float64Array.from(latencies));
  return { answered, reqPerSec: answeredInTime / elapsed, p50: summary.p50, p99: summary.p99, statuses };
}
