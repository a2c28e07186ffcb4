/**
 * npm run bench:media — how many WebRTC subscribers one mediasoup worker carries.
 *
 * One livecart node (`serve --media-workers 1`) pinned to the server core; its mediasoup worker
 * inherits the affinity (checked and reported). ffmpeg publishes VP8 + Opus into one live room
 * through RTP ingest (`POST /api/rooms/:id/ingest`). A load generator (this file with
 * `--generator`, Node + @roamhq/wrtc behind the SDK's StreamViewer) on the load core adds
 * `--step` subscribers every `--step-seconds` until one of:
 *   - the worker reaches `--worker-cpu` % of a core (from /proc; the server's own figure from
 *     /api/ops/node is shown next to it),
 *   - subscribers lose packets or frames (inbound-rtp packetsLost / framesDropped above `--loss` %,
 *     or decoded frame rate under 90% of the source's),
 *   - the generator saturates (its process or its core above `--generator-cpu` %),
 *   - subscribers cannot join, or `--max` is reached.
 *
 * Two kinds of subscriber (`--modes`):
 *   decode        the SDK's StreamViewer as is. libwebrtc decodes every video frame whether or not
 *                 the track is attached anywhere (wrtc has no renderer; framesDecoded rises anyway),
 *                 so each subscriber costs the generator a VP8 decoder.
 *   receive-only  the same StreamViewer, but this process rewrites the video payload types in the
 *                 remote SDP before libwebrtc sees it (and drops RTX and the NACK/PLI/FIR feedback):
 *                 the packets still arrive, are decrypted (SRTP) and counted in inbound-rtp, then
 *                 dropped as an unknown payload type before depacketizing and decoding. Bench-only;
 *                 the SDK has no receive-without-decode option. Audio is left as is in both modes.
 *
 * Prints a table per step, the verdict and the command; writes bench/results/media-<timestamp>.md.
 *
 * `--layers` runs bench/mediaLayers.ts instead: the simulcast layer a viewer decodes at each degrade level.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { coreBusyPercent, coreStealPercent, cpuSnapshot, type CpuSnapshot, pinProcess, processCpuPercent } from './procStats.ts';
import { REPO_ROOT, type RunningServer, setupLivecartRoom, signToken, startServer, stopChild, streamerToken } from './servers.ts';
import { runLayers } from './mediaLayers.ts';
import { fmt, fmtInt, markdownTable, median } from './stats.ts';

const ROOM = 'bench';
const HOST = '127.0.0.1';
const SECRET = 'bench-media-secret-0123456789abcdef';
const FFMPEG = '/usr/bin/ffmpeg';
/** mediasoup-client's bandwidth probator stream (not media). */
const PROBATOR_SSRC = 1234;
/** The test pattern's frame rate. */
const SOURCE_FPS = 30;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

type Mode = 'decode' | 'receive-only';

// ============================================================== generator (child process)

/** Totals over the subscribers of one generator, at one instant. */
interface GenSample {
  t: 'sample';
  at: number;
  subscribers: number;
  live: number;
  states: Record<string, number>;
  video: { packets: number; lost: number; bytes: number; decoded: number; dropped: number; received: number };
  audio: { packets: number; lost: number };
  /** Packets received by the subscribers' transports (RTP and RTCP of every stream), and the probator's. */
  transportPackets: number;
  probatorPackets: number;
  /** framesDecoded per subscriber id. */
  frames: Record<string, number>;
}

type ToGen = { t: 'add'; ids: number[] } | { t: 'sample' } | { t: 'stop' };
type FromGen = { t: 'ready' } | { t: 'added'; ok: number; failed: number; errors: string[] } | GenSample | { t: 'stopped' } | { t: 'error'; message: string };

/**
 * receive-only: the audio and video m-sections of every remote description get fresh payload types
 * for their codecs (libwebrtc drops the packets, which keep mediasoup's, as an unknown payload type:
 * video after counting them in inbound-rtp, audio before), no RTX, and only transport-wide feedback
 * (so no PLI/NACK for streams that never decode).
 */
export function mungePayloadTypes(sdp: string): string {
  const used = new Set([...sdp.matchAll(/^a=rtpmap:(\d+) /gm)].map((m) => Number(m[1])));
  let next = 126; // 127 stays free (mediasoup's probation payload type)
  const fresh = (): number => {
    while (used.has(next) && next > 96) next--;
    used.add(next);
    return next;
  };
  const sections = sdp.split(/\r\n(?=m=)/);
  return sections.map((section) => {
    if (!section.startsWith('m=video') && !section.startsWith('m=audio')) return section;
    const lines = section.split('\r\n');
    const mLine = lines[0]!.split(' ');
    const codecOf = new Map<string, string>();
    for (const l of lines) {
      const r = /^a=rtpmap:(\d+) ([^/]+)/.exec(l);
      if (r) codecOf.set(r[1]!, r[2]!.toLowerCase());
    }
    const map = new Map<string, string>();
    for (const pt of mLine.slice(3)) if (codecOf.get(pt) !== 'rtx') map.set(pt, String(fresh()));
    const rtxSsrcs = new Set<string>();
    for (const l of lines) {
      const g = /^a=ssrc-group:FID \d+ (\d+)/.exec(l);
      if (g) rtxSsrcs.add(g[1]!);
    }
    const out = [[...mLine.slice(0, 3), ...map.values()].join(' ')];
    for (const l of lines.slice(1)) {
      const r = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)(.*)$/.exec(l);
      if (r) {
        const pt = map.get(r[2]!);
        if (pt === undefined) continue;
        if (r[1] === 'rtcp-fb' && !/transport-cc|goog-remb/.test(r[3]!)) continue;
        out.push(`a=${r[1]}:${pt}${r[3]}`);
        continue;
      }
      if (l.startsWith('a=ssrc-group:FID')) continue;
      const s = /^a=ssrc:(\d+) /.exec(l);
      if (s && rtxSsrcs.has(s[1]!)) continue;
      out.push(l);
    }
    return out.join('\r\n');
  }).join('\r\n');
}

