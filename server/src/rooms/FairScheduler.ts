import { Deque } from '../util/Deque.ts';

/**
 * CPU isolation between rooms. Work for a room (handling a cart request and writing its answer)
 * waits in that room's queue; queues are served in turn, one job per room per turn, for at most
 * `budgetMs` per event-loop turn, then the loop goes back to I/O. A hot room's burst therefore
 * waits behind its own backlog, while a small room's frames keep being read and fanned out
 * between turns instead of queueing behind thousands of taps.
 */
export class FairScheduler {
  readonly #queues = new Map<string, Deque<() => void>>();
  /** Rooms with queued work, in turn order. */
  readonly #ready: string[] = [];
  #cursor = 0;
  #scheduled = false;
  #closed = false;

  constructor(
    readonly budgetMs: number,
    /**
     * Jobs started per turn at most. A job's async continuations (store answers, replies) run in
     * the microtasks right after the turn, outside the time budget: a small batch keeps them short.
     */
    readonly jobsPerTurn: number,
    /** Jobs one room may have waiting; beyond, `run` refuses (the caller answers OVERLOADED). */
    readonly maxQueuedPerRoom: number,
  ) {}

  /** Queues `job` for `roomId`; false when the room's queue is full. */
  run(roomId: string, job: () => void): boolean {
    if (this.#closed) return false;
    let queue = this.#queues.get(roomId);
    if (queue === undefined) this.#queues.set(roomId, (queue = new Deque()));
    if (queue.size >= this.maxQueuedPerRoom) return false;
    if (queue.size === 0) this.#ready.push(roomId);
    queue.push(job);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
    return true;
  }

  queued(roomId: string): number {
    return this.#queues.get(roomId)?.size ?? 0;
  }

  close(): void {
    this.#closed = true;
  }

  #drain(): void {
    this.#scheduled = false;
    const deadline = performance.now() + this.budgetMs;
    for (let started = 0; this.#ready.length > 0 && started < this.jobsPerTurn && performance.now() < deadline; started++) {
      if (this.#cursor >= this.#ready.length) this.#cursor = 0;
      const roomId = this.#ready[this.#cursor]!;
      const queue = this.#queues.get(roomId)!;
      const job = queue.shift()!;
      if (queue.size === 0) {
        this.#ready.splice(this.#cursor, 1);
        this.#queues.delete(roomId);
      } else {
        this.#cursor++;
      }
      job();
    }
    if (this.#ready.length > 0 && !this.#closed) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }
}
