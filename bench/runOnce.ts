/**
 * One measured run against one server: start it, join the viewers, warm up, send for D seconds,
 * wait for the frames to drain, and turn what the generators saw into numbers.
 */
import type { FanoutConfig } from './config.ts';
import { GeneratorPool } from './generatorPool.ts';
import type { GenResult } from './ipc.ts';
import { coreBusyPercent, coreIrqPercent, coreStealPercent, cpuSnapshot, processCpuPercent, processMemory } from './procStats.ts';
import { ROOM_ID, nowMs } from './scenario.ts';
import { type OpsSummary, startOpsPoll } from './opsPoll.ts';
import { setupLivecartRoom, signToken, startServer, streamerToken, type ServerKind } from './servers.ts';
import { summarizeLatency } from './stats.ts';
import { Streamer } from './streamer.ts';
import { emptyQueues, maxQueues, socketQueues, type QueueSnapshot } from './socketQueues.ts';

export interface RunMetrics {
  server: ServerKind;
  run: number;
  port: number;
  startedAt: string;
  viewers: number;
  joinFailed: number;
  joinSeconds: number;
  /** Sequenced events published in the measured phase (ok'd comments + pins). */
  events: number;
  streamerErrors: Record<string, number>;
  offeredPerSec: number;
  expected: number;
  delivered: number;
  missing: number;
  viewersShort: number;
  gaps: number;
  closed: number;
  closeCodes: Record<string, number>;
  otherFrames: number;
  /** Non-event frames by type (livecart: viewers, likes, degrade…). */
  otherTypes: Record<string, number>;
  /** Highest degrade level livecart announced during the measurement (0 = never degraded). */
  maxDegradeLevel: number;
  /** livecart's degrade level changes as the first generator's viewers heard them: seconds from the first measured send (negative: warm-up), level, the server's reason. */
  degradeChanges: Array<{ atS: number; level: number; reason: string }>;
  /** `--ops-poll` (livecart): the room's degrade signals as the server saw them during the measurement. */
  ops: OpsSummary | null;
  acksSent: number;
  /** Delivered frames / (last delivery − first send). */
  deliveriesPerSec: number;
  /** Frames delivered while the streamer was sending / D. */
  inWindowPerSec: number;
  sendSeconds: number;
  /** Last delivery − last send. */
  drainSeconds: number;
  drainComplete: boolean;
  latencySamples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  sampledMaxMs: number;
  /** Exact: max over delivered frames of (receipt − send), from each seq's last receipt. */
  maxMs: number;
  commentFrameBytes: number;
  serverCpuPct: number;
  /**
   * Deliveries per second of server process CPU time (user + system as /proc/PID/stat charges it,
   * which with tick accounting includes most of the loopback softirq work its sends trigger).
   */
  deliveriesPerCoreSec: number;
  serverCore0BusyPct: number;
  serverRssMaxMb: number;
  serverRssEndMb: number;
  serverHwmMb: number;
  generatorCpuPct: number[];
  generatorCpuTotalPct: number;
  orchestratorCpuPct: number;
  loadCoreBusyPct: number;
  /** Interrupt and softirq time on each core (loopback TCP work not charged to any process). */
  serverCoreIrqPct: number;
  loadCoreIrqPct: number;
  /**
   * Core busy % explained neither by our processes there nor by irq/softirq: other work on the
   * machine (a lower bound: tick accounting charges softirq to whichever task it interrupted).
   */
  serverCoreForeignPct: number;
  loadCoreForeignPct: number;
  /** Hypervisor steal on each core during the measurement. */
  serverCoreStealPct: number;
  loadCoreStealPct: number;
  /** Largest TCP queues seen during the send phase (ss snapshots at 30%, 60% and 95% of it). */
  queues: QueueSnapshot;
  /** Who held the backlog: 'server' (requests unread by the server), 'generator' (frames unread by viewers) or 'none'. */
  backlogAt: 'server' | 'generator' | 'none';
  generatorLimited: boolean;
  /** Deliveries per second in 100 ms buckets from the first send. */
  timeline: number[];
}

