/**
 * Double-11 load-generator child process: holds a share of the viewers (raw `net` WebSockets),
 * measures comment delivery latency per phase, taps add-to-cart on command (retrying temporary
 * errors with the same key, as the SDK does), then checks out what it reserved.
 *
 * Driven by double11.ts over IPC; run as `taskset -c 1 node --import tsx bench/double11Load.ts`.
 */
import type net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { decode, encode } from '../protocol/src/codec.ts';
import { frameType } from './frameType.ts';
import { FrameSplitter, OP_BINARY, OP_PING, OP_PONG, connectWebSocket, maskedFrame } from './wsClient.ts';

export interface ViewerSpec {
  readonly userId: string;
  readonly room: string;
  /** Big-room comments are sampled 1 in `sample` per viewer to keep the generator light. */
  readonly sample: number;
}

export type ToLoad =
  | { t: 'start'; host: string; port: number; secret: string; localAddress: string; viewers: ViewerSpec[] }
  | { t: 'phase'; name: string }
  | { t: 'burst'; startAt: number; windowMs: number; sku: string; room: string; tripleEvery: number }
  | { t: 'checkout' }
  | { t: 'report' };

export type FromLoad =
  | { t: 'ready'; joined: number; failed: number; errors: string[] }
  | { t: 'burstDone'; taps: number; soldOutHeardMs: number[]; firstReplyMs: number[]; finalMs: number[]; sendLateMs: number[]; finals: Record<string, number>; retries: number; queuedFrames: number; reservedViewers: number; heldUnits: number; sentPerSecond: Record<number, number>; answeredPerSecond: Record<number, number> }
  | { t: 'checkoutDone'; ordered: number; units: number; other: Record<string, number> }
  /** Comment samples as [sent at (epoch ms), latency ms] by room kind; the orchestrator sorts them into phases by send time. */
  | { t: 'report'; samples: Record<'big' | 'small', Array<[number, number]>>; frames: number; closed: number; closeCodes: Record<string, number>; loopDelayMs: Record<string, { p99: number; max: number }> };

const send = (message: FromLoad, then?: () => void) => process.send?.(message, undefined, {}, () => then?.());

interface Pending {
  resolve: (frame: Record<string, unknown>) => void;
}

class Viewer {
  socket: net.Socket | undefined;
  nextId = 1;
  readonly pending = new Map<number, Pending>();
  sampleCounter = 0;
  welcomed: ((ok: boolean) => void) | undefined;
  held = 0;
  /** Skus the room announced sold out: like the SDK, the client answers those taps itself. */
  readonly soldOut = new Set<string>();
  /** Skus a `sold_out` answer told this client about: the SDK answers later taps on them itself too (LivecartClient#markSoldOut). */
  readonly answeredSoldOut = new Set<string>();
  /** When the room's first sold-out announcement arrived (epoch ms). */
  soldOutAt = 0;
  /** A tap's final status by sku while it is still waiting for it: like the SDK, a repeat tap joins it instead of sending a frame (LivecartClient#addToCart). */
  readonly pendingTaps = new Map<string, Promise<string>>();
  constructor(readonly spec: ViewerSpec) {}

  request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.socket?.write(maskedFrame(OP_BINARY, encode({ ...body, id })));
    });
  }
}

const samples: Record<'big' | 'small', Array<[number, number]>> = { big: [], small: [] };
// This process's own event-loop delay per phase: a latency sample it took late is its delay, not the server's.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const loopDelayMs: Record<string, { p99: number; max: number }> = {};
let phase = 'setup';
function enterPhase(name: string): void {
  loopDelayMs[phase] = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  loopDelay.reset();
  phase = name;
}
let frames = 0;
let closed = 0;
const closeCodes: Record<string, number> = {};
let queuedFrames = 0;
const viewers: Viewer[] = [];
const readBuffer = Buffer.allocUnsafe(256 * 1024);

