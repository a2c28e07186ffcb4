/**
 * bench:media, part `hls`: how many HLS players one node serves.
 *
 * Two livecart nodes on a Redis of the bench's own (one mediasoup worker each, all on the server
 * core); ffmpeg publishes into a room on node 1, which renders its HLS rendition (the node's own
 * ffmpeg, libx264, a child of node 1 on its core). The load generator (bench/hlsLoad.ts, on the load
 * core) plays the live playlist as hls.js does, with `start` players, then `factor` times more each
 * step, until the serving node's CPU, the segment fetch p99 (past one segment's duration), errors,
 * missed segments or the generator is the limit. Once against node 1 (`origin`: files from its
 * disk) and once against node 2 (`proxy`: not the origin, it fetches from node 1 and keeps recent
 * segments in memory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IpcChild } from './generatorPool.ts';
import type { FromHlsLoad, HlsLoadSample, ToHlsLoad } from './hlsLoad.ts';
import { mediaOf } from './mediaConsumers.ts';
import { type IngestKind, type RunningIngest, startRtpIngest } from './mediaStream.ts';
import { childPids, coreBusyPercent, cpuSnapshot, processCpuPercent, processCpuSeconds } from './procStats.ts';
import { startOneRedis } from './scaleBackends.ts';
import { killOnExit, REPO_ROOT, type RunningServer, setupLivecartRoom, signToken, startNodesOnRedis, streamerToken } from './servers.ts';
import { fmt, fmtInt, limitTally, linearFit, markdownTable, median, percentileSorted } from './stats.ts';

export type HlsTarget = 'origin' | 'proxy';

export interface HlsOptions {
  start: number;
  factor: number;
  max: number;
  /** Steps between the last count held and the first that was not, each halving the gap. */
  refine: number;
  stepSeconds: number;
  settleSeconds: number;
  runs: number;
  targets: HlsTarget[];
  /** The serving node's process CPU % that stops the ramp. */
  nodeCpu: number;
  generatorCpu: number;
  serverCore: string;
  loadCore: string;
  ffmpegCore: string;
  ingest: IngestKind;
  videoSize: string;
  serverArgs: string[];
  secret: string;
}

const HOST = '127.0.0.1';
const ROOM = 'hls-bench';
const LOAD_SCRIPT = path.join(REPO_ROOT, 'bench/hlsLoad.ts');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface HlsRow {
  players: number;
  playlistRps: number;
  segmentRps: number;
  /** Bytes the players read per second (headers and bodies). */
  bytesPerSecond: number;
  meanSegmentKb: number;
  /** The node the players fetch from, and the other one (the origin, fed by the proxy). */
  servingCpu: number;
  otherCpu: number;
  /** µs of the serving node's CPU per answered request. */
  servingUsPerRequest: number;
  hlsFfmpegCpu: number;
  workerCpu: number;
  serverCoreBusy: number;
  loadCoreBusy: number;
  generatorCpu: number;
  segmentP50: number;
  segmentP99: number;
  playlistP50: number;
  playlistP99: number;
  errors: number;
  missed: number;
  limits: string[];
}

interface TargetResult {
  target: HlsTarget;
  rows: HlsRow[];
  verdict: string;
}

/** The figures of one target at the highest step within every limit (medians over runs). */
export interface HlsFigure {
  target: HlsTarget;
  held: HlsRow | undefined;
  /** Players held in each run. */
  heldPerRun: number[];
  /** The serving node's CPU per extra request, µs (least squares over the steps: without the node's idle work). */
  marginalUs: number;
  /** The limits that stopped the ramp, tallied over the runs. */
  limits: string;
}

export interface HlsReport {
  markdown: string;
  figures: HlsFigure[];
  segmentSeconds: number;
}

/** The playlist's target duration in seconds, once it lists at least 3 segments. */
async function waitForPlaylist(url: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === 200) {
      const text = await response.text();
      const segments = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
      if (segments >= 3) return Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1] ?? '1');
    } else {
      await response?.arrayBuffer();
    }
    if (Date.now() > deadline) throw new Error(`${url}: no playlist with 3 segments within ${timeoutMs} ms`);
    await sleep(500);
  }
}