const BUCKET_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runOnce(cfg: FanoutConfig, kind: ServerKind, run: number, port: number, log: (line: string) => void): Promise<RunMetrics> {
  const startedAt = new Date().toISOString();
  const server = await startServer({
    kind, port, host: cfg.host, core: cfg.serverCore, secret: cfg.secret,
    rawMaxBackpressure: cfg.rawMaxBackpressure, extraArgs: cfg.livecartArgs, disableShedding: !cfg.livecartShedding,
  });
  log(`${kind} #${run + 1}: server pid ${server.pid} on :${port} (core ${cfg.serverCore})`);
  const genCount = Math.max(1, Math.ceil(cfg.viewers / cfg.perGenerator));
  const pool = new GeneratorPool(genCount, cfg.loadCore);
  let streamer: Streamer | null = null;
  try {
    const token = await streamerToken(cfg.secret);
    if (kind === 'livecart') await setupLivecartRoom(cfg.host, port, token, log);
    streamer = await Streamer.connect(cfg.host, port, token, ROOM_ID);

    const totalEventsPerViewer = Math.round(cfg.rate * cfg.seconds) + Math.ceil(cfg.seconds);
    const sampleEvery = cfg.sample > 0 ? cfg.sample : Math.max(1, Math.round((cfg.viewers * totalEventsPerViewer) / 200_000));
    const joinStart = nowMs();
    const joined = await pool.join(
      cfg.viewers,
      { host: cfg.host, port, path: '/ws', room: ROOM_ID, secret: cfg.secret, sampleEvery, concurrency: cfg.concurrency, bucketMs: BUCKET_MS, ackIntervalMs: cfg.acks ? 1000 : 0 },
      (g) => (cfg.srcIps ? `127.0.${1 + (run % 200)}.${2 + (g % 250)}` : ''),
    );
    const viewers = joined.reduce((a, j) => a + j.joined, 0);
    const joinFailed = joined.reduce((a, j) => a + j.failed, 0);
    const joinSeconds = (nowMs() - joinStart) / 1000;
    log(`${kind} #${run + 1}: ${viewers} viewers joined in ${joinSeconds.toFixed(1)} s (token signing ${(Math.max(...joined.map((j) => j.tokenMs)) / 1000).toFixed(1)} s)` +
      (joinFailed ? `, ${joinFailed} failed: ${joined.flatMap((j) => j.errors).slice(0, 3).join('; ')}` : ''));
    if (viewers === 0) throw new Error('no viewer could join');
    await sleep(1000);

    // Warm-up at the same rate, then let it drain so the measurement starts from empty queues.
    let afterSeq = Math.max(...joined.map((j) => j.welcomeSeqMax));
    if (cfg.warmup > 0) {
      pool.measure(afterSeq, nowMs(), Math.round(cfg.rate * cfg.warmup) + Math.ceil(cfg.warmup));
      const warm = await streamer.run(cfg.rate, cfg.warmup, 30_000, log);
      await waitForDrain(pool, viewers * warm.okEvents, warm.sendEnd, 15, 3);
      afterSeq = Math.max(afterSeq, warm.lastSeq);
    }

    // Measured phase.
    const pids = [server.pid, ...pool.pids, process.pid];
    const measureT0 = nowMs();
    pool.measure(afterSeq, measureT0, totalEventsPerViewer);
    const cpuA = cpuSnapshot(pids);
    let rssMax = 0;
    const rssTimer = setInterval(() => {
      rssMax = Math.max(rssMax, processMemory(server.pid).rssMb || 0);
    }, 250);
    let queues = emptyQueues();
    const queueTimers = [0.3, 0.6, 0.95].map((f) =>
      setTimeout(() => {
        void socketQueues(port).then((q) => {
          queues = maxQueues(queues, q);
        });
      }, f * cfg.seconds * 1000),
    );
    const opsPoll = cfg.opsPoll && kind === 'livecart'
      ? startOpsPoll(`http://${cfg.host}:${port}`, await signToken(cfg.secret, 'bench-operator', 'Bench operator', 'operator'), ROOM_ID)
      : null;
    const phase = await streamer.run(cfg.rate, cfg.seconds, cfg.drain * 1000, log);
    queueTimers.forEach(clearTimeout);
    const drain = await waitForDrain(pool, viewers * phase.okEvents, phase.sendEnd, cfg.drain, cfg.drainIdle);
    const ops = opsPoll?.stop() ?? null;
    const cpuB = cpuSnapshot(pids);
    clearInterval(rssTimer);
    const mem = processMemory(server.pid);
    rssMax = Math.max(rssMax, mem.rssMb || 0);
    const results = await pool.finish(phase.okEvents);

    // Turn the generators' observations into metrics.
    const sum = (f: (r: GenResult) => number): number => results.reduce((a, r) => a + f(r), 0);
    const delivered = sum((r) => r.received);
    const lastRecvMs = Math.max(...results.map((r) => r.lastRecvMs));
    const samples = new Float64Array(sum((r) => r.samples.length));
    let o = 0;
    for (const r of results) for (const s of r.samples) samples[o++] = s;
    const lat = summarizeLatency(samples);
    let maxMs = 0;
    for (const [seq, sent] of phase.sentAt) {
      const k = seq - afterSeq - 1;
      for (const r of results) {
        const recv = r.seqLastRecv[k];
        if (recv) maxMs = Math.max(maxMs, recv - sent);
      }
    }
    const timeline: number[] = [];
    const offset = phase.t0 - measureT0;
    for (const r of results) {
      r.buckets.forEach((count, i) => {
        const b = Math.floor((i * BUCKET_MS - offset) / BUCKET_MS);
        if (b >= 0) timeline[b] = (timeline[b] ?? 0) + count;
      });
    }
    for (let i = 0; i < timeline.length; i++) timeline[i] = (timeline[i] ?? 0) * (1000 / BUCKET_MS);
    const windowBuckets = Math.round((cfg.seconds * 1000) / BUCKET_MS);
    const inWindow = timeline.slice(0, windowBuckets).reduce((a, b) => a + b / (1000 / BUCKET_MS), 0);
    const otherTypes: Record<string, number> = {};
    for (const r of results) for (const [t, n] of Object.entries(r.otherTypes)) otherTypes[t] = (otherTypes[t] ?? 0) + n;
    const closeCodes: Record<string, number> = {};
    for (const r of results) for (const [c, n] of Object.entries(r.closeCodes)) closeCodes[c] = (closeCodes[c] ?? 0) + n;
    const genCpu = pool.pids.map((pid) => processCpuPercent(cpuA, cpuB, pid));
    const genTotal = genCpu.reduce((a, b) => a + b, 0);
    const orchestratorCpu = processCpuPercent(cpuA, cpuB, process.pid);
    const loadCore = Number(cfg.loadCore.split(/[,-]/)[0]);
    const serverCore = Number(cfg.serverCore.split(/[,-]/)[0]);
    const loadCoreBusy = coreBusyPercent(cpuA, cpuB, loadCore);
    // A backlog of more than ~100 requests (16 KB) at the server's input means the server is behind;
    // more than 32 KB unread per viewer socket means the generators are.
    const backlogAt: RunMetrics['backlogAt'] =
      queues.serverRecvQBytes > 16 * 1024 ? 'server' : queues.clientRecvQBytes > 32 * 1024 * Math.max(1, queues.clientSockets) ? 'generator' : 'none';
    const commentBytes = results.map((r) => r.commentFrameBytes).filter(Number.isFinite);
    const metrics: RunMetrics = {
      server: kind,
      run,
      port,
      startedAt,
      viewers,
      joinFailed,
      joinSeconds,
      events: phase.okEvents,
      streamerErrors: phase.errors,
      offeredPerSec: (viewers * phase.okEvents) / cfg.seconds,
      expected: viewers * phase.okEvents,
      delivered,
      missing: sum((r) => r.missing),
      viewersShort: sum((r) => r.viewersShort),
      gaps: sum((r) => r.gaps),
      closed: sum((r) => r.closed),
      closeCodes,
      otherFrames: sum((r) => r.otherFrames),
      otherTypes,
      maxDegradeLevel: Math.max(...results.map((r) => r.maxDegradeLevel)),
      degradeChanges: (results[0]?.degradeChanges ?? []).map((c) => ({ atS: Math.round(c.atMs - phase.t0) / 1000, level: c.level, reason: c.reason })),
      ops,
      acksSent: sum((r) => r.acksSent),
      deliveriesPerSec: lastRecvMs > phase.t0 ? delivered / ((lastRecvMs - phase.t0) / 1000) : 0,
      inWindowPerSec: inWindow / cfg.seconds,
      sendSeconds: (phase.sendEnd - phase.t0) / 1000,
      drainSeconds: lastRecvMs > 0 ? (lastRecvMs - phase.sendEnd) / 1000 : Number.NaN,
      drainComplete: drain.complete,
      latencySamples: lat.samples,
      p50Ms: lat.p50,
      p90Ms: lat.p90,
      p99Ms: lat.p99,
      sampledMaxMs: lat.max,
      maxMs,
      commentFrameBytes: commentBytes.length ? commentBytes.reduce((a, b) => a + b, 0) / commentBytes.length : Number.NaN,
      serverCpuPct: processCpuPercent(cpuA, cpuB, server.pid),
      deliveriesPerCoreSec: delivered / ((processCpuPercent(cpuA, cpuB, server.pid) / 100) * ((cpuB.at - cpuA.at) / 1000)),
      serverCore0BusyPct: coreBusyPercent(cpuA, cpuB, serverCore),
      serverRssMaxMb: rssMax,
      serverRssEndMb: mem.rssMb,
      serverHwmMb: mem.hwmMb,
      generatorCpuPct: genCpu,
      generatorCpuTotalPct: genTotal,
      orchestratorCpuPct: orchestratorCpu,
      loadCoreBusyPct: loadCoreBusy,
      serverCoreIrqPct: coreIrqPercent(cpuA, cpuB, serverCore),
      loadCoreIrqPct: coreIrqPercent(cpuA, cpuB, loadCore),
      serverCoreForeignPct: Math.max(0, coreBusyPercent(cpuA, cpuB, serverCore) - coreIrqPercent(cpuA, cpuB, serverCore) - processCpuPercent(cpuA, cpuB, server.pid)),
      loadCoreForeignPct: Math.max(0, loadCoreBusy - coreIrqPercent(cpuA, cpuB, loadCore) - genTotal - orchestratorCpu),
      serverCoreStealPct: coreStealPercent(cpuA, cpuB, serverCore),
      loadCoreStealPct: coreStealPercent(cpuA, cpuB, loadCore),
      queues,
      backlogAt,
      generatorLimited: loadCoreBusy >= 90 || genTotal + orchestratorCpu >= 90,
      timeline,
    };
    log(
      `${kind} #${run + 1}: ${Math.round(metrics.deliveriesPerSec).toLocaleString('en-US')} deliveries/s ` +
        `(in-window ${Math.round(metrics.inWindowPerSec).toLocaleString('en-US')}/s, offered ${Math.round(metrics.offeredPerSec).toLocaleString('en-US')}/s), ` +
        `p50 ${lat.p50.toFixed(1)} ms p99 ${lat.p99.toFixed(1)} ms max ${maxMs.toFixed(0)} ms, missing ${metrics.missing}, ` +
        `server CPU ${metrics.serverCpuPct.toFixed(0)}% RSS ${rssMax.toFixed(0)} MB, load core ${loadCoreBusy.toFixed(0)}% ` +
        `(generators ${genTotal.toFixed(0)}%), drain ${metrics.drainSeconds.toFixed(2)} s${drain.complete ? '' : ' (incomplete)'}`,
    );
    const mismatches = sum((r) => r.sampleMismatches);
    if (mismatches) log(`${kind} #${run + 1}: WARNING: ${mismatches} latency samples disagreed with a full decode`);
    if (Object.keys(phase.errors).length) log(`${kind} #${run + 1}: streamer errors ${JSON.stringify(phase.errors)}`);
    if (ops !== null) {
      log(`${kind} #${run + 1}: server's view (${ops.samples.length} polls): fan-out lag p50 ${ops.viewerLagMs.p50.toFixed(0)} / p90 ${ops.viewerLagMs.p90.toFixed(0)} / max ${ops.viewerLagMs.max.toFixed(0)} ms, ` +
        `lasting event-loop delay max ${ops.eventLoopDelayMsMax.toFixed(0)} ms, backlogged users max ${(ops.backloggedShareMax * 100).toFixed(0)}%`);
    }
    if (metrics.degradeChanges.length > 0) {
      log(`${kind} #${run + 1}: degrade level changes (s from the first measured send): ${metrics.degradeChanges.map((c) => `${c.atS.toFixed(1)} s -> ${c.level} (${c.reason})`).join(', ')}`);
    }
    if (metrics.maxDegradeLevel > 0) {
      log(`${kind} #${run + 1}: livecart degraded the room to level ${metrics.maxDegradeLevel} (chatter sampled/cut by design): missing frames are shed load, not a fan-out limit`);
    }
    if (metrics.closed) log(`${kind} #${run + 1}: ${metrics.closed} viewer sockets closed, codes ${JSON.stringify(closeCodes)}`);
    if (disturbed(metrics)) {
      log(`WARNING: this run is disturbed: other processes used ${metrics.serverCoreForeignPct.toFixed(0)}% of the server core and ${metrics.loadCoreForeignPct.toFixed(0)}% of the load core; ` +
        `hypervisor steal ${metrics.serverCoreStealPct.toFixed(0)}% / ${metrics.loadCoreStealPct.toFixed(0)}%.`);
    }
    log(`${kind} #${run + 1}: largest TCP queues while sending: server input ${(queues.serverRecvQBytes / 1024).toFixed(0)} KB unread, ` +
      `viewers ${(queues.clientRecvQBytes / 1024 / Math.max(1, queues.clientSockets)).toFixed(1)} KB unread per socket -> backlog at: ${backlogAt}`);
    if (metrics.generatorLimited) {
      log(`WARNING: the load core was ${loadCoreBusy.toFixed(0)}% busy (generators ${genTotal.toFixed(0)}%): the GENERATOR, not the server, may be the limit of this run` +
        (backlogAt === 'server' ? ' (but the backlog sat at the server\'s input: the server was behind too).' : backlogAt === 'generator' ? ' (the backlog sat in the viewers\' receive queues: it was).' : '.'));
    }
    return metrics;
  } catch (error) {
    log(`${kind} #${run + 1} failed; server output tail:\n${server.output().slice(-3000)}`);
    throw error;
  } finally {
    streamer?.close();
    await pool.stop();
    await server.stop();
  }
}

/** More than 10% of a core went to something else than this bench (other processes, hypervisor steal). */
export function disturbed(m: RunMetrics): boolean {
  return m.serverCoreForeignPct > 10 || m.loadCoreForeignPct > 10 || m.serverCoreStealPct > 10 || m.loadCoreStealPct > 10;
}

/** Waits until `expected` frames arrived, or no new frame for `idleS`, or `maxS` after `sendEnd`. */
async function waitForDrain(pool: GeneratorPool, expected: number, sendEnd: number, maxS: number, idleS: number): Promise<{ complete: boolean }> {
  let last = -1;
  let lastChange = nowMs();
  for (;;) {
    const p = pool.progress();
    const now = nowMs();
    if (p.received >= expected) {
      await sleep(150); // one more progress tick so every generator has reported
      if (pool.progress().received >= expected) return { complete: true };
    }
    if (p.received !== last) {
      last = p.received;
      lastChange = now;
    }
    if (now - lastChange > idleS * 1000 && now > sendEnd) return { complete: false };
    if (now - sendEnd > maxS * 1000) return { complete: false };
    await sleep(50);
  }
}
