/**
 * bench:media, part `consumers`: how many consumers one mediasoup worker carries.
 *
 * One livecart node (`serve --media-workers 1`) on the server core; its worker inherits the
 * affinity (checked and reported). ffmpeg publishes VP8 + Opus into one room (bench/mediaStream.ts).
 * Subscribers are added in steps until one of: the worker reaches `workerCpu` % of a core,
 * subscribers lose packets (or, decoding, frames), the load side saturates, joins fail, or `max`.
 *
 * Three kinds of subscriber (modes):
 *   decode, receive-only  WebRTC peers from bench/mediaViewers.ts (Node + @roamhq/wrtc behind the
 *                 SDK's StreamViewer, decoding or not). One load core carries ~25 decoding and
 *                 ~120 receive-only ones: there the generator, not the worker, is the bound.
 *   plain         plain RTP viewers (bench/mediaServerHost.ts): per viewer a PlainTransport on the
 *                 room's router with a consumer per track, SRTP-encrypted like WebRTC, sending into
 *                 a UDP sink on the load core (bench/mediaSink.ts) that counts packets and sequence
 *                 gaps per stream. The worker does what it does for a WebRTC viewer except ICE,
 *                 DTLS and the receiver's feedback (transport-cc, NACK, PLI): so the worker, not
 *                 the generator, is the bound.
 */
import { readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { MediaStatus } from '../server/src/media/MediaStats.ts';
import { IpcChild } from './generatorPool.ts';
import type { FromHost, PlainAdded, ToHost } from './mediaServerHost.ts';
import type { FromSink, SinkSample, ToSink } from './mediaSink.ts';
import { type IngestKind, type RunningIngest, startRtpIngest } from './mediaStream.ts';
import { type FromGen, type GenAdded, type GenSample, startViewerGenerator, type ToGen, type ViewerMode } from './mediaViewers.ts';
import {
  coreBusyPercent, coreStealPercent, cpuAffinity, cpuSnapshot, type CpuSnapshot, processCpuPercent, processSysSeconds, threadCpuSeconds,
} from './procStats.ts';
import { REPO_ROOT, type RunningServer, setupLivecartRoom, signToken, startServer, streamerToken } from './servers.ts';
import { fmt, fmtInt, limitTally, linearFit, markdownTable, median } from './stats.ts';

export type ConsumerMode = ViewerMode | 'plain';

export interface ConsumerOptions {
  step: number; decodeStep: number; plainStep: number; max: number; plainMax: number;
  stepSeconds: number; settleSeconds: number; runs: number; modes: ConsumerMode[];
  workerCpu: number; loss: number; generatorCpu: number;
  /** Stop when a subscriber receives less than this share of the audio packets it got at the first step, %. */
  delivery: number; generators: number; joinConcurrency: number;
  ingest: IngestKind; videoSize: string; consumerLimit: number; statsIntervalMs: number;
  serverCore: string; loadCore: string; ffmpegCore: string; port: number; baseline: boolean;
  /** plain: SRTP on the plain transports (as WebRTC). */
  plainSrtp: boolean;
  secret: string;
}

const ROOM = 'bench';
const HOST = '127.0.0.1';
/** The test pattern's frame rate. */
const SOURCE_FPS = 30;
const HOST_SCRIPT = path.join(REPO_ROOT, 'bench/mediaServerHost.ts');
const SINK_SCRIPT = path.join(REPO_ROOT, 'bench/mediaSink.ts');
/** Ports of the plain viewers' transports on the worker: below the kernel's ephemeral range, apart from the server's own. */
const PLAIN_PORTS = { min: 20000, max: 29999 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Row {
  subscribers: number;
  live: number;
  consumers: number;
  workerCpu: number;
  workerCpuOps: number;
  serverCpu: number;
  generatorCpu: number;
  ffmpegCpu: number;
  orchestratorCpu: number;
  serverCoreBusy: number;
  loadCoreBusy: number;
  steal: number;
  videoPps: number;
  videoLost: number;
  videoLostPct: number;
  videoMbps: number;
  /** Audio packets per second; in receive-only mode estimated from the transports (libwebrtc drops unknown audio before counting it). */
  audioPps: number;
  audioLost: number;
  /** Audio packets per subscriber per second against the run's first step with subscribers, % (audio's rate is constant: 50 a second). */
  deliveryPct: number;
  /** Share of the worker's CPU spent in the kernel (on loopback, sendmsg also runs the receiving side's network stack). */
  workerSysShare: number;
  /** mediasoup's bandwidth probation packets per second, all subscribers. */
  probatorPps: number;
  /** Datagrams the plain viewers' sink could not read in time (kernel drops on its sockets). */
  sinkDrops: number;
  /** The generator's busiest threads over the window. */
  generatorThreads: string;
  fpsMedian: number;
  fpsMin: number;
  framesDropped: number;
  droppedPct: number;
  bitrateOutMbps: number;
  joinFailures: number;
  limits: string[];
}

interface RunResult {
  mode: ConsumerMode;
  run: number;
  rows: Row[];
  verdict: string;
  limitedBy: 'worker' | 'generator' | 'loss' | 'joins' | 'max' | 'error';
  command: string;
  affinity: Record<string, string>;
  /** The worker binary and the SRTP/crypto libraries it runs with. */
  workerCrypto: string;
  errors: string[];
}

/** A generator's sample; plain viewers' sink also tells the datagrams the kernel dropped on its sockets. */
type LoadSample = GenSample & { sinkDrops: number };

/** The subscribers of a run and the load-core processes that make them. */
interface SubscriberLoad {
  readonly pids: number[];
  readonly names: string[];
  add(ids: number[]): Promise<{ ok: number; failed: number; errors: string[] }>;
  sample(): Promise<LoadSample[]>;
  /** Consumers on the worker that the server does not count (plain viewers), or undefined: the server's count. */
  readonly ownConsumers: number | undefined;
  stop(): Promise<void>;
}

async function webrtcLoad(mode: ViewerMode, url: string, o: ConsumerOptions): Promise<SubscriberLoad> {
  const generators: Array<IpcChild<ToGen, FromGen>> = await Promise.all(Array.from({ length: o.generators }, () => startViewerGenerator(o.loadCore, mode, o.secret, o.joinConcurrency)));
  return {
    pids: generators.map((g) => g.pid),
    names: generators.map((_, i) => `generator ${i}`),
    ownConsumers: undefined,
    add: async (ids) => {
      const added = await Promise.all(generators.map((g, i) => g.request<GenAdded>({ t: 'add', ids: ids.filter((_, k) => k % generators.length === i), url, room: ROOM }, 'added')));
      return { ok: added.reduce((s, a) => s + a.ok, 0), failed: added.reduce((s, a) => s + a.failed, 0), errors: added.flatMap((a) => a.errors) };
    },
    sample: () => Promise.all(generators.map(async (g) => ({ ...(await g.request<GenSample>({ t: 'sample' }, 'sample', 120_000)), sinkDrops: 0 }))),
    stop: async () => {
      await Promise.all(generators.map(async (g) => {
        await g.request({ t: 'stop' }, 'stopped', 10_000).catch(() => undefined);
        await g.stop();
      }));
    },
  };
}

async function plainLoad(server: RunningServer, ingest: RunningIngest, o: ConsumerOptions): Promise<SubscriberLoad> {
  const host = new IpcChild<ToHost, FromHost>(server.child, 'livecart host');
  const sink = IpcChild.spawn<ToSink, FromSink>(o.loadCore, SINK_SCRIPT);
  const ready = await sink.next<FromSink & { t: 'ready' }>('ready', 60_000);
  let consumers = 0;
  let viewers = 0;
  let kinds: Record<string, 'audio' | 'video'> = {};
  return {
    pids: [sink.pid],
    names: ['UDP sink'],
    get ownConsumers() {
      return consumers;
    },
    add: async (ids) => {
      const added = await host.request<PlainAdded>({
        t: 'plain', producerIds: [ingest.video.producerId, ingest.audio.producerId], sinks: ready.ports.map((port) => ({ ip: ready.ip, port })),
        count: ids.length, srtp: o.plainSrtp, portRange: PLAIN_PORTS,
      }, 'plain-added', 60_000);
      consumers = added.consumers;
      viewers += added.ok;
      kinds = { ...kinds, ...added.payloadTypes };
      return added;
    },
    sample: async () => {
      const s = await sink.request<SinkSample>({ t: 'sample' }, 'sample');
      const of = (kind: 'audio' | 'video') => Object.entries(s.byPayloadType).filter(([pt]) => kinds[pt] === kind).map(([, v]) => v);
      const sum = (xs: Array<{ packets: number; lost: number; bytes: number }>, f: 'packets' | 'lost' | 'bytes') => xs.reduce((t, x) => t + x[f], 0);
      const video = of('video');
      const audio = of('audio');
      return [{
        t: 'sample', at: s.at, subscribers: viewers, live: Math.floor(s.activeStreams / 2), states: {},
        video: { packets: sum(video, 'packets'), lost: sum(video, 'lost'), bytes: sum(video, 'bytes'), decoded: 0, dropped: 0, received: 0 },
        audio: { packets: sum(audio, 'packets'), lost: sum(audio, 'lost') },
        transportPackets: sum(video, 'packets') + sum(audio, 'packets') + s.rtcp, transportBytes: sum(video, 'bytes') + sum(audio, 'bytes'),
        probatorPackets: 0, frames: {}, sinkDrops: s.drops,
      }];
    },
    stop: async () => {
      await sink.request({ t: 'stop' }, 'stopped', 5000).catch(() => undefined);
      await sink.stop();
    },
  };
}

/** Which SRTP library the worker uses and what it does its crypto with (ldd). */
function cryptoOf(pid: number): string {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const libs = execFileSync('ldd', [exe], { encoding: 'utf8' });
    const srtp = /^\s*(libsrtp\S*) => (\S+)/m.exec(libs);
    if (srtp === null) return `${path.relative(REPO_ROOT, exe)}: SRTP linked statically`;
    const deps = execFileSync('ldd', [srtp[2]!], { encoding: 'utf8' });
    const crypto = [...deps.matchAll(/^\s*(libcrypto\S*|libnss3\S*|libgcrypt\S*)/gm)].map((m) => m[1]).join(', ');
    return `${path.relative(REPO_ROOT, exe)}, SRTP from ${srtp[2]} (crypto: ${crypto || 'libsrtp\'s built-in ciphers'})`;
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
}

/** A node's media status (`GET /api/ops/node`). */
export async function mediaOf(base: string, operator: string): Promise<MediaStatus> {
  return ((await (await fetch(`${base}/api/ops/node`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { media: MediaStatus }).media;
}

async function runOnce(mode: ConsumerMode, run: number, portOffset: number, o: ConsumerOptions, log: (line: string) => void): Promise<RunResult> {
  const port = o.port + portOffset;
  const base = `http://${HOST}:${port}`;
  const errors: string[] = [];
  const extraArgs = ['--media-workers', '1', '--media-consumer-limit', String(o.consumerLimit), '--media-stats-interval-ms', String(o.statsIntervalMs),
    '--media-port-min', '50000', '--media-port-max', '59999', '--hls', 'false'];
  let server: RunningServer | undefined;
  let ingest: RunningIngest | undefined;
  let load: SubscriberLoad | undefined;
  try {
    server = await startServer({ kind: 'livecart', port, host: HOST, core: o.serverCore, secret: o.secret, rawMaxBackpressure: 0, extraArgs, ...(mode === 'plain' ? { hostScript: HOST_SCRIPT } : {}) });
    const operator = await signToken(o.secret, 'bench-operator', 'Operator', 'operator');
    const node = () => mediaOf(base, operator);
    const first = await node();
    if (!first.available || first.workers.length !== 1) throw new Error(`media not available: ${JSON.stringify(first)}`);
    const workerPid = first.workers[0]!.pid;

    const streamer = await streamerToken(o.secret);
    await setupLivecartRoom(HOST, port, streamer, log);
    ingest = await startRtpIngest({ base, room: ROOM, streamerToken: streamer, core: o.ffmpegCore, kind: o.ingest, videoSize: o.videoSize });
    load = mode === 'plain' ? await plainLoad(server, ingest, o) : await webrtcLoad(mode, `ws://${HOST}:${port}/ws`, o);

    const affinity: Record<string, string> = {
      [`server node (pid ${server.pid})`]: cpuAffinity(server.pid),
      [`mediasoup worker (pid ${workerPid})`]: cpuAffinity(workerPid),
      [`ffmpeg (pid ${ingest.pid})`]: cpuAffinity(ingest.pid),
      ...Object.fromEntries(load.pids.map((pid, i) => [`${load!.names[i]} (pid ${pid})`, cpuAffinity(pid)])),
      [`orchestrator (pid ${process.pid})`]: cpuAffinity(process.pid),
    };
    log(`  pinned: ${Object.entries(affinity).map(([k, v]) => `${k} → cpu ${v}`).join(', ')}`);

    // ffmpeg is up (whether its packets reach the subscribers shows in every row: a step without video stops the run).
    await sleep(1000);
    ingest.check();

    const pids = [server.pid, workerPid, ingest.pid, process.pid, ...load.pids];
    const rows: Row[] = [];
    let subscribers = 0;
    let verdict = '';
    let limitedBy: RunResult['limitedBy'] = 'max';
    let nextId = 0;
    const stepOf = mode === 'decode' ? o.decodeStep : mode === 'plain' ? o.plainStep : o.step;
    const max = mode === 'plain' ? o.plainMax : o.max;
    for (let step = 0; ; step++) {
      let joinFailures = 0;
      if (step > 0 || !o.baseline) {
        const target = Math.min(max, subscribers + nextStep(stepOf, rows.at(-1), o.workerCpu));
        try {
          const added = await load.add(Array.from({ length: target - subscribers }, () => nextId++));
          joinFailures = added.failed;
          errors.push(...added.errors);
        } catch (error) {
          // A worker at its limit answers the server's requests late, or not before the bench gives up.
          verdict = `${target - subscribers} more subscribers could not be added: ${(error as Error).message}`;
          limitedBy = 'joins';
          log(`  ${mode} run ${run + 1}: ${verdict}`);
          break;
        }
        subscribers = target;
        await sleep(o.settleSeconds * 1000);
      }
      const genA = await load.sample();
      const threadsA = threadCpuSeconds(load.pids);
      const cpuA: CpuSnapshot = cpuSnapshot(pids);
      const workerSysA = processSysSeconds(workerPid);
      await sleep(o.stepSeconds * 1000);
      const cpuB: CpuSnapshot = cpuSnapshot(pids);
      const nodeB = await node();
      const genB = await load.sample();
      ingest.check();
      const row = measure(mode, threadsA, workerSysA, subscribers, joinFailures, genA, genB, cpuA, cpuB, nodeB, load.ownConsumers, { server: server.pid, worker: workerPid, ffmpeg: ingest.pid, generators: load.pids }, o);
      const limits: string[] = [];
      if (row.workerCpu >= o.workerCpu) limits.push(`worker CPU ${fmt(row.workerCpu, 0)}% ≥ ${o.workerCpu}%`);
      if (subscribers > 0 && row.videoPps === 0) limits.push('no video reached the subscribers');
      const firstRow = rows.find((r) => r.subscribers > 0);
      row.deliveryPct = firstRow === undefined ? 100 : (100 * (row.audioPps / subscribers)) / (firstRow.audioPps / firstRow.subscribers);
      if (subscribers > 0 && row.deliveryPct < o.delivery) limits.push(`delivery ${fmt(row.deliveryPct, 1)}% < ${o.delivery}% of the first step's audio packets per subscriber`);
      if (subscribers > 0 && row.videoLostPct > o.loss) limits.push(`video packets lost ${fmt(row.videoLostPct, 2)}% > ${o.loss}%`);
      if (subscribers > 0 && mode === 'decode' && row.droppedPct > o.loss) limits.push(`frames dropped ${fmt(row.droppedPct, 2)}% > ${o.loss}%`);
      if (subscribers > 0 && mode === 'decode' && row.fpsMedian < 0.9 * SOURCE_FPS) limits.push(`decoding too slow: ${fmt(row.fpsMedian, 1)} fps < 90% of ${SOURCE_FPS}`);
      const genBusy = Math.max(row.generatorCpu, row.loadCoreBusy);
      if (genBusy >= o.generatorCpu) limits.push(`generator saturated (process ${fmt(row.generatorCpu, 0)}%, load core ${fmt(row.loadCoreBusy, 0)}% ≥ ${o.generatorCpu}%)`);
      if (row.sinkDrops > 0) limits.push(`the sink dropped ${fmtInt(row.sinkDrops)} datagrams (its receive buffers overflowed)`);
      if (joinFailures > 0 || row.live < subscribers) limits.push(`subscribers not live: ${subscribers - row.live} of ${subscribers} (${joinFailures} joins failed)`);
      row.limits = limits;
      rows.push(row);
      log(`  ${mode} run ${run + 1}: ${fmtInt(subscribers)} subscribers, ${fmtInt(row.consumers)} consumers, worker ${fmt(row.workerCpu, 0)}% (ops ${fmt(row.workerCpuOps, 0)}%, ${fmt(100 * row.workerSysShare, 0)}% of it kernel), server ${fmt(row.serverCpu, 0)}%, generator ${fmt(row.generatorCpu, 0)}%, ffmpeg ${fmt(row.ffmpegCpu, 0)}%, cores ${fmt(row.serverCoreBusy, 0)}%/${fmt(row.loadCoreBusy, 0)}%, video ${fmtInt(row.videoPps)} pkt/s lost ${fmtInt(row.videoLost)}, audio ${fmtInt(row.audioPps)} pkt/s, probation ${fmtInt(row.probatorPps)} pkt/s, ${fmt(row.fpsMedian, 1)} fps/sub (min ${fmt(row.fpsMin, 1)}); generator threads: ${row.generatorThreads}${limits.length ? `  ← ${limits.join('; ')}` : ''}`);
      if (limits.length > 0) {
        verdict = limits.join('; ');
        // Loss with a busy generator and a worker far from its limit is the generator falling behind.
        const generatorLoss = genBusy >= 0.8 * o.generatorCpu && row.workerCpu < 0.8 * o.workerCpu;
        limitedBy = row.workerCpu >= o.workerCpu ? 'worker' : genBusy >= o.generatorCpu || row.sinkDrops > 0 || generatorLoss ? 'generator' : limits.some((l) => l.startsWith('subscribers not live')) ? 'joins' : limits.some((l) => l.startsWith('no video')) ? 'error' : 'loss';
        break;
      }
      if (subscribers >= max) {
        verdict = `reached the most subscribers asked for (${max}) without hitting a limit`;
        break;
      }
    }
    return { mode, run, rows, verdict, limitedBy, command: server.command, affinity, workerCrypto: cryptoOf(workerPid), errors: errors.slice(0, 10) };
  } catch (error) {
    const message = (error as Error).message;
    log(`  ${mode} run ${run + 1} failed: ${message}${server ? `\n${server.output().slice(-1500)}` : ''}`);
    return { mode, run, rows: [], verdict: `error: ${message}`, limitedBy: 'error', command: server?.command ?? '', affinity: {}, workerCrypto: '', errors: [message, ...errors] };
  } finally {
    await load?.stop();
    await ingest?.stop();
    await server?.stop();
  }
}

/**
 * Subscribers to add next: `step`, or fewer once the worker nears its limit (half the headroom at
 * the last row's cost per subscriber, at least an eighth of a step), so the bound is found closely
 * without a step that buries the worker.
 */
function nextStep(step: number, last: Row | undefined, workerLimit: number): number {
  if (last === undefined || last.subscribers === 0 || !(last.workerCpu > 0)) return step;
  const perSubscriber = last.workerCpu / last.subscribers;
  return Math.max(Math.ceil(step / 8), Math.min(step, Math.round((workerLimit - last.workerCpu) / perSubscriber / 2)));
}

function busiestThreads(a: Map<string, number>, b: Map<string, number>, seconds: number): string {
  return [...b].map(([name, cpu]) => [name, ((cpu - (a.get(name) ?? 0)) / seconds) * 100] as const)
    .filter(([, pct]) => pct >= 0.5).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([name, pct]) => `${name} ${fmt(pct, 0)}%`).join(', ');
}

function measure(
  mode: ConsumerMode, threadsA: Map<string, number>, workerSysA: number,
  subscribers: number, joinFailures: number, a: LoadSample[], b: LoadSample[], cpuA: CpuSnapshot, cpuB: CpuSnapshot, nodeB: MediaStatus, ownConsumers: number | undefined,
  pids: { server: number; worker: number; ffmpeg: number; generators: number[] }, o: ConsumerOptions,
): Row {
  const sum = (xs: LoadSample[], f: (s: LoadSample) => number) => xs.reduce((s, x) => s + f(x), 0);
  const seconds = (Math.max(...b.map((s) => s.at)) - Math.max(...a.map((s) => s.at))) / 1000;
  const d = (f: (s: LoadSample) => number) => sum(b, f) - sum(a, f);
  const videoPackets = d((s) => s.video.packets);
  const videoLost = d((s) => s.video.lost);
  const decoded = d((s) => s.video.decoded);
  const dropped = d((s) => s.video.dropped);
  const fps: number[] = [];
  for (let g = 0; g < b.length; g++) {
    for (const [id, frames] of Object.entries(b[g]!.frames)) {
      const before = a[g]!.frames[id];
      if (before !== undefined) fps.push((frames - before) / seconds);
    }
  }
  const serverCore = Number(o.serverCore.split(/[,-]/)[0]);
  const loadCore = Number(o.loadCore.split(/[,-]/)[0]);
  return {
    subscribers,
    live: sum(b, (s) => s.live),
    consumers: ownConsumers ?? nodeB.workers[0]?.consumers ?? Number.NaN,
    workerCpu: processCpuPercent(cpuA, cpuB, pids.worker),
    workerCpuOps: (nodeB.workers[0]?.cpu ?? Number.NaN) * 100,
    serverCpu: processCpuPercent(cpuA, cpuB, pids.server),
    generatorCpu: pids.generators.reduce((s, pid) => s + processCpuPercent(cpuA, cpuB, pid), 0),
    ffmpegCpu: processCpuPercent(cpuA, cpuB, pids.ffmpeg),
    orchestratorCpu: processCpuPercent(cpuA, cpuB, process.pid),
    serverCoreBusy: coreBusyPercent(cpuA, cpuB, serverCore),
    loadCoreBusy: coreBusyPercent(cpuA, cpuB, loadCore),
    steal: Math.max(coreStealPercent(cpuA, cpuB, serverCore), coreStealPercent(cpuA, cpuB, loadCore)),
    videoPps: videoPackets / seconds,
    videoLost,
    videoLostPct: videoPackets + videoLost > 0 ? (100 * videoLost) / (videoPackets + videoLost) : 0,
    videoMbps: (d((s) => s.video.bytes) * 8) / seconds / 1e6,
    audioPps: (mode === 'receive-only' ? d((s) => s.transportPackets - s.video.packets - s.probatorPackets) : d((s) => s.audio.packets)) / seconds,
    audioLost: mode === 'receive-only' ? Number.NaN : d((s) => s.audio.lost),
    deliveryPct: 100,
    workerSysShare: (processSysSeconds(pids.worker) - workerSysA) / Math.max(1e-9, ((cpuB.procs.get(pids.worker) ?? Number.NaN) - (cpuA.procs.get(pids.worker) ?? Number.NaN))),
    probatorPps: d((s) => s.probatorPackets) / seconds,
    sinkDrops: d((s) => s.sinkDrops),
    generatorThreads: busiestThreads(threadsA, threadCpuSeconds(pids.generators), seconds),
    fpsMedian: median(fps),
    fpsMin: fps.length ? Math.min(...fps) : Number.NaN,
    framesDropped: dropped,
    droppedPct: decoded + dropped > 0 ? (100 * dropped) / (decoded + dropped) : 0,
    bitrateOutMbps: nodeB.bitrateOutBps / 1e6,
    joinFailures,
    limits: [],
  };
}

const header = (o: ConsumerOptions) => ['subscribers', 'consumers on the worker', 'worker CPU % (ops)', 'server node CPU %', `core ${o.serverCore} busy %`, 'generator CPU %', 'ffmpeg CPU %', `core ${o.loadCore} busy %`, 'video pkt/s received (all)', 'video lost (%)', 'audio pkt/s (lost)', 'delivery %', 'fps/subscriber median (min)', 'frames dropped', 'video Mbit/s received', 'limit'];

function rowCells(r: Row): string[] {
  return [
    fmtInt(r.subscribers), fmtInt(r.consumers), `${fmt(r.workerCpu, 1)} (${fmt(r.workerCpuOps, 0)})`, fmt(r.serverCpu, 1), fmt(r.serverCoreBusy, 0), fmt(r.generatorCpu, 1), fmt(r.ffmpegCpu, 1), fmt(r.loadCoreBusy, 0),
    fmtInt(r.videoPps), `${fmtInt(r.videoLost)} (${fmt(r.videoLostPct, 2)})`, `${fmtInt(r.audioPps)} (${fmtInt(r.audioLost)})`, fmt(r.deliveryPct, 1), `${fmt(r.fpsMedian, 1)} (${fmt(r.fpsMin, 1)})`, fmtInt(r.framesDropped), fmt(r.videoMbps, 1),
    r.limits.join('; ') || '–',
  ];
}

/** Per subscriber count, the median of each figure over the runs that measured it. */
function medianRows(results: RunResult[]): Row[] {
  const counts = [...new Set(results.flatMap((r) => r.rows.map((x) => x.subscribers)))].sort((x, y) => x - y);
  return counts.map((n) => {
    const rows = results.flatMap((r) => r.rows.filter((x) => x.subscribers === n));
    const m = (f: (x: Row) => number) => median(rows.map(f));
    return {
      subscribers: n, live: m((x) => x.live), consumers: m((x) => x.consumers), workerCpu: m((x) => x.workerCpu), workerCpuOps: m((x) => x.workerCpuOps), serverCpu: m((x) => x.serverCpu),
      generatorCpu: m((x) => x.generatorCpu), ffmpegCpu: m((x) => x.ffmpegCpu), orchestratorCpu: m((x) => x.orchestratorCpu), serverCoreBusy: m((x) => x.serverCoreBusy), loadCoreBusy: m((x) => x.loadCoreBusy),
      steal: m((x) => x.steal), videoPps: m((x) => x.videoPps), videoLost: m((x) => x.videoLost), videoLostPct: m((x) => x.videoLostPct), videoMbps: m((x) => x.videoMbps), audioPps: m((x) => x.audioPps),
      audioLost: m((x) => x.audioLost), deliveryPct: m((x) => x.deliveryPct), fpsMedian: m((x) => x.fpsMedian), fpsMin: m((x) => x.fpsMin), framesDropped: m((x) => x.framesDropped), droppedPct: m((x) => x.droppedPct),
      workerSysShare: m((x) => x.workerSysShare), probatorPps: m((x) => x.probatorPps), sinkDrops: m((x) => x.sinkDrops),
      bitrateOutMbps: m((x) => x.bitrateOutMbps), joinFailures: m((x) => x.joinFailures), generatorThreads: rows.at(-1)!.generatorThreads,
      limits: rows.length === 1 ? rows[0]!.limits : [limitTally(rows.map((x) => x.limits))].filter(Boolean),
    };
  });
}

/** Least-squares worker CPU % per consumer over the measured rows. */
function workerFit(rows: Row[]): { perConsumer: number; intercept: number; atLimit: (limit: number) => number } | undefined {
  if (!rows.some((r) => r.consumers > 0)) return undefined;
  const fit = linearFit(rows.map((r) => ({ x: r.consumers, y: r.workerCpu })));
  return fit === undefined ? undefined : { perConsumer: fit.slope, intercept: fit.intercept, atLimit: (limit) => (limit - fit.intercept) / fit.slope };
}

/** One line per mode for the report's summary table. */
export interface ConsumerFigure {
  mode: ConsumerMode;
  /** Subscribers and consumers at the highest step within every limit (median over runs). */
  subscribers: number;
  consumers: number;
  /** Consumers held in each run. */
  consumersPerRun: number[];
  workerCpu: number;
  perConsumer: number;
  generatorCpu: number;
  limit: string;
}

export interface ConsumersReport {
  markdown: string;
  figures: ConsumerFigure[];
}

export async function runConsumers(o: ConsumerOptions, log: (line: string) => void): Promise<ConsumersReport> {
  const results: RunResult[] = [];
  for (const mode of o.modes) {
    for (let run = 0; run < o.runs; run++) {
      log(`\n## consumers: ${mode}, run ${run + 1}/${o.runs}`);
      results.push(await runOnce(mode, run, results.length, o, log));
      log(`  → ${results.at(-1)!.verdict}`);
    }
  }

  const sections: string[] = [];
  const verdicts: string[] = [];
  const figures: ConsumerFigure[] = [];
  for (const mode of o.modes) {
    const runs = results.filter((r) => r.mode === mode);
    const ok = runs.filter((r) => r.rows.length > 0);
    if (ok.length === 0) {
      sections.push(`### ${mode}\n\nno run completed: ${runs.map((r) => r.verdict).join('; ')}`);
      continue;
    }
    const rows = o.runs > 1 ? medianRows(ok) : ok[0]!.rows;
    const table = markdownTable(header(o), rows.map(rowCells));
    const within = ok.map((r) => r.rows.filter((x) => x.limits.length === 0).at(-1));
    const fit = workerFit(rows);
    const last = rows.at(-1)!;
    const limiters = ok.map((r) => r.limitedBy);
    const mainLimit = [...new Set(limiters)].map((l) => (o.runs > 1 ? `${l} (${limiters.filter((x) => x === l).length} of ${ok.length} runs)` : l)).join(', ');
    const fitLine = fit === undefined ? 'Not enough points for a worker CPU fit.' :
      `Worker CPU ≈ ${fmt(fit.intercept, 1)}% + ${fmt(fit.perConsumer, 3)}% per consumer (least squares over these rows) → ${o.workerCpu}% of a core at ≈ ${fmtInt(fit.atLimit(o.workerCpu))} consumers (≈ ${fmtInt(fit.atLimit(o.workerCpu) / 2)} video + audio subscribers)${last.workerCpu < o.workerCpu ? ': an EXTRAPOLATION beyond what was measured' : ''}.`;
    const perSub = rows.filter((r) => r.subscribers > 0);
    const genLine = perSub.length === 0 ? '' :
      ` Generator: ≈ ${fmt(perSub[0]!.generatorCpu / perSub[0]!.subscribers, 2)}% of a core per subscriber at ${perSub[0]!.subscribers} subscribers${perSub[0]!.generatorCpu >= o.generatorCpu ? ' (already saturated: a lower bound; try a smaller --decode-step)' : ''}, so one core carries ≈ ${fmtInt((100 * perSub[0]!.subscribers) / Math.max(1e-9, perSub[0]!.generatorCpu))} of them.`;
    const held = median(within.map((r) => r?.subscribers ?? 0));
    const verdict = `**${mode}**: ${fmtInt(held)} subscribers was the highest step within every limit${o.runs > 1 ? ` (median of ${ok.length} runs: ${within.map((r) => fmtInt(r?.subscribers ?? 0)).join(' / ')})` : ''}; stopped by: ${mainLimit} — ${ok.map((r) => r.verdict).join(' | ')}. At the last step the worker used ${fmt(last.workerCpu, 1)}% of a core for ${fmtInt(last.consumers)} consumers (${fmt(100 * last.workerSysShare, 0)}% of it in the kernel). ${fitLine}${genLine}`;
    verdicts.push(verdict);
    figures.push({
      mode, subscribers: held, consumers: median(within.map((r) => r?.consumers ?? 0)), consumersPerRun: within.map((r) => r?.consumers ?? 0), workerCpu: median(within.map((r) => r?.workerCpu ?? Number.NaN)),
      perConsumer: fit?.perConsumer ?? Number.NaN, generatorCpu: median(within.map((r) => r?.generatorCpu ?? Number.NaN)), limit: mainLimit,
    });
    const threads = last.generatorThreads === '' ? '' : `\n\nGenerator threads at the last step (share of a core): ${last.generatorThreads}.`;
    sections.push(`### ${mode}${o.runs > 1 ? ` (medians of ${ok.length} runs per subscriber count)` : ''}\n\n${table}\n\n${verdict}${threads}${ok[0]!.errors.length ? `\n\nFirst errors: ${ok[0]!.errors.slice(0, 3).join(' | ')}` : ''}`);
  }
  const measured = results.filter((r) => r.rows.length > 0);
  const limitOf = (modes: ConsumerMode[]) => measured.filter((r) => modes.includes(r.mode));
  const webrtc = limitOf(['decode', 'receive-only']);
  const plain = limitOf(['plain']);
  const limitLines = [
    webrtc.length === 0 ? '' : webrtc.some((r) => r.limitedBy === 'generator')
      ? '- WebRTC subscribers: **the load generator, not the worker, is the limit on this machine.** libwebrtc in a Node process on one core runs out of CPU long before the mediasoup worker is busy: in decode mode mostly its VP8 decoders (DecodingQueue threads) and the test audio device that pulls and decodes every audio stream; in receive-only mode its network thread (SRTP, RTP, ICE) and per-transport send controllers. The worker figures are what the worker needed for the subscribers the generator could carry.'
      : `- WebRTC subscribers: stopped by ${webrtc.map((r) => `${r.mode}: ${r.limitedBy}`).join(', ')}.`,
    plain.length === 0 ? '' : plain.every((r) => r.limitedBy === 'worker' || r.limitedBy === 'loss')
      ? `- Plain RTP viewers: **the worker is the limit** (${plain.map((r) => r.limitedBy).join(', ')}); the sink on the load core kept up (no kernel drops on its sockets).`
      : `- Plain RTP viewers: stopped by ${plain.map((r) => r.limitedBy).join(', ')}.`,
  ].filter(Boolean).join('\n');
  const guidance = `mediasoup's own guidance (https://mediasoup.org/documentation/v3/scalability): "Depending on the host CPU capabilities, a mediasoup C++ subprocess can typically handle over ~500 consumers in total" (one consumer per viewer per track: a video + audio viewer is 2, so ~250 viewers). livecart's default --media-consumer-limit is 400 per worker; this bench runs the server with ${fmtInt(o.consumerLimit)} so that the worker, not the cap, is measured.`;
  const first = results.find((r) => r.command !== '');
  const processes = first === undefined ? '' : `Server command (${first.mode}): \`${first.command}\`\n\nCPU affinity (from /proc/PID/status):\n\n${markdownTable(['process', 'cpus'], Object.entries(first.affinity).map(([k, v]) => [k, v]))}\n\nmediasoup worker binary: ${first.workerCrypto}`;
  const markdown = [
    `## Consumers per worker`,
    `Ingest: ${o.ingest === 'copy' ? 'a 20 s clip encoded once with the server\'s suggested settings, looped with `-c copy`' : 'the server\'s suggested ffmpeg command (live libvpx encode)'}: ${o.videoSize} VP8 800 kbit/s target, 30 fps, key frame every 2 s, Opus 64 kbit/s, into \`POST /api/rooms/${ROOM}/ingest\`, ffmpeg on core ${o.ffmpegCore}. Steps of +${o.step} subscribers (decode +${o.decodeStep}, plain +${o.plainStep}), ${o.settleSeconds} s settle then ${o.stepSeconds} s measured; limits: worker ${o.workerCpu}% of a core, loss ${o.loss}%, delivery under ${o.delivery}%, generator ${o.generatorCpu}%; near the worker's limit a step adds half the headroom at the last step's cost per subscriber. Plain viewers: a PlainTransport each${o.plainSrtp ? ' with SRTP (AES_CM_128_HMAC_SHA1_80)' : ' (no SRTP)'}, video + audio consumers, into a UDP sink on core ${o.loadCore}.`,
    processes,
    sections.join('\n\n'),
    `### Verdict\n\n${verdicts.map((v) => `- ${v}`).join('\n')}\n\nLimiting factor:\n${limitLines}\n\n${guidance}`,
    `### Columns`,
    '- worker CPU %: the mediasoup worker process (utime+stime from /proc over the window, 100 = one core); in brackets the server\'s own figure (`/api/ops/node` → `media.workers[0].cpu`, sampled every --media-stats-interval-ms).\n- consumers on the worker: its reserved/open consumers (`media.workers[0].consumers`); plain mode: the plain consumers the bench opened (the server does not count them).\n- server node CPU %: the livecart Node process alone (the worker is a separate process).\n- generator CPU %: the generator process(es), all threads (libwebrtc\'s network, worker and decoder threads included); plain mode: the UDP sink.\n- video pkt/s, lost, audio pkt/s: inbound-rtp of every subscriber summed over the window (mediasoup-client\'s probator stream excluded); plain mode: what the sink read, and the gaps in each stream\'s sequence numbers. Lost counts packets never received. delivery %: audio packets per subscriber per second against the run\'s first step (Opus sends 50 a second: fewer means the worker, or the generator, fell behind without a gap in the sequence numbers yet, the packets waiting in a socket buffer). In receive-only mode libwebrtc drops the audio before counting it, so audio pkt/s is the transports\' packets minus video and probator (RTCP included) and its loss is n/a.\n- fps/subscriber: framesDecoded per second per subscriber, median and minimum (0 in receive-only and plain modes by design).\n- A saturated generator reads fewer packets without reporting them lost (they wait in its socket buffers and task queues, and inbound-rtp only counts sequence gaps among packets it has processed), so fewer pkt/s per subscriber than the same step in receive-only mode also means the generator fell behind.',
  ].join('\n\n');
  return { markdown, figures };
}
