/**
 * npm run bench:media — what livecart's media costs on one machine: server on one core, load on
 * the other (taskset). Three parts (`--parts`), each in its own module:
 *
 *   consumers  consumers one mediasoup worker carries (bench/mediaConsumers.ts): ffmpeg streams
 *              into one room; WebRTC subscribers (Node + @roamhq/wrtc: the generator runs out of
 *              CPU first) and plain RTP viewers into a UDP sink (the worker runs out first) are
 *              added in steps until the worker's CPU, loss, or the load side is the limit.
 *   pipe       the CPU a room's stream piped to another node costs (bench/mediaPipe.ts): two nodes
 *              on Redis, viewers on the origin and then on the other node.
 *   hls        HLS players one node serves (bench/mediaHls.ts + the load generator bench/hlsLoad.ts):
 *              as the room's media origin, and as another node proxying it.
 *
 * Prints each part's tables, a summary of the figures and the command; writes
 * bench/results/media-<timestamp>.md.
 *
 * `--layers` runs bench/mediaLayers.ts instead: the simulcast layer a viewer decodes at each degrade level.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ConsumerMode, type ConsumersReport, runConsumers } from './mediaConsumers.ts';
import { type HlsReport, type HlsTarget, runHls } from './mediaHls.ts';
import { runLayers } from './mediaLayers.ts';
import { type PipeReport, runPipe } from './mediaPipe.ts';
import type { IngestKind } from './mediaStream.ts';
import { pinProcess } from './procStats.ts';
import { REPO_ROOT } from './servers.ts';
import { fmt, fmtInt, markdownTable } from './stats.ts';

const SECRET = 'bench-media-secret-0123456789abcdef';
const PARTS = ['consumers', 'pipe', 'hls'] as const;
type Part = (typeof PARTS)[number];

const OPTIONS = {
  parts: { type: 'string', default: PARTS.join(',') },
  runs: { type: 'string', default: '1' },
  'step-seconds': { type: 'string', default: '6' },
  'settle-seconds': { type: 'string', default: '3' },
  modes: { type: 'string', default: 'receive-only,plain' },
  step: { type: 'string', default: '40' },
  'decode-step': { type: 'string' },
  'plain-step': { type: 'string', default: '200' },
  max: { type: 'string', default: '400' },
  'plain-max': { type: 'string', default: '2000' },
  'plain-srtp': { type: 'boolean', default: true },
  'worker-cpu': { type: 'string', default: '95' },
  loss: { type: 'string', default: '1' },
  delivery: { type: 'string', default: '97' },
  'generator-cpu': { type: 'string', default: '90' },
  generators: { type: 'string', default: '1' },
  'join-concurrency': { type: 'string', default: '8' },
  ingest: { type: 'string', default: 'copy' },
  'video-size': { type: 'string', default: '640x360' },
  'consumer-limit': { type: 'string', default: '100000' },
  'stats-interval-ms': { type: 'string', default: '5000' },
  baseline: { type: 'boolean', default: true },
  'pipe-rooms': { type: 'string', default: '8' },
  'pipe-viewers': { type: 'string', default: '2' },
  'hls-start': { type: 'string', default: '250' },
  'hls-factor': { type: 'string', default: '2' },
  'hls-max': { type: 'string', default: '16000' },
  'hls-refine': { type: 'string', default: '1' },
  'hls-targets': { type: 'string', default: 'origin,proxy' },
  'hls-node-cpu': { type: 'string', default: '90' },
  'server-args': { type: 'string', default: '' },
  'server-core': { type: 'string', default: '0' },
  'load-core': { type: 'string', default: '1' },
  'ffmpeg-core': { type: 'string' },
  port: { type: 'string', default: '18700' },
  layers: { type: 'boolean', default: false },
  'layer-seconds': { type: 'string', default: '20' },
  help: { type: 'boolean', default: false },
} as const;

const HELP = `npm run bench:media -- [options]
  --parts LIST          consumers,pipe,hls (all)
  --runs N              runs of each part; tables show medians (1)
  --step-seconds S      measurement window per step or phase (6)
  --settle-seconds S    wait after a step's joins before measuring (3; ffmpeg sends a key frame every 2 s)
  --server-core C / --load-core C / --ffmpeg-core C   (0 / 1 / the server core: the copy ingest costs ~1% of
                        a core; on a saturated load core it would be starved and send fewer frames)
  --ingest copy|encode  copy: a clip encoded once with the server's suggested settings, sent with -c copy
                        (cheap); encode: the server's suggested ffmpeg command as is (libvpx live) (copy)
  --video-size WxH      test pattern size (640x360, the server's suggestion)
 consumers:
  --modes LIST          decode,receive-only,plain (receive-only,plain): WebRTC subscribers decoding or
                        not (Node + @roamhq/wrtc), or plain RTP viewers into a UDP sink
  --step N              WebRTC subscribers added per step (40)
  --decode-step N       the step in decode mode (--step); one core decodes for only ~25 subscribers here
  --plain-step N        plain viewers added per step (200; 2 consumers each)
  --max N / --plain-max N   stop after this many WebRTC subscribers / plain viewers (400 / 2000)
  --no-plain-srtp       plain viewers without SRTP (WebRTC always encrypts)
  --worker-cpu PCT      stop when the worker uses this much of a core (95)
  --loss PCT            stop when subscribers lose more than this share of video packets or frames (1)
  --delivery PCT        stop when a subscriber gets less than this share of the audio packets per second it got
                        at the first step (97)
  --generator-cpu PCT   stop when the generator process or its core is this busy (90)
  --generators N        WebRTC generator processes, all on the load core (1)
  --join-concurrency N  joins in flight per generator (8)
  --consumer-limit N    the server's --media-consumer-limit (100000: measure the worker, not the cap)
  --stats-interval-ms N the server's --media-stats-interval-ms (5000, its default)
  --no-baseline         skip the 0-subscriber row (ingest only)
  --port P              server port (18700; +1 per run)
 pipe:
  --pipe-rooms N        rooms (streams) on node 1, each piped to node 2 (8)
  --pipe-viewers N      receive-only WebRTC viewers per room (2)
 hls:
  --hls-start N / --hls-factor F / --hls-max N   players: N, then ×F per step, up to N (250 / 2 / 16000;
                        one process may hold 20,000 open files here: the generator's and the node's sockets)
  --hls-refine N        steps past the first limit, each halving the gap to the last count held (1)
  --hls-targets LIST    origin,proxy (both): players on the room's media origin, or on the other node
  --hls-node-cpu PCT    stop when the serving node's process uses this much of a core (90)
 pipe and hls:
  --server-args '…'     extra flags for both nodes (e.g. '--media-pipe-srtp false', '--hls-segment-seconds 2')
 --layers               instead: one streamer (960x540 camera, three simulcast layers) and one viewer;
                        an operator sets the room to level 0, 2, 1, auto; prints the width the viewer
                        decodes per level and the layers the streamer sent (bench/mediaLayers.ts)
  --layer-seconds S     how long each level is held with --layers (20)`;

function list<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value.split(',').map((m) => m.trim()).filter(Boolean) as T[];
  for (const item of items) if (!allowed.includes(item)) throw new Error(`${option}: unknown ${item} (one of ${allowed.join(', ')})`);
  return items;
}

/** The figures of every part in one table: what bench/README.md quotes. */
function summary(consumers: ConsumersReport | undefined, pipe: PipeReport | undefined, hls: HlsReport | undefined): string {
  const rows: string[][] = [];
  for (const f of consumers?.figures ?? []) {
    const kind = f.mode === 'plain' ? 'plain RTP viewers (SRTP) into a UDP sink' : `WebRTC subscribers (${f.mode})`;
    const runs = f.consumersPerRun.length > 1 ? `; runs: ${f.consumersPerRun.map(fmtInt).join(' / ')}` : '';
    rows.push([`consumers per worker, ${kind}`, `${fmtInt(f.consumers)} consumers (${fmtInt(f.subscribers)} viewers${runs}) at ${fmt(f.workerCpu, 0)}% of a core`, `${fmt(f.perConsumer, 3)}% of a core per consumer; generator ${fmt(f.generatorCpu, 0)}%`, f.limit]);
  }
  if (pipe !== undefined) {
    const c = pipe.cost;
    rows.push(['cross-node pipe, per piped stream (video + audio)', `${fmt(c.workers, 2)}% of a core in the workers (sending ${fmt(c.sendingWorker, 2)}, receiving ${fmt(c.receivingWorker, 2)}), ${fmt(c.nodes, 2)}% in the node processes`, `${fmt(c.mbits, 2)} Mbit/s carried: ${fmt(c.workers / c.mbits, 2)}% of a core per Mbit/s in the workers`, '–']);
  }
  for (const f of hls?.figures ?? []) {
    const h = f.held;
    rows.push([
      `HLS players one node serves (${f.target === 'origin' ? 'the origin' : 'a proxying node'})`,
      h === undefined ? 'none held' : `${fmtInt(h.players)} players${f.heldPerRun.length > 1 ? ` (runs: ${f.heldPerRun.map(fmtInt).join(' / ')})` : ''}: ${fmtInt(h.segmentRps)} segments/s, ${fmtInt(h.playlistRps)} playlists/s, ${fmt(h.bytesPerSecond / 1e6, 1)} MB/s`,
      h === undefined ? '–' : `node ${fmt(h.servingCpu, 0)}% of a core, ${fmt(h.servingUsPerRequest, 0)} µs per request (an extra one ≈ ${fmt(f.marginalUs, 1)} µs); segment p50/p99 ${fmt(h.segmentP50, 0)}/${fmt(h.segmentP99, 0)} ms, playlist ${fmt(h.playlistP50, 0)}/${fmt(h.playlistP99, 0)} ms`,
      f.limits,
    ]);
  }
  return markdownTable(['figure', 'at the bound', 'cost', 'stopped by (next step)'], rows);
}

