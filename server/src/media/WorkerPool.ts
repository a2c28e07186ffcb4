import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly workerBin: string | undefined;
  readonly logLevel: 'debug' | 'warn' | 'error' | 'none';
  /** The whole port range; each worker gets its own slice, so transports of two workers never race for a port. */
  readonly portMin: number;
  readonly portMax: number;
  readonly consumerLimit: number;
  readonly restartMs: number;
}

/** One worker process and what runs on it. `load` counts consumers (reserved or created) over all its routers. */
export class PooledWorker {
  load = 0;
  routers = 0;
  /** Share of one core the worker used over the last sample (0–1 per core). */
  cpu = 0;
  #lastCpuMs = 0;
  #lastSampleAt = 0;

  constructor(
    readonly index: number,
    readonly worker: types.Worker,
    readonly portRange: { min: number; max: number },
  ) {}

  get pid(): number {
    return this.worker.pid;
  }

  get alive(): boolean {
    return !this.worker.died && !this.worker.closed;
  }

  async sampleCpu(now: number): Promise<void> {
    const usage = await this.worker.getResourceUsage();
    const cpuMs = usage.ru_utime + usage.ru_stime;
    if (this.#lastSampleAt > 0 && now > this.#lastSampleAt) this.cpu = Math.max(0, (cpuMs - this.#lastCpuMs) / (now - this.#lastSampleAt));
    this.#lastCpuMs = cpuMs;
    this.#lastSampleAt = now;
  }
}

/**
 * The node's mediasoup worker processes. A worker that dies is logged, counted and replaced (same
 * slot, same port slice) after `restartMs`; whoever had routers on it hears about it through
 * `onDied` and rebuilds elsewhere. The node itself never goes down with a worker.
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #slots: Array<PooledWorker | undefined>;
  readonly #diedListeners: Array<(worker: PooledWorker) => void> = [];
  #closed = false;
  deaths = 0;

  private constructor(options: WorkerPoolOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    this.#slots = new Array<PooledWorker | undefined>(options.workers).fill(undefined);
  }

  /** Starts every worker; throws when none can start (no binary, or it crashes at once). */
  static async start(options: WorkerPoolOptions, log: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(options, log);
    const started = await Promise.allSettled(pool.#slots.map((_, index) => pool.#spawn(index)));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (pool.workers.length === 0) {
      pool.close();
      throw failure?.reason instanceof Error ? failure.reason : new Error('no media worker started');
    }
    if (failure !== undefined) log.error({ err: failure.reason }, 'some media workers failed to start');
    return pool;
  }

  get workers(): PooledWorker[] {
    return this.#slots.filter((w): w is PooledWorker => w !== undefined && w.alive);
  }

  get consumerLimit(): number {
    return this.#options.consumerLimit;
  }

  onDied(listener: (worker: PooledWorker) => void): void {
    this.#diedListeners.push(listener);
  }

  /** The live worker with the fewest consumers, among those with room for `need` more (and not excluded). */
  leastLoaded(need: number, exclude: ReadonlySet<PooledWorker> = new Set()): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    for (const w of this.workers) {
      if (exclude.has(w) || w.load + need > this.#options.consumerLimit) continue;
      if (best === undefined || w.load < best.load || (w.load === best.load && w.routers < best.routers)) best = w;
    }
    return best;
  }

  async sampleCpu(): Promise<void> {
    const now = performance.now();
    await Promise.all(this.workers.map((w) => w.sampleCpu(now).catch(() => undefined)));
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#slots) w?.worker.close();
  }

  async #spawn(index: number): Promise<PooledWorker> {
    const { portMin, portMax, workers } = this.#options;
    const width = Math.floor((portMax - portMin + 1) / workers);
    const portRange = { min: portMin + index * width, max: index === workers - 1 ? portMax : portMin + (index + 1) * width - 1 };
    const worker = await mediasoup.createWorker({
      logLevel: this.#options.logLevel,
      logTags: ['ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'simulcast'],
      ...(this.#options.workerBin === undefined ? {} : { workerBin: this.#options.workerBin }),
    });
    const pooled = new PooledWorker(index, worker, portRange);
    this.#slots[index] = pooled;
    worker.on('died', (error) => this.#died(pooled, error));
    this.#log.info({ pid: worker.pid, index, ports: portRange }, 'media worker started');
    return pooled;
  }

  #died(pooled: PooledWorker, error: Error): void {
    this.deaths++;
    this.#log.error({ pid: pooled.pid, index: pooled.index, err: error }, 'media worker died; replacing it');
    if (this.#slots[pooled.index] === pooled) this.#slots[pooled.index] = undefined;
    for (const listener of this.#diedListeners) listener(pooled);
    if (this.#closed) return;
    setTimeout(() => {
      if (this.#closed) return;
      this.#spawn(pooled.index).catch((err: unknown) => this.#log.error({ err, index: pooled.index }, 'media worker replacement failed'));
    }, this.#options.restartMs).unref();
  }
}
