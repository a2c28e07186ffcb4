/**
 * npm run bench:scale — one room with 100,000 viewers over several livecart nodes sharing Redis.
 *
 * For each backend (`one`: a redis-server of its own; `cluster`: a 3+3 Redis Cluster of its own;
 * `single`: the baseline, one node and a tenth of the viewers on one redis-server) it starts the
 * nodes (the compiled server), joins the viewers from several generator processes (scaleLoad.ts,
 * each from its own 127.0.0.x source address), then measures:
 *   1. memory: the nodes' RSS over the viewers;
 *   2. pop-ups: the streamer pins a product `--popups` times; delivery latency to every viewer;
 *   3. a flash sale: every viewer taps add-to-cart within `--window-ms`, every third twice with the
 *      same key; one node is killed with kill -9 in the middle (`--kill-at-ms`); its viewers
 *      reconnect to the others and resume; every tap is retried until definite;
 *   4. after the sale: a last pop-up must reach every viewer (the moved ones included), and the
 *      stock must be exact: available 0, reserved = the units buyers were told `reserved`.
 * Prints a table and writes bench/results/scale-<stamp>.md (+ .json).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decode, encode } from '../protocol/src/codec.ts';
import { type CpuSnapshot, coreBusyPercent, coreIrqPercent, coreStealPercent, cpuSnapshot, pinProcess, processCpuPercent, processMemory } from './procStats.ts';
import { type Backend, type LiveNode, buildServer, killNode, openFileLimits, startNodes, startOneRedis, startRedisCluster, stopNodes, withOpenFiles } from './scaleBackends.ts';
import type { FromScaleLoad, SaleResult, ToScaleLoad } from './scaleLoad.ts';
import { histogramDelta, histogramQuantile, readHistogram } from './nodeMetrics.ts';
import { REPO_ROOT, signToken, stopChild } from './servers.ts';
import { fmt, fmtInt, markdownTable, percentileSorted } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    viewers: { type: 'string', default: '100000' },
    nodes: { type: 'string', default: '7' },
    generators: { type: 'string', default: '8' },
    backends: { type: 'string', default: 'one,cluster,single' },
    'baseline-viewers': { type: 'string', default: '10000' },
    stock: { type: 'string', default: '10000' },
    popups: { type: 'string', default: '5' },
    'window-ms': { type: 'string', default: '2000' },
    'twice-every': { type: 'string', default: '3' },
    kill: { type: 'string', default: 'true' },
    'kill-at-ms': { type: 'string', default: '1000' },
    // Servers and Redis on core 0, generators and this process on core 1; 'none' = let the kernel place them.
    pin: { type: 'string', default: '0,1' },
    concurrency: { type: 'string', default: '32' },
    // A viewer a node refuses (503 while it protects itself) tries again until this many seconds after the join started.
    'join-timeout-s': { type: 'string', default: '600' },
    'server-args': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run bench:scale -- [--viewers 100000] [--nodes 7] [--generators 8] [--backends one,cluster,single]
  [--baseline-viewers 10000] [--stock 10000] [--popups 5] [--window-ms 2000] [--twice-every 3]
  [--kill true] [--kill-at-ms 1000] [--pin 0,1|none] [--concurrency 32] [--join-timeout-s 600] [--server-args '...']
Hold /tmp/bench.lock for runs above ~20,000 viewers. See bench/README.md.`);
  process.exit(0);
}

const VIEWERS = Number(flags.viewers);
const NODES = Number(flags.nodes);
const GENERATORS = Number(flags.generators);
const BACKENDS = flags.backends!.split(',').map((b) => b.trim()) as Array<'one' | 'cluster' | 'single'>;
const BASELINE_VIEWERS = Number(flags['baseline-viewers']);
const STOCK = Number(flags.stock);
const POPUPS = Number(flags.popups);
const WINDOW_MS = Number(flags['window-ms']);
const TWICE_EVERY = Number(flags['twice-every']);
const KILL = flags.kill !== 'false';
const KILL_AT_MS = Number(flags['kill-at-ms']);
const JOIN_TIMEOUT_MS = Number(flags['join-timeout-s']) * 1000;
/** A tap not answered definitely this long after it was made counts as "no answer". */
const SALE_DEADLINE_MS = 120_000;
const [SERVER_CORE, LOAD_CORE] = flags.pin === 'none' ? [undefined, undefined] : flags.pin!.split(',');
const SERVER_ARGS = flags['server-args']!.split(/\s+/).filter((a) => a.length > 0);
const SECRET = 'bench-secret-0123456789abcdef0123';
const HOST = '127.0.0.1';
const ROOM = 'scale';
const FLASH = 'flash';
const POPUP_SKUS = ['popup-a', 'popup-b'];
/** A socket per viewer, the node's listening socket, its Redis links, files: what a node needs beyond its viewers. */
const NODE_FD_RESERVE = 200;
/** Ports a generator has on its source address: from 1024 up to the kernel's ephemeral range (scaleLoad.ts chooses them). */
const PORTS_PER_ADDRESS = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) - 1024;
  } catch {
    return 31_744;
  }
})();

