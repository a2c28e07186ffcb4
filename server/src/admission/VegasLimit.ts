/** Above this share of a call's time spent busy on its own loop, the node, not the store, was the wait. */
const OWN_LOOP_SHARE = 0.5;

export interface VegasOptions {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  /** Grow the limit while the estimated queue at the store is below this many requests. */
  readonly alpha: number;
  /** Shrink it above this. */
  readonly beta: number;
  /** The minimum RTT is forgotten after this long, so a store that got slower for good is re-measured. */
  readonly minRttWindowMs: number;
}

/**
 * TCP-Vegas-style concurrency limit, as in Netflix concurrency-limits: with the best latency seen
 * (`minRtt`) as "no queue", a sample `rtt` means about `limit × (1 − minRtt/rtt)` requests are
 * waiting inside the store. Below `alpha` there is room: +1; above `beta` the store is queueing:
 * −1. The limit follows the store's real capacity instead of a guessed constant.
 */
export class VegasLimit {
  #limit: number;
  #minRtt = Number.POSITIVE_INFINITY;
  #minRttSetAt = 0;

  constructor(readonly options: VegasOptions) {
    this.#limit = options.initial;
  }

  get limit(): number {
    return this.#limit;
  }

  /**
   * One completed call that took `rttMs` while `inFlight` calls (itself included) were out.
   * `ownLoopShare` (0–1) is how much of that time this node's own event loop was busy: a reply
   * waits in the socket until the loop reads it, so a call whose time was mostly the node's own
   * work says nothing about a queue at the store. Such a sample may grow the limit (the node
   * cannot send faster than it reads anyway, and more calls out let each turn's requests leave
   * together) and leaves the floor alone; it never shrinks the limit.
   */
  sample(rttMs: number, inFlight: number, now: number, ownLoopShare = 0): void {
    // Only grow when the limit was actually used; an idle store says nothing about more load.
    const used = inFlight >= this.#limit;
    if (ownLoopShare >= OWN_LOOP_SHARE) {
      if (used) this.#limit = Math.min(this.options.max, this.#limit + 1);
      return;
    }
    const rtt = Math.max(rttMs, 0.05);
    if (rtt < this.#minRtt || now - this.#minRttSetAt > this.options.minRttWindowMs) {
      this.#minRtt = rtt;
      this.#minRttSetAt = now;
    }
    const queued = this.#limit * (1 - this.#minRtt / rtt);
    if (queued < this.options.alpha && used) this.#limit = Math.min(this.options.max, this.#limit + 1);
    else if (queued > this.options.beta) this.#limit = Math.max(this.options.min, this.#limit - 1);
  }

  /** Set by an operator at run time. */
  set(limit: number): void {
    this.#limit = Math.max(this.options.min, Math.min(this.options.max, Math.round(limit)));
  }
}