async function generatorMain(): Promise<void> {
  const send = (m: FromGen) => process.send!(m);
  const mode = process.env['BENCH_MEDIA_MODE'] as Mode;
  const url = process.env['BENCH_MEDIA_URL']!;
  const secret = process.env['BENCH_MEDIA_SECRET']!;
  const concurrency = Number(process.env['BENCH_MEDIA_JOIN_CONCURRENCY'] ?? '8');
  // Installs @roamhq/wrtc as the browser globals, then the SDK viewer on top.
  const { watch } = await import('../tests/helpers/webrtc.ts');
  if (mode === 'receive-only') {
    const proto = (globalThis as unknown as { RTCPeerConnection: { prototype: RTCPeerConnection } }).RTCPeerConnection.prototype;
    const original = proto.setRemoteDescription as (this: RTCPeerConnection, description: RTCSessionDescriptionInit) => Promise<void>;
    proto.setRemoteDescription = function (this: RTCPeerConnection, description: RTCSessionDescriptionInit) {
      const munged = description?.sdp === undefined ? description : { type: description.type, sdp: mungePayloadTypes(description.sdp) };
      return original.call(this, munged);
    } as typeof proto.setRemoteDescription;
  }
  type Sub = Awaited<ReturnType<typeof watch>>;
  const subs = new Map<number, Sub>();

  const join = async (id: number): Promise<void> => {
    const token = await signToken(secret, `bench-media-${id}`, `Subscriber ${id}`, 'viewer');
    const sub = await withTimeout(watch(url, token, ROOM), 30_000, 'join');
    subs.set(id, sub);
    const deadline = Date.now() + 20_000;
    while (sub.viewer.state !== 'live' || sub.viewer.tracks.length < 2) {
      if (Date.now() > deadline) throw new Error(`state ${sub.viewer.state}, ${sub.viewer.tracks.length} tracks after 20 s`);
      await sleep(50);
    }
  };

  const sample = async (): Promise<GenSample> => {
    const s: GenSample = { t: 'sample', at: 0, subscribers: subs.size, live: 0, states: {}, video: { packets: 0, lost: 0, bytes: 0, decoded: 0, dropped: 0, received: 0 }, audio: { packets: 0, lost: 0 }, transportPackets: 0, probatorPackets: 0, frames: {} };
    await Promise.all([...subs].map(async ([id, { viewer }]) => {
      s.states[viewer.state] = (s.states[viewer.state] ?? 0) + 1;
      if (viewer.state === 'live') s.live++;
      const report = await viewer.stats().catch(() => undefined);
      let frames = 0;
      report?.forEach((r: { type: string; kind?: string; ssrc?: number; packetsReceived?: number; packetsLost?: number; bytesReceived?: number; framesDecoded?: number; framesDropped?: number; framesReceived?: number }) => {
        if (r.type === 'transport') s.transportPackets += r.packetsReceived ?? 0;
        if (r.type === 'inbound-rtp' && r.ssrc === PROBATOR_SSRC) s.probatorPackets += r.packetsReceived ?? 0;
        if (r.type !== 'inbound-rtp' || r.ssrc === PROBATOR_SSRC) return;
        if (r.kind === 'video') {
          s.video.packets += r.packetsReceived ?? 0;
          s.video.lost += Math.max(0, r.packetsLost ?? 0);
          s.video.bytes += r.bytesReceived ?? 0;
          s.video.decoded += r.framesDecoded ?? 0;
          s.video.dropped += r.framesDropped ?? 0;
          s.video.received += r.framesReceived ?? 0;
          frames += r.framesDecoded ?? 0;
        } else if (r.kind === 'audio') {
          s.audio.packets += r.packetsReceived ?? 0;
          s.audio.lost += Math.max(0, r.packetsLost ?? 0);
        }
      });
      s.frames[id] = frames;
    }));
    s.at = Date.now();
    return s;
  };

  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToGen) => {
    void (async () => {
      if (m.t === 'add') {
        const queue = [...m.ids];
        let ok = 0;
        const errors: string[] = [];
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
            try {
              await join(id);
              ok++;
            } catch (error) {
              errors.push(`subscriber ${id}: ${(error as Error).message}`);
            }
          }
        }));
        send({ t: 'added', ok, failed: errors.length, errors: errors.slice(0, 5) });
      } else if (m.t === 'sample') {
        send(await sample());
      } else {
        for (const { client, viewer } of subs.values()) {
          viewer.dispose();
          client.close();
        }
        send({ t: 'stopped' });
        setTimeout(() => process.exit(0), 200);
      }
    })().catch((error: unknown) => send({ t: 'error', message: (error as Error).stack ?? String(error) }));
  });
  send({ t: 'ready' });
}

// ============================================================== orchestrator

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