const command = `npm run bench:scale -- --viewers ${VIEWERS} --nodes ${NODES} --generators ${GENERATORS} --backends ${BACKENDS.join(',')} --baseline-viewers ${BASELINE_VIEWERS} --stock ${STOCK} --popups ${POPUPS} --window-ms ${WINDOW_MS} --twice-every ${TWICE_EVERY} --kill ${KILL} --kill-at-ms ${KILL_AT_MS} --pin ${flags.pin}${SERVER_ARGS.length ? ` --server-args='${SERVER_ARGS.join(' ')}'` : ''}`;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (xs: readonly number[]) => {
  const sorted = Float64Array.from(xs).sort();
  return { n: sorted.length, p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN };
};

// ---------------------------------------------------------------- generators

interface Generator {
  readonly child: ChildProcess;
  progress: Extract<FromScaleLoad, { t: 'progress' }>;
  next<T extends FromScaleLoad['t']>(type: T, timeoutMs: number): Promise<Extract<FromScaleLoad, { t: T }>>;
  send(message: ToScaleLoad): void;
}

function startGenerator(openFiles: number): Generator {
  // prlimit execs node, which finds the IPC channel the spawn set up: the soft open-file limit raised to the hard one.
  const [cmd, ...args] = withOpenFiles(openFiles, [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'bench/scaleLoad.ts')]);
  const child = spawn(cmd!, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (LOAD_CORE !== undefined) pinProcess(child.pid!, LOAD_CORE);
  const waiting = new Map<string, (m: FromScaleLoad) => void>();
  const g: Generator = {
    child,
    progress: { t: 'progress', open: 0, popups: {}, reconnected: 0, definite: 0 },
    next: (type, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`generator ${child.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(type, (m) => {
          clearTimeout(timer);
          resolve(m as never);
        });
      }),
    send: (message) => child.send(message),
  };
  child.on('message', (m: FromScaleLoad) => {
    if (m.t === 'progress') g.progress = m;
    waiting.get(m.t)?.(m);
  });
  return g;
}

// ---------------------------------------------------------------- the streamer

interface Streamer {
  /** Sends a request; resolves with its reply and the epoch ms it was sent at. */
  request(body: Record<string, unknown>): Promise<{ reply: Record<string, unknown>; sentAt: number }>;
  close(): void;
}

async function openStreamer(port: number, token: string): Promise<Streamer> {
  const ws = new WebSocket(`ws://${HOST}:${port}/ws`);
  ws.binaryType = 'nodebuffer';
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  ws.on('message', (data: Buffer) => {
    const m = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as Record<string, unknown>;
    if (typeof m.id === 'number') waiting.get(m.id)?.(m);
  });
  let id = 0;
  const request = (body: Record<string, unknown>) => {
    const myId = id++;
    return new Promise<{ reply: Record<string, unknown>; sentAt: number }>((resolve) => {
      waiting.set(myId, (reply) => resolve({ reply, sentAt }));
      const sentAt = performance.timeOrigin + performance.now();
      ws.send(encode({ ...body, id: myId }));
    });
  };
  const welcome = await request({ t: 'hello', v: 1, token, room: ROOM });
  if (welcome.reply.t !== 'welcome') throw new Error(`streamer hello: ${JSON.stringify(welcome.reply)}`);
  return { request, close: () => ws.close() };
}

// ---------------------------------------------------------------- one backend

interface Row {
  backend: string;
  nodes: number;
  viewersAsked: number;
  joined: number;
  joinFailed: number;
  joinRetries: number;
  joinErrors: string[];
  joinSeconds: number;
  rssMbPerNode: number[];
  rssMbBaseline: number;
  kbPerViewer: number;
  kbPerViewerIncrement: number;
  popup: { n: number; p50: number; p99: number; max: number; missing: number; pins: number };
  stock: number;
  sale: SaleResult & { firstAnswer: ReturnType<typeof summary>; firstAnswerMoved: ReturnType<typeof summary>; firstAnswerStayed: ReturnType<typeof summary>; definite: ReturnType<typeof summary> };
  /** The nodes' own time from a cart request reaching admission to its answer (their histogram, bucket bounds in ms), nodes that lived through the sale. */
  serverAnswer: { n: number; p50: number; p99: number; nodes: number } | undefined;
  inventory: { available: number; reserved: number; sold: number } | undefined;
  oversold: number;
  unsold: number;
  definitePct: number;
  killed: { node: number; viewers: number; lost: number; reconnected: number; resumed: number; historyLost: number; eventsAfter: number; notBack: number; attemptsFailed: number; reconnect: ReturnType<typeof summary>; errors: string[] } | undefined;
  finalPopup: { got: number; of: number; p99: number };
  cpu: Record<string, { servers: number; redis: number; generators: number; serverCore: number; loadCore: number; steal: number; irq: number; others: number; seconds: number }>;
  generatorLimit: string[];
  notes: string[];
  closeCodes: Record<string, number>;
}

async function runBackend(kind: 'one' | 'cluster' | 'single', limits: { soft: number; hard: number }): Promise<Row> {
  const viewers = kind === 'single' ? BASELINE_VIEWERS : VIEWERS;
  const nodeCount = kind === 'single' ? 1 : NODES;
  const stock = kind === 'single' ? Math.max(1, Math.round((STOCK * BASELINE_VIEWERS) / VIEWERS)) : STOCK;
  const generatorCount = Math.max(1, Math.min(GENERATORS, Math.ceil(viewers / 2000)));
  const notes: string[] = [];
  const openFiles = limits.hard;
  // What fits: every process may hold `openFiles` files; each generator has PORTS_PER_ADDRESS source ports.
  const perGenerator = Math.ceil(viewers / generatorCount);
  if (perGenerator + 100 > openFiles) notes.push(`each generator would hold ${perGenerator} sockets, over the open-file limit ${openFiles}: use more --generators`);
  if (perGenerator > PORTS_PER_ADDRESS * 0.8) notes.push(`each generator would need ${perGenerator} ports of its source address (${PORTS_PER_ADDRESS} below the ephemeral range, reconnects included): use more --generators`);
  const perNode = Math.ceil(viewers / nodeCount);
  if (perNode + NODE_FD_RESERVE > openFiles) notes.push(`each node would hold ${perNode} sockets, over the open-file limit ${openFiles}: use more --nodes`);
  const doKill = KILL && nodeCount > 1;
  if (doKill && Math.ceil(viewers / (nodeCount - 1)) + NODE_FD_RESERVE > openFiles) {
    notes.push(`after the kill the ${nodeCount - 1} other nodes would hold ${Math.ceil(viewers / (nodeCount - 1))} sockets each, over the open-file limit ${openFiles}: some viewers cannot come back (use more --nodes)`);
  }
  for (const n of notes) log(`WARNING ${kind}: ${n}`);

  log(`${kind}: starting Redis`);
  const backend: Backend = kind === 'cluster' ? await startRedisCluster(SERVER_CORE) : await startOneRedis(SERVER_CORE);
  const prefix = `bench-scale:${process.pid}:${kind}`;
  let nodes: LiveNode[] = [];
  const generators: Generator[] = [];
  try {
    nodes = await startNodes({ count: nodeCount, redisUrl: backend.url, prefix, secret: SECRET, host: HOST, core: SERVER_CORE, openFiles, extraArgs: SERVER_ARGS });
    log(`${kind}: ${nodeCount} node(s) on ports ${nodes.map((n) => n.port).join(', ')}, Redis ${backend.url.split(',').length} process(es)`);
    const streamerToken = await signToken(SECRET, 'streamer-scale', 'Streamer', 'streamer');
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`http://${HOST}:${nodes[0]!.port}${url}`, { method, headers: { authorization: `Bearer ${streamerToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return JSON.parse(text) as Record<string, any>;
    };
    await call('POST', '/api/rooms', { id: ROOM, title: 'Scale' });
    for (const sku of [FLASH, ...POPUP_SKUS]) await call('POST', `/api/rooms/${ROOM}/products`, { sku, title: sku, priceCents: 9900, currency: 'USD', stock: sku === FLASH ? stock : 1_000_000 });
    await call('POST', `/api/rooms/${ROOM}/start`);
    const rssBaseline = nodes.reduce((s, n) => s + processMemory(n.pid).rssMb, 0);

    // ---- join
    for (let i = 0; i < generatorCount; i++) generators.push(startGenerator(openFiles));
    const allPids = () => [...nodes.filter((n) => n.alive).map((n) => n.pid), ...backend.pids, ...generators.map((g) => g.child.pid!), process.pid];
    const cpu: Row['cpu'] = {};
    const measureCpu = (name: string, a: CpuSnapshot, b: CpuSnapshot) => {
      const sum = (pids: number[]) => pids.reduce((s, pid) => s + (Number.isFinite(processCpuPercent(a, b, pid)) ? processCpuPercent(a, b, pid) : 0), 0);
      const entry = {
        servers: sum(nodes.map((n) => n.pid)), redis: sum(backend.pids), generators: sum(generators.map((g) => g.child.pid!)),
        serverCore: SERVER_CORE === undefined ? Number.NaN : coreBusyPercent(a, b, Number(SERVER_CORE)),
        loadCore: LOAD_CORE === undefined ? Number.NaN : coreBusyPercent(a, b, Number(LOAD_CORE)),
        steal: (coreStealPercent(a, b, 0) + coreStealPercent(a, b, 1)) / 2,
        irq: coreIrqPercent(a, b, 0) + coreIrqPercent(a, b, 1),
        others: 0,
        seconds: (b.at - a.at) / 1000,
      };
      // What the two cores did besides this bench's processes and the kernel's interrupts (the network stack): other work on the machine.
      const busy = coreBusyPercent(a, b, 0) + coreBusyPercent(a, b, 1);
      entry.others = Math.max(0, busy - entry.servers - entry.redis - entry.generators - entry.irq - processCpuPercent(a, b, process.pid));
      cpu[name] = entry;
    };
    log(`${kind}: joining ${fmtInt(viewers)} viewers from ${generatorCount} generators`);
    const joinStart = Date.now();
    const cpuJoin0 = cpuSnapshot(allPids());
    generators.forEach((g, i) => {
      const first = Math.floor((viewers * i) / generatorCount);
      const count = Math.floor((viewers * (i + 1)) / generatorCount) - first;
      g.send({ t: 'start', endpoints: nodes.map((n) => ({ host: HOST, port: n.port })), secret: SECRET, room: ROOM, localAddress: `127.0.0.${11 + i}`, first, count, concurrency: Number(flags.concurrency), joinTimeoutMs: JOIN_TIMEOUT_MS });
    });
    const operatorToken = await signToken(SECRET, 'operator-scale', 'Operator', 'operator');
    const nodeView = async () => {
      const views = await Promise.all(nodes.filter((n) => n.alive).map(async (n) => {
        try {
          const get = (url: string) => fetch(`http://${HOST}:${n.port}${url}`, { headers: { authorization: `Bearer ${operatorToken}` }, signal: AbortSignal.timeout(3000) }).then((r) => r.json());
          const [v, r] = (await Promise.all([get('/api/ops/node'), get('/api/ops/rooms')])) as [
            { eventLoopDelayMs: { p99: number }; connections: { connectionsOpen: number; slowConsumerCloses: number; framesDeferredWaiting: number }; admission: { concurrencyLimit: number; inFlight: number } | null },
            { rooms: Array<{ roomId: string; local: { level: number; admission: { queued: number; admitted: number; rejected: number; expired: number } | null } | null }> },
          ];
          // The cluster-wide list: this node's own view of the room is its `local` part.
          const room = r.rooms.find((x) => x.roomId === ROOM)?.local ?? undefined;
          const a = room?.admission;
          return `${v.connections.connectionsOpen}/${fmt(v.eventLoopDelayMs.p99, 0)}ms/L${room?.level ?? '-'}${v.connections.framesDeferredWaiting ? `/held ${v.connections.framesDeferredWaiting}` : ''}${a ? `/q${a.queued} a${a.admitted} r${a.rejected} x${a.expired} lim${v.admission?.concurrencyLimit}` : ''}${v.connections.slowConsumerCloses ? `/slow ${v.connections.slowConsumerCloses}` : ''}`;
        } catch {
          return 'no answer';
        }
      }));
      return `nodes (sockets/loop p99/level/held/admission): ${views.join(' ')}`;
    };
    const joinWatch = setInterval(() => void nodeView().then((v) => log(`${kind}:   open ${fmtInt(generators.reduce((s, g) => s + g.progress.open, 0))}; ${v}`)), 10_000);
    const joinedAll = await Promise.all(generators.map((g) => g.next('joined', 600_000)));
    clearInterval(joinWatch);
    measureCpu('join', cpuJoin0, cpuSnapshot(allPids()));
    const joinSeconds = (Date.now() - joinStart) / 1000;
    const joined = joinedAll.reduce((s, j) => s + j.joined, 0);
    const joinFailed = joinedAll.reduce((s, j) => s + j.failed, 0);
    const joinRetries = joinedAll.reduce((s, j) => s + j.retries, 0);
    const joinErrors = [...new Set(joinedAll.flatMap((j) => j.errors))].slice(0, 5);
    log(`${kind}: ${fmtInt(joined)} joined, ${fmtInt(joinFailed)} failed in ${fmt(joinSeconds, 1)} s (${fmtInt(joinRetries)} attempts refused or timed out and retried: ${joinErrors.join('; ')})`);
    if (joinFailed > 0) notes.push(`${fmtInt(joinFailed)} of ${fmtInt(viewers)} viewers could not join (${joinErrors.join('; ')})`);
    await sleep(3000);
    const rssMbPerNode = nodes.map((n) => processMemory(n.pid).rssMb);
    const rss = rssMbPerNode.reduce((s, x) => s + x, 0);
    log(`${kind}: nodes' RSS ${fmt(rss, 0)} MB (${rssMbPerNode.map((x) => fmt(x, 0)).join(', ')}), ${fmt((rss * 1024) / joined, 1)} KB per viewer`);

    // ---- pop-ups
    const streamer = await openStreamer(nodes[0]!.port, streamerToken);
    const sentAtBySeq = new Map<number, number>();
    const awaitDelivery = async (seq: number, expect: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const got = generators.reduce((s, g) => s + (g.progress.popups[seq] ?? 0), 0);
        if (got >= expect) return got;
        await sleep(100);
      }
      return generators.reduce((s, g) => s + (g.progress.popups[seq] ?? 0), 0);
    };
    const pin = async (sku: string) => {
      const { reply, sentAt } = await streamer.request({ t: 'pin', sku });
      const seq = Number((reply.result as { seq?: number } | undefined)?.seq);
      if (reply.t !== 'ok' || !Number.isFinite(seq)) throw new Error(`pin: ${JSON.stringify(reply)}`);
      sentAtBySeq.set(seq, sentAt);
      return seq;
    };
    const cpuPop0 = cpuSnapshot(allPids());
    const popupSeqs: number[] = [];
    for (let i = 0; i < POPUPS; i++) {
      const seq = await pin(POPUP_SKUS[i % 2]!);
      popupSeqs.push(seq);
      const got = await awaitDelivery(seq, joined, 15_000);
      log(`${kind}: pop-up ${i + 1} (seq ${seq}) reached ${fmtInt(got)} of ${fmtInt(joined)}`);
      await sleep(1000);
    }
    measureCpu('popups', cpuPop0, cpuSnapshot(allPids()));

    // ---- the flash sale
    const flashSeq = await pin(FLASH);
    await awaitDelivery(flashSeq, joined, 15_000);
    const startAt = Date.now() + 500;
    const victim = doKill ? nodes[nodes.length - 1]! : undefined;
    const victimViewers = victim === undefined ? 0 : Math.floor(viewers / nodeCount); // viewer n is homed on node n % nodes
    log(`${kind}: flash sale of ${fmtInt(stock)} units: every viewer taps within ${WINDOW_MS} ms, every ${TWICE_EVERY}rd twice${victim ? `; kill -9 of node ${victim.index} at +${KILL_AT_MS} ms` : ''}`);
    const answerHistogram = (n: LiveNode) => readHistogram(`http://${HOST}:${n.port}`, 'livecart_admission_latency_seconds').catch(() => undefined);
    const answered0 = await Promise.all(nodes.map(answerHistogram));
    const cpuSale0 = cpuSnapshot(allPids());
    for (const g of generators) g.send({ t: 'tap', startAt, windowMs: WINDOW_MS, sku: FLASH, twiceEvery: TWICE_EVERY, deadlineMs: SALE_DEADLINE_MS });
    const killed = victim === undefined ? Promise.resolve() : sleep(startAt + KILL_AT_MS - Date.now()).then(() => killNode(victim)).then(() => log(`${kind}: node ${victim.index} killed`));
    const saleWatch0 = setTimeout(() => void nodeView().then((v) => log(`${kind}:   +${Date.now() - startAt} ms ${v}`)), startAt - Date.now() + 1500);
    const saleWatch = setInterval(() => void nodeView().then((v) => log(`${kind}:   definite ${fmtInt(generators.reduce((s, g) => s + g.progress.definite, 0))}, open ${fmtInt(generators.reduce((s, g) => s + g.progress.open, 0))}; ${v}`)), 5000);
    const sales = await Promise.all(generators.map((g) => g.next('saleDone', SALE_DEADLINE_MS + WINDOW_MS + 60_000)));
    clearInterval(saleWatch);
    clearTimeout(saleWatch0);
    await killed;
    measureCpu('sale', cpuSale0, cpuSnapshot(allPids()));
    const answered1 = await Promise.all(nodes.map((n) => (n.alive ? answerHistogram(n) : Promise.resolve(undefined))));
    const answeredPairs = nodes.flatMap((_, i) => (answered0[i] !== undefined && answered1[i] !== undefined ? [[answered0[i]!, answered1[i]!] as const] : []));
    const answeredDelta = histogramDelta(answeredPairs);
    const median = histogramQuantile(answeredDelta, 0.5);
    const serverAnswer = answeredPairs.length === 0 ? undefined : {
      n: median.n, p50: median.atMostS * 1000, p99: histogramQuantile(answeredDelta, 0.99).atMostS * 1000, nodes: answeredPairs.length,
    };
    if (serverAnswer !== undefined) log(`${kind}: the nodes' own answer time (admission to answer, ${serverAnswer.nodes} nodes that lived, ${fmtInt(serverAnswer.n)} answers): p50 ≤ ${fmtInt(serverAnswer.p50)} ms, p99 ≤ ${fmtInt(serverAnswer.p99)} ms`);
    // Everyone back before the last pop-up (or 60 s).
    const backDeadline = Date.now() + 60_000;
    while (Date.now() < backDeadline && generators.reduce((s, g) => s + g.progress.open, 0) < joined) await sleep(250);
    const inventory = (await call('GET', `/api/rooms/${ROOM}/inventory`)).inventory[FLASH] as Row['inventory'];
    const finalSeq = await pin(POPUP_SKUS[0]!);
    const finalGot = await awaitDelivery(finalSeq, joined, 20_000);
    log(`${kind}: after the sale the last pop-up reached ${fmtInt(finalGot)} of ${fmtInt(joined)}`);
    streamer.close();

    const reports = await Promise.all(generators.map((g) => {
      const r = g.next('report', 60_000);
      g.send({ t: 'report' });
      return r;
    }));
    // ---- figures
    const latencies: number[] = [];
    let missing = 0;
    for (const seq of popupSeqs) {
      let got = 0;
      for (const r of reports) for (const at of r.popupReceipts[seq] ?? []) {
        latencies.push(at - sentAtBySeq.get(seq)!);
        got++;
      }
      missing += joined - got;
    }
    const finalLat = reports.flatMap((r) => (r.popupReceipts[finalSeq] ?? []).map((at) => at - sentAtBySeq.get(finalSeq)!));
    const sale = sales.map((s) => s.sale);
    const finals: Record<string, number> = {};
    for (const s of sale) for (const [k, v] of Object.entries(s.finals)) finals[k] = (finals[k] ?? 0) + v;
    const merged: SaleResult = {
      taps: sale.reduce((s, x) => s + x.taps, 0), requests: sale.reduce((s, x) => s + x.requests, 0), retries: sale.reduce((s, x) => s + x.retries, 0), finals,
      firstAnswerMs: [], firstAnswerMovedMs: [], firstAnswerStayedMs: [], definiteMs: [],
      buyers: sale.reduce((s, x) => s + x.buyers, 0), units: sale.reduce((s, x) => s + x.units, 0), doubleHeld: sale.reduce((s, x) => s + x.doubleHeld, 0),
      resentAfterReconnect: sale.reduce((s, x) => s + x.resentAfterReconnect, 0),
      framesByType: {},
    };
    for (const s of sale) for (const [k, v] of Object.entries(s.framesByType)) merged.framesByType[k] = (merged.framesByType[k] ?? 0) + v;
    log(`${kind}: frames the viewers read during the sale: ${Object.entries(merged.framesByType).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`);
    const definiteCount = (finals.reserved ?? 0) + (finals.sold_out ?? 0) + (finals['sold_out (client: the room announced it)'] ?? 0);
    const reserved = inventory?.reserved ?? Number.NaN;
    const soldUnits = inventory?.sold ?? 0;
    const genLimit: string[] = [];
    for (const [phase, c] of Object.entries(cpu)) if (c.others > 20) genLimit.push(`${phase}: other work on the machine took ${fmt(c.others, 0)} % of a core: a disturbed measurement`);
    for (const [phase, c] of Object.entries(cpu)) if (c.loadCore >= 90 || c.generators >= 90 * (LOAD_CORE === undefined ? 2 : 1)) genLimit.push(`${phase}: the load core was ${fmt(c.loadCore, 0)} % busy (generators ${fmt(c.generators, 0)} % of a core): the generators may be the limit`);
    const closeCodes: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v;
    return {
      backend: kind === 'one' ? 'one Redis' : kind === 'cluster' ? 'Redis Cluster 3+3' : 'single node (one Redis)',
      nodes: nodeCount, viewersAsked: viewers, joined, joinFailed, joinRetries, joinErrors, joinSeconds,
      rssMbPerNode, rssMbBaseline: rssBaseline,
      kbPerViewer: (rss * 1024) / joined, kbPerViewerIncrement: ((rss - rssBaseline) * 1024) / joined,
      popup: { ...summary(latencies), missing, pins: popupSeqs.length },
      stock,
      sale: {
        ...merged, firstAnswer: summary(sale.flatMap((s) => s.firstAnswerMs)), definite: summary(sale.flatMap((s) => s.definiteMs)),
        firstAnswerMoved: summary(sale.flatMap((s) => s.firstAnswerMovedMs)), firstAnswerStayed: summary(sale.flatMap((s) => s.firstAnswerStayedMs)),
      },
      serverAnswer,
      inventory,
      oversold: Math.max(0, reserved + soldUnits - stock),
      unsold: inventory?.available ?? Number.NaN,
      definitePct: (100 * definiteCount) / merged.taps,
      killed: victim === undefined ? undefined : {
        node: victim.index, viewers: victimViewers,
        lost: reports.reduce((s, r) => s + r.lost, 0), reconnected: reports.reduce((s, r) => s + r.reconnected, 0), resumed: reports.reduce((s, r) => s + r.resumed, 0),
        historyLost: reports.reduce((s, r) => s + r.historyLost, 0), eventsAfter: reports.reduce((s, r) => s + r.eventsAfterReconnect, 0), notBack: reports.reduce((s, r) => s + r.notBack, 0),
        attemptsFailed: reports.reduce((s, r) => s + r.reconnectAttemptsFailed, 0),
        reconnect: summary(reports.flatMap((r) => r.reconnectMs)), errors: [...new Set(reports.flatMap((r) => r.reconnectErrors))].slice(0, 5),
      },
      finalPopup: { got: finalLat.length, of: joined, p99: summary(finalLat).p99 },
      cpu, generatorLimit: genLimit, notes, closeCodes,
    };
  } finally {
    for (const g of generators) g.send({ t: 'stop' });
    await Promise.all(generators.map((g) => stopChild(g.child, 10_000)));
    await stopNodes(nodes);
    await backend.stop();
  }
}