async function main(): Promise<void> {
  const { values: f } = parseArgs({ options: OPTIONS, allowNegative: true, strict: true });
  if (f.help) {
    console.log(HELP);
    return;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130)); // children die with the exit (killOnExit)
  if (f.layers) return layersMain(Number(f.port), f['server-core']!, Number(f['layer-seconds']), f['load-core']!);
  const parts = list(f.parts!, PARTS, '--parts');
  const ingest = f.ingest as IngestKind;
  if (ingest !== 'copy' && ingest !== 'encode') throw new Error('--ingest is copy or encode');
  const common = {
    runs: Number(f.runs), stepSeconds: Number(f['step-seconds']), settleSeconds: Number(f['settle-seconds']),
    serverCore: f['server-core']!, loadCore: f['load-core']!, ffmpegCore: f['ffmpeg-core'] ?? f['server-core']!,
    ingest, videoSize: f['video-size']!, secret: SECRET, generatorCpu: Number(f['generator-cpu']),
  };
  const serverArgs = f['server-args']!.split(' ').filter(Boolean);
  const command = `npm run bench:media -- ${process.argv.slice(2).join(' ')}`.trim();
  pinProcess(process.pid, common.loadCore);

  const started = new Date();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  log(`# bench:media  ${started.toISOString()}\n${command}\n`);
  log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`server core ${common.serverCore} (nodes, mediasoup workers, Redis), load core ${common.loadCore} (generators, sink, this orchestrator), ffmpeg on core ${common.ffmpegCore}`);

  const consumers = parts.includes('consumers') ? await runConsumers({
    ...common, step: Number(f.step), decodeStep: Number(f['decode-step'] ?? f.step), plainStep: Number(f['plain-step']), max: Number(f.max), plainMax: Number(f['plain-max']),
    modes: list<ConsumerMode>(f.modes!, ['decode', 'receive-only', 'plain'], '--modes'), workerCpu: Number(f['worker-cpu']), loss: Number(f.loss), delivery: Number(f.delivery),
    generators: Number(f.generators), joinConcurrency: Number(f['join-concurrency']), consumerLimit: Number(f['consumer-limit']), statsIntervalMs: Number(f['stats-interval-ms']),
    port: Number(f.port), baseline: f.baseline!, plainSrtp: f['plain-srtp']!,
  }, log) : undefined;
  const pipe = parts.includes('pipe') ? await runPipe({
    ...common, seconds: common.stepSeconds, rooms: Number(f['pipe-rooms']), viewers: Number(f['pipe-viewers']), joinConcurrency: Number(f['join-concurrency']), serverArgs,
  }, log) : undefined;
  const hls = parts.includes('hls') ? await runHls({
    ...common, start: Number(f['hls-start']), factor: Number(f['hls-factor']), max: Number(f['hls-max']), refine: Number(f['hls-refine']), targets: list<HlsTarget>(f['hls-targets']!, ['origin', 'proxy'], '--hls-targets'),
    nodeCpu: Number(f['hls-node-cpu']), serverArgs,
  }, log) : undefined;

  const figures = summary(consumers, pipe, hls);
  const md = [
    `# Media: consumers per worker, cross-node pipe, HLS per node, ${started.toISOString()}`,
    `\`${command}\``,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}. Server processes (nodes, mediasoup workers, Redis) on core ${common.serverCore}; load (WebRTC generator, UDP sink, HLS players) and this orchestrator on core ${common.loadCore}; ffmpeg streams on core ${common.ffmpegCore}.${common.runs > 1 ? ` ${common.runs} runs of each part: medians.` : ''}`,
    '## Figures',
    figures,
    ...[consumers?.markdown, pipe?.markdown, hls?.markdown].filter((x): x is string => x !== undefined),
    '## Log',
    '```\n' + lines.join('\n') + '\n```',
  ].join('\n\n');
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `media-${started.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, md + '\n');
  console.log(`\n## Figures\n\n${figures}\n\n${command}\nreport: ${path.relative(REPO_ROOT, file)}`);
  process.exit(0); // wrtc's threads would keep the process alive
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