function onFrame(viewer: Viewer, opcode: number, buf: Buffer, start: number, length: number): void {
  if (opcode === OP_PING) {
    viewer.socket?.write(maskedFrame(OP_PONG, buf.subarray(start, start + length)));
    return;
  }
  if (opcode === 0x8) {
    const code = length >= 2 ? buf.readUInt16BE(start) : 1005;
    closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    return;
  }
  if (opcode !== OP_BINARY) return;
  frames++;
  const type = frameType(buf, start);
  if (type === 'comment') {
    if (viewer.sampleCounter++ % viewer.spec.sample !== 0) return;
    const event = decode(buf.subarray(start, start + length)) as { text: string };
    const sentAt = Number(/t=(\d+)/.exec(event.text)?.[1]);
    if (Number.isFinite(sentAt)) samples[viewer.spec.room === 'big' ? 'big' : 'small'].push([sentAt, Date.now() - sentAt]);
    return;
  }
  if (type === 'queued') {
    queuedFrames++;
    return;
  }
  if (type === 'soldOut') {
    viewer.soldOut.add((decode(buf.subarray(start, start + length)) as { sku: string }).sku);
    if (viewer.soldOutAt === 0) viewer.soldOutAt = Date.now();
    return;
  }
  if (type === 'ok' || type === 'err' || type === 'welcome') {
    const frame = decode(buf.subarray(start, start + length)) as Record<string, unknown>;
    if (type === 'welcome') {
      viewer.welcomed?.(true);
      return;
    }
    const pending = viewer.pending.get(frame.id as number);
    if (pending === undefined) return;
    viewer.pending.delete(frame.id as number);
    pending.resolve(frame);
  }
}

async function join(viewer: Viewer, host: string, port: number, localAddress: string, token: string): Promise<void> {
  const splitter = new FrameSplitter((opcode, buf, start, length) => onFrame(viewer, opcode, buf, start, length));
  viewer.socket = await connectWebSocket({ host, port, localAddress, readBuffer, timeoutMs: 30_000 }, (buf, n) => splitter.push(buf, n));
  viewer.socket.on('close', () => {
    closed++;
  });
  viewer.socket.on('error', () => undefined);
  const welcomed = new Promise<boolean>((resolve) => {
    viewer.welcomed = resolve;
    setTimeout(() => resolve(false), 30_000).unref();
  });
  viewer.socket.write(maskedFrame(OP_BINARY, encode({ t: 'hello', id: 0, v: 1, token, room: viewer.spec.room })));
  if (!(await welcomed)) throw new Error('no welcome');
}

