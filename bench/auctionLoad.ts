/**
 * Auction-bench load-generator child process: holds a share of the big room's viewers (raw `net`
 * WebSockets), places the bids and giveaway entries it is told to at their drawn moments (retrying
 * temporary errors with the same key, as the SDK does), and records every answer with its latency
 * and the room's `auctionEnded` events each viewer heard.
 *
 * Driven by auction.ts over IPC (`IpcChild`); pinned to the load core.
 */
import type net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { decode, encode } from '../protocol/src/codec.ts';
import { frameType } from './frameType.ts';
import { FrameSplitter, OP_BINARY, OP_PING, OP_PONG, connectWebSocket, maskedFrame } from './wsClient.ts';

/** One bid to place: by `userId`, `delayMs` after the burst's start. */
export interface BidPlan {
  readonly userId: string;
  readonly amountCents: number;
  readonly max: boolean;
  readonly delayMs: number;
}

/** One giveaway entry to send (a user may tap twice: a second key, the same user). */
export interface EntryPlan {
  readonly userId: string;
  readonly delayMs: number;
  readonly tap: number;
}

/** A request's outcome: its final answer (`ok` result or a final error code), or none within the timeout. */
export interface Answered {
  readonly userId: string;
  /** The `ok` frame's result, when it came. */
  readonly result?: Record<string, unknown>;
  /** The final error code (after temporary errors' retries ran out), when it came. */
  readonly error?: string;
  /** No answer within the request timeout. */
  readonly timedOut?: true;
  /** From the first send to the final answer, ms. */
  readonly latencyMs: number;
  /** From the first send to the first answer (a temporary error with its retry-after included), ms. */
  readonly firstMs: number;
  readonly retries: number;
}

export type ToAuctionLoad =
  | { t: 'start'; host: string; port: number; secret: string; localAddress: string; room: string; userIds: string[] }
  | { t: 'bids'; startAt: number; auctionId: string; bids: BidPlan[] }
  | { t: 'entries'; startAt: number; giveawayId: string; entries: EntryPlan[] }
  | { t: 'report' };

export type FromAuctionLoad =
  /** `joinedIds`: the users whose viewer joined (the others get no bids or entries to send). */
  | { t: 'ready'; joined: number; joinedIds: string[]; failed: number; errors: string[] }
  | { t: 'bidsDone'; answers: Array<Answered & BidPlan>; sendLateMs: number[]; loopDelay: { p99: number; max: number } }
  | { t: 'entriesDone'; answers: Array<Answered & EntryPlan>; sendLateMs: number[]; loopDelay: { p99: number; max: number } }
  | { t: 'report'; endedHeard: number[]; ended: Record<string, unknown> | undefined; closed: number };

/** A request unanswered this long counts as not answered. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Temporary errors are retried (same key) until this long after the first send. */
const RETRY_FOR_MS = 20_000;

const send = (message: FromAuctionLoad, then?: () => void): void => {
  process.send?.(message, undefined, {}, () => then?.());
};

class Viewer {
  socket: net.Socket | undefined;
  nextId = 1;
  readonly pending = new Map<number, (frame: Record<string, unknown>) => void>();
  welcomed: ((ok: boolean) => void) | undefined;
  /** `auctionEnded` events heard. */
  ended = 0;
  constructor(readonly userId: string) {}

  request(body: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.socket?.write(maskedFrame(OP_BINARY, encode({ ...body, id })));
    });
  }
}

const viewers = new Map<string, Viewer>();
const readBuffer = Buffer.allocUnsafe(256 * 1024);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let lastEnded: Record<string, unknown> | undefined;
let closed = 0;

function onFrame(viewer: Viewer, opcode: number, buf: Buffer, start: number, length: number): void {
  if (opcode === OP_PING) {
    viewer.socket?.write(maskedFrame(OP_PONG, buf.subarray(start, start + length)));
    return;
  }
  if (opcode !== OP_BINARY) return;
  const type = frameType(buf, start);
  if (type === 'auctionEnded') {
    viewer.ended++;
    lastEnded ??= decode(buf.subarray(start, start + length)) as Record<string, unknown>;
    return;
  }
  if (type !== 'ok' && type !== 'err' && type !== 'welcome') return;
  const frame = decode(buf.subarray(start, start + length)) as Record<string, unknown>;
  if (type === 'welcome') {
    viewer.welcomed?.(true);
    return;
  }
  const resolve = viewer.pending.get(frame.id as number);
  if (resolve === undefined) return;
  viewer.pending.delete(frame.id as number);
  resolve(frame);
}