async function rampTarget(target: HlsTarget, nodes: [RunningServer, RunningServer], pids: { worker: number; hlsFfmpeg: number }, segmentSeconds: number, o: HlsOptions, log: (line: string) => void): Promise<TargetResult> {
  const [serving, other] = target === 'origin' ? nodes : [nodes[1], nodes[0]];
  const loader = IpcChild.spawn<ToHlsLoad, FromHlsLoad>(o.loadCore, LOAD_SCRIPT);
  const rows: HlsRow[] = [];
  let verdict = '';
  try {
    await loader.next('ready', 60_000);
    const all = [serving.pid, other.pid, pids.worker, pids.hlsFfmpeg, loader.pid];
    let held: number | undefined;
    let failedAt: number | undefined;
    let refinements = o.refine;
    for (let players = Math.min(o.start, o.max); ;) {
      const playing = await loader.request<FromHlsLoad & { t: 'playing' }>({ t: 'players', count: players, host: HOST, port: serving.port, room: ROOM }, 'playing', 120_000);
      await sleep(o.settleSeconds * 1000);
      const a = await loader.request<HlsLoadSample>({ t: 'sample' }, 'sample');
      const cpuA = cpuSnapshot(all);
      const servingA = processCpuSeconds(serving.pid);
      await sleep(o.stepSeconds * 1000);
      const servingB = processCpuSeconds(serving.pid);
      const cpuB = cpuSnapshot(all);
      const b = await loader.request<HlsLoadSample>({ t: 'sample' }, 'sample');
      const seconds = (b.at - a.at) / 1000;
      const playlists = b.requests.playlist - a.requests.playlist;
      const segments = b.requests.segment - a.requests.segment;
      const segmentLatency = Float64Array.from(b.latency.segment).sort();
      const playlistLatency = Float64Array.from(b.latency.playlist).sort();
      const row: HlsRow = {
        players,
        playlistRps: playlists / seconds,
        segmentRps: segments / seconds,
        bytesPerSecond: (b.bytes - a.bytes) / seconds,
        meanSegmentKb: segments === 0 ? Number.NaN : (b.segmentBytes - a.segmentBytes) / segments / 1024,
        servingCpu: processCpuPercent(cpuA, cpuB, serving.pid),
        otherCpu: processCpuPercent(cpuA, cpuB, other.pid),
        servingUsPerRequest: ((servingB - servingA) * 1e6) / Math.max(1, playlists + segments),
        hlsFfmpegCpu: processCpuPercent(cpuA, cpuB, pids.hlsFfmpeg),
        workerCpu: processCpuPercent(cpuA, cpuB, pids.worker),
        serverCoreBusy: coreBusyPercent(cpuA, cpuB, Number(o.serverCore)),
        loadCoreBusy: coreBusyPercent(cpuA, cpuB, Number(o.loadCore)),
        generatorCpu: processCpuPercent(cpuA, cpuB, loader.pid),
        segmentP50: percentileSorted(segmentLatency, 50),
        segmentP99: percentileSorted(segmentLatency, 99),
        playlistP50: percentileSorted(playlistLatency, 50),
        playlistP99: percentileSorted(playlistLatency, 99),
        errors: b.errors - a.errors + playing.failed,
        missed: b.missed - a.missed,
        limits: [],
      };
      const limits = row.limits;
      if (row.servingCpu >= o.nodeCpu) limits.push(`node CPU ${fmt(row.servingCpu, 0)}% ≥ ${o.nodeCpu}%`);
      if (!(row.segmentP99 <= segmentSeconds * 1000)) limits.push(`segment fetch p99 ${fmt(row.segmentP99, 0)} ms > ${segmentSeconds * 1000} ms`);
      if (row.errors > 0) limits.push(`${fmtInt(row.errors)} failed requests`);
      if (row.missed > 0) limits.push(`${fmtInt(row.missed)} segments missed`);
      const generatorBusy = Math.max(row.generatorCpu, row.loadCoreBusy);
      if (generatorBusy >= o.generatorCpu) limits.push(`generator saturated (process ${fmt(row.generatorCpu, 0)}%, load core ${fmt(row.loadCoreBusy, 0)}% ≥ ${o.generatorCpu}%)`);
      rows.push(row);
      log(`  hls ${target}: ${fmtInt(players)} players, ${fmtInt(row.segmentRps)} segments/s + ${fmtInt(row.playlistRps)} playlists/s, ${fmt(row.bytesPerSecond / 1e6, 1)} MB/s, node ${fmt(row.servingCpu, 0)}% (${fmt(row.servingUsPerRequest, 0)} µs/request), other node ${fmt(row.otherCpu, 0)}%, HLS ffmpeg ${fmt(row.hlsFfmpegCpu, 0)}%, cores ${fmt(row.serverCoreBusy, 0)}%/${fmt(row.loadCoreBusy, 0)}%, generator ${fmt(row.generatorCpu, 0)}%, segment p50/p99 ${fmt(row.segmentP50, 0)}/${fmt(row.segmentP99, 0)} ms, playlist p50/p99 ${fmt(row.playlistP50, 0)}/${fmt(row.playlistP99, 0)} ms${limits.length ? `  ← ${limits.join('; ')}` : ''}`);
      if (limits.length === 0) {
        held = Math.max(held ?? 0, players);
      } else if (failedAt === undefined || players < failedAt) {
        failedAt = players;
        verdict = limits.join('; ');
      }
      if (failedAt === undefined) {
        if (players >= o.max) {
          verdict = `reached --hls-max (${o.max}) without hitting a limit`;
          break;
        }
        players = Math.min(o.max, Math.round(players * o.factor));
        continue;
      }
      // Past the first limit: halve the gap between the last step held and the lowest that was not.
      const between = held === undefined ? undefined : Math.round((held + failedAt) / 2);
      if (refinements-- <= 0 || between === undefined || between <= held! || between >= failedAt) break;
      players = between;
    }
  } finally {
    await loader.request({ t: 'stop' }, 'stopped', 10_000).catch(() => undefined);
    await loader.stop();
  }
  return { target, rows, verdict };
}

