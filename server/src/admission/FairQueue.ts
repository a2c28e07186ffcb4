import { Deque } from '../util/Deque.ts';

/**
 * Per-room queues served in turn: each room has `classes` FIFO lanes (lower goes first), and rooms
 * with waiting items are visited round-robin, so a hot room's backlog waits behind itself while a
 * small room's request is taken at the next visit. A room whose lanes empty leaves the queue (and
 * its lanes are freed).
 */
export class FairQueue<T> {
  readonly #rooms = new Map<string, Array<Deque<T>>>();
  /** Rooms with waiting items, in visiting order. */
  readonly #ready: string[] = [];
  readonly #sizes = new Map<string, number>();
  #cursor = 0;
  #size = 0;

  constructor(readonly classes: number) {}

  /** Items waiting in every room. */
  get size(): number {
    return this.#size;
  }

  /** Items waiting in `roomId`. */
  sizeOf(roomId: string): number {
    return this.#sizes.get(roomId) ?? 0;
  }

  /** Rooms with items waiting. */
  get roomCount(): number {
    return this.#ready.length;
  }

  push(roomId: string, lane: number, item: T): void {
    let lanes = this.#rooms.get(roomId);
    if (lanes === undefined) {
      lanes = Array.from({ length: this.classes }, () => new Deque<T>());
      this.#rooms.set(roomId, lanes);
      this.#ready.push(roomId);
    }
    lanes[lane]!.push(item);
    this.#grew(roomId, 1);
  }

  /** The lanes of `roomId` (most important first); undefined when nothing waits there. Callers that take items out report it with `taken`. */
  lanesOf(roomId: string): ReadonlyArray<Deque<T>> | undefined {
    return this.#rooms.get(roomId);
  }

  /** `count` items left `roomId`'s lanes through `lanesOf`; a room left empty leaves the queue. */
  taken(roomId: string, count: number): void {
    if (count > 0) this.#grew(roomId, -count);
  }

  /** The next room in turn, or undefined when nothing waits. */
  nextRoom(): string | undefined {
    if (this.#ready.length === 0) return undefined;
    if (this.#cursor >= this.#ready.length) this.#cursor = 0;
    return this.#ready[this.#cursor++];
  }

  /** Every waiting item of every room with its place in its room's line (1 = next), front first. */
  *positions(): Generator<[item: T, position: number, roomId: string]> {
    for (const [roomId, lanes] of this.#rooms) {
      let position = 0;
      for (const lane of lanes) for (const item of lane) yield [item, ++position, roomId];
    }
  }

  #grew(roomId: string, by: number): void {
    const size = (this.#sizes.get(roomId) ?? 0) + by;
    this.#size += by;
    if (size > 0) {
      this.#sizes.set(roomId, size);
      return;
    }
    this.#sizes.delete(roomId);
    this.#rooms.delete(roomId);
    const index = this.#ready.indexOf(roomId);
    if (index >= 0) {
      this.#ready.splice(index, 1);
      // The room after it moved into its place: it is the next in turn.
      if (index < this.#cursor) this.#cursor--;
    }
  }
}