const OPTIONS = {
  step: { type: 'string', default: '25' },
  max: { type: 'string', default: '400' },
  'step-seconds': { type: 'string', default: '10' },
  'settle-seconds': { type: 'string', default: '3' },
  runs: { type: 'string', default: '1' },
  modes: { type: 'string', default: 'decode,receive-only' },
  'worker-cpu': { type: 'string', default: '80' },
  loss: { type: 'string', default: '1' },
  'generator-cpu': { type: 'string', default: '90' },
  generators: { type: 'string', default: '1' },
  'join-concurrency': { type: 'string', default: '8' },
  ingest: { type: 'string', default: 'copy' },
  'video-size': { type: 'string', default: '640x360' },
  'consumer-limit': { type: 'string', default: '100000' },
  'stats-interval-ms': { type: 'string', default: '5000' },
  'server-core': { type: 'string', default: '0' },
  'load-core': { type: 'string', default: '1' },
  'ffmpeg-core': { type: 'string' },
  'decode-step': { type: 'string' },
  port: { type: 'string', default: '18700' },
  baseline: { type: 'boolean', default: true },
  generator: { type: 'boolean', default: false },
  layers: { type: 'boolean', default: false },
  'layer-seconds': { type: 'string', default: '20' },
  help: { type: 'boolean', default: false },
} as const;

const HELP = `npm run bench:media -- [options]
  --step N              subscribers added per step (25)
  --decode-step N       the step in decode mode (--step); one core decodes for only ~25 subscribers here
  --max N               stop after this many subscribers (400)
  --step-seconds S      measurement window per step (10)
  --settle-seconds S    wait after a step's joins before measuring (3; ffmpeg sends a key frame every 2 s)
  --runs N              runs per mode; tables show medians per subscriber count (1)
  --modes LIST          decode,receive-only (both)
  --worker-cpu PCT      stop when the worker uses this much of a core (80)
  --loss PCT            stop when subscribers lose more than this share of video packets or frames (1)
  --generator-cpu PCT   stop when the generator process or its core is this busy (90)
  --generators N        generator processes, all on the load core (1)
  --join-concurrency N  joins in flight per generator (8)
  --ingest copy|encode  copy: a clip encoded once with the server's suggested settings, sent with -c copy
                        (cheap); encode: the server's suggested ffmpeg command as is (libvpx live) (copy)
  --video-size WxH      test pattern size (640x360, the server's suggestion)
  --consumer-limit N    the server's --media-consumer-limit (100000: measure the worker, not the cap;
                        the server's default is 400)
  --stats-interval-ms N the server's --media-stats-interval-ms (5000, its default)
  --server-core C / --load-core C / --ffmpeg-core C   (0 / 1 / the server core: with --ingest copy ffmpeg
                        costs ~1% of a core; on a saturated load core it would be starved and send
                        fewer frames, which the subscribers would then report as slow decoding)
  --port P              server port (18700; +1 per run)
  --no-baseline         skip the 0-subscriber row (ingest only)
  --layers              instead: one streamer (960x540 camera, three simulcast layers) and one viewer;
                        an operator sets the room to level 0, 2, 1, auto; prints the width the viewer
                        decodes per level and the layers the streamer sent (bench/mediaLayers.ts)
  --layer-seconds S     how long each level is held with --layers (20)`;

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
  /** Share of the worker's CPU spent in the kernel (on loopback, sendmsg also runs the receiving side's network stack). */
  workerSysShare: number;
  /** mediasoup's bandwidth probation packets per second, all subscribers. */
  probatorPps: number;
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
  mode: Mode;
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

class GenProc {
  readonly child: ChildProcess;
  #waiting: Array<{ t: string; resolve: (m: FromGen) => void; reject: (e: Error) => void }> = [];
  #failure: Error | undefined;

  constructor(core: string, env: Record<string, string>) {
    this.child = spawn('taskset', ['-c', core, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'bench/media.ts'), '--generator'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    this.child.on('message', (m: FromGen) => {
      if (m.t === 'error') return this.#fail(new Error(`generator: ${m.message}`));
      const i = this.#waiting.findIndex((w) => w.t === m.t);
      if (i >= 0) this.#waiting.splice(i, 1)[0]!.resolve(m);
    });
    this.child.on('exit', (code, signal) => this.#fail(new Error(`generator exited with ${signal ?? code}`)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  next<T extends FromGen>(t: T['t'], timeoutMs = 300_000): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return withTimeout(new Promise<T>((resolve, reject) => this.#waiting.push({ t, resolve: resolve as (m: FromGen) => void, reject })), timeoutMs, `generator ${t}`);
  }

  request<T extends FromGen>(message: ToGen, reply: T['t'], timeoutMs?: number): Promise<T> {
    const answer = this.next<T>(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }
}

/** Every child this bench started, killed on exit whatever happens. */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

interface Endpoint { ip: string; port: number; rtcpPort: number; payloadType: number; ssrc: number }

function splitCommand(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The server's suggested command, with every input read at its native rate, quiet. */
function encodeArgs(command: string, videoSize: string): string[] {
  const [, ...args] = splitCommand(command.replace('size=640x360', `size=${videoSize}`));
  const out = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-re') continue;
    if (args[i] === '-f' && args[i + 1] === 'lavfi') out.push('-re');
    out.push(args[i]!);
  }
  return out;
}

/** A 20 s clip encoded with the server's suggested encoder settings (VP8 800k, key frame every 60, Opus 64k). */
function ensureClip(videoSize: string): string {
  const file = path.join(os.tmpdir(), `livecart-bench-media-${videoSize}.webm`);
  if (existsSync(file)) return file;
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=${videoSize}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20',
    '-c:v', 'libvpx', '-b:v', '800k', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p', '-g', '60',
    '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k', file]);
  return file;
}

function copyArgs(clip: string, video: Endpoint, audio: Endpoint): string[] {
  const rtp = (e: Endpoint) => ['-ssrc', String(e.ssrc), '-payload_type', String(e.payloadType), '-f', 'rtp', `rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort}&pkt_size=1200`];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip,
    '-map', '0:v:0', '-c:v', 'copy', ...rtp(video), '-map', '0:a:0', '-c:a', 'copy', ...rtp(audio)];
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

function affinityOf(pid: number): string {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'gone';
  }
}