async function join(viewer: Viewer, message: Extract<ToAuctionLoad, { t: 'start' }>, token: string): Promise<void> {
  const splitter = new FrameSplitter((opcode, buf, start, length) => onFrame(viewer, opcode, buf, start, length));
  viewer.socket = await connectWebSocket({ host: message.host, port: message.port, localAddress: message.localAddress, readBuffer, timeoutMs: 30_000 }, (buf, n) => splitter.push(buf, n));
  viewer.socket.on('close', () => closed++);
  viewer.socket.on('error', () => undefined);
  const welcomed = new Promise<boolean>((resolve) => {
    viewer.welcomed = resolve;
    setTimeout(() => resolve(false), 30_000).unref();
  });
  viewer.socket.write(maskedFrame(OP_BINARY, encode({ t: 'hello', id: 0, v: 1, token, room: message.room })));
  if (!(await welcomed)) throw new Error('no welcome');
}

async function start(message: Extract<ToAuctionLoad, { t: 'start' }>): Promise<void> {
  // One imported key for all tokens: jose re-imports raw bytes on every sign.
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(message.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < message.userIds.length) {
      const userId = message.userIds[next++]!;
      const viewer = new Viewer(userId);
      try {
        // The display name is the user id: the room's auction card names its leader by it.
        const token = await new SignJWT({ name: userId, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('2h').sign(key);
        await join(viewer, message, token);
        viewers.set(userId, viewer);
      } catch (error) {
        viewer.socket?.destroy();
        failed++;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  send({ t: 'ready', joined: viewers.size, joinedIds: [...viewers.keys()], failed, errors });
}

/** Sends `body` (with a fixed key) until a final answer, retrying temporary errors after their retry-after. */
async function answerOf(viewer: Viewer, body: Record<string, unknown>): Promise<Answered> {
  const sentAt = Date.now();
  let retries = 0;
  let firstMs = Number.NaN;
  for (;;) {
    const reply = await viewer.request(body, Math.max(1, sentAt + REQUEST_TIMEOUT_MS - Date.now()));
    const latencyMs = Date.now() - sentAt;
    if (retries === 0) firstMs = latencyMs;
    if (reply === undefined) return { userId: viewer.userId, timedOut: true, latencyMs, firstMs, retries };
    if (reply.t === 'ok') return { userId: viewer.userId, result: reply.result as Record<string, unknown>, latencyMs, firstMs, retries };
    if (reply.temporary !== true || Date.now() > sentAt + RETRY_FOR_MS) return { userId: viewer.userId, error: String(reply.code), latencyMs, firstMs, retries };
    retries++;
    await new Promise((r) => setTimeout(r, Math.min(Number(reply.retryAfterMs ?? 500), 5000) + Math.random() * 200));
  }
}

/** Runs `plans` at their moments from `startAt`; each one's request is `bodyOf(plan)`. */
async function burst<P extends { userId: string; delayMs: number }>(startAt: number, plans: readonly P[], bodyOf: (plan: P) => Record<string, unknown>): Promise<{ answers: Array<Answered & P>; sendLateMs: number[]; loopDelay: { p99: number; max: number } }> {
  const sendLateMs: number[] = [];
  loopDelay.reset();
  const answers = await Promise.all(plans.map(async (plan): Promise<Answered & P> => {
    const due = startAt + plan.delayMs;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    sendLateMs.push(Date.now() - due);
    const viewer = viewers.get(plan.userId);
    if (viewer === undefined) return { ...plan, userId: plan.userId, error: 'NOT_JOINED', latencyMs: 0, firstMs: 0, retries: 0 };
    return { ...plan, ...(await answerOf(viewer, bodyOf(plan))) };
  }));
  return { answers, sendLateMs, loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } };
}

process.on('message', (message: ToAuctionLoad) => {
  const fail = (error: unknown) => process.send?.({ t: 'error', message: (error as Error).stack ?? String(error) });
  switch (message.t) {
    case 'start':
      start(message).catch(fail);
      break;
    case 'bids':
      burst(message.startAt, message.bids, (bid) => ({ t: 'bid', key: `${bid.userId}-bid`, auctionId: message.auctionId, amountCents: bid.amountCents, ...(bid.max ? { max: true } : {}) }))
        .then((done) => send({ t: 'bidsDone', ...done }), fail);
      break;
    case 'entries':
      burst(message.startAt, message.entries, (entry) => ({ t: 'enterGiveaway', key: `${entry.userId}-enter-${entry.tap}`, giveawayId: message.giveawayId }))
        .then((done) => send({ t: 'entriesDone', ...done }), fail);
      break;
    case 'report': {
      const endedHeard = [...viewers.values()].map((v) => v.ended);
      for (const v of viewers.values()) v.socket?.destroy();
      send({ t: 'report', endedHeard, ended: lastEnded, closed }, () => process.exit(0));
      break;
    }
  }
});
process.on('disconnect', () => process.exit(0));
