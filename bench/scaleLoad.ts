/**
 * bench:scale load-generator child: holds a share of one big room's viewers as raw WebSockets
 * (wsClient.ts) spread over several nodes, records when each pop-up reached each viewer, taps
 * add-to-cart on command, and reconnects and resumes like the SDK when its node dies.
 *
 * A viewer's endpoints are all the nodes in its own shuffled order, starting with the node it was
 * given; after a lost connection it tries the next one after a full-jitter backoff and sends
 * `hello` with `resume { seq, epoch }`. A cart request that had no answer when the connection was
 * lost is sent again on the next one with the same idempotency key, as the SDK does.
 *
 * Driven by scale.ts over IPC.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { decode, encode } from '../protocol/src/codec.ts';
import { ErrorCode } from '../protocol/src/codes.ts';
import { FrameSplitter, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, connectWebSocket, maskedFrame } from './wsClient.ts';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export type ToScaleLoad =
  | { t: 'start'; endpoints: Endpoint[]; secret: string; room: string; localAddress: string; first: number; count: number; concurrency: number; joinTimeoutMs: number }
  | { t: 'tap'; startAt: number; windowMs: number; sku: string; twiceEvery: number; deadlineMs: number }
  | { t: 'report' }
  | { t: 'stop' };

export interface SaleResult {
  taps: number;
  /** Taps sent as frames (first sends, not retries). */
  requests: number;
  retries: number;
  /** Final answer by kind ("reserved", "sold_out", "sold_out (client: room announced it)", "err CODE", "none"). */
  finals: Record<string, number>;
  /** ms from a tap to its first answer from the server (temporary errors included). */
  firstAnswerMs: number[];
  /** The same, split: viewers whose node died under them (they waited for their reconnect), and the others. */
  firstAnswerMovedMs: number[];
  firstAnswerStayedMs: number[];
  /** ms from a tap to its definite answer. */
  definiteMs: number[];
  /** Viewers told `reserved`, and the units they were told they hold (the largest `quantity` each). */
  buyers: number;
  units: number;
  /** Viewers told a quantity above 1 (a double tap with the same key must not take a second unit). */
  doubleHeld: number;
  /** Requests sent again on a new connection after the old one was lost without their answer. */
  resentAfterReconnect: number;
  /** Frames this generator read from the tap command to its last definite answer, by `t` (what the viewers' cores had to read). */
  framesByType: Record<string, number>;
}

export type FromScaleLoad =
  | { t: 'joined'; joined: number; failed: number; retries: number; errors: string[]; welcomeSeqMax: number }
  | { t: 'progress'; open: number; popups: Record<number, number>; reconnected: number; definite: number }
  | { t: 'saleDone'; sale: SaleResult }
  | {
      t: 'report';
      /** Per sequenced pop-up seq: receipt times (epoch ms), one per viewer that got it. */
      popupReceipts: Record<number, number[]>;
      /** Viewers whose connection was lost (not by this process) and that came back / resumed / lost history. */
      lost: number;
      reconnected: number;
      resumed: number;
      historyLost: number;
      /** Reconnected viewers that received a sequenced event after their reconnect. */
      eventsAfterReconnect: number;
      /** Of the viewers that are still lost at the end. */
      notBack: number;
      reconnectErrors: string[];
      /** Reconnect attempts that failed (refused, timed out) before one succeeded. */
      reconnectAttemptsFailed: number;
      /** ms from losing the connection to the welcome on the new one. */
      reconnectMs: number[];
      closeCodes: Record<string, number>;
      loopDelayMs: { p99: number; max: number };
      open: number;
    };

const send = (message: FromScaleLoad, then?: () => void) => process.send?.(message, undefined, {}, () => then?.());

interface Pending {
  readonly body: Record<string, unknown>;
  resolve: (frame: Record<string, unknown>) => void;
}

const readBuffer = Buffer.allocUnsafe(256 * 1024);
const decoder = new TextDecoder();
const popupReceipts = new Map<number, number[]>();
const framesByType: Record<string, number> = {};
const closeCodes: Record<string, number> = {};
const reconnectErrors: string[] = [];
const reconnectMs: number[] = [];
let stopping = false;
let cfg: Extract<ToScaleLoad, { t: 'start' }>;
let key: Uint8Array;