function operatorToken(): Promise<string> {
  return new SignJWT({ name: 'Operator', role: 'operator' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench-operator').setExpirationTime('2h').sign(new TextEncoder().encode(SECRET));
}

interface MediaNode { media: { available: boolean; workers: Array<{ pid: number; consumers: number; cpu: number }>; consumers: number; producers: number; bitrateInBps: number; bitrateOutBps: number } }

async function runOnce(mode: Mode, run: number, portOffset: number, o: Opts, log: (line: string) => void): Promise<RunResult> {
  const port = o.port + portOffset;
  const base = `http://${HOST}:${port}`;
  const errors: string[] = [];
  const extraArgs = ['--media-workers', '1', '--media-consumer-limit', String(o.consumerLimit), '--media-stats-interval-ms', String(o.statsIntervalMs),
    '--media-port-min', '50000', '--media-port-max', '59999'];
  let server: RunningServer | undefined;
  let ffmpeg: ChildProcess | undefined;
  const generators: GenProc[] = [];
  try {
    server = await startServer({ kind: 'livecart', port, host: HOST, core: o.serverCore, secret: SECRET, rawMaxBackpressure: 0, extraArgs });
    track(server.child);
    const operator = await operatorToken();
    const node = async (): Promise<MediaNode> => (await (await fetch(`${base}/api/ops/node`, { headers: { authorization: `Bearer ${operator}` } })).json()) as MediaNode;
    const first = await node();
    if (!first.media.available || first.media.workers.length !== 1) throw new Error(`media not available: ${JSON.stringify(first.media)}`);
    const workerPid = first.media.workers[0]!.pid;

    const streamer = await streamerToken(SECRET);
    await setupLivecartRoom(HOST, port, streamer, log);
    const ingest = await fetch(`${base}/api/rooms/${ROOM}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${streamer}`, 'content-type': 'application/json' }, body: JSON.stringify({ video: true, audio: true }) });
    const endpoints = (await ingest.json()) as { video: Endpoint; audio: Endpoint; ffmpeg: string };
    if (ingest.status !== 201) throw new Error(`POST ingest: ${ingest.status} ${JSON.stringify(endpoints)}`);
    const ffArgs = o.ingest === 'encode' ? encodeArgs(endpoints.ffmpeg, o.videoSize) : copyArgs(ensureClip(o.videoSize), endpoints.video, endpoints.audio);
    ffmpeg = track(spawn('taskset', ['-c', o.ffmpegCore, FFMPEG, ...ffArgs], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let ffErr = '';
    ffmpeg.stderr!.on('data', (c: Buffer) => { ffErr = (ffErr + c.toString()).slice(-2000); });
    const ffPid = ffmpeg.pid!;

    const env = { BENCH_MEDIA_MODE: mode, BENCH_MEDIA_URL: `ws://${HOST}:${port}/ws`, BENCH_MEDIA_SECRET: SECRET, BENCH_MEDIA_JOIN_CONCURRENCY: String(o.joinConcurrency) };
    for (let g = 0; g < o.generators; g++) generators.push(new GenProc(o.loadCore, env));
    for (const g of generators) track(g.child);
    await Promise.all(generators.map((g) => g.next('ready', 60_000)));

    const affinity: Record<string, string> = {
      [`server node (pid ${server.pid})`]: affinityOf(server.pid),
      [`mediasoup worker (pid ${workerPid})`]: affinityOf(workerPid),
      [`ffmpeg (pid ${ffPid})`]: affinityOf(ffPid),
      ...Object.fromEntries(generators.map((g, i) => [`generator ${i} (pid ${g.pid})`, affinityOf(g.pid)])),
      [`orchestrator (pid ${process.pid})`]: affinityOf(process.pid),
    };
    log(`  pinned: ${Object.entries(affinity).map(([k, v]) => `${k} → cpu ${v}`).join(', ')}`);

    // ffmpeg is up (whether its packets reach the subscribers shows in every row: a step without video stops the run).
    await sleep(1000);
    if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited: ${ffErr}`);

    const pids = [server.pid, workerPid, ffPid, process.pid, ...generators.map((g) => g.pid)];
    const sampleAll = async () => (await Promise.all(generators.map((g) => g.request<GenSample>({ t: 'sample' }, 'sample', 120_000))));
    const rows: Row[] = [];
    let subscribers = 0;
    let verdict = '';
    let limitedBy: RunResult['limitedBy'] = 'max';
    let nextId = 0;
    for (let step = 0; ; step++) {
      let joinFailures = 0;
      if (step > 0 || !o.baseline) {
        const target = Math.min(o.max, subscribers + (mode === 'decode' ? o.decodeStep : o.step));
        const ids = Array.from({ length: target - subscribers }, () => nextId++);
        const added = await Promise.all(generators.map((g, i) => g.request<FromGen & { t: 'added' }>({ t: 'add', ids: ids.filter((_, k) => k % generators.length === i) }, 'added')));
        joinFailures = added.reduce((s, a) => s + a.failed, 0);
        for (const a of added) errors.push(...a.errors);
        subscribers = target;
        await sleep(o.settleSeconds * 1000);
      }
      const genA = await sampleAll();
      const threadsA = threadCpu(generators.map((g) => g.pid));
      const cpuA: CpuSnapshot = cpuSnapshot(pids);
      const workerSysA = sysSeconds(workerPid);
      await sleep(o.stepSeconds * 1000);
      const cpuB: CpuSnapshot = cpuSnapshot(pids);
      const nodeB = await node();
      const genB = await sampleAll();
      if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited: ${ffErr}`);
      const row = measure(mode, threadsA, workerSysA, subscribers, joinFailures, genA, genB, cpuA, cpuB, nodeB, { server: server.pid, worker: workerPid, ffmpeg: ffPid, generators: generators.map((g) => g.pid) }, o);
      const limits: string[] = [];
      if (row.workerCpu >= o.workerCpu) limits.push(`worker CPU ${fmt(row.workerCpu, 0)}% ≥ ${o.workerCpu}%`);
      if (subscribers > 0 && row.videoPps === 0) limits.push('no video reached the subscribers');
      if (subscribers > 0 && row.videoLostPct > o.loss) limits.push(`video packets lost ${fmt(row.videoLostPct, 2)}% > ${o.loss}%`);
      if (subscribers > 0 && mode === 'decode' && row.droppedPct > o.loss) limits.push(`frames dropped ${fmt(row.droppedPct, 2)}% > ${o.loss}%`);
      if (subscribers > 0 && mode === 'decode' && row.fpsMedian < 0.9 * SOURCE_FPS) limits.push(`decoding too slow: ${fmt(row.fpsMedian, 1)} fps < 90% of ${SOURCE_FPS}`);
      const genBusy = Math.max(row.generatorCpu, row.loadCoreBusy);
      if (genBusy >= o.generatorCpu) limits.push(`generator saturated (process ${fmt(row.generatorCpu, 0)}%, load core ${fmt(row.loadCoreBusy, 0)}% ≥ ${o.generatorCpu}%)`);
      if (joinFailures > 0 || row.live < subscribers) limits.push(`subscribers not live: ${subscribers - row.live} of ${subscribers} (${joinFailures} joins failed)`);
      row.limits = limits;
      rows.push(row);
      log(`  ${mode} run ${run + 1}: ${fmtInt(subscribers)} subscribers, ${fmtInt(row.consumers)} consumers, worker ${fmt(row.workerCpu, 0)}% (ops ${fmt(row.workerCpuOps, 0)}%, ${fmt(100 * row.workerSysShare, 0)}% of it kernel), server ${fmt(row.serverCpu, 0)}%, generator ${fmt(row.generatorCpu, 0)}%, ffmpeg ${fmt(row.ffmpegCpu, 0)}%, cores ${fmt(row.serverCoreBusy, 0)}%/${fmt(row.loadCoreBusy, 0)}%, video ${fmtInt(row.videoPps)} pkt/s lost ${fmtInt(row.videoLost)}, audio ${fmtInt(row.audioPps)} pkt/s, probation ${fmtInt(row.probatorPps)} pkt/s, ${fmt(row.fpsMedian, 1)} fps/sub (min ${fmt(row.fpsMin, 1)}); generator threads: ${row.generatorThreads}${limits.length ? `  ← ${limits.join('; ')}` : ''}`);
      if (limits.length > 0) {
        verdict = limits.join('; ');
        limitedBy = row.workerCpu >= o.workerCpu ? 'worker' : genBusy >= o.generatorCpu ? 'generator' : limits.some((l) => l.startsWith('subscribers not live')) ? 'joins' : limits.some((l) => l.startsWith('no video')) ? 'error' : 'loss';
        break;
      }
      if (subscribers >= o.max) {
        verdict = `reached --max ${o.max} without hitting a limit`;
        break;
      }
    }
    return { mode, run, rows, verdict, limitedBy, command: server.command, affinity, workerCrypto: cryptoOf(workerPid), errors: errors.slice(0, 10) };
  } catch (error) {
    const message = (error as Error).message;
    log(`  ${mode} run ${run + 1} failed: ${message}${server ? `\n${server.output().slice(-1500)}` : ''}`);
    return { mode, run, rows: [], verdict: `error: ${message}`, limitedBy: 'error', command: server?.command ?? '', affinity: {}, workerCrypto: '', errors: [message, ...errors] };
  } finally {
    await Promise.all(generators.map(async (g) => {
      try {
        await g.request({ t: 'stop' }, 'stopped', 10_000);
      } catch {
        // already gone
      }
      await stopChild(g.child, 3000);
    }));
    if (ffmpeg !== undefined) await stopChild(ffmpeg, 2000);
    if (server !== undefined) await server.stop();
  }
}

