/**
 * Fan-out bench: N viewers in one room, a streamer posting R comments/s and a pin every second.
 * Runs the same load against livecart and against a minimal raw uWS server (the ceiling),
 * alternating, `--runs` times each, and reports medians. See bench/README.md.
 *
 *   npm run bench:fanout -- --viewers 5000 --rate 200 --seconds 10 --runs 3
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from './config.ts';
import { pinProcess, setBenchPriority } from './procStats.ts';
import { disturbed, runOnce, type RunMetrics } from './runOnce.ts';
import { REPO_ROOT, livecartAvailable, type ServerKind } from './servers.ts';
import { fmt, fmtInt, fmtPct, markdownTable, median } from './stats.ts';

const argv = process.argv.slice(2);
const cfg = parseConfig(argv);
const began = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
};
const command = `npm run bench:fanout -- ${argv.join(' ')}`.trim();

if (!pinProcess(process.pid, cfg.loadCore)) log(`warning: could not pin the orchestrator to core ${cfg.loadCore}`);
if (cfg.nice) log(`priority: ${setBenchPriority(cfg.nice)}`);

let servers = cfg.servers;
if (servers.includes('livecart') && !livecartAvailable()) {
  log('WARNING: server/src/main.ts does not exist yet: measuring the raw uWS baseline only.');
  servers = servers.filter((s) => s !== 'livecart');
}
if (servers.length === 0) {
  log('nothing to run');
  process.exit(1);
}

const runs: RunMetrics[] = [];
const failures: { server: ServerKind; run: number; error: string }[] = [];
let port = cfg.port;
log(`fan-out bench: ${cfg.viewers} viewers, ${cfg.rate} comments/s + 1 pin/s, ${cfg.seconds} s (+${cfg.warmup} s warm-up), ${cfg.runs} run(s) of ${servers.join(', ')}`);
for (let run = 0; run < cfg.runs; run++) {
  for (const kind of servers) {
    try {
      runs.push(await runOnce(cfg, kind, run, port++, log));
    } catch (error) {
      const message = (error as Error).stack ?? String(error);
      log(`${kind} #${run + 1} FAILED: ${message}`);
      failures.push({ server: kind, run, error: message });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- report ----
type Num = { [K in keyof RunMetrics]: RunMetrics[K] extends number ? K : never }[keyof RunMetrics];
const med = (kind: ServerKind, key: Num): number => median(runs.filter((r) => r.server === kind).map((r) => r[key]));
const summary: Record<string, Record<string, number>> = {};
const numericKeys: Num[] = [
  'viewers', 'events', 'offeredPerSec', 'delivered', 'missing', 'viewersShort', 'gaps', 'closed', 'deliveriesPerSec', 'inWindowPerSec',
  'drainSeconds', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'commentFrameBytes', 'serverCpuPct', 'deliveriesPerCoreSec', 'serverCore0BusyPct', 'serverRssMaxMb',
  'generatorCpuTotalPct', 'orchestratorCpuPct', 'loadCoreBusyPct', 'serverCoreIrqPct', 'loadCoreIrqPct', 'serverCoreForeignPct', 'loadCoreForeignPct', 'serverCoreStealPct', 'loadCoreStealPct', 'joinSeconds',
];
for (const kind of servers) {
  summary[kind] = {};
  for (const key of numericKeys) summary[kind]![key] = med(kind, key);
  summary[kind]!['runs'] = runs.filter((r) => r.server === kind).length;
}
const ratio = servers.includes('livecart') && servers.includes('raw') ? med('livecart', 'deliveriesPerSec') / med('raw', 'deliveriesPerSec') : Number.NaN;
const inWindowRatio = Number.isFinite(ratio) ? med('livecart', 'inWindowPerSec') / med('raw', 'inWindowPerSec') : Number.NaN;
const efficiencyRatio = Number.isFinite(ratio) ? med('livecart', 'deliveriesPerCoreSec') / med('raw', 'deliveriesPerCoreSec') : Number.NaN;

const header = ['server', 'deliveries/s', 'in-window/s', 'offered/s', 'p50 ms', 'p99 ms', 'max ms', 'missing', 'drain s', 'server CPU (core busy)', 'deliveries/CPU-s', 'server RSS MB', 'load core (gen)', 'backlog at'];
const row = (label: string, m: (key: Num) => number, backlog: string): string[] => [
  label,
  fmtInt(m('deliveriesPerSec')),
  fmtInt(m('inWindowPerSec')),
  fmtInt(m('offeredPerSec')),
  fmt(m('p50Ms')),
  fmt(m('p99Ms')),
  fmtInt(m('maxMs')),
  fmtInt(m('missing')),
  fmt(m('drainSeconds'), 2),
  `${fmtPct(m('serverCpuPct'))} (${fmtPct(m('serverCore0BusyPct'))})`,
  fmtInt(m('deliveriesPerCoreSec')),
  fmtInt(m('serverRssMaxMb')),
  `${fmtPct(m('loadCoreBusyPct'))} (${fmtPct(m('generatorCpuTotalPct'))})`,
  backlog,
];
const backlogs = (kind: ServerKind): string => {
  const counts = new Map<string, number>();
  for (const r of runs) if (r.server === kind) counts.set(r.backlogAt, (counts.get(r.backlogAt) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');
};
const medianTable = markdownTable(header, servers.map((kind) => row(`${kind} (median of ${summary[kind]!['runs']})`, (k) => med(kind, k), backlogs(kind))));
const perRunTable = markdownTable(header, runs.map((r) => row(`${r.server} #${r.run + 1}`, (k) => r[k], r.backlogAt)));
const date = new Date().toISOString();
const lines = [
  '',
  `## Fan-out: ${cfg.viewers} viewers, ${cfg.rate} comments/s + 1 pin/s, ${cfg.seconds} s, ${cfg.runs} run(s) each (${date})`,
  '',
  medianTable,
  '',
  Number.isFinite(ratio)
    ? `**livecart / raw uWS = ${(ratio * 100).toFixed(1)}%** of the ceiling (deliveries/s, medians; in-window ${(inWindowRatio * 100).toFixed(1)}%; ` +
      `per server CPU-second ${(efficiencyRatio * 100).toFixed(1)}%; target ≥ 80%)`
    : 'livecart / raw uWS ratio: n/a (both servers must run)',
  '',
  'Per run:',
  '',
  perRunTable,
  '',
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}; server on core ${cfg.serverCore}, generators on core ${cfg.loadCore}.`,
  `Command: \`${command}\``,
  '',
];
const warnings: string[] = [];
/** Per run: livecart's degrade changes and, with --ops-poll, the signals the server saw. */
const notes: string[] = [];
for (const r of runs) {
  if (r.generatorLimited) {
    warnings.push(
      `${r.server} #${r.run + 1}: load core ${fmtPct(r.loadCoreBusyPct)} busy: the generator, not the server, may be the limit` +
        (r.backlogAt === 'server' ? ' (though the backlog sat at the server\'s input).' : r.backlogAt === 'generator' ? ' (the backlog sat in the viewers\' receive queues).' : '.'),
    );
  }
  if (disturbed(r)) {
    warnings.push(`${r.server} #${r.run + 1}: disturbed: other processes took ${fmtPct(r.serverCoreForeignPct)} of the server core and ${fmtPct(r.loadCoreForeignPct)} of the load core, hypervisor steal ${fmtPct(r.serverCoreStealPct)} / ${fmtPct(r.loadCoreStealPct)}.`);
  }
  if (r.maxDegradeLevel > 0) warnings.push(`${r.server} #${r.run + 1}: livecart degraded the room to level ${r.maxDegradeLevel} (load shedding by design).`);
  if (r.ops !== null) {
    notes.push(`${r.server} #${r.run + 1}: the server's view (${r.ops.samples.length} polls of /api/ops/rooms): fan-out lag p50 ${fmt(r.ops.viewerLagMs.p50, 0)} / p90 ${fmt(r.ops.viewerLagMs.p90, 0)} / max ${fmt(r.ops.viewerLagMs.max, 0)} ms, lasting event-loop delay max ${fmt(r.ops.eventLoopDelayMsMax, 0)} ms.`);
  }
  if (r.degradeChanges.length > 0) {
    const changes = r.degradeChanges.map((c) => `${c.atS.toFixed(1)} s → ${c.level} (${c.reason})`).join(', ');
    notes.push(`${r.server} #${r.run + 1}: degrade level changes, seconds from the first measured send (negative: warm-up): ${changes}.`);
  }
  if (r.joinFailed) warnings.push(`${r.server} #${r.run + 1}: ${r.joinFailed} viewers failed to join.`);
  if (!r.drainComplete) warnings.push(`${r.server} #${r.run + 1}: ${fmtInt(r.missing)} frames still missing at the end (${r.viewersShort} viewers short; ${r.closed} sockets closed).`);
  if (Object.keys(r.streamerErrors).length) warnings.push(`${r.server} #${r.run + 1}: streamer errors ${JSON.stringify(r.streamerErrors)}.`);
}
for (const f of failures) warnings.push(`${f.server} #${f.run + 1} failed: ${f.error.split('\n')[0]}`);
if (notes.length) lines.push('Degrade levels:', ...notes.map((n) => `- ${n}`), '');
if (warnings.length) lines.push('Warnings:', ...warnings.map((w) => `- ${w}`), '');
process.stdout.write(lines.join('\n') + '\n');

const outDir = path.resolve(REPO_ROOT, cfg.out);
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `fanout-${date.replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      date,
      command,
      config: { ...cfg, secret: undefined },
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, kernel: os.release(), node: process.version },
      servers,
      ratio,
      inWindowRatio,
      efficiencyRatio,
      summary,
      runs,
      failures,
      warnings,
      notes,
    },
    null,
    2,
  ) + '\n',
);
log(`wrote ${path.relative(process.cwd(), file)}`);
process.exit(failures.length && runs.length === 0 ? 1 : 0);