/** The frame's `t` and, for a sequenced event, its seq, read from the bytes (msgpackr writes `t` first, or right after `seq`). */
function peek(buf: Buffer, start: number): { type: string; seq: number } {
  const first = buf[start]!;
  const header = (first & 0xf0) === 0x80 ? 1 : first === 0xde ? 3 : first === 0xdf ? 5 : 0;
  if (header === 0) return { type: '', seq: -1 };
  const keyAt = start + header;
  let seq = -1;
  let at = keyAt;
  if (buf[keyAt] === 0xa3 && buf[keyAt + 1] === 0x73 && buf[keyAt + 2] === 0x65 && buf[keyAt + 3] === 0x71 && buf[keyAt + 4] === 0xce) {
    seq = buf.readUInt32BE(keyAt + 5);
    at = keyAt + 9;
  }
  if (buf[at] !== 0xa1 || buf[at + 1] !== 0x74) return { type: '', seq };
  const str = buf[at + 2]!;
  if ((str & 0xe0) !== 0xa0) return { type: '', seq };
  return { type: decoder.decode(buf.subarray(at + 3, at + 3 + (str & 0x1f))), seq };
}

class Viewer {
  socket: net.Socket | undefined;
  open = false;
  nextId = 1;
  readonly pending = new Map<number, Pending>();
  lastSeq = 0;
  epoch = '';
  /** Index into `order` of the node in use. */
  at = 0;
  readonly order: number[];
  lostAt = 0;
  attempts = 0;
  reconnects = 0;
  resumed = 0;
  historyLost = 0;
  eventAfterReconnect = false;
  welcomed: ((frame: Record<string, unknown>) => void) | undefined;
  readonly soldOut = new Set<string>();
  held = 0;
  readonly splitter = new FrameSplitter((op, buf, start, len) => this.frame(op, buf, start, len));

  constructor(readonly userId: string, readonly token: string, home: number, nodes: number) {
    const others = Array.from({ length: nodes }, (_, i) => i).filter((i) => i !== home);
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    this.order = [home, ...others];
  }

  get endpoint(): Endpoint {
    return cfg.endpoints[this.order[this.at % this.order.length]!]!;
  }

  request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { body, resolve });
      if (this.open) this.socket!.write(maskedFrame(OP_BINARY, encode({ ...body, id })));
    });
  }

  frame(op: number, buf: Buffer, start: number, len: number): void {
    if (op === OP_PING) {
      this.socket?.write(maskedFrame(OP_PONG, buf.subarray(start, start + len)));
      return;
    }
    if (op === OP_CLOSE) {
      const code = len >= 2 ? buf.readUInt16BE(start) : 1005;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      return;
    }
    if (op !== OP_BINARY) return;
    const { type, seq } = peek(buf, start);
    framesByType[type || '?'] = (framesByType[type || '?'] ?? 0) + 1;
    if (seq >= 0) {
      // Right after a welcome an event at or below the seq we hold may come again: skip it.
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
      if (this.reconnects > 0) this.eventAfterReconnect = true;
      if (type === 'popup') {
        const list = popupReceipts.get(seq);
        if (list === undefined) popupReceipts.set(seq, [Date.now()]);
        else list.push(Date.now());
      } else if (type === 'soldOut') {
        this.soldOut.add((decode(buf.subarray(start, start + len)) as { sku: string }).sku);
      }
      return;
    }
    if (type === 'welcome' || type === 'ok' || type === 'err') {
      const frame = decode(buf.subarray(start, start + len)) as Record<string, unknown>;
      if (type === 'welcome' || (type === 'err' && frame.id === 0)) {
        this.welcomed?.(frame);
        return;
      }
      const pending = this.pending.get(frame.id as number);
      if (pending === undefined) return;
      this.pending.delete(frame.id as number);
      pending.resolve(frame);
    }
  }

  async connect(): Promise<Record<string, unknown>> {
    const { host, port } = this.endpoint;
    const again = this.epoch !== '';
    let socket: net.Socket;
    for (let tries = 1; ; tries++) {
      try {
        socket = await connectWebSocket({ host, port, localAddress: cfg.localAddress, localPort: takePort(), readBuffer, timeoutMs: 30_000 }, (buf, n) => this.splitter.push(buf, n));
        break;
      } catch (error) {
        // A port still held (TIME_WAIT of an earlier run): the next one.
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 100) throw error;
      }
    }
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose(socket));
    const welcome = new Promise<Record<string, unknown>>((resolve) => {
      this.welcomed = resolve;
      setTimeout(() => resolve({ t: 'err', code: 'TIMEOUT', message: 'no welcome within 30 s' }), 30_000).unref();
    });
    const resume = this.epoch === '' ? {} : { resume: { seq: this.lastSeq, epoch: this.epoch } };
    socket.write(maskedFrame(OP_BINARY, encode({ t: 'hello', id: 0, v: 1, token: this.token, room: cfg.room, ...resume })));
    const frame = await welcome;
    this.welcomed = undefined;
    if (frame.t !== 'welcome') {
      socket.destroy();
      throw new Error(`${String(frame.code)}: ${String(frame.message)}`);
    }
    if (frame.historyLost === true || this.epoch === '') this.lastSeq = Number(frame.seq);
    if (again) {
      if (frame.resumed === true) this.resumed++;
      if (frame.historyLost === true) this.historyLost++;
    }
    this.epoch = String(frame.epoch);
    this.open = true;
    // A request whose answer was lost with the old connection goes again, with the same key.
    for (const [id, p] of this.pending) {
      socket.write(maskedFrame(OP_BINARY, encode({ ...p.body, id })));
      if (again) resentAfterReconnect++;
    }
    return frame;
  }

  onClose(socket: net.Socket): void {
    // Only a live connection that is lost starts the reconnect loop; a failed attempt retries from reconnect().
    if (this.socket !== socket || stopping || !this.open) return;
    this.open = false;
    this.lostAt = Date.now();
    this.attempts = 0;
    lostCount++;
    this.scheduleReconnect(0);
  }

  /** Full-jitter exponential backoff (the SDK's shape), at least `floorMs` (a node's Retry-After), to the next endpoint in this viewer's order. */
  scheduleReconnect(floorMs: number): void {
    const cap = Math.min(8000, 1000 * 2 ** this.attempts);
    this.attempts++;
    this.at++;
    setTimeout(() => void this.reconnect(), floorMs + Math.random() * cap);
  }

  async reconnect(): Promise<void> {
    if (stopping) return;
    try {
      await this.connect();
      this.reconnects++;
      reconnectMs.push(Date.now() - this.lostAt);
    } catch (error) {
      reconnectAttemptsFailed++;
      if (reconnectErrors.length < 5) reconnectErrors.push((error as Error).message);
      if (!this.open) this.scheduleReconnect(retryAfterMs(error as Error));
    }
  }
}

