import { PerTurnQueue } from '../util/PerTurnQueue.ts';

/** Tells the caller where its waiting request stands (1 = next); the edge turns it into a `queued` frame. */
export type Progress = (position: number, etaMs: number) => void;

/** What the teller keeps on each waiting request (the queues' entries carry it). */
export interface Notice {
  readonly progress: Progress | undefined;
  /** False once the request left its queue: a notice still due for it is not sent. */
  readonly waiting: boolean;
  /** The position last told (0: never told). */
  toldPosition: number;
  /** The position waiting to be told (0: none due), and its estimate. */
  duePosition: number;
  dueEtaMs: number;
}

/**
 * Sends waiting clients their place in line. Every notice is a write to one socket: in a burst,
 * telling 10,000 waiting clients at one tick held the event loop for ~100-200 ms here, and every
 * small room's frames waited behind it. So a notice is due only when it tells something new (the
 * first one, or a position at least a fifth closer to the front) to a request that will still wait
 * a while (`minEtaMs`), and due notices go out at most `perTurn` per event-loop turn, front of the
 * line first. A notice still due when the next tick offers a newer position carries the newer
 * one; one for a request answered meanwhile is dropped.
 */
export class PositionTeller {
  readonly stats = { told: 0 };
  readonly #due: PerTurnQueue<Notice>;

  constructor(
    readonly perTurn: number,
    /** A request expected to be served sooner than this gets its answer, not a notice. */
    readonly minEtaMs: number,
    schedule: (run: () => void) => void = setImmediate,
  ) {
    this.#due = new PerTurnQueue(perTurn, (entry) => this.#tell(entry), schedule);
  }

  /** `entry` is at `position` (1 = next) and should be served in about `etaMs`. */
  offer(entry: Notice, position: number, etaMs: number): void {
    if (entry.progress === undefined || etaMs < this.minEtaMs) return;
    const told = entry.toldPosition;
    if (told !== 0 && position > told - Math.max(1, Math.floor(told / 5))) return;
    if (entry.duePosition === 0) this.#due.push(entry);
    entry.duePosition = position;
    entry.dueEtaMs = etaMs;
  }

  /** Notices offered and not sent yet. */
  get due(): number {
    return this.#due.size;
  }

  #tell(entry: Notice): boolean {
    const position = entry.duePosition;
    entry.duePosition = 0;
    if (!entry.waiting) return false;
    entry.toldPosition = position;
    entry.progress!(position, entry.dueEtaMs);
    this.stats.told++;
    return true;
  }
}
