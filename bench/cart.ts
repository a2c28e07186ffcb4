/**
 * npm run bench:cart — add-to-cart load over HTTP (autocannon) and over the WebSocket.
 *
 * For each server (livecart with the memory store, livecart with Redis, and a raw uWS server that
 * only counts stock down: the ceiling), each load (HTTP: `--connections` autocannon connections;
 * WebSocket: `--ws-connections` buyers' sockets with `--ws-window` requests in flight each, one
 * like a buyer's tap by default) and each stock level (a hot
 * product with stock to spare, and one that sells out in the first second), a fresh server pinned
 * to core 0 takes `--users` buyers' add-to-carts from this process, pinned to core 1. Reports
 * req/s, p50/p99 latency, the answers by status, server CPU % and server CPU microseconds per
 * answered request, generator CPU % (past 90 % the generator is the limit: read CPU per request),
 * and checks that available + reserved + sold equals the initial stock afterwards. Medians over `--runs` runs.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { wsCartLoad } from './cartWsLoad.ts';
import { Redis } from 'ioredis';
import { coreBusyPercent, cpuSnapshot, pinProcess, processCpuPercent, processMemory } from './procStats.ts';
import { REPO_ROOT, signToken, startServer, stopChild } from './servers.ts';
import { fmt, fmtInt, markdownTable, median } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    'ws-connections': { type: 'string', default: '300' },
    'ws-window': { type: 'string', default: '1' },
    users: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'memory,redis,raw' },
    loads: { type: 'string', default: 'http,ws' },
    scenarios: { type: 'string', default: 'large,small' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    port: { type: 'string', default: '18200' },
    'server-args': { type: 'string', default: '' },
  },
});
const serverArgs = flags['server-args']!.split(' ').filter(Boolean);
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);
const wsConnections = Number(flags['ws-connections']);
const wsWindow = Number(flags['ws-window']);
const userCount = Number(flags.users);
const runs = Number(flags.runs);
type Target = 'memory' | 'redis' | 'raw';
type Load = 'http' | 'ws';
const stores = flags.stores!.split(',') as Target[];
const loads = flags.loads!.split(',') as Load[];
const SECRET = 'bench-secret-0123456789abcdef0123';
const HOST = '127.0.0.1';
const allScenarios = [
  { id: 'large', name: 'large stock', stock: 1_000_000_000 },
  { id: 'small', name: 'small stock', stock: 1000 },
] as const;
const scenarios = allScenarios.filter((sc) => flags.scenarios!.split(',').includes(sc.id));
const label: Record<Target, string> = { memory: 'livecart memory', redis: 'livecart Redis', raw: 'raw uWS (ceiling)' };

interface RunResult {
  store: Target;
  load: Load;
  scenario: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
  serverCpu: number;
  /** Server CPU microseconds per answered request. */
  serverUsPerRequest: number;
  generatorCpu: number;
  /** CPU % of the redis-server process (Redis runs unpinned, on whichever core is free). */
  redisCpu: number;
  /** Busy % of both cores together (200 = the machine is full). */
  machineBusy: number;
  serverRssMb: number;
  stockExact: boolean;
  inventory: { available: number; reserved: number; sold: number } | undefined;
}

async function httpLoad(base: string, tokens: readonly string[]) {
  const statuses: Record<string, number> = {};
  let counter = 0;
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
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return { reqPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, statuses, answered };
}

/** The pid of the redis-server behind `url` (from INFO), or undefined when it is not on this machine's /proc. */
async function redisServerPid(url: string): Promise<number | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    return Number.isFinite(pid) && processMemory(pid).rssMb > 0 ? pid : undefined;
  } finally {
    redis.disconnect();
  }
}

async function runOnce(store: Target, load: Load, scenario: (typeof scenarios)[number], run: number, tokens: readonly string[], streamer: string): Promise<RunResult> {
  const port = Number(flags.port) + run;
  const extra = [...(store === 'redis' ? ['--redis', flags.redis!, '--redis-prefix', `bench-cart:${process.pid}:${Date.now()}`] : []), ...serverArgs];
  const server = await startServer({ kind: store === 'raw' ? 'raw' : 'livecart', port, host: HOST, core: '0', secret: SECRET, rawMaxBackpressure: 4 * 1024 * 1024, extraArgs: store === 'raw' ? ['--cart-stock', String(scenario.stock)] : extra });
  try {
    const base = `http://${HOST}:${port}`;
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${streamer}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    if (store !== 'raw') {
      await call('POST', '/api/rooms', { title: 'cart bench', id: 'cart' });
      await call('POST', '/api/rooms/cart/products', { sku: 'hot', title: 'Hot item', priceCents: 999, currency: 'USD', stock: scenario.stock });
      await call('POST', '/api/rooms/cart/start');
    }
    const redisPid = store === 'redis' ? await redisServerPid(flags.redis!) : undefined;
    const pids = [server.pid, process.pid, ...(redisPid === undefined ? [] : [redisPid])];
    const before = cpuSnapshot(pids);
    const result = load === 'http'
      ? await httpLoad(base, tokens)
      : { ...(await wsCartLoad({ host: HOST, port, room: 'cart', sku: 'hot', tokens, connections: wsConnections, window: wsWindow, seconds })), errors: 0 };
    const after = cpuSnapshot(pids);
    const serverSeconds = (after.procs.get(server.pid) ?? Number.NaN) - (before.procs.get(server.pid) ?? Number.NaN);
    const inventory = store === 'raw' ? undefined : ((await call('GET', '/api/rooms/cart/inventory')).inventory as Record<string, { available: number; reserved: number; sold: number }>).hot!;
    const reserved = result.statuses['reserved'] ?? 0;
    // In flight at the deadline: up to `connections` HTTP requests (or connections × window WebSocket
    // ones) the server may have served without the generator reading the answer.
    const slack = load === 'http' ? connections : wsConnections * wsWindow;
    return {
      store,
      load,
      scenario: scenario.name,
      reqPerSec: result.reqPerSec,
      p50: result.p50,
      p99: result.p99,
      errors: result.errors,
      statuses: result.statuses,
      serverCpu: processCpuPercent(before, after, server.pid),
      serverUsPerRequest: (serverSeconds * 1e6) / Math.max(1, result.answered),
      generatorCpu: processCpuPercent(before, after, process.pid),
      redisCpu: redisPid === undefined ? Number.NaN : processCpuPercent(before, after, redisPid),
      machineBusy: coreBusyPercent(before, after, 0) + coreBusyPercent(before, after, 1),
      serverRssMb: processMemory(server.pid).rssMb,
      stockExact: inventory === undefined || (inventory.available + inventory.reserved + inventory.sold === scenario.stock && inventory.reserved >= reserved && inventory.reserved <= reserved + slack),
      inventory,
    };
  } finally {
    await stopChild(server.child);
  }
}