/** Cumulative system (kernel) CPU seconds of a process. */
function sysSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Cumulative CPU seconds per thread name of some processes (libwebrtc names its threads). */
function threadCpu(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '');
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / CLK_TCK);
      } catch {
        // thread gone
      }
    }
  }
  return out;
}

function busiestThreads(a: Map<string, number>, b: Map<string, number>, seconds: number): string {
  return [...b].map(([name, cpu]) => [name, ((cpu - (a.get(name) ?? 0)) / seconds) * 100] as const)
    .filter(([, pct]) => pct >= 0.5).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([name, pct]) => `${name} ${fmt(pct, 0)}%`).join(', ');
}

function measure(
  mode: Mode, threadsA: Map<string, number> | undefined, workerSysA: number,
  subscribers: number, joinFailures: number, a: GenSample[], b: GenSample[], cpuA: CpuSnapshot, cpuB: CpuSnapshot, nodeB: MediaNode,
  pids: { server: number; worker: number; ffmpeg: number; generators: number[] }, o: Opts,
): Row {
  const sum = (xs: GenSample[], f: (s: GenSample) => number) => xs.reduce((s, x) => s + f(x), 0);
  const seconds = (Math.max(...b.map((s) => s.at)) - Math.max(...a.map((s) => s.at))) / 1000;
  const d = (f: (s: GenSample) => number) => sum(b, f) - sum(a, f);
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
    consumers: nodeB.media.workers[0]?.consumers ?? Number.NaN,
    workerCpu: processCpuPercent(cpuA, cpuB, pids.worker),
    workerCpuOps: (nodeB.media.workers[0]?.cpu ?? Number.NaN) * 100,
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
    audioPps: (mode === 'decode' ? d((s) => s.audio.packets) : d((s) => s.transportPackets - s.video.packets - s.probatorPackets)) / seconds,
    audioLost: mode === 'decode' ? d((s) => s.audio.lost) : Number.NaN,
    workerSysShare: (sysSeconds(pids.worker) - workerSysA) / Math.max(1e-9, ((cpuB.procs.get(pids.worker) ?? Number.NaN) - (cpuA.procs.get(pids.worker) ?? Number.NaN))),
    probatorPps: d((s) => s.probatorPackets) / seconds,
    generatorThreads: threadsA === undefined ? '' : busiestThreads(threadsA, threadCpu(pids.generators), seconds),
    fpsMedian: median(fps),
    fpsMin: fps.length ? Math.min(...fps) : Number.NaN,
    framesDropped: dropped,
    droppedPct: decoded + dropped > 0 ? (100 * dropped) / (decoded + dropped) : 0,
    bitrateOutMbps: nodeB.media.bitrateOutBps / 1e6,
    joinFailures,
    limits: [],
  };
}

