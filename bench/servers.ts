/**
 * Starts and stops the two servers under test as child processes pinned to a core, waits for their
 * health check, and prepares livecart's room and catalog over its HTTP API.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freePort } from '../tests/helpers/redisServer.ts';
import { PRODUCTS, ROOM_ID, ROOM_TITLE, STREAMER } from './scenario.ts';

export type ServerKind = 'livecart' | 'raw';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const LIVECART_MAIN = path.join(REPO_ROOT, 'server/src/main.ts');
const RAW_MAIN = path.join(REPO_ROOT, 'bench/rawUwsServer.ts');

export function livecartAvailable(): boolean {
  return existsSync(LIVECART_MAIN);
}

/** livecart flags that turn its load shedding off (each at its schema's maximum). */
const NO_SHEDDING: readonly (readonly [string, string])[] = [
  ['--degrade-event-loop-ms', '60000'],
  ['--degrade-lag-ms', '600000'],
  ['--degrade-backlogged-share', '1'],
  ['--degrade-queue-fill', '1'],
  ['--degrade-store-latency-ms', '600000'],
  ['--lag-demote-ms', '600000'],
];

let helpText: string | null = null;

/** The flags among `flags` that `livecart serve --help` or `--help-advanced` lists (the server is still evolving). */
function supportedFlags(flags: readonly (readonly [string, string])[]): string[] {
  if (helpText === null) {
    const help = (option: string) => {
      try {
        return execFileSync(process.execPath, ['--import', 'tsx', LIVECART_MAIN, 'serve', option], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
      } catch {
        return '';
      }
    };
    helpText = help('--help') + help('--help-advanced');
  }
  const help = helpText;
  return flags.filter(([flag]) => new RegExp(`${flag}\\b`).test(help)).flat();
}

export interface RunningServer {
  kind: ServerKind;
  pid: number;
  port: number;
  command: string;
  child: ChildProcess;
  /** The last lines the server printed (for error reports). */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  kind: ServerKind;
  port: number;
  host: string;
  core: string;
  secret: string;
  rawMaxBackpressure: number;
  extraArgs: readonly string[];
  /** livecart: raise every load-shedding threshold to its maximum (flags the server does not know are skipped). */
  disableShedding?: boolean;
  /** livecart: a script that runs the server as `server/src/main.ts serve` does, instead of it (with an IPC channel to the bench). */
  hostScript?: string;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const script = o.kind === 'livecart' ? (o.hostScript ?? LIVECART_MAIN) : RAW_MAIN;
  const args =
    o.kind === 'livecart'
      ? ['serve', '--port', String(o.port), '--host', o.host, '--token-secret', o.secret,
         '--comment-rate', '1000000', '--comment-burst', '1000000',
         // one streamer socket sends R+1 frames/s: lift the per-socket flood cap (default 50/s)
         '--max-frames-per-second', '100000', '--log-level', 'warn',
         ...(o.disableShedding ? supportedFlags(NO_SHEDDING) : []), ...o.extraArgs]
      : ['--port', String(o.port), '--host', o.host, '--max-backpressure', String(o.rawMaxBackpressure)];
  // BENCH_SERVER_NODE_OPTIONS: extra node flags for the server under test, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env['BENCH_SERVER_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean);
  const [cmd, argv] = pinned(o.core, [process.execPath, ...extra, '--import', 'tsx', script, ...args]);
  const child = spawn(cmd, argv, {
    cwd: REPO_ROOT,
    stdio: o.hostScript === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      LIVECART_PORT: String(o.port),
      LIVECART_HOST: o.host,
      LIVECART_TOKEN_SECRET: o.secret,
      LIVECART_LOG_LEVEL: 'warn',
      // stopChild's SIGTERM ends the run: no drain window to wait out.
      LIVECART_DRAIN_WINDOW_MS: '0',
    },
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | null = null;
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  const server: RunningServer = {
    kind: o.kind,
    pid: child.pid!, // taskset execs node: same pid
    port: o.port,
    command: `${cmd} ${argv.join(' ').replace(o.secret, '<secret>')}`,
    child,
    output: () => tail,
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${o.kind} server ${exited} before it was healthy:\n${tail}`);
    try {
      const res = await fetch(`http://${o.host}:${o.port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${o.kind} server not healthy within 60 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `taskset -c CORE command…`: taskset execs, so the child's pid is the command's. */
export function pinned(core: string, command: readonly string[]): [string, string[]] {
  return ['taskset', ['-c', core, ...command]];
}

export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function signToken(secret: string, userId: string, name: string, role: 'viewer' | 'streamer' | 'operator'): Promise<string> {
  return new SignJWT({ name, role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

export function streamerToken(secret: string): Promise<string> {
  return signToken(secret, STREAMER.userId, STREAMER.name, 'streamer');
}

/** Creates a bench room (`ROOM_ID` unless told) and its catalog on livecart, and starts the show. */
export async function setupLivecartRoom(host: string, port: number, token: string, log: (line: string) => void, roomId = ROOM_ID): Promise<void> {
  const base = `http://${host}:${port}`;
  const call = async (method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> => {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  };
  const room = await call('POST', '/api/rooms', { title: ROOM_TITLE, id: roomId });
  if (room.status !== 201 && room.status !== 409) throw new Error(`POST /api/rooms: ${room.status} ${room.text}`);
  for (const product of PRODUCTS) {
    const r = await call('POST', `/api/rooms/${roomId}/products`, product);
    if (r.status !== 201 && r.status !== 409) throw new Error(`POST /api/rooms/${roomId}/products: ${r.status} ${r.text}`);
  }
  const started = await call('POST', `/api/rooms/${roomId}/start`);
  if (started.status >= 300) log(`note: POST /api/rooms/${roomId}/start answered ${started.status} ${started.text.slice(0, 200)}`);
}

/** livecart nodes on one Redis (`--redis`, a key prefix of their own), on free ports; `extraArgs(i)` per node. */
export async function startNodesOnRedis(o: { count: number; host: string; core: string; secret: string; redisUrl: string; prefix: string; extraArgs: (index: number) => string[] }): Promise<RunningServer[]> {
  const ports: number[] = [];
  while (ports.length < o.count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const started = await Promise.allSettled(ports.map((port, i) => startServer({
    kind: 'livecart', port, host: o.host, core: o.core, secret: o.secret, rawMaxBackpressure: 0,
    extraArgs: ['--redis', o.redisUrl, '--redis-prefix', o.prefix, ...o.extraArgs(i)],
  })));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw failure.reason;
  }
  return nodes;
}

const orphans = new Set<ChildProcess>();
let killOnExitHooked = false;

/** Kills `child` (SIGKILL) if it still runs when this process exits (a bench that is interrupted must exit for it). */
export function killOnExit<T extends ChildProcess>(child: T): T {
  if (!killOnExitHooked) {
    killOnExitHooked = true;
    process.once('exit', () => { for (const c of orphans) c.kill('SIGKILL'); });
  }
  orphans.add(child);
  child.once('exit', () => orphans.delete(child));
  return child;
}

/**
 * Waits until livecart's room `roomId` is back at degrade level 0 (at most `timeoutMs`): thousands
 * of joins load a node, and a room may degrade while they come in. Returns whether it settled.
 */
export async function waitRoomSettled(host: string, port: number, operatorToken: string, roomId: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await fetch(`http://${host}:${port}/api/ops/rooms`, { headers: { authorization: `Bearer ${operatorToken}` } })
      .then((res) => res.json() as Promise<{ rooms?: Array<{ roomId: string; local: { level: number } | null }> }>)
      .catch(() => undefined);
    const room = view?.rooms?.find((r) => r.roomId === roomId)?.local;
    if (room != null && room.level === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}
