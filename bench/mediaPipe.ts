/**
 * bench:media, part `pipe`: what carrying a room's stream to another node costs.
 *
 * Two livecart nodes on a Redis of the bench's own, one mediasoup worker each, all on the server
 * core. `rooms` rooms on node 1, each with an ffmpeg RTP stream (VP8 + Opus, bench/mediaStream.ts):
 * node 1 is their media origin. Three phases, `seconds` measured each: the streams alone; `viewers`
 * receive-only WebRTC viewers per room on node 1 (no pipe); the same viewers on node 2, so every
 * room is piped from node 1 to node 2 (a mediasoup PipeTransport pair per room, SRTP by default).
 * CPU of each worker and each node process from /proc; the pipe's cost per stream is the piped
 * phase less the no-pipe phase (workers and nodes), divided by the rooms.
 */
import { type RunningIngest, type IngestKind, startRtpIngest } from './mediaStream.ts';
import { mediaOf } from './mediaConsumers.ts';
import { type GenAdded, type GenSample, startViewerGenerator } from './mediaViewers.ts';
import { coreBusyPercent, cpuSnapshot, processCpuPercent } from './procStats.ts';
import { startOneRedis } from './scaleBackends.ts';
import { killOnExit, type RunningServer, setupLivecartRoom, signToken, startNodesOnRedis, streamerToken } from './servers.ts';
import { fmt, markdownTable, median } from './stats.ts';

export interface PipeOptions {
  rooms: number;
  viewers: number;
  seconds: number;
  settleSeconds: number;
  runs: number;
  serverCore: string;
  loadCore: string;
  ffmpegCore: string;
  ingest: IngestKind;
  videoSize: string;
  joinConcurrency: number;
  /** Extra flags for both nodes (e.g. `--media-pipe-srtp false`). */
  serverArgs: string[];
  secret: string;
}

const HOST = '127.0.0.1';
const PHASES = ['streams only', 'viewers on node 1 (no pipe)', 'viewers on node 2 (piped)'] as const;
type Phase = (typeof PHASES)[number];

interface PhaseRow {
  phase: Phase;
  worker1: number;
  worker2: number;
  node1: number;
  node2: number;
  redis: number;
  ffmpeg: number;
  generator: number;
  serverCoreBusy: number;
  loadCoreBusy: number;
  viewersLive: number;
  /** What a viewer's transport received, Mbit/s (RTP + RTCP + SRTP overhead: the stream as carried). */
  mbitsPerViewer: number;
  videoLostPct: number;
  pipesServed: number;
  roomsRelayed: number;
}

/** The pipe's cost per piped stream, % of a core. */
interface PipeCost {
  /** Node 1's worker feeding the pipe (piped phase less the streams alone). */
  sendingWorker: number;
  /** Node 2's worker: the piped phase less what the same viewers cost node 1's worker. */
  receivingWorker: number;
  /** Both workers: piped less no pipe. */
  workers: number;
  /** Both node processes: piped less no pipe (pipe calls, keepalives, origin reads). */
  nodes: number;
  /** Mbit/s one piped stream carries. */
  mbits: number;
}

