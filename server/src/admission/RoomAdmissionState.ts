/** What the admission controller keeps for one room: requests per product, counters, drain rate and store latency. */
export class RoomAdmissionState {
  readonly perProduct = new Map<string, number>();
  inFlight = 0;
  admitted = 0;
  completed = 0;
  rejected = 0;
  expired = 0;
  soldOutFast = 0;
  deduplicated = 0;
  drainRate = 0;
  #answeredInWindow = 0;
  #windowStart: number;
  latencyEwma = 0;
  /** The room is no longer hosted here: its state goes once nothing of it waits or runs. */
  forgotten = false;
  /** When a request of the room last came in or was answered. */
  lastActiveAt: number;
  readonly latencies = new Float64Array(256);
  latencyCount = 0;
  /** The room's store calls under way, by id. */
  readonly #calls = new Set<number>();
  /** Who waits for the calls that were under way when they asked (`afterCallsUnderWay`). */
  #waiters: Array<{ calls: Set<number>; resolve: () => void }> = [];

  constructor(now: number) {
    this.#windowStart = now;
    this.lastActiveAt = now;
  }

  answered(count: number, now: number): void {
    this.lastActiveAt = now;
    this.completed += count;
    this.#answeredInWindow += count;
    const elapsed = now - this.#windowStart;
    if (elapsed >= 250) {
      const rate = (this.#answeredInWindow * 1000) / elapsed;
      this.drainRate = this.drainRate === 0 ? rate : 0.5 * this.drainRate + 0.5 * rate;
      this.#answeredInWindow = 0;
      this.#windowStart = now;
    }
  }

  callStarted(id: number): void {
    this.#calls.add(id);
  }

  callSettled(id: number): void {
    this.#calls.delete(id);
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      waiter.calls.delete(id);
      if (waiter.calls.size > 0) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once every store call of the room under way now has settled (later calls do not count). */
  afterCallsUnderWay(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ calls: new Set(this.#calls), resolve }));
  }

  latency(ms: number): void {
    this.latencyEwma = this.latencyEwma === 0 ? ms : 0.8 * this.latencyEwma + 0.2 * ms;
    this.latencies[this.latencyCount++ % this.latencies.length] = ms;
  }

  p99(): number {
    const n = Math.min(this.latencyCount, this.latencies.length);
    if (n === 0) return 0;
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor(n * 0.99))]!;
  }
}
