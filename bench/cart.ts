/**
 * npm run bench:cart — autocannon against the HTTP add-to-cart endpoint.
 *
 * For each store (memory, Redis) and each stock level (a hot product with stock to spare, and one
 * that sells out in the first second), a fresh livecart server pinned to core 0 takes `--users`
 * buyers' add-to-cart requests from autocannon in this process, pinned to core 1. Reports req/s,
 * p50/p99 latency, the answers by status, server and generator CPU, and checks that
 * available + reserved + sold equals the initial stock afterwards. Medians over `--runs` runs.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cpuSnapshot, pinProcess, processCpuPercent, processMemory } from './procStats.ts';
import { REPO_ROOT, signToken, startServer, stopChild } from './servers.ts';
import { fmt, fmtInt, markdownTable, median } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    users: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'memory,redis' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    port: { type: 'string', default: '18200' },
  },
});
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);
const userCount = Number(flags.users);
const runs = Number(flags.runs);
const stores = flags.stores!.split(',') as Array<'memory' | 'redis'>;
const SECRET = 'bench-secret-0123456789abcdef0123';
const HOST = '127.0.0.1';
const scenarios = [
  { name: 'large stock', stock: 1_000_000_000 },
  { name: 'small stock', stock: 1000 },
] as const;

interface RunResult {
  store: string;
  scenario: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  serverCpu: number;
  generatorCpu: number;
  serverRssMb: number;
  stockExact: boolean;
  inventory: { available: number; reserved: number; sold: number };
}

async function runOnce(store: 'memory' | 'redis', scenario: (typeof scenarios)[number], run: number, tokens: readonly string[], streamer: string): Promise<RunResult> {
  const port = Number(flags.port) + run;
  const extra = store === 'redis' ? ['--redis', flags.redis!, '--redis-prefix', `bench-cart:${process.pid}:${Date.now()}`] : [];
  const server = await startServer({ kind: 'livecart', port, host: HOST, core: '0', secret: SECRET, rawMaxBackpressure: 0, extraArgs: extra });
  try {
    const base = `http://${HOST}:${port}`;
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${streamer}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await call('POST', '/api/rooms', { title: 'cart bench', id: 'cart' });
    await call('POST', '/api/rooms/cart/products', { sku: 'hot', title: 'Hot item', priceCents: 999, currency: 'USD', stock: scenario.stock });
    await call('POST', '/api/rooms/cart/start');

    const statuses: Record<string, number> = {};
    let counter = 0;
    const before = cpuSnapshot([server.pid, process.pid]);
    const result = await autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/api/rooms/cart/cart/items',
          setupRequest: (request) => {
            const n = counter++;
            return {
              ...request,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % tokens.length]}`, 'idempotency-key': `k${n}` },
              body: '{"sku":"hot","quantity":1}',
            };
          },
          onResponse: (status, body) => {
            const m = /"status":"([a-z_]+)"/.exec(body);
            const key = status === 200 && m ? m[1]! : `http ${status}`;
            statuses[key] = (statuses[key] ?? 0) + 1;
          },
        },
      ],
    });
    const after = cpuSnapshot([server.pid, process.pid]);
    const inventory = ((await call('GET', '/api/rooms/cart/inventory')).inventory as Record<string, { available: number; reserved: number; sold: number }>).hot!;
    const reserved = statuses.reserved ?? 0;
    return {
      store,
      scenario: scenario.name,
      reqPerSec: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      statuses,
      serverCpu: processCpuPercent(before, after, server.pid),
      generatorCpu: processCpuPercent(before, after, process.pid),
      serverRssMb: processMemory(server.pid).rssMb,
      // Every unit is accounted for, and every "reserved" answer holds its unit. autocannon stops
      // at the deadline with up to `connections` requests in flight: the server may have served
      // those without autocannon reading the answer.
      stockExact:
        inventory.available + inventory.reserved + inventory.sold === scenario.stock && inventory.reserved >= reserved && inventory.reserved <= reserved + connections,
      inventory,
    };
  } finally {
    await stopChild(server.child);
  }
}

async function main(): Promise<void> {
  const command = `npm run bench:cart -- --seconds ${seconds} --connections ${connections} --users ${userCount} --runs ${runs} --stores ${stores.join(',')}`;
  if (!pinProcess(process.pid, '1')) console.warn('warning: could not pin the generator to core 1 (taskset missing?)');
  console.log(`# bench:cart  ${new Date().toISOString()}\n${command}\n`);
  const tokens = await Promise.all(Array.from({ length: userCount }, (_, i) => signToken(SECRET, `buyer-${i}`, `Buyer ${i}`, 'viewer')));
  const streamer = await signToken(SECRET, 'bench-streamer', 'Streamer', 'streamer');
  const all: RunResult[] = [];
  for (const store of stores) {
    for (const scenario of scenarios) {
      for (let run = 0; run < runs; run++) {
        const r = await runOnce(store, scenario, run, tokens, streamer);
        all.push(r);
        console.log(`${store} / ${scenario.name} run ${run + 1}: ${fmtInt(r.reqPerSec)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server CPU ${fmt(r.serverCpu)}%, generator CPU ${fmt(r.generatorCpu)}%, stock exact: ${r.stockExact} ${JSON.stringify(r.statuses)}`);
      }
    }
  }
  const rows = stores.flatMap((store) =>
    scenarios.map((scenario) => {
      const rs = all.filter((r) => r.store === store && r.scenario === scenario.name);
      const generator = median(rs.map((r) => r.generatorCpu));
      return [
        store,
        `${scenario.name} (${fmtInt(scenario.stock)})`,
        fmtInt(median(rs.map((r) => r.reqPerSec))),
        fmt(median(rs.map((r) => r.p50)), 0),
        fmt(median(rs.map((r) => r.p99)), 0),
        fmt(median(rs.map((r) => r.serverCpu)), 0),
        `${fmt(generator, 0)}${generator > 90 ? ' (limit)' : ''}`,
        fmt(median(rs.map((r) => r.serverRssMb)), 0),
        rs.every((r) => r.stockExact && r.errors === 0 && r.non2xx === 0) ? 'yes' : 'NO',
      ];
    }),
  );
  const table = markdownTable(['store', 'product stock', 'req/s (median)', 'p50 ms', 'p99 ms', 'server CPU %', 'generator CPU %', 'server RSS MB', 'exact stock, no errors'], rows);
  console.log(`\n${table}\n\n${command}`);
  const generatorBound = all.some((r) => r.generatorCpu > 90);
  if (generatorBound) console.log('\nnote: the generator (autocannon, core 1) was above 90% of its core in some runs: it, not the server, may be the limit there.');
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  const file = path.join(REPO_ROOT, `bench/results/cart-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ command, seconds, connections, users: userCount, runs: all }, null, 2));
  console.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
  if (all.some((r) => !r.stockExact)) process.exitCode = 1;
}

await main();
