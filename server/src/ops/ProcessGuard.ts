import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface GuardLimits {
  /** Above this resident set size, new connections are refused. */
  readonly protectRssMb: number;
  /** Above this p99 event-loop delay (over the last window), new connections are refused. */
  readonly protectEventLoopMs: number;
  readonly windowMs: number;
}

/**
 * Process protection: watches the event loop and memory, and says when the node must stop taking
 * new connections so the rooms it already serves keep working. The process never dies of a burst.
 */
export class ProcessGuard {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  readonly #timer: NodeJS.Timeout;
  #eventLoopP99Ms = 0;
  /** The p99 of the window before the last one. */
  #previousP99Ms = 0;
  #eventLoopMaxMs = 0;
  #rssMb = 0;
  refusedConnections = 0;

  constructor(readonly limits: GuardLimits) {
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#sample(), limits.windowMs).unref();
    this.#sample();
  }

  /** p99 event-loop delay over the last window, ms. */
  get eventLoopDelayMs(): number {
    return this.#eventLoopP99Ms;
  }

  /**
   * The lower p99 of the last two windows: a delay that lasted, not one long pause (a GC, one big
   * write) that a single window's p99 reports as the whole window's.
   */
  get sustainedEventLoopDelayMs(): number {
    return Math.min(this.#eventLoopP99Ms, this.#previousP99Ms);
  }

  get eventLoopMaxMs(): number {
    return this.#eventLoopMaxMs;
  }

  get rssMb(): number {
    return this.#rssMb;
  }

  get overloaded(): boolean {
    return this.#rssMb > this.limits.protectRssMb || this.#eventLoopP99Ms > this.limits.protectEventLoopMs;
  }

  get reason(): string {
    if (this.#rssMb > this.limits.protectRssMb) return `rss ${Math.round(this.#rssMb)} MB over ${this.limits.protectRssMb}`;
    if (this.#eventLoopP99Ms > this.limits.protectEventLoopMs) return `event-loop delay p99 ${Math.round(this.#eventLoopP99Ms)} ms over ${this.limits.protectEventLoopMs}`;
    return 'ok';
  }

  close(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }

  #sample(): void {
    // The histogram counts from `resolution`: subtract it to get the delay itself.
    const count = this.#histogram.count;
    this.#previousP99Ms = this.#eventLoopP99Ms;
    this.#eventLoopP99Ms = count > 0 ? Math.max(0, this.#histogram.percentile(99) / 1e6 - 10) : 0;
    this.#eventLoopMaxMs = count > 0 ? Math.max(0, this.#histogram.max / 1e6 - 10) : 0;
    this.#histogram.reset();
    this.#rssMb = process.memoryUsage.rss() / (1024 * 1024);
  }
}
