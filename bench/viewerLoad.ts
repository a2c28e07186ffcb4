/**
 * Load-generator child process: opens `count` viewer WebSockets over raw `net` sockets, joins the
 * room, then counts frames. Per frame it reads only the WebSocket header and the 10-byte sequenced
 * prefix (`fixmap | "seq" | uint32`) to learn the seq; it decodes one measured frame in
 * `sampleEvery` per viewer to read the send time embedded in the comment text.
 *
 * Driven by fanout.ts over IPC (see ipc.ts); run as `taskset -c 1 node --import tsx bench/viewerLoad.ts`.
 */
import type net from 'node:net';
import { SignJWT } from 'jose';
import { decode, encode } from '../protocol/src/codec.ts';
import type { FromGenerator, GenFinish, GenMeasure, GenResult, GenStart, ToGenerator } from './ipc.ts';
import { sentMsOf, viewerIdentity } from './scenario.ts';
import { FrameSplitter, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, connectWebSocket, maskedFrame } from './wsClient.ts';

const send = (msg: FromGenerator): void => {
  process.send?.(msg);
};

// ---- measurement state (module-level: the hot path touches only these and the viewer) ----
let afterSeq = Number.POSITIVE_INFINITY; // nothing counts until `measure`
let t0 = Number.POSITIVE_INFINITY;
let bucketMs = 100;
let sampleEvery = 50;
let chunkNow = 0; // receipt time of the read being parsed
let chunkBucket = 0;
let received = 0;
let lastRecvMs = 0;
let otherFrames = 0;
let gaps = 0;
let closed = 0;
const closeCodes: Record<string, number> = {};
let seqLastRecv = new Float64Array(1024);
let seqCount = new Uint32Array(1024);
let buckets = new Uint32Array(1024);
const samples: number[] = [];
const MAX_SAMPLES = 400_000;
let commentBytes = 0;
let commentFrames = 0;
let sampleMismatches = 0;
let otherTypes: Record<string, number> = {};
/** Highest degrade level livecart announced (welcome or `degrade` notice) since `measure`. */
let maxDegradeLevel = 0;
/** Every change of the level this generator heard (warm-up included), with its reason: one entry per change, not per viewer. */
const degradeChanges: Array<{ atMs: number; level: number; reason: string }> = [];
let acksSent = 0;
const LC_MARKER = Buffer.from('lc:');

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function grow<T extends Float64Array | Uint32Array>(arr: T, need: number): T {
  let size = arr.length;
  while (size <= need) size *= 2;
  const next = new (arr.constructor as { new (n: number): T })(size);
  next.set(arr);
  return next;
}

class Viewer {
  socket: net.Socket | null = null;
  received = 0;
  lastSeq = -1;
  countdown: number;
  welcomed = false;
  closed = false;
  onWelcome: ((seq: number) => void) | null = null;
  onJoinError: ((error: Error) => void) | null = null;
  readonly splitter: FrameSplitter;

  constructor(readonly n: number) {
    this.countdown = 1 + (n % sampleEvery); // spread the sampled frames over the seq range
    this.splitter = new FrameSplitter((op, buf, start, len) => this.frame(op, buf, start, len));
  }

  frame(op: number, buf: Buffer, s: number, len: number): void {
    if (op === OP_BINARY) {
      if (
        len > 10 && buf[s + 1] === 0xa3 && buf[s + 2] === 0x73 && buf[s + 3] === 0x65 && buf[s + 4] === 0x71 && buf[s + 5] === 0xce
      ) {
        const seq = ((buf[s + 6]! << 24) | (buf[s + 7]! << 16) | (buf[s + 8]! << 8) | buf[s + 9]!) >>> 0;
        if (this.lastSeq >= 0 && seq !== this.lastSeq + 1) gaps++;
        this.lastSeq = seq;
        if (seq > afterSeq) {
          this.received++;
          received++;
          buckets[chunkBucket]!++;
          const k = seq - afterSeq - 1;
          if (k >= seqLastRecv.length) {
            seqLastRecv = grow(seqLastRecv, k);
            seqCount = grow(seqCount, k);
          }
          seqLastRecv[k] = chunkNow;
          seqCount[k]!++;
          lastRecvMs = chunkNow;
          if (--this.countdown === 0) {
            this.countdown = sampleEvery;
            this.sample(buf, s, len);
          }
        }
        return;
      }
      if (!this.welcomed) {
        this.handshakeReply(buf, s, len);
        return;
      }
      otherFrames++;
      this.other(buf, s, len);
    } else if (op === OP_PING) {
      this.socket?.write(maskedFrame(OP_PONG, buf.subarray(s, s + len)));
    } else if (op === OP_CLOSE) {
      const code = len >= 2 ? buf.readUInt16BE(s) : 1005;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      this.markClosed();
      this.socket?.end();
      if (!this.welcomed) this.onJoinError?.(new Error(`closed with ${code} before welcome`));
    }
  }

