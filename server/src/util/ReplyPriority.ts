/**
 * Lets a turn's deferred work (fan-out pacing, held inbound frames, cart work, notices) step aside
 * while a small room's event waits for its seq from Redis (a room whose sequencer lease another
 * node holds), or a reservation batch waits for Redis's answer (the sooner the last units are known
 * taken, the sooner the room hears "sold out" and stops tapping).
 *
 * Why: that reply is read only when the loop polls again. Deferred work runs in the check phase,
 * before that poll. So a small room's comment waited behind all of it: about 10 ms before a burst
 * and 20–35 ms during one, while in memory mode it goes out in the turn that read it.
 *
 * How: deferred work scheduled through `schedule` re-queues itself (one loop pass, which polls
 * without blocking) while a tracked reply is pending. It never waits more than `maxWaitMs` after
 * the oldest pending reply was requested, so a slow store cannot hold it up.
 */
export class ReplyPriority {
  #pending = 0;
  #since = 0;

  /** Like `setImmediate`, but `run` waits while a tracked reply is pending (see the class comment); `setImmediate` itself when off. */
  readonly schedule: (run: () => void) => void;

  /** `maxWaitMs` 0: never step aside. */
  constructor(
    readonly maxWaitMs: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.schedule = maxWaitMs <= 0 ? setImmediate : (run) => this.#afterReplies(run);
  }

  /** Deferred work steps aside until `reply` settles (or `maxWaitMs` passes). Returns `reply`. */
  track<T>(reply: Promise<T>): Promise<T> {
    if (this.maxWaitMs <= 0) return reply;
    if (this.#pending++ === 0) this.#since = this.now();
    const settled = (): void => {
      this.#pending--;
    };
    reply.then(settled, settled);
    return reply;
  }

  /** Whether deferred work should step aside now. */
  get waiting(): boolean {
    return this.#pending > 0 && this.now() - this.#since < this.maxWaitMs;
  }

  #afterReplies(run: () => void): void {
    const attempt = (): void => {
      if (this.waiting) setImmediate(attempt);
      else run();
    };
    setImmediate(attempt);
  }
}