/**
 * Source ports are chosen here, in turn from a random start below the kernel's ephemeral range
 * (1024 up to it), each address being this generator's own: bind() with port 0 searches for a
 * free port, and that search slowed joins to ~100/s past ~7,000 sockets per address. Below the
 * range, because a port bound explicitly is one that no connect() on the machine picks any more:
 * inside it, 100,000 of them left the machine's other clients without ports (EADDRNOTAVAIL).
 */
const [PORT_LOW, PORT_HIGH] = ((): [number, number] => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return [1024, Math.max(2048, low - 1)];
  } catch {
    return [1024, 32_767];
  }
})();
let nextPort = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW + 1));
function takePort(): number {
  const port = nextPort;
  nextPort = nextPort >= PORT_HIGH ? PORT_LOW : nextPort + 1;
  return port;
}

/** A refused upgrade's Retry-After (the gateway sends 1 s while restarting, 5 s while overloaded), else 0. */
function retryAfterMs(error: Error): number {
  const seconds = /Retry-After: (\d+)/i.exec(error.message)?.[1];
  return seconds === undefined ? 0 : Number(seconds) * 1000;
}

const codeNames = new Map<unknown, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
const codeName = (code: unknown): string => codeNames.get(code) ?? String(code);

const viewers: Viewer[] = [];
let joinRetries = 0;
let reconnectAttemptsFailed = 0;
let lostCount = 0;
let resentAfterReconnect = 0;
let definite = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

