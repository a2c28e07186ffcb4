/**
 * Spawns the load-generator children (viewerLoad.ts) pinned to the load core, and talks to them
 * over IPC: join, start measuring, watch progress, collect results. `IpcChild` is the same for the
 * other benches' children (request, answer by message kind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FromGenerator, GenJoined, GenProgress, GenResult, GenStart, ToGenerator } from './ipc.ts';
import { killOnExit, pinned, stopChild } from './servers.ts';

const GENERATOR = path.join(import.meta.dirname, 'viewerLoad.ts');

class Generator {
  readonly child: ChildProcess;
  progress: GenProgress = { type: 'progress', received: 0, lastRecvMs: 0, closed: 0 };
  private waiters: { type: string; resolve: (m: FromGenerator) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(core: string) {
    // BENCH_GENERATOR_NODE_OPTIONS: extra node flags for the generators, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const extra = (process.env['BENCH_GENERATOR_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean);
    const [cmd, args] = pinned(core, [process.execPath, ...extra, '--import', 'tsx', GENERATOR]);
    this.child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => this.onMessage(raw as FromGenerator));
    this.child.on('exit', (code, signal) => this.fail(new Error(`generator ${this.child.pid} exited with ${signal ?? code}`)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onMessage(msg: FromGenerator): void {
    if (msg.type === 'progress') {
      this.progress = msg;
      return;
    }
    if (msg.type === 'error') {
      this.fail(new Error(`generator ${this.pid}: ${msg.message}`));
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  send(msg: ToGenerator): void {
    this.child.send(msg);
  }

  wait<T extends FromGenerator>(type: T['type'], timeoutMs: number): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`generator ${this.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }
}

export class GeneratorPool {
  readonly generators: Generator[];

  constructor(count: number, core: string) {
    this.generators = Array.from({ length: count }, () => new Generator(core));
  }

  get pids(): number[] {
    return this.generators.map((g) => g.pid);
  }

  /** Joins `viewers` viewers, split evenly over the generators. */
  async join(viewers: number, base: Omit<GenStart, 'type' | 'first' | 'count' | 'localAddress'>, localAddress: (g: number) => string): Promise<GenJoined[]> {
    const n = this.generators.length;
    const joined = this.generators.map((g, i) => {
      const first = Math.floor((viewers * i) / n);
      const count = Math.floor((viewers * (i + 1)) / n) - first;
      g.send({ ...base, type: 'start', first, count, localAddress: localAddress(i) });
      return g.wait<GenJoined>('joined', 180_000);
    });
    return Promise.all(joined);
  }

  measure(afterSeq: number, t0: number, expectedEvents: number): void {
    for (const g of this.generators) g.send({ type: 'measure', afterSeq, t0, expectedEvents });
  }

  /** Sum of the latest progress reports. */
  progress(): { received: number; lastRecvMs: number; closed: number } {
    let received = 0;
    let lastRecvMs = 0;
    let closed = 0;
    for (const g of this.generators) {
      received += g.progress.received;
      lastRecvMs = Math.max(lastRecvMs, g.progress.lastRecvMs);
      closed += g.progress.closed;
    }
    return { received, lastRecvMs, closed };
  }

  async finish(expectedEvents: number): Promise<GenResult[]> {
    const results = this.generators.map((g) => {
      const r = g.wait<GenResult>('result', 60_000);
      g.send({ type: 'finish', expectedEvents });
      return r;
    });
    return Promise.all(results);
  }

  async stop(): Promise<void> {
    await Promise.all(this.generators.map((g) => stopChild(g.child, 3000)));
  }
}

/**
 * A bench child process answering requests over IPC. Messages carry their kind in `t`; a request
 * names the kind of its answer; `{ t: 'error', message }` from the child fails every waiter.
 */
export class IpcChild<To extends { t: string }, From extends { t: string }> {
  readonly child: ChildProcess;
  #waiting: Array<{ t: string; resolve: (m: From) => void; reject: (e: Error) => void }> = [];
  #failure: Error | undefined;

  constructor(child: ChildProcess, readonly name: string) {
    this.child = child;
    child.on('message', (raw) => {
      const m = raw as From | { t: 'error'; message: string };
      if (m.t === 'error') return this.#fail(new Error(`${name}: ${(m as { message: string }).message}`));
      const i = this.#waiting.findIndex((w) => w.t === m.t);
      if (i >= 0) this.#waiting.splice(i, 1)[0]!.resolve(m as From);
    });
    child.on('exit', (code, signal) => this.#fail(new Error(`${name} exited with ${signal ?? code}`)));
  }

  /** `node --import tsx SCRIPT ARGS…` pinned to `core`, with an IPC channel. */
  static spawn<To extends { t: string }, From extends { t: string }>(core: string, script: string, args: readonly string[] = [], env: Record<string, string> = {}): IpcChild<To, From> {
    const [cmd, argv] = pinned(core, [process.execPath, '--import', 'tsx', script, ...args]);
    const child = killOnExit(spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } }));
    return new IpcChild<To, From>(child, path.basename(script, '.ts'));
  }

  get pid(): number {
    return this.child.pid!;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  /** The next message of kind `t`. */
  next<T extends From>(t: T['t'], timeoutMs = 300_000): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${t} within ${timeoutMs} ms`)), timeoutMs);
      const done = (f: () => void) => { clearTimeout(timer); f(); };
      this.#waiting.push({ t, resolve: (m) => done(() => resolve(m as T)), reject: (e) => done(() => reject(e)) });
    });
  }

  request<T extends From>(message: To, reply: T['t'], timeoutMs?: number): Promise<T> {
    const answer = this.next<T>(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }

  stop(graceMs = 3000): Promise<void> {
    return stopChild(this.child, graceMs);
  }
}