// ---------------------------------------------------------------- report

function table(rows: readonly Row[]): string {
  const ms = (x: number) => fmtInt(x);
  return markdownTable(
    ['backend', 'nodes', 'viewers held', 'pop-up p50 / p99 ms (missing)', 'RSS KB / viewer (sum of nodes)', 'taps', 'oversold', 'unsold', 'definite', 'first answer p99 ms (viewers whose node stayed)', 'killed node: viewers lost → back, resumed, events after', 'stock exact', 'server CPU % (sale)', 'Redis CPU %', 'generator CPU %', 'other work on the machine %'],
    rows.map((r) => [
      r.backend, String(r.nodes), `${fmtInt(r.joined)} of ${fmtInt(r.viewersAsked)}`,
      `${ms(r.popup.p50)} / ${ms(r.popup.p99)} (${fmtInt(r.popup.missing)})`,
      `${fmt(r.kbPerViewer, 1)} (${fmt(r.kbPerViewerIncrement, 1)} above idle)`,
      fmtInt(r.sale.taps), fmtInt(r.oversold), fmtInt(r.unsold), `${fmt(r.definitePct, 2)} %`, `${ms(r.sale.firstAnswer.p99)} (${ms(r.sale.firstAnswerStayed.p99)})`,
      r.killed === undefined ? '–' : `${fmtInt(r.killed.lost)} → ${fmtInt(r.killed.reconnected)}, ${fmtInt(r.killed.resumed)}, ${fmtInt(r.killed.eventsAfter)}`,
      r.inventory !== undefined && r.inventory.reserved === r.sale.units && r.inventory.available === 0 && r.oversold === 0 ? 'yes' : 'NO',
      fmt(r.cpu.sale?.servers ?? Number.NaN, 0), fmt(r.cpu.sale?.redis ?? Number.NaN, 0), fmt(r.cpu.sale?.generators ?? Number.NaN, 0), fmt(r.cpu.sale?.others ?? Number.NaN, 0),
    ]),
  );
}