interface Opts {
  step: number; max: number; stepSeconds: number; settleSeconds: number; runs: number; modes: Mode[];
  workerCpu: number; loss: number; generatorCpu: number; generators: number; joinConcurrency: number;
  ingest: 'copy' | 'encode'; videoSize: string; consumerLimit: number; statsIntervalMs: number;
  serverCore: string; loadCore: string; ffmpegCore: string; port: number; baseline: boolean; decodeStep: number;
}

const header = (o: Opts) => ['subscribers', 'consumers on the worker', 'worker CPU % (ops)', 'server node CPU %', `core ${o.serverCore} busy %`, 'generator CPU %', 'ffmpeg CPU %', `core ${o.loadCore} busy %`, 'video pkt/s received (all)', 'video lost (%)', 'audio pkt/s (lost)', 'fps/subscriber median (min)', 'frames dropped', 'video Mbit/s received', 'limit'];

function rowCells(r: Row): string[] {
  return [
    fmtInt(r.subscribers), fmtInt(r.consumers), `${fmt(r.workerCpu, 1)} (${fmt(r.workerCpuOps, 0)})`, fmt(r.serverCpu, 1), fmt(r.serverCoreBusy, 0), fmt(r.generatorCpu, 1), fmt(r.ffmpegCpu, 1), fmt(r.loadCoreBusy, 0),
    fmtInt(r.videoPps), `${fmtInt(r.videoLost)} (${fmt(r.videoLostPct, 2)})`, `${fmtInt(r.audioPps)} (${fmtInt(r.audioLost)})`, `${fmt(r.fpsMedian, 1)} (${fmt(r.fpsMin, 1)})`, fmtInt(r.framesDropped), fmt(r.videoMbps, 1),
    r.limits.join('; ') || '–',
  ];
}

/** "worker CPU 81% ≥ 80%" → "worker CPU". */
const limitKind = (limit: string): string => limit.split(/[\d:(]/)[0]!.trim();

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
      audioLost: m((x) => x.audioLost), fpsMedian: m((x) => x.fpsMedian), fpsMin: m((x) => x.fpsMin), framesDropped: m((x) => x.framesDropped), droppedPct: m((x) => x.droppedPct),
      workerSysShare: m((x) => x.workerSysShare), probatorPps: m((x) => x.probatorPps),
      bitrateOutMbps: m((x) => x.bitrateOutMbps), joinFailures: m((x) => x.joinFailures), generatorThreads: rows.at(-1)!.generatorThreads,
      limits: rows.length === 1 ? rows[0]!.limits : [...new Set(rows.flatMap((x) => x.limits.map(limitKind)))].map((kind) => `${kind} (${rows.filter((x) => x.limits.some((l) => limitKind(l) === kind)).length} of ${rows.length} runs)`),
    };
  });
}