  /**
   * Reads the send time out of a sampled frame. Fully decoding every sample with msgpackr cost a
   * third of the generator's JS time, so the text's `lc:<ms>:` marker is parsed in place; one sample
   * in 64 is also fully decoded with the protocol codec as a cross-check.
   */
  sample(buf: Buffer, s: number, len: number): void {
    const end = s + len;
    const at = buf.indexOf(LC_MARKER, s + 10);
    if (at < 0 || at >= end) return; // not a bench comment (a pin's popup)
    let i = at + LC_MARKER.length;
    let ms = 0;
    let c = buf[i]!;
    while (c >= 0x30 && c <= 0x39) {
      ms = ms * 10 + (c - 0x30);
      c = buf[++i]!;
    }
    if (c === 0x2e) {
      let scale = 0.1;
      c = buf[++i]!;
      while (c >= 0x30 && c <= 0x39) {
        ms += (c - 0x30) * scale;
        scale /= 10;
        c = buf[++i]!;
      }
    }
    if (c !== 0x3a || i >= end) return;
    commentBytes += len;
    commentFrames++;
    if (samples.length < MAX_SAMPLES) samples.push(chunkNow - ms);
    if ((commentFrames & 63) === 1) {
      const msg = decode(buf.subarray(s, end)) as { t?: string; text?: string };
      if (msg.t !== 'comment' || typeof msg.text !== 'string' || Math.abs(sentMsOf(msg.text) - ms) > 0.001) sampleMismatches++;
    }
  }

  /** Frames that are not room events are rare (counters, degrade notices): decode and count them by type. */
  other(buf: Buffer, s: number, len: number): void {
    let msg: { t?: unknown; level?: unknown };
    try {
      msg = decode(buf.subarray(s, s + len)) as typeof msg;
    } catch {
      otherTypes['(undecodable)'] = (otherTypes['(undecodable)'] ?? 0) + 1;
      return;
    }
    const t = String(msg.t);
    otherTypes[t] = (otherTypes[t] ?? 0) + 1;
    if (t === 'degrade' && typeof msg.level === 'number') {
      maxDegradeLevel = Math.max(maxDegradeLevel, msg.level);
      if (degradeChanges.at(-1)?.level !== msg.level) degradeChanges.push({ atMs: chunkNow, level: msg.level, reason: String((msg as { reason?: unknown }).reason ?? '') });
    }
  }

  handshakeReply(buf: Buffer, s: number, len: number): void {
    let msg: { t?: string; seq?: number; code?: number; message?: string };
    try {
      msg = decode(buf.subarray(s, s + len)) as typeof msg;
    } catch (error) {
      this.onJoinError?.(error as Error);
      return;
    }
    if (msg.t === 'welcome') {
      this.welcomed = true;
      const level = (msg as { degradeLevel?: unknown }).degradeLevel;
      if (typeof level === 'number') maxDegradeLevel = Math.max(maxDegradeLevel, level);
      this.onWelcome?.(msg.seq ?? 0);
    } else if (msg.t === 'err') {
      this.onJoinError?.(new Error(`hello refused: ${msg.code} ${msg.message}`));
    } else {
      otherFrames++;
    }
  }

  markClosed(): void {
    if (!this.closed) {
      this.closed = true;
      if (this.welcomed) closed++;
    }
  }
}

const viewers: Viewer[] = [];
const readBuffer = Buffer.allocUnsafe(256 * 1024); // shared: reads are handled synchronously

function onBytes(v: Viewer, buf: Buffer, n: number): void {
  chunkNow = nowMs();
  const b = Math.floor((chunkNow - t0) / bucketMs);
  chunkBucket = b < 0 ? 0 : b > 1_000_000 ? 1_000_000 : b; // t0 is 0 before `measure`
  if (chunkBucket >= buckets.length) buckets = grow(buckets, chunkBucket);
  v.splitter.push(buf, n);
}

async function joinOne(cfg: GenStart, v: Viewer, token: string): Promise<number> {
  const socket = await connectWebSocket(
    { host: cfg.host, port: cfg.port, path: cfg.path, readBuffer, timeoutMs: 20_000, ...(cfg.localAddress ? { localAddress: cfg.localAddress } : {}) },
    (buf, n) => onBytes(v, buf, n),
  );
  v.socket = socket;
  socket.on('close', () => v.markClosed());
  socket.on('error', () => v.markClosed());
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no welcome within 20 s')), 20_000);
    v.onWelcome = (seq) => {
      clearTimeout(timer);
      resolve(seq);
    };
    v.onJoinError = (error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.write(maskedFrame(OP_BINARY, encode({ t: 'hello', id: 1, v: 1, token, room: cfg.room })));
  });
}