async function main(): Promise<void> {
  const command = `npm run bench:cart -- --seconds ${seconds} --connections ${connections} --ws-connections ${wsConnections} --ws-window ${wsWindow} --users ${userCount} --runs ${runs} --stores ${stores.join(',')} --loads ${loads.join(',')} --scenarios ${scenarios.map((sc) => sc.id).join(',')}${serverArgs.length > 0 ? ` --server-args '${serverArgs.join(' ')}'` : ''}`;
  if (!pinProcess(process.pid, '1')) console.warn('warning: could not pin the generator to core 1 (taskset missing?)');
  console.log(`# bench:cart  ${new Date().toISOString()}\n${command}\n`);
  const tokens = await Promise.all(Array.from({ length: userCount }, (_, i) => signToken(SECRET, `buyer-${i}`, `Buyer ${i}`, 'viewer')));
  const streamer = await signToken(SECRET, 'bench-streamer', 'Streamer', 'streamer');
  const all: RunResult[] = [];
  // Runs interleave the servers (memory, Redis, raw, memory, …) so a slow patch of the machine hits all of them.
  for (const scenario of scenarios) {
    for (const load of loads) {
      for (let run = 0; run < runs; run++) {
        for (const store of stores) {
          const r = await runOnce(store, load, scenario, run, tokens, streamer);
          all.push(r);
          console.log(`${label[store]} / ${load} / ${scenario.name} run ${run + 1}: ${fmtInt(r.reqPerSec)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, server CPU ${fmt(r.serverCpu)}% (${fmt(r.serverUsPerRequest)} µs/request), generator CPU ${fmt(r.generatorCpu)}%, Redis CPU ${fmt(r.redisCpu)}%, machine busy ${fmt(r.machineBusy)}/200%, stock exact: ${r.stockExact} ${JSON.stringify(r.statuses)}`);
        }
      }
    }
  }
  const rows = scenarios.flatMap((scenario) =>
    loads.flatMap((load) =>
      stores.map((store) => {
        const rs = all.filter((r) => r.store === store && r.load === load && r.scenario === scenario.name);
        const generator = median(rs.map((r) => r.generatorCpu));
        return [
          label[store],
          load === 'http' ? 'HTTP' : 'WebSocket',
          `${scenario.name} (${fmtInt(scenario.stock)})`,
          fmtInt(median(rs.map((r) => r.reqPerSec))),
          fmt(median(rs.map((r) => r.p50)), 1),
          fmt(median(rs.map((r) => r.p99)), 1),
          fmt(median(rs.map((r) => r.serverCpu)), 0),
          fmt(median(rs.map((r) => r.serverUsPerRequest)), 1),
          `${fmt(generator, 0)}${generator > 90 ? ' (limit)' : ''}`,
          store === 'redis' ? fmt(median(rs.map((r) => r.redisCpu)), 0) : 'n/a',
          fmt(median(rs.map((r) => r.machineBusy)), 0),
          fmt(median(rs.map((r) => r.serverRssMb)), 0),
          store === 'raw' ? 'n/a' : rs.every((r) => r.stockExact && r.errors === 0) ? 'yes' : 'NO',
        ];
      }),
    ),
  );
  const table = markdownTable(['server', 'load', 'product stock', 'req/s (median)', 'p50 ms', 'p99 ms', 'server CPU %', 'server CPU µs / request', 'generator CPU %', 'Redis CPU %', 'both cores busy % (of 200)', 'server RSS MB', 'exact stock, no errors'], rows);
  console.log(`\n${table}\n\n${command}`);
  const generatorBound = all.some((r) => r.generatorCpu > 90);
  if (generatorBound) console.log('\nnote: the generator (core 1) was above 90% of its core in some runs: there it, not the server, is the limit; compare server CPU per request.');
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  const file = path.join(REPO_ROOT, `bench/results/cart-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ command, seconds, connections, wsConnections, wsWindow, users: userCount, runs: all }, null, 2));
  console.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
  if (all.some((r) => !r.stockExact)) process.exitCode = 1;
}

await main();
