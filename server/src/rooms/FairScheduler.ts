import type { Notice, PositionTeller, Progress } from '../admission/PositionTeller.ts';
import { Deque } from '../util/Deque.ts';

/** A job returns true when it finished in the turn, with no async work (an answer known at once). */
export type Job = () => boolean | void;

interface Waiting extends Notice {
  readonly run: Job;
  waiting: boolean;
}

/**
 * CPU isolation between rooms. Work for a room (handling a cart request and writing its answer)
 * waits in that room's queue; queues are served in turn, one job per room per turn, for at most
 * `budgetMs` per event-loop turn, then the loop goes back to I/O. A hot room's burst therefore
 * waits behind its own backlog, while a small room's frames keep being read and fanned out
 * between turns instead of queueing behind thousands of taps.
 */
export class FairScheduler {
  readonly #queues = new Map<string, Deque<Waiting>>();
  /** Rooms with queued work, in turn order. */
  readonly #ready: string[] = [];
  /** Jobs started per room since the last `tellPositions`: the drain rate its estimates come from. */
  readonly #started = new Map<string, number>();
  #lastToldAt = performance.now();
  #cursor = 0;
  #scheduled = false;
  #closed = false;

  constructor(
    readonly budgetMs: number,
    /**
     * Jobs started per turn at most. A job's async continuations (store answers, replies) run in
     * the microtasks right after the turn, outside the time budget: a small batch keeps them short.
     * A job that finished in the turn (it returned true) counts against the time budget only: once
     * a product is sold out, the taps queued for it are answered as fast as the budget allows.
     */
    readonly jobsPerTurn: number,
    /** Jobs one room may have waiting; beyond, `run` refuses (the caller answers OVERLOADED). */
    readonly maxQueuedPerRoom: number,
    /** Sends the position notices (paced; shared with the admission queue's). */
    readonly teller: PositionTeller,
    /** Runs the next drain after the loop's I/O (`ReplyPriority.schedule` in the server). */
    readonly schedule: (run: () => void) => void = setImmediate,
  ) {}

  /** Queues `job` for `roomId`; false when the room's queue is full. `progress` hears its place at each `tellPositions`. */
  run(roomId: string, job: Job, progress?: Progress): boolean {
    if (this.#closed) return false;
    let queue = this.#queues.get(roomId);
    if (queue === undefined) this.#queues.set(roomId, (queue = new Deque()));
    if (queue.size >= this.maxQueuedPerRoom) return false;
    if (queue.size === 0) this.#ready.push(roomId);
    queue.push({ run: job, progress, waiting: true, toldPosition: 0, duePosition: 0, dueEtaMs: 0 });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.schedule(() => this.#drain());
    }
    return true;
  }

  queued(roomId: string): number {
    return this.#queues.get(roomId)?.size ?? 0;
  }

  /**
   * Offers every waiting job its position in its room's queue and an estimate from the room's
   * drain rate since the previous call (the teller sends what is new, paced).
   */
  tellPositions(now = performance.now()): void {
    const elapsedMs = Math.max(1, now - this.#lastToldAt);
    this.#lastToldAt = now;
    for (const [roomId, queue] of this.#queues) {
      const perMs = Math.max((this.#started.get(roomId) ?? 0) / elapsedMs, 0.001);
      let position = 0;
      for (const waiting of queue) this.teller.offer(waiting, ++position, Math.round(position / perMs));
    }
    this.#started.clear();
  }

  close(): void {
    this.#closed = true;
  }

  #drain(): void {
    this.#scheduled = false;
    const deadline = performance.now() + this.budgetMs;
    let started = 0;
    while (this.#ready.length > 0 && started < this.jobsPerTurn && performance.now() < deadline) {
      if (this.#cursor >= this.#ready.length) this.#cursor = 0;
      const roomId = this.#ready[this.#cursor]!;
      const queue = this.#queues.get(roomId)!;
      const waiting = queue.shift()!;
      if (queue.size === 0) {
        this.#ready.splice(this.#cursor, 1);
        this.#queues.delete(roomId);
      } else {
        this.#cursor++;
      }
      this.#started.set(roomId, (this.#started.get(roomId) ?? 0) + 1);
      waiting.waiting = false;
      if (waiting.run() !== true) started++;
    }
    if (this.#ready.length > 0 && !this.#closed) {
      this.#scheduled = true;
      this.schedule(() => this.#drain());
    }
  }
}