function details(r: Row): string {
  const lines = [
    `### ${r.backend}: ${r.nodes} node(s), ${fmtInt(r.joined)} of ${fmtInt(r.viewersAsked)} viewers`,
    '',
    `- join: ${fmt(r.joinSeconds, 1)} s, ${fmtInt(r.joinFailed)} failed, ${fmtInt(r.joinRetries)} attempts refused or timed out and retried${r.joinErrors.length ? ` (${r.joinErrors.join('; ')})` : ''}`,
    `- memory: nodes' RSS ${r.rssMbPerNode.map((x) => fmt(x, 0)).join(' + ')} = ${fmt(r.rssMbPerNode.reduce((s, x) => s + x, 0), 0)} MB (idle before the viewers: ${fmt(r.rssMbBaseline, 0)} MB): **${fmt(r.kbPerViewer, 1)} KB per viewer** (${fmt(r.kbPerViewerIncrement, 1)} KB above the idle nodes); target ≤ 16 KB`,
    `- pop-ups: ${r.popup.pins} pins, ${fmtInt(r.popup.n)} deliveries, p50 ${fmtInt(r.popup.p50)} ms, p99 **${fmtInt(r.popup.p99)} ms**, max ${fmtInt(r.popup.max)} ms, missing ${fmtInt(r.popup.missing)}; target p99 < 1,000 ms`,
    `- flash sale of ${fmtInt(r.stock)} units: ${fmtInt(r.sale.taps)} taps (${fmtInt(r.sale.requests)} sent as requests, ${fmtInt(r.sale.retries)} retries after temporary errors, ${fmtInt(r.sale.resentAfterReconnect)} resent after a reconnect); finals ${Object.entries(r.sale.finals).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`,
    `- first answer p50 ${fmtInt(r.sale.firstAnswer.p50)} / p99 **${fmtInt(r.sale.firstAnswer.p99)}** / max ${fmtInt(r.sale.firstAnswer.max)} ms (target p99 < 3,000); viewers whose node stayed p50 ${fmtInt(r.sale.firstAnswerStayed.p50)} / p99 **${fmtInt(r.sale.firstAnswerStayed.p99)}** (${fmtInt(r.sale.firstAnswerStayed.n)} taps), viewers whose node was killed p50 ${fmtInt(r.sale.firstAnswerMoved.p50)} / p99 ${fmtInt(r.sale.firstAnswerMoved.p99)} (${fmtInt(r.sale.firstAnswerMoved.n)} taps); definite answer p50 ${fmtInt(r.sale.definite.p50)} / p99 ${fmtInt(r.sale.definite.p99)} / max ${fmtInt(r.sale.definite.max)} ms; definite ${fmt(r.definitePct, 2)} %`,
    `- the nodes' own answer time (a cart request reaching admission to its answer, their \`livecart_admission_latency_seconds\` histogram, ${r.serverAnswer === undefined ? 'not read)' : `${r.serverAnswer.nodes} nodes that lived through the sale, ${fmtInt(r.serverAnswer.n)} answers): p50 ≤ ${fmtInt(r.serverAnswer.p50)} ms, p99 ≤ ${fmtInt(r.serverAnswer.p99)} ms (bucket bounds)`}; frames the viewers read during the sale: ${Object.entries(r.sale.framesByType).sort((a, b) => b[1] - a[1]).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`,
    `- stock: ${r.inventory === undefined ? 'n/a' : `available ${fmtInt(r.inventory.available)}, reserved ${fmtInt(r.inventory.reserved)}, sold ${fmtInt(r.inventory.sold)}`}; buyers told \`reserved\`: ${fmtInt(r.sale.buyers)} holding ${fmtInt(r.sale.units)} units; viewers told they hold more than 1 (a double tap counted twice): ${fmtInt(r.sale.doubleHeld)}; oversold ${fmtInt(r.oversold)}, unsold ${fmtInt(r.unsold)}`,
  ];
  if (r.killed !== undefined) {
    const k = r.killed;
    lines.push(`- kill -9 of node ${k.node} (~${fmtInt(k.viewers)} viewers homed there) at +${KILL_AT_MS} ms of the sale: ${fmtInt(k.lost)} connections lost, ${fmtInt(k.reconnected)} viewers reconnected to other nodes (reconnect p50 ${fmtInt(k.reconnect.p50)} / p99 ${fmtInt(k.reconnect.p99)} / max ${fmtInt(k.reconnect.max)} ms), ${fmtInt(k.resumed)} resumed (\`resumed: true\`), ${fmtInt(k.historyLost)} got \`historyLost\`, ${fmtInt(k.eventsAfter)} received events after their reconnect, ${fmtInt(k.notBack)} not back at the end; ${fmtInt(k.attemptsFailed)} reconnect attempts failed and were retried${k.errors.length ? `; reconnect errors: ${k.errors.join('; ')}` : ''}`);
  }
  const pop = r.cpu.popups;
  if (pop !== undefined && r.popup.n > 0) {
    // The pop-up phase is almost only deliveries (plus 1 s pauses): CPU per delivery, and what one pop-up to the whole room costs each side.
    const perDelivery = (pct: number) => (pct / 100) * pop.seconds / r.popup.n * 1e6;
    lines.push(`- one pop-up to ${fmtInt(r.joined)} viewers costs the generators ${fmt((perDelivery(pop.generators) * r.joined) / 1e6, 2)} CPU-s (${fmt(perDelivery(pop.generators), 1)} µs per delivery, on ${LOAD_CORE === undefined ? 'both cores' : 'one core'}) and the nodes ${fmt((perDelivery(pop.servers) * r.joined) / 1e6, 2)} CPU-s (${fmt(perDelivery(pop.servers), 1)} µs per delivery, on ${SERVER_CORE === undefined ? 'both cores' : 'one core'}), besides the kernel's loopback work: whichever side needs more than a second per pop-up bounds the p99`);
  }
  lines.push(`- after the sale a last pop-up reached ${fmtInt(r.finalPopup.got)} of ${fmtInt(r.finalPopup.of)} viewers (p99 ${fmtInt(r.finalPopup.p99)} ms)`);
  lines.push(`- close codes heard: ${JSON.stringify(r.closeCodes)}`);
  const cpuRows = Object.entries(r.cpu).map(([phase, c]) => [phase, fmt(c.seconds, 1), fmt(c.servers, 0), fmt(c.redis, 0), fmt(c.generators, 0), fmt(c.irq, 0), fmt(c.others, 0), fmt(c.serverCore, 0), fmt(c.loadCore, 0), fmt(c.steal, 1)]);
  lines.push('', markdownTable(['phase', 's', 'servers CPU % (sum)', 'Redis CPU %', 'generators CPU % (sum)', 'interrupts % (both cores)', 'other work % (both cores)', 'server core busy %', 'load core busy %', 'steal %'], cpuRows));
  for (const g of r.generatorLimit) lines.push(`- **${g}**`);
  for (const n of r.notes) lines.push(`- **${n}**`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const limits = openFileLimits();
  log(`open files: soft ${limits.soft}, hard ${limits.hard} (children get ${limits.hard}); source ports per generator: ${PORTS_PER_ADDRESS}`);
  log(command);
  log('building the server (scripts/build.mjs)');
  buildServer();
  if (LOAD_CORE !== undefined) pinProcess(process.pid, LOAD_CORE);
  const started = new Date();
  const rows: Row[] = [];
  for (const kind of BACKENDS) {
    try {
      rows.push(await runBackend(kind, limits));
      console.log(`\n${details(rows[rows.length - 1]!)}\n`);
    } catch (error) {
      log(`${kind}: FAILED: ${(error as Error).stack ?? String(error)}`);
    }
  }
  const out = [
    `# bench:scale ${started.toISOString()}`,
    '',
    `\`${command}\``,
    '',
    table(rows),
    '',
    ...rows.map(details),
  ].join('\n');
  console.log(`\n${table(rows)}\n`);
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(path.join(dir, `scale-${stamp}.md`), `${out}\n`);
  writeFileSync(path.join(dir, `scale-${stamp}.json`), JSON.stringify({ command, started: started.toISOString(), rows }, null, 1));
  log(`report: bench/results/scale-${stamp}.md`);
  process.exit(0);
}

await main();
