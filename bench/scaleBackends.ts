/**
 * bench:scale's processes: a Redis of its own (one redis-server, or a 3+3 Redis Cluster), the
 * livecart nodes (the compiled server, as `npm start` runs it) and the open-file limit they get.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { OwnRedisCluster, waitForPing } from '../tests/helpers/redisCluster.ts';
import { freePort } from '../tests/helpers/redisServer.ts';
import { pinProcess } from './procStats.ts';
import { REPO_ROOT, pinned, stopChild } from './servers.ts';

/** Where the bench compiles the server (git ignores .scratch/). */
export const BUILD_DIR = path.join(REPO_ROOT, '.scratch', 'bench-scale-build');

/** Compiles the server with the project's build script, so the nodes run plain JavaScript as deployed. */
export function buildServer(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs'), BUILD_DIR], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** This process's open-file limits (children inherit them; the hard one is as far as the soft one may be raised). */
export function openFileLimits(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const value = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}

/** `prlimit --nofile=HARD:HARD command…` (it execs, so the pid stays the command's). */
export function withOpenFiles(hard: number, command: readonly string[]): string[] {
  return Number.isFinite(hard) ? ['prlimit', `--nofile=${hard}:${hard}`, ...command] : [...command];
}

export interface Backend {
  readonly kind: 'one' | 'cluster';
  /** What `--redis` takes. */
  readonly url: string;
  readonly pids: number[];
  stop(): Promise<void>;
}

/** A redis-server of the bench's own on a free port (no persistence: the bench kills server nodes, not Redis). */
export async function startOneRedis(core: string | undefined): Promise<Backend> {
  const port = await freePort();
  const args = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '10000'];
  const [cmd, argv] = core === undefined ? [args[0]!, args.slice(1)] : pinned(core, args);
  const child = spawn(cmd, argv, { stdio: 'ignore' });
  await waitForPing(port);
  return { kind: 'one', url: `redis://127.0.0.1:${port}`, pids: [child.pid!], stop: () => stopChild(child, 2000) };
}

/** 3 masters + 3 replicas from redis-server (tests/helpers/redisCluster.ts). */
export async function startRedisCluster(core: string | undefined): Promise<Backend> {
  const cluster = await OwnRedisCluster.start(3, 1);
  if (core !== undefined) for (const pid of cluster.pids) pinProcess(pid, core);
  return { kind: 'cluster', url: cluster.url, pids: cluster.pids, stop: () => cluster.stop() };
}

export interface LiveNode {
  readonly index: number;
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines the node printed. */
  output(): string;
  get alive(): boolean;
}

export interface NodeOptions {
  readonly count: number;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly secret: string;
  readonly host: string;
  readonly core: string | undefined;
  readonly openFiles: number;
  readonly extraArgs: readonly string[];
}

export async function startNodes(o: NodeOptions): Promise<LiveNode[]> {
  const ports: number[] = [];
  while (ports.length < o.count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return Promise.all(ports.map((port, index) => startNode(o, index, port)));
}

async function startNode(o: NodeOptions, index: number, port: number): Promise<LiveNode> {
  const main = path.join(BUILD_DIR, 'server/src/main.js');
  // BENCH_SERVER_NODE_OPTIONS: extra node flags for the nodes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeOptions = (process.env['BENCH_SERVER_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean);
  const args = [
    process.execPath, ...nodeOptions, main, 'serve', '--port', String(port), '--host', o.host, '--token-secret', o.secret,
    '--redis', o.redisUrl, '--redis-prefix', o.prefix, '--log-level', 'warn', '--drain-window-ms', '0',
    ...o.extraArgs,
  ];
  const command = withOpenFiles(o.openFiles, args);
  const [cmd, argv] = o.core === undefined ? [command[0]!, command.slice(1)] : pinned(o.core, command);
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const node: LiveNode = {
    index, port, child, pid: child.pid!,
    output: () => tail,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!node.alive) throw new Error(`node ${index} exited before it was healthy:\n${tail}`);
    try {
      const res = await fetch(`http://${o.host}:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return node;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`node ${index} not healthy within 60 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopNodes(nodes: readonly LiveNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => (n.alive ? stopChild(n.child, 5000) : Promise.resolve())));
}

/** kill -9; resolves once the process is gone. */
export async function killNode(node: LiveNode): Promise<void> {
  if (!node.alive) return;
  const exited = once(node.child, 'exit');
  node.child.kill('SIGKILL');
  await exited;
}