async function runOnce(run: number, o: HlsOptions, log: (line: string) => void): Promise<{ results: TargetResult[]; segmentSeconds: number }> {
  const redis = await startOneRedis(o.serverCore);
  const dirs = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'livecart-bench-hls-')));
  let nodes: RunningServer[] = [];
  let ingest: RunningIngest | undefined;
  try {
    nodes = await startNodesOnRedis({
      count: 2, host: HOST, core: o.serverCore, secret: o.secret, redisUrl: redis.url, prefix: `bench-hls-${Date.now()}-${run}`,
      extraArgs: (i) => ['--media-workers', '1', '--media-port-min', String(52000 + i * 2000), '--media-port-max', String(53999 + i * 2000), '--hls-dir', dirs[i]!, ...o.serverArgs],
    });
    for (const n of nodes) killOnExit(n.child);
    const [n1, n2] = nodes as [RunningServer, RunningServer];
    const operator = await signToken(o.secret, 'bench-operator', 'Operator', 'operator');
    const worker = (await mediaOf(`http://${HOST}:${n1.port}`, operator)).workers[0]!.pid;
    const streamer = await streamerToken(o.secret);
    await setupLivecartRoom(HOST, n1.port, streamer, log, ROOM);
    ingest = await startRtpIngest({ base: `http://${HOST}:${n1.port}`, room: ROOM, streamerToken: streamer, core: o.ffmpegCore, kind: o.ingest, videoSize: o.videoSize });
    const segmentSeconds = await waitForPlaylist(`http://${HOST}:${n1.port}/hls/${ROOM}/index.m3u8`);
    await waitForPlaylist(`http://${HOST}:${n2.port}/hls/${ROOM}/index.m3u8`);
    const hlsFfmpeg = childPids(n1.pid, 'ffmpeg')[0];
    if (hlsFfmpeg === undefined) throw new Error('node 1 renders HLS but runs no ffmpeg');
    log(`  HLS rendition on node 1 (ffmpeg pid ${hlsFfmpeg}), target duration ${segmentSeconds} s`);
    const results: TargetResult[] = [];
    for (const target of o.targets) {
      log(`\n## hls: ${target}, run ${run + 1}/${o.runs}`);
      results.push(await rampTarget(target, [n1, n2], { worker, hlsFfmpeg }, segmentSeconds, o, log));
      ingest.check();
      log(`  → ${results.at(-1)!.verdict}`);
    }
    return { results, segmentSeconds };
  } finally {
    await ingest?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function rowCells(r: HlsRow): string[] {
  return [
    fmtInt(r.players), fmtInt(r.segmentRps), fmtInt(r.playlistRps), fmt(r.bytesPerSecond / 1e6, 1), fmt(r.meanSegmentKb, 0), fmt(r.servingCpu, 0), fmt(r.servingUsPerRequest, 0), fmt(r.otherCpu, 0), fmt(r.hlsFfmpegCpu, 0),
    fmt(r.serverCoreBusy, 0), fmt(r.generatorCpu, 0), fmt(r.loadCoreBusy, 0), `${fmt(r.segmentP50, 0)} / ${fmt(r.segmentP99, 0)}`, `${fmt(r.playlistP50, 0)} / ${fmt(r.playlistP99, 0)}`, fmtInt(r.errors), fmtInt(r.missed), r.limits.join('; ') || '–',
  ];
}

function medianRow(rows: HlsRow[]): HlsRow {
  const m = (f: (r: HlsRow) => number) => median(rows.map(f));
  return {
    players: m((r) => r.players), playlistRps: m((r) => r.playlistRps), segmentRps: m((r) => r.segmentRps), bytesPerSecond: m((r) => r.bytesPerSecond), meanSegmentKb: m((r) => r.meanSegmentKb),
    servingCpu: m((r) => r.servingCpu), otherCpu: m((r) => r.otherCpu), servingUsPerRequest: m((r) => r.servingUsPerRequest), hlsFfmpegCpu: m((r) => r.hlsFfmpegCpu), workerCpu: m((r) => r.workerCpu),
    serverCoreBusy: m((r) => r.serverCoreBusy), loadCoreBusy: m((r) => r.loadCoreBusy), generatorCpu: m((r) => r.generatorCpu), segmentP50: m((r) => r.segmentP50), segmentP99: m((r) => r.segmentP99),
    playlistP50: m((r) => r.playlistP50), playlistP99: m((r) => r.playlistP99), errors: m((r) => r.errors), missed: m((r) => r.missed),
    limits: rows.length === 1 ? rows[0]!.limits : [limitTally(rows.map((r) => r.limits))].filter(Boolean),
  };
}

export async function runHls(o: HlsOptions, log: (line: string) => void): Promise<HlsReport> {
  const runs: TargetResult[][] = [];
  let segmentSeconds = Number.NaN;
  for (let run = 0; run < o.runs; run++) {
    try {
      const r = await runOnce(run, o, log);
      runs.push(r.results);
      segmentSeconds = r.segmentSeconds;
    } catch (error) {
      log(`  hls run ${run + 1} failed: ${(error as Error).message}`);
    }
  }
  const sections: string[] = [];
  const figures: HlsFigure[] = [];
  const header = ['players', 'segments/s', 'playlists/s', 'MB/s out', 'segment KB (mean)', 'serving node CPU %', 'µs node CPU / request', 'other node CPU %', 'HLS ffmpeg CPU %', `core ${o.serverCore} busy %`, 'generator CPU %', `core ${o.loadCore} busy %`, 'segment fetch p50 / p99 ms', 'playlist fetch p50 / p99 ms', 'failed', 'missed', 'limit'];
  for (const target of o.targets) {
    const results = runs.map((rs) => rs.find((r) => r.target === target)).filter((r): r is TargetResult => r !== undefined);
    if (results.length === 0) continue;
    const counts = [...new Set(results.flatMap((r) => r.rows.map((x) => x.players)))].sort((a, b) => a - b);
    const rows = counts.map((n) => medianRow(results.flatMap((r) => r.rows.filter((x) => x.players === n))));
    const heldRows = results.map((r) => r.rows.filter((x) => x.limits.length === 0).sort((x, y) => y.players - x.players)[0]).filter((r): r is HlsRow => r !== undefined);
    const held = heldRows.length === 0 ? undefined : medianRow(heldRows);
    const marginalUs = median(results.map((r) => (linearFit(r.rows.filter((x) => x.limits.length === 0).map((x) => ({ x: x.segmentRps + x.playlistRps, y: x.servingCpu })))?.slope ?? Number.NaN) * 1e4));
    figures.push({ target, held, heldPerRun: heldRows.map((r) => r.players), marginalUs, limits: limitTally(results.map((r) => r.verdict.split('; '))) });
    const what = target === 'origin' ? 'node 1, the room\'s media origin (files from its own disk)' : 'node 2, not the origin (fetches from node 1, keeps recent segments in memory; playlists are fetched from node 1 on every request, a concurrent one shared)';
    sections.push(`### Through ${what}${results.length > 1 ? ` (medians of ${results.length} runs per player count)` : ''}\n\n${markdownTable(header, rows.map(rowCells))}\n\nHeld: ${held === undefined ? 'no step within every limit' : `**${fmtInt(held.players)} players** (${fmtInt(held.segmentRps)} segments/s, ${fmtInt(held.playlistRps)} playlists/s, ${fmt(held.bytesPerSecond / 1e6, 1)} MB/s, serving node ${fmt(held.servingCpu, 0)}% of a core at ${fmt(held.servingUsPerRequest, 0)} µs per request)`}; stopped by: ${results.map((r) => r.verdict).join(' | ')}. An extra request costs the serving node ≈ ${fmt(marginalUs, 1)} µs of CPU (least squares of its CPU over the requests per second of the steps within every limit${results.length > 1 ? ', median of the runs' : ''}).`);
  }
  const markdown = [
    '## HLS viewers per node',
    `Two nodes on a redis-server of the bench's own, one mediasoup worker each, nodes and Redis on core ${o.serverCore}; ffmpeg streams into room \`${ROOM}\` on node 1 (${o.ingest === 'copy' ? 'the clip looped with -c copy' : 'live libvpx'}, ${o.videoSize}, ffmpeg on core ${o.ffmpegCore}), and node 1 renders its HLS rendition with the server's defaults (its ffmpeg, libx264 veryfast, a child of node 1 on core ${o.serverCore}; target duration ${fmt(segmentSeconds, 0)} s). The players (bench/hlsLoad.ts, one process on core ${o.loadCore}) reload the playlist every target duration and fetch each new segment once, starting 3 segments behind live, over one keep-alive connection each. ${fmtInt(o.start)} players, ×${o.factor} per step up to ${fmtInt(o.max)}, then ${o.refine} step(s) halving the gap between the last count held and the first that was not; ${o.settleSeconds} s settle, ${o.stepSeconds} s measured. Limits: serving node ${o.nodeCpu}% of a core, segment fetch p99 > the target duration, any failed request or missed segment, generator ${o.generatorCpu}%.`,
    ...sections,
    'Columns: segments/s, playlists/s and MB/s out are what the players received (MB/s counts headers and bodies); µs node CPU / request is the serving node process\'s CPU time over the window ÷ the requests it answered; "other node" is the origin while the proxy serves (the proxy\'s fetches land there); fetch latency runs from the request written to the last byte read.',
  ].join('\n\n');
  return { markdown, figures, segmentSeconds };
}