export interface PipeReport {
  markdown: string;
  cost: PipeCost;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

async function runOnce(run: number, o: PipeOptions, log: (line: string) => void): Promise<PhaseRow[]> {
  const redis = await startOneRedis(o.serverCore);
  let nodes: RunningServer[] = [];
  const ingests: RunningIngest[] = [];
  try {
    nodes = await startNodesOnRedis({
      count: 2, host: HOST, core: o.serverCore, secret: o.secret, redisUrl: redis.url, prefix: `bench-pipe-${Date.now()}-${run}`,
      extraArgs: (i) => ['--media-workers', '1', '--media-port-min', String(50000 + i * 2000), '--media-port-max', String(51999 + i * 2000), '--hls', 'false', '--media-stats-interval-ms', '1000', ...o.serverArgs],
    });
    for (const n of nodes) killOnExit(n.child);
    const [n1, n2] = nodes as [RunningServer, RunningServer];
    const base = (n: RunningServer) => `http://${HOST}:${n.port}`;
    const operator = await signToken(o.secret, 'bench-operator', 'Operator', 'operator');
    const workers = await Promise.all(nodes.map(async (n) => (await mediaOf(base(n), operator)).workers[0]!.pid));
    const streamer = await streamerToken(o.secret);
    const rooms = Array.from({ length: o.rooms }, (_, r) => `pipe-${r}`);
    for (const room of rooms) {
      await setupLivecartRoom(HOST, n1.port, streamer, log, room);
      ingests.push(await startRtpIngest({ base: base(n1), room, streamerToken: streamer, core: o.ffmpegCore, kind: o.ingest, videoSize: o.videoSize }));
    }
    await sleep(2000);

    const rows: PhaseRow[] = [];
    let nextId = run * 100_000;
    for (const phase of PHASES) {
      const on = phase === PHASES[2] ? n2 : n1;
      const generator = phase === PHASES[0] ? undefined : await startViewerGenerator(o.loadCore, 'receive-only', o.secret, o.joinConcurrency);
      try {
        if (generator !== undefined) {
          for (const room of rooms) {
            const ids = Array.from({ length: o.viewers }, () => nextId++);
            const added = await generator.request<GenAdded>({ t: 'add', ids, url: `ws://${HOST}:${on.port}/ws`, room }, 'added');
            if (added.failed > 0) throw new Error(`${phase}: ${added.failed} viewers did not join: ${added.errors.join(' | ')}`);
          }
        }
        await sleep(o.settleSeconds * 1000);
        const sample = async () => (generator === undefined ? undefined : generator.request<GenSample>({ t: 'sample' }, 'sample'));
        const pids = [...workers, n1.pid, n2.pid, ...redis.pids, ...ingests.map((i) => i.pid), ...(generator === undefined ? [] : [generator.pid])];
        const genA = await sample();
        const a = cpuSnapshot(pids);
        await sleep(o.seconds * 1000);
        const b = cpuSnapshot(pids);
        const genB = await sample();
        for (const i of ingests) i.check();
        const [m1, m2] = await Promise.all([mediaOf(base(n1), operator), mediaOf(base(n2), operator)]);
        const seconds = (b.at - a.at) / 1000;
        const viewers = genB?.subscribers ?? 0;
        const videoPackets = (genB?.video.packets ?? 0) - (genA?.video.packets ?? 0);
        const videoLost = (genB?.video.lost ?? 0) - (genA?.video.lost ?? 0);
        const cpu = (pid: number) => processCpuPercent(a, b, pid);
        const row: PhaseRow = {
          phase,
          worker1: cpu(workers[0]!), worker2: cpu(workers[1]!), node1: cpu(n1.pid), node2: cpu(n2.pid),
          redis: redis.pids.reduce((s, pid) => s + cpu(pid), 0), ffmpeg: ingests.reduce((s, i) => s + cpu(i.pid), 0),
          generator: generator === undefined ? 0 : cpu(generator.pid),
          serverCoreBusy: coreBusyPercent(a, b, Number(o.serverCore)), loadCoreBusy: coreBusyPercent(a, b, Number(o.loadCore)),
          viewersLive: genB?.live ?? 0,
          mbitsPerViewer: viewers === 0 ? Number.NaN : (((genB?.transportBytes ?? 0) - (genA?.transportBytes ?? 0)) * 8) / seconds / 1e6 / viewers,
          videoLostPct: videoPackets + videoLost > 0 ? (100 * videoLost) / (videoPackets + videoLost) : 0,
          pipesServed: m1.pipesServed, roomsRelayed: m2.roomsRelayed,
        };
        rows.push(row);
        log(`  pipe run ${run + 1}, ${phase}: workers ${fmt(row.worker1, 1)}% / ${fmt(row.worker2, 1)}%, nodes ${fmt(row.node1, 1)}% / ${fmt(row.node2, 1)}%, redis ${fmt(row.redis, 1)}%, ffmpeg ${fmt(row.ffmpeg, 1)}%, generator ${fmt(row.generator, 0)}%, ${row.viewersLive} viewers live at ${fmt(row.mbitsPerViewer, 2)} Mbit/s each, lost ${fmt(row.videoLostPct, 2)}%, pipes served ${row.pipesServed}, rooms relayed ${row.roomsRelayed}`);
        if (phase === PHASES[2] && (row.pipesServed !== o.rooms || row.roomsRelayed !== o.rooms)) throw new Error(`expected ${o.rooms} pipes, node 1 serves ${row.pipesServed} and node 2 relays ${row.roomsRelayed} rooms`);
      } finally {
        await generator?.request({ t: 'stop' }, 'stopped', 10_000).catch(() => undefined);
        await generator?.stop();
      }
      if (phase === PHASES[1]) await eventually(async () => (await mediaOf(base(n1), operator)).consumers === 0, 'node 1\'s viewers gone');
    }
    return rows;
  } finally {
    for (const i of ingests) await i.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}

function costOf(rows: PhaseRow[], rooms: number): PipeCost {
  const [alone, local, piped] = PHASES.map((p) => rows.find((r) => r.phase === p)!) as [PhaseRow, PhaseRow, PhaseRow];
  return {
    sendingWorker: (piped.worker1 - alone.worker1) / rooms,
    receivingWorker: (piped.worker2 - (local.worker1 - alone.worker1)) / rooms,
    workers: (piped.worker1 + piped.worker2 - local.worker1 - local.worker2) / rooms,
    nodes: (piped.node1 + piped.node2 - local.node1 - local.node2) / rooms,
    mbits: piped.mbitsPerViewer,
  };
}

export async function runPipe(o: PipeOptions, log: (line: string) => void): Promise<PipeReport> {
  const runs: PhaseRow[][] = [];
  for (let run = 0; run < o.runs; run++) {
    log(`\n## pipe, run ${run + 1}/${o.runs}`);
    try {
      runs.push(await runOnce(run, o, log));
    } catch (error) {
      log(`  pipe run ${run + 1} failed: ${(error as Error).message}`);
    }
  }
  if (runs.length === 0) return { markdown: '## Cross-node pipe\n\nno run completed (see the log).', cost: { sendingWorker: NaN, receivingWorker: NaN, workers: NaN, nodes: NaN, mbits: NaN } };
  const m = (phase: Phase, f: (r: PhaseRow) => number) => median(runs.map((rs) => f(rs.find((r) => r.phase === phase)!)));
  const table = markdownTable(
    ['phase', 'node 1 worker %', 'node 2 worker %', 'node 1 process %', 'node 2 process %', 'Redis %', `ffmpeg ×${o.rooms} %`, 'generator %', `core ${o.serverCore} busy %`, `core ${o.loadCore} busy %`, 'viewers live', 'Mbit/s per viewer', 'video lost %', 'pipes served (node 1) / rooms relayed (node 2)'],
    PHASES.map((p) => [
      p, fmt(m(p, (r) => r.worker1), 1), fmt(m(p, (r) => r.worker2), 1), fmt(m(p, (r) => r.node1), 1), fmt(m(p, (r) => r.node2), 1), fmt(m(p, (r) => r.redis), 1), fmt(m(p, (r) => r.ffmpeg), 1),
      fmt(m(p, (r) => r.generator), 0), fmt(m(p, (r) => r.serverCoreBusy), 0), fmt(m(p, (r) => r.loadCoreBusy), 0), fmt(m(p, (r) => r.viewersLive), 0), fmt(m(p, (r) => r.mbitsPerViewer), 2),
      fmt(m(p, (r) => r.videoLostPct), 2), `${fmt(m(p, (r) => r.pipesServed), 0)} / ${fmt(m(p, (r) => r.roomsRelayed), 0)}`,
    ]),
  );
  const costs = runs.map((rs) => costOf(rs, o.rooms));
  const c = (f: (x: PipeCost) => number) => median(costs.map(f));
  const cost: PipeCost = { sendingWorker: c((x) => x.sendingWorker), receivingWorker: c((x) => x.receivingWorker), workers: c((x) => x.workers), nodes: c((x) => x.nodes), mbits: c((x) => x.mbits) };
  const perRun = (f: (x: PipeCost) => number) => costs.map((x) => fmt(f(x), 2)).join(' / ');
  const costTable = markdownTable(
    ['per piped stream (% of a core)', `median${runs.length > 1 ? ` (runs: ${runs.length})` : ''}`, 'each run', 'per Mbit/s carried'],
    [
      ['node 1 worker, feeding the pipe', fmt(cost.sendingWorker, 2), perRun((x) => x.sendingWorker), fmt(cost.sendingWorker / cost.mbits, 2)],
      ['node 2 worker, receiving it (beyond what its viewers cost on node 1)', fmt(cost.receivingWorker, 2), perRun((x) => x.receivingWorker), fmt(cost.receivingWorker / cost.mbits, 2)],
      ['both workers: piped less no pipe', fmt(cost.workers, 2), perRun((x) => x.workers), fmt(cost.workers / cost.mbits, 2)],
      ['both node processes: piped less no pipe', fmt(cost.nodes, 2), perRun((x) => x.nodes), fmt(cost.nodes / cost.mbits, 2)],
    ],
  );
  const markdown = [
    '## Cross-node pipe',
    `Two nodes on a redis-server of the bench's own, one mediasoup worker each, nodes and Redis on core ${o.serverCore}; ${o.rooms} rooms on node 1, each with an ffmpeg stream (${o.ingest === 'copy' ? 'the clip looped with -c copy' : 'live libvpx'}, ${o.videoSize} VP8 800 kbit/s + Opus 64 kbit/s, ffmpeg on core ${o.ffmpegCore}); ${o.viewers} receive-only WebRTC viewer(s) per room from a generator on core ${o.loadCore}. ${o.settleSeconds} s settle, ${o.seconds} s measured per phase${runs.length > 1 ? `; medians of ${runs.length} runs` : ''}.${o.serverArgs.length ? ` Node flags: \`${o.serverArgs.join(' ')}\`.` : ' Pipes with the server defaults (SRTP on).'}`,
    table,
    `Cost of the pipe, per piped stream (video + audio, one VP8 layer: a simulcast stream pipes every layer, so its cost grows with the sum of its layers' bitrates), ≈ ${fmt(cost.mbits, 2)} Mbit/s carried:`,
    costTable,
  ].join('\n\n');
  return { markdown, cost };
}
