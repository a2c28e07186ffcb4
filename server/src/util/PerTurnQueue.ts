import { Deque } from './Deque.ts';

/**
 * Items handled in order, at most `perTurn` per event-loop turn and, when `budgetMs` is set, for at
 * most that long per turn (at least one item): for work that writes to one socket per item
 * (notices, answers) or costs CPU per item (held inbound frames), so a thousand of them spread over
 * turns instead of holding one. `handle` returns false for an item that turned out to need nothing
 * (it does not count against `perTurn`). An item `overdue` says has waited too long is handled past
 * the time budget: a budget counts CPU per turn, and when turns are slow it alone would let the
 * queue's wait grow without bound.
 */
export class PerTurnQueue<T> {
  readonly #items = new Deque<T>();
  #scheduled = false;

  constructor(
    readonly perTurn: number,
    readonly handle: (item: T) => boolean,
    readonly schedule: (run: () => void) => void = setImmediate,
    readonly budgetMs = Number.POSITIVE_INFINITY,
    readonly overdue: (item: T) => boolean = () => false,
  ) {}

  push(item: T): void {
    this.#items.push(item);
    this.#scheduleTurn();
  }

  /** Items not handled yet. */
  get size(): number {
    return this.#items.size;
  }

  #scheduleTurn(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.schedule(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    const timed = this.budgetMs !== Number.POSITIVE_INFINITY;
    const deadline = timed ? performance.now() + this.budgetMs : 0;
    let handled = 0;
    while (this.#items.size > 0 && handled < this.perTurn) {
      if (this.handle(this.#items.shift()!)) handled++;
      if (timed && performance.now() >= deadline && !(this.#items.size > 0 && this.overdue(this.#items.peek()!))) break;
    }
    if (this.#items.size > 0) this.#scheduleTurn();
  }
}