async function start(message: Extract<ToLoad, { t: 'start' }>): Promise<void> {
  const key = new TextEncoder().encode(message.secret);
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < message.viewers.length) {
      const spec = message.viewers[next++]!;
      const viewer = new Viewer(spec);
      try {
        const token = await new SignJWT({ name: spec.userId, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(spec.userId).setExpirationTime('2h').sign(key);
        await join(viewer, message.host, message.port, message.localAddress, token);
        viewers.push(viewer);
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  send({ t: 'ready', joined: viewers.length, failed, errors });
}

async function burst(message: Extract<ToLoad, { t: 'burst' }>): Promise<void> {
  const firstReplyMs: number[] = [];
  const finalMs: number[] = [];
  const finals: Record<string, number> = {};
  const sentPerSecond: Record<number, number> = {};
  const answeredPerSecond: Record<number, number> = {};
  let retries = 0;
  let taps = 0;
  const second = (t: number) => Math.floor((t - message.startAt) / 1000);
  // How late each tap left against its drawn moment: a generator short of CPU sends taps in clumps
  // (timers firing together), which the node then reads in one turn; phones would not.
  const sendLateMs: number[] = [];
  const tap = async (viewer: Viewer, n: number, delay: number): Promise<void> => {
    const due = Date.now() + delay;
    await new Promise((r) => setTimeout(r, delay));
    sendLateMs.push(Date.now() - due);
    taps++;
    if (viewer.soldOut.has(message.sku)) {
      finals['sold_out (client, from the room\'s announcement)'] = (finals['sold_out (client, from the room\'s announcement)'] ?? 0) + 1;
      return;
    }
    if (viewer.answeredSoldOut.has(message.sku)) {
      finals['sold_out (client, from an earlier answer)'] = (finals['sold_out (client, from an earlier answer)'] ?? 0) + 1;
      return;
    }
    const joined = viewer.pendingTaps.get(message.sku);
    if (joined !== undefined) {
      const tappedAt = Date.now();
      const status = await joined;
      const answeredAt = Date.now();
      // Its answer is the pending tap's final one: counted from this tap, as its user waits for it.
      firstReplyMs.push(answeredAt - tappedAt);
      finalMs.push(answeredAt - tappedAt);
      answeredPerSecond[second(answeredAt)] = (answeredPerSecond[second(answeredAt)] ?? 0) + 1;
      const label = `${status} (client, joined a pending tap)`;
      finals[label] = (finals[label] ?? 0) + 1;
      return;
    }
    let settle: (status: string) => void = () => undefined;
    viewer.pendingTaps.set(message.sku, new Promise<string>((resolve) => (settle = resolve)));
    const key = `${viewer.spec.userId}-tap-${n}`;
    const sentAt = Date.now();
    sentPerSecond[second(sentAt)] = (sentPerSecond[second(sentAt)] ?? 0) + 1;
    let reply = await viewer.request({ t: 'addToCart', key, sku: message.sku, quantity: 1 });
    const first = Date.now();
    firstReplyMs.push(first - sentAt);
    answeredPerSecond[second(first)] = (answeredPerSecond[second(first)] ?? 0) + 1;
    const deadline = sentAt + 60_000;
    while (reply.t === 'err' && reply.temporary === true && Date.now() < deadline) {
      retries++;
      const wait = Math.min(Number(reply.retryAfterMs ?? 500), 5000) + Math.random() * 200;
      await new Promise((r) => setTimeout(r, wait));
      reply = await viewer.request({ t: 'addToCart', key, sku: message.sku, quantity: 1 });
    }
    finalMs.push(Date.now() - sentAt);
    const status = reply.t === 'ok' ? String((reply.result as { status: string }).status) : `err ${String(reply.code)}`;
    finals[status] = (finals[status] ?? 0) + 1;
    if (status === 'sold_out') viewer.answeredSoldOut.add(message.sku);
    if (status === 'reserved') viewer.held = Math.max(viewer.held, Number((reply.result as { quantity: number }).quantity));
    viewer.pendingTaps.delete(message.sku);
    settle(status);
  };
  const all: Array<Promise<void>> = [];
  const lead = Math.max(0, message.startAt - Date.now());
  viewers.forEach((viewer, i) => {
    if (viewer.spec.room !== message.room) return;
    const count = i % message.tripleEvery === 0 ? 3 : 1;
    for (let n = 0; n < count; n++) all.push(tap(viewer, n, lead + Math.random() * message.windowMs));
  });
  await Promise.all(all);
  const reserved = viewers.filter((v) => v.held > 0);
  // When each of the room's viewers heard "sold out", from the burst's start: the sooner, the fewer taps reach the server.
  const soldOutHeardMs = viewers.filter((v) => v.spec.room === message.room && v.soldOutAt > 0).map((v) => v.soldOutAt - message.startAt);
  send({ t: 'burstDone', taps, soldOutHeardMs, firstReplyMs, finalMs, sendLateMs, finals, retries, queuedFrames, reservedViewers: reserved.length, heldUnits: reserved.reduce((s, v) => s + v.held, 0), sentPerSecond, answeredPerSecond });
}

async function checkout(): Promise<void> {
  let ordered = 0;
  let units = 0;
  const other: Record<string, number> = {};
  await Promise.all(
    viewers.filter((v) => v.held > 0).map(async (viewer) => {
      const key = `${viewer.spec.userId}-pay`;
      let reply = await viewer.request({ t: 'checkout', key });
      for (let attempt = 0; reply.t === 'err' && reply.temporary === true && attempt < 30; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(Number(reply.retryAfterMs ?? 500), 5000)));
        reply = await viewer.request({ t: 'checkout', key });
      }
      const result = reply.result as { status: string; order?: { lines: Array<{ quantity: number }> } } | undefined;
      if (reply.t === 'ok' && result?.status === 'ordered') {
        ordered++;
        units += result.order!.lines.reduce((s, l) => s + l.quantity, 0);
      } else {
        const status = reply.t === 'ok' ? String(result?.status) : `err ${String(reply.code)}`;
        other[status] = (other[status] ?? 0) + 1;
      }
    }),
  );
  send({ t: 'checkoutDone', ordered, units, other });
}

process.on('message', (message: ToLoad) => {
  switch (message.t) {
    case 'start': void start(message); break;
    case 'phase': enterPhase(message.name); break;
    case 'burst': void burst(message); break;
    case 'checkout': void checkout(); break;
    case 'report':
      for (const v of viewers) v.socket?.destroy();
      // Exit only once the (large) report is written to the channel.
      enterPhase('report');
      send({ t: 'report', samples, frames, closed, closeCodes, loopDelayMs }, () => process.exit(0));
      break;
  }
});