async function start(cfg: GenStart): Promise<void> {
  bucketMs = cfg.bucketMs;
  sampleEvery = Math.max(1, cfg.sampleEvery);
  const began = performance.now();
  // One imported key for all tokens: jose re-imports raw bytes on every sign, twice as slow.
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(cfg.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const errors: string[] = [];
  let failed = 0;
  let welcomeSeqMin = Number.POSITIVE_INFINITY;
  let welcomeSeqMax = 0;
  const tokens = await Promise.all(
    Array.from({ length: cfg.count }, (_, i) => {
      const { userId, name } = viewerIdentity(cfg.first + i);
      return new SignJWT({ name, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime('2h').sign(key);
    }),
  );
  const tokenMs = performance.now() - began;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cfg.count) {
      const i = next++;
      const n = cfg.first + i;
      const token = tokens[i]!;
      let lastError: Error | null = null;
      for (let attempt = 0; attempt < 3; attempt++) {
        const v = new Viewer(n);
        try {
          const seq = await joinOne(cfg, v, token);
          welcomeSeqMin = Math.min(welcomeSeqMin, seq);
          welcomeSeqMax = Math.max(welcomeSeqMax, seq);
          viewers.push(v);
          lastError = null;
          break;
        } catch (error) {
          lastError = error as Error;
          v.socket?.destroy();
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
      if (lastError) {
        failed++;
        if (errors.length < 5) errors.push(lastError.message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cfg.concurrency) }, worker));
  startAcks(cfg.ackIntervalMs);
  send({
    type: 'joined',
    joined: viewers.length,
    failed,
    errors,
    welcomeSeqMin: Number.isFinite(welcomeSeqMin) ? welcomeSeqMin : 0,
    welcomeSeqMax,
    joinMs: performance.now() - began,
    tokenMs,
  });
}

/**
 * Like the SDK, every viewer acks the last seq it processed about once a second (livecart measures
 * real viewer lag from these). Spread over ten 100 ms slices so the server sees a steady trickle.
 */
function startAcks(intervalMs: number): void {
  if (intervalMs <= 0) return;
  let slice = 0;
  const slices = 10;
  setInterval(() => {
    for (let i = slice; i < viewers.length; i += slices) {
      const v = viewers[i]!;
      if (v.closed || v.lastSeq < 0 || v.socket === null) continue;
      v.socket.write(maskedFrame(OP_BINARY, encode({ t: 'ack', seq: v.lastSeq })));
      acksSent++;
    }
    slice = (slice + 1) % slices;
  }, intervalMs / slices);
}

function measure(m: GenMeasure): void {
  afterSeq = m.afterSeq;
  t0 = m.t0;
  received = 0;
  lastRecvMs = 0;
  gaps = 0;
  otherFrames = 0;
  samples.length = 0;
  commentBytes = 0;
  commentFrames = 0;
  sampleMismatches = 0;
  otherTypes = {};
  maxDegradeLevel = 0;
  acksSent = 0;
  seqLastRecv = new Float64Array(Math.max(1024, m.expectedEvents + 64));
  seqCount = new Uint32Array(seqLastRecv.length);
  buckets = new Uint32Array(1024);
  for (const v of viewers) v.received = 0;
}

let progressTimer: NodeJS.Timeout | null = null;

function finish(f: GenFinish): void {
  if (progressTimer) clearInterval(progressTimer);
  let missing = 0;
  let viewersShort = 0;
  for (const v of viewers) {
    if (v.received < f.expectedEvents) {
      missing += f.expectedEvents - v.received;
      viewersShort++;
    }
  }
  const n = Math.max(f.expectedEvents, 0);
  let lastBucket = buckets.length - 1;
  while (lastBucket > 0 && buckets[lastBucket] === 0) lastBucket--;
  const result: GenResult = {
    type: 'result',
    viewers: viewers.length,
    received,
    lastRecvMs,
    otherFrames,
    gaps,
    missing,
    viewersShort,
    closed,
    closeCodes,
    samples,
    seqLastRecv: Array.from(seqLastRecv.subarray(0, n)),
    seqCount: Array.from(seqCount.subarray(0, n)),
    buckets: Array.from(buckets.subarray(0, lastBucket + 1)),
    commentFrameBytes: commentFrames ? commentBytes / commentFrames : Number.NaN,
    sampleMismatches,
    otherTypes,
    maxDegradeLevel,
    degradeChanges,
    acksSent,
  };
  process.send?.(result, () => {
    for (const v of viewers) v.socket?.destroy();
    setTimeout(() => process.exit(0), 50);
  });
}

process.on('message', (raw) => {
  const msg = raw as ToGenerator;
  if (msg.type === 'start') {
    start(msg).catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
    progressTimer = setInterval(() => send({ type: 'progress', received, lastRecvMs, closed }), 100);
  } else if (msg.type === 'measure') {
    measure(msg);
  } else if (msg.type === 'finish') {
    finish(msg);
  }
});
process.on('disconnect', () => process.exit(0));