async function start(message: Extract<ToScaleLoad, { t: 'start' }>): Promise<void> {
  cfg = message;
  key = new TextEncoder().encode(message.secret);
  const errors: string[] = [];
  let failed = 0;
  let welcomeSeqMax = 0;
  let next = 0;
  const nodes = message.endpoints.length;
  const joinDeadline = Date.now() + message.joinTimeoutMs;
  const worker = async () => {
    while (next < message.count) {
      const n = message.first + next++;
      const userId = `v${n}`;
      const token = await new SignJWT({ name: userId, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('4h').sign(key);
      const viewer = new Viewer(userId, token, n % nodes, nodes);
      // A node that refuses (503 while it protects itself, or no welcome in time) is tried again on
      // its Retry-After, as a client would, until the join deadline.
      for (let attempt = 0; ; attempt++) {
        try {
          const welcome = await viewer.connect();
          welcomeSeqMax = Math.max(welcomeSeqMax, Number(welcome.seq));
          viewers.push(viewer);
          break;
        } catch (error) {
          if (errors.length < 5) errors.push((error as Error).message);
          if (Date.now() > joinDeadline) {
            failed++;
            break;
          }
          joinRetries++;
          await new Promise((r) => setTimeout(r, retryAfterMs(error as Error) + Math.random() * Math.min(8000, 1000 * 2 ** attempt)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: message.concurrency }, worker));
  send({ t: 'joined', joined: viewers.length, failed, retries: joinRetries, errors, welcomeSeqMax });
}

async function sale(message: Extract<ToScaleLoad, { t: 'tap' }>): Promise<void> {
  const finals: Record<string, number> = {};
  const firstAnswerMs: number[] = [];
  const firstAnswerMovedMs: number[] = [];
  const firstAnswerStayedMs: number[] = [];
  const definiteMs: number[] = [];
  let taps = 0;
  let requests = 0;
  let retries = 0;
  const count = (label: string) => (finals[label] = (finals[label] ?? 0) + 1);
  const framesBefore = { ...framesByType };
  const tap = async (viewer: Viewer, delay: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, delay));
    taps++;
    const tappedAt = Date.now();
    if (viewer.soldOut.has(message.sku)) {
      // The SDK answers a tap on a product the room announced sold out itself.
      count('sold_out (client: the room announced it)');
      definite++;
      definiteMs.push(0);
      return;
    }
    const body = { t: 'addToCart', key: `${viewer.userId}-flash`, sku: message.sku, quantity: 1 };
    requests++;
    const deadline = tappedAt + message.deadlineMs;
    // A viewer that never gets back to a node has no answer by the deadline.
    const noAnswer = { t: 'err', code: 'NO_ANSWER', temporary: false };
    const ask = () => Promise.race([viewer.request(body), new Promise<Record<string, unknown>>((r) => setTimeout(() => r(noAnswer), Math.max(0, deadline - Date.now())).unref())]);
    let reply = await ask();
    if (reply !== noAnswer) {
      firstAnswerMs.push(Date.now() - tappedAt);
      (viewer.lostAt > 0 ? firstAnswerMovedMs : firstAnswerStayedMs).push(Date.now() - tappedAt);
    }
    while (reply.t === 'err' && reply.temporary === true && Date.now() < deadline) {
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(Number(reply.retryAfterMs ?? 500), 5000) * (0.5 + Math.random())));
      reply = await ask();
    }
    const status = reply.t === 'ok' ? String((reply.result as { status: string }).status) : `err ${codeName(reply.code)}${reply.temporary === true ? ' (still temporary at the deadline)' : ''}`;
    count(status);
    if (status === 'reserved' || status === 'sold_out') {
      definite++;
      definiteMs.push(Date.now() - tappedAt);
    }
    if (status === 'reserved') viewer.held = Math.max(viewer.held, Number((reply.result as { quantity: number }).quantity));
  };
  const all: Array<Promise<void>> = [];
  const lead = Math.max(0, message.startAt - Date.now());
  viewers.forEach((viewer, i) => {
    const times = (cfg.first + i) % message.twiceEvery === 0 ? 2 : 1;
    for (let n = 0; n < times; n++) all.push(tap(viewer, lead + Math.random() * message.windowMs));
  });
  await Promise.all(all);
  const buyers = viewers.filter((v) => v.held > 0);
  send({
    t: 'saleDone',
    sale: {
      taps, requests, retries, finals, firstAnswerMs, firstAnswerMovedMs, firstAnswerStayedMs, definiteMs,
      buyers: buyers.length, units: buyers.reduce((s, v) => s + v.held, 0), doubleHeld: buyers.filter((v) => v.held > 1).length, resentAfterReconnect,
      framesByType: Object.fromEntries(Object.entries(framesByType).map(([t, n]) => [t, n - (framesBefore[t] ?? 0)])),
    },
  });
}

const progress = setInterval(() => {
  if (cfg === undefined) return;
  send({ t: 'progress', open: viewers.filter((v) => v.open).length, popups: Object.fromEntries([...popupReceipts].map(([seq, list]) => [seq, list.length])), reconnected: viewers.filter((v) => v.reconnects > 0).length, definite });
}, 500);

process.on('message', (message: ToScaleLoad) => {
  switch (message.t) {
    case 'start': void start(message); break;
    case 'tap': void sale(message); break;
    case 'report': {
      const back = viewers.filter((v) => v.reconnects > 0);
      send({
        t: 'report',
        popupReceipts: Object.fromEntries(popupReceipts),
        lost: lostCount,
        reconnected: back.length,
        resumed: back.filter((v) => v.resumed > 0).length,
        historyLost: back.filter((v) => v.historyLost > 0).length,
        eventsAfterReconnect: back.filter((v) => v.eventAfterReconnect).length,
        notBack: viewers.filter((v) => !v.open).length,
        reconnectErrors,
        reconnectAttemptsFailed,
        reconnectMs,
        closeCodes,
        loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        open: viewers.filter((v) => v.open).length,
      });
      break;
    }
    case 'stop':
      stopping = true;
      clearInterval(progress);
      for (const v of viewers) v.socket?.destroy();
      send({ t: 'progress', open: 0, popups: {}, reconnected: 0, definite }, () => process.exit(0));
      break;
  }
});