/** Least-squares worker CPU % per consumer over the measured rows: a rough extrapolation to --worker-cpu. */
function workerFit(rows: Row[]): { perConsumer: number; intercept: number; atLimit: (limit: number) => number } | undefined {
  const pts = rows.filter((r) => Number.isFinite(r.workerCpu) && Number.isFinite(r.consumers));
  if (pts.length < 2 || !pts.some((p) => p.consumers > 0)) return undefined;
  const mx = pts.reduce((s, p) => s + p.consumers, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.workerCpu, 0) / pts.length;
  const sxx = pts.reduce((s, p) => s + (p.consumers - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = pts.reduce((s, p) => s + (p.consumers - mx) * (p.workerCpu - my), 0) / sxx;
  const intercept = my - slope * mx;
  return { perConsumer: slope, intercept, atLimit: (limit) => (limit - intercept) / slope };
}

async function main(): Promise<void> {
  const { values: f } = parseArgs({ options: OPTIONS, allowNegative: true, strict: true });
  if (f.generator) return generatorMain();
  if (f.help) {
    console.log(HELP);
    return;
  }
  if (f.layers) return layersMain(Number(f.port), f['server-core']!, Number(f['layer-seconds']), f['load-core']!);
  const o: Opts = {
    step: Number(f.step), max: Number(f.max), stepSeconds: Number(f['step-seconds']), settleSeconds: Number(f['settle-seconds']), runs: Number(f.runs),
    modes: f.modes!.split(',').map((m) => m.trim()) as Mode[], workerCpu: Number(f['worker-cpu']), loss: Number(f.loss), generatorCpu: Number(f['generator-cpu']),
    generators: Number(f.generators), joinConcurrency: Number(f['join-concurrency']), ingest: f.ingest as 'copy' | 'encode', videoSize: f['video-size']!,
    consumerLimit: Number(f['consumer-limit']), statsIntervalMs: Number(f['stats-interval-ms']), serverCore: f['server-core']!, loadCore: f['load-core']!,
    ffmpegCore: f['ffmpeg-core'] ?? f['server-core']!, port: Number(f.port), baseline: f.baseline!, decodeStep: Number(f['decode-step'] ?? f.step),
  };
  for (const m of o.modes) if (m !== 'decode' && m !== 'receive-only') throw new Error(`--modes: unknown mode ${m}`);
  if (o.ingest !== 'copy' && o.ingest !== 'encode') throw new Error('--ingest is copy or encode');
  if (!existsSync(FFMPEG)) throw new Error(`${FFMPEG} is missing (apt-get install ffmpeg)`);
  const command = `npm run bench:media -- ${process.argv.slice(2).join(' ')}`.trim();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { killChildren(); process.exit(130); });
  process.once('exit', killChildren);
  pinProcess(process.pid, o.loadCore);

  const started = new Date();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  log(`# bench:media  ${started.toISOString()}\n${command}\n`);
  log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`server core ${o.serverCore} (node + mediasoup worker), load core ${o.loadCore} (generator ×${o.generators} + this orchestrator), ffmpeg on core ${o.ffmpegCore}; ingest: ${o.ingest === 'copy' ? 'pre-encoded clip, -c copy' : 'live libvpx encode (the server\'s command)'}, ${o.videoSize} VP8 800 kbit/s 30 fps + Opus 64 kbit/s`);

  const results: RunResult[] = [];
  for (const mode of o.modes) {
    for (let run = 0; run < o.runs; run++) {
      log(`\n## ${mode}, run ${run + 1}/${o.runs}`);
      results.push(await runOnce(mode, run, results.length, o, log));
      log(`  → ${results.at(-1)!.verdict}`);
    }
  }

  const sections: string[] = [];
  const verdicts: string[] = [];
  for (const mode of o.modes) {
    const runs = results.filter((r) => r.mode === mode);
    const ok = runs.filter((r) => r.rows.length > 0);
    if (ok.length === 0) {
      sections.push(`### ${mode}\n\nno run completed: ${runs.map((r) => r.verdict).join('; ')}`);
      continue;
    }
    const rows = o.runs > 1 ? medianRows(ok) : ok[0]!.rows;
    const table = markdownTable(header(o), rows.map(rowCells));
    const within = ok.map((r) => Math.max(0, ...r.rows.filter((x) => x.limits.length === 0).map((x) => x.subscribers)));
    const fit = workerFit(rows);
    const last = rows.at(-1)!;
    const limiters = ok.map((r) => r.limitedBy);
    const mainLimit = [...new Set(limiters)].map((l) => (o.runs > 1 ? `${l} (${limiters.filter((x) => x === l).length} of ${ok.length} runs)` : l)).join(', ');
    const fitLine = fit === undefined ? 'Not enough points for a worker CPU fit.' :
      `Worker CPU ≈ ${fmt(fit.intercept, 1)}% + ${fmt(fit.perConsumer, 3)}% per consumer (least squares over these rows) → ${o.workerCpu}% of a core at ≈ ${fmtInt(fit.atLimit(o.workerCpu))} consumers (≈ ${fmtInt(fit.atLimit(o.workerCpu) / 2)} video + audio subscribers)${last.workerCpu < o.workerCpu ? ': an EXTRAPOLATION beyond what was measured' : ''}.`;
    const perSub = rows.filter((r) => r.subscribers > 0);
    const genLine = perSub.length === 0 ? '' :
      ` Generator: ≈ ${fmt(perSub[0]!.generatorCpu / perSub[0]!.subscribers, 2)}% of a core per subscriber at ${perSub[0]!.subscribers} subscribers${perSub[0]!.generatorCpu >= o.generatorCpu ? ' (already saturated: a lower bound; try a smaller --decode-step)' : ''}, so one core carries ≈ ${fmtInt((100 * perSub[0]!.subscribers) / Math.max(1e-9, perSub[0]!.generatorCpu))} of them.`;
    const verdict = `**${mode}**: ${fmtInt(median(within))} subscribers was the highest step within every limit${o.runs > 1 ? ` (median of ${ok.length} runs)` : ''}; stopped by: ${mainLimit} — ${ok.map((r) => r.verdict).join(' | ')}. At the last step the worker used ${fmt(last.workerCpu, 1)}% of a core for ${fmtInt(last.consumers)} consumers (${fmt(100 * last.workerSysShare, 0)}% of it in the kernel). ${fitLine}${genLine}`;
    verdicts.push(verdict);
    const threads = last.generatorThreads === '' ? '' : `\n\nGenerator threads at the last step (share of a core): ${last.generatorThreads}.`;
    sections.push(`### ${mode}${o.runs > 1 ? ` (medians of ${ok.length} runs per subscriber count)` : ''}\n\n${table}\n\n${verdict}${threads}${ok[0]!.errors.length ? `\n\nFirst errors: ${ok[0]!.errors.slice(0, 3).join(' | ')}` : ''}`);
  }
  const measured = results.filter((r) => r.rows.length > 0);
  const limitingFactor = measured.length === 0
    ? 'nothing was measured (see the errors above).'
    : measured.every((r) => r.limitedBy === 'worker')
      ? 'the mediasoup worker (server core) reached the CPU limit first.'
      : measured.some((r) => r.limitedBy === 'generator')
        ? '**the load generator, not the server, is the limit on this machine.** libwebrtc in a Node process on one core runs out of CPU long before the mediasoup worker is busy: in decode mode mostly its VP8 decoders (DecodingQueue threads) and the test audio device that pulls and decodes every audio stream; in receive-only mode its network thread (SRTP, RTP, ICE) and per-transport send controllers. The worker figures are what the worker needed for the subscribers the generator could carry; the fit extrapolates them.'
        : `no CPU limit was reached first: ${measured.map((r) => `${r.mode}: ${r.limitedBy}`).join(', ')} (see the verdicts).`;
  const guidance = `mediasoup's own guidance (https://mediasoup.org/documentation/v3/scalability): "Depending on the host CPU capabilities, a mediasoup C++ subprocess can typically handle over ~500 consumers in total" (one consumer per viewer per track: a video + audio viewer is 2, so ~250 viewers). livecart's default --media-consumer-limit is 400 per worker; this bench runs the server with ${fmtInt(o.consumerLimit)} so that the worker, not the cap, is measured.`;
  const first = results.find((r) => r.command !== '');
  const processes = first === undefined ? '' : `Server command: \`${first.command}\`\n\nCPU affinity (from /proc/PID/status):\n\n${markdownTable(['process', 'cpus'], Object.entries(first.affinity).map(([k, v]) => [k, v]))}\n\nmediasoup worker binary: ${first.workerCrypto}`;
  const md = [
    `# Media fan-out: subscribers per mediasoup worker, ${started.toISOString()}`,
    `\`${command}\``,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}. Server (node + its one mediasoup worker) on core ${o.serverCore}; generator${o.generators > 1 ? 's' : ''} (Node + @roamhq/wrtc, the SDK's StreamViewer) and this orchestrator on core ${o.loadCore}; ffmpeg on core ${o.ffmpegCore}. Ingest: ${o.ingest === 'copy' ? 'a 20 s clip encoded once with the server\'s suggested settings, looped with `-c copy`' : 'the server\'s suggested ffmpeg command (live libvpx encode)'}: ${o.videoSize} VP8 800 kbit/s target, 30 fps, key frame every 2 s, Opus 64 kbit/s, into \`POST /api/rooms/${ROOM}/ingest\`. Steps of +${o.step} subscribers (decode mode +${o.decodeStep}), ${o.settleSeconds} s settle then ${o.stepSeconds} s measured; limits: worker ${o.workerCpu}% of a core, loss ${o.loss}%, generator ${o.generatorCpu}%.`,
    processes,
    `## Results`,
    sections.join('\n\n'),
    `## Verdict`,
    `${verdicts.map((v) => `- ${v}`).join('\n')}\n\nLimiting factor: ${limitingFactor}\n\n${guidance}`,
    `## Columns`,
    '- worker CPU %: the mediasoup worker process (utime+stime from /proc over the window, 100 = one core); in brackets the server\'s own figure (`/api/ops/node` → `media.workers[0].cpu`, sampled every --media-stats-interval-ms).\n- consumers on the worker: its reserved/open consumers (`media.workers[0].consumers`).\n- server node CPU %: the livecart Node process alone (the worker is a separate process).\n- generator CPU %: the generator process(es), all threads (libwebrtc\'s network, worker and decoder threads included).\n- video pkt/s, lost, audio pkt/s: inbound-rtp of every subscriber summed over the window (mediasoup-client\'s probator stream excluded). Lost counts packets never received (gaps in sequence numbers). In receive-only mode libwebrtc drops the audio before counting it, so audio pkt/s is the transports\' packets minus video and probator (RTCP included) and its loss is n/a.\n- fps/subscriber: framesDecoded per second per subscriber, median and minimum (0 in receive-only mode by design).\n- A saturated generator reads fewer packets without reporting them lost (they wait in its socket buffers and task queues, and inbound-rtp only counts sequence gaps among packets it has processed), so fewer pkt/s per subscriber than the same step in receive-only mode also means the generator fell behind.',
    `## Log`,
    '```\n' + lines.join('\n') + '\n```',
  ].join('\n\n');
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `media-${stamp}.md`);
  writeFileSync(file, md + '\n');
  console.log(`\n${sections.join('\n\n')}\n\nLimiting factor: ${limitingFactor}\n${guidance}\n\n${command}\nreport: ${path.relative(REPO_ROOT, file)}`);
}

/** `--layers`: the received simulcast width per degrade level (bench/mediaLayers.ts), printed and written as a report. */
async function layersMain(port: number, serverCore: string, phaseSeconds: number, loadCore: string): Promise<void> {
  pinProcess(process.pid, loadCore);
  const started = new Date();
  const command = `npm run bench:media -- ${process.argv.slice(2).join(' ')}`.trim();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const table = await runLayers({ port, serverCore, secret: SECRET, phaseSeconds }, log);
  const md = [`# Media: simulcast layer per degrade level, ${started.toISOString()}`, `\`${command}\``, table, '## Log', '```\n' + lines.join('\n') + '\n```'].join('\n\n');
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `media-layers-${started.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, md + '\n');
  console.log(`\n${table}\n\n${command}\nreport: ${path.relative(REPO_ROOT, file)}`);
  process.exit(0); // wrtc's threads would keep the process alive
}

await main();
