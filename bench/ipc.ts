/** Messages between the orchestrator (fanout.ts) and its load-generator children (viewerLoad.ts). */

export interface GenStart {
  type: 'start';
  host: string;
  port: number;
  path: string;
  room: string;
  /** Viewer numbers first..first+count-1 (used for user ids). */
  first: number;
  count: number;
  /** Source address for this generator's sockets (127.0.0.x), or '' for the default. */
  localAddress: string;
  /** HS256 secret the viewers' tokens are signed with. */
  secret: string;
  /** Decode one measured frame in `sampleEvery` per viewer to read its embedded send time. */
  sampleEvery: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Width of the delivery-rate histogram buckets. */
  bucketMs: number;
  /** Each viewer sends `ack { seq }` this often, like the SDK (0 = never). */
  ackIntervalMs: number;
}

/** Start counting: frames with seq > afterSeq belong to the measured phase, which starts at t0 (epoch ms). */
export interface GenMeasure {
  type: 'measure';
  afterSeq: number;
  t0: number;
  /** Expected sequenced events per viewer (a sizing hint). */
  expectedEvents: number;
}

export interface GenFinish {
  type: 'finish';
  /** Sequenced events the streamer got `ok` for in the measured phase: each viewer should have them all. */
  expectedEvents: number;
}

export type ToGenerator = GenStart | GenMeasure | GenFinish;

export interface GenJoined {
  type: 'joined';
  joined: number;
  failed: number;
  errors: string[];
  /** Smallest and largest `seq` seen in the viewers' `welcome`. */
  welcomeSeqMin: number;
  welcomeSeqMax: number;
  joinMs: number;
  /** Of which signing the viewers' tokens. */
  tokenMs: number;
}

export interface GenProgress {
  type: 'progress';
  /** Measured sequenced frames received so far, all viewers together. */
  received: number;
  /** Receipt time (epoch ms) of the latest measured frame. */
  lastRecvMs: number;
  /** Viewers whose socket is closed. */
  closed: number;
}

export interface GenResult {
  type: 'result';
  viewers: number;
  received: number;
  lastRecvMs: number;
  /** Frames that are not sequenced events (viewer counts, likes, replies). */
  otherFrames: number;
  /** Sequenced frames whose seq skipped ahead of the previous one on the same socket (lost in between). */
  gaps: number;
  /** Frames missing at the end: sum over viewers of max(0, expected − received). */
  missing: number;
  /** Viewers that did not receive every expected frame. */
  viewersShort: number;
  closed: number;
  closeCodes: Record<string, number>;
  /** Latency samples in ms (receipt − embedded send time). */
  samples: number[];
  /** Per measured seq (index seq − afterSeq − 1): latest receipt time over this generator's viewers, epoch ms, 0 if none. */
  seqLastRecv: number[];
  /** Per seq: number of viewers that received it. */
  seqCount: number[];
  /** Measured frames received per `bucketMs` since t0. */
  buckets: number[];
  commentFrameBytes: number;
  /** Sampled frames whose in-place timestamp parse disagreed with a full msgpack decode (should be 0). */
  sampleMismatches: number;
  /** Non-event frames by type. */
  otherTypes: Record<string, number>;
  maxDegradeLevel: number;
  /** Degrade level changes heard since the viewers joined (epoch ms of receipt, level, the server's reason). */
  degradeChanges: Array<{ atMs: number; level: number; reason: string }>;
  acksSent: number;
}

export type FromGenerator = GenJoined | GenProgress | GenResult | { type: 'error'; message: string };
