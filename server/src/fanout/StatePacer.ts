/**
 * Latest-value room updates (stock levels, like totals) as one node's members hear them: at most one
 * per key per interval, the newest value winning. Every node hosting a room publishes the changes
 * its own requests made, so without this a room on N nodes would hear N updates per interval, and
 * in a big room every update costs a socket write per viewer.
 */
export class StatePacer {
  readonly #rooms = new Map<string, RoomPace>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Sends at once when `key` last went out at least `intervalMs` ago; else keeps `send` (replacing an older one) for when it is due. */
  offer(roomId: string, key: string, intervalMs: number, send: () => void): void {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = { lastOut: new Map(), waiting: new Map(), timer: undefined, dueAt: Infinity }));
    const now = this.#now();
    const dueAt = (room.lastOut.get(key) ?? -Infinity) + intervalMs;
    if (dueAt <= now && !room.waiting.has(key)) {
      room.lastOut.set(key, now);
      send();
      return;
    }
    room.waiting.set(key, { send, dueAt });
    this.#schedule(roomId, room, Math.max(dueAt, now));
  }

  /** What waits for `key` does not go out: a newer event (a product's sold-out) made it out of date. */
  drop(roomId: string, key: string): void {
    this.#rooms.get(roomId)?.waiting.delete(key);
  }

  /** Rooms with something kept here. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** The room is no longer hosted here: what waits for it is dropped (its members are gone). */
  forget(roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room !== undefined) clearTimeout(room.timer);
    this.#rooms.delete(roomId);
  }

  close(): void {
    for (const roomId of [...this.#rooms.keys()]) this.forget(roomId);
  }

  #schedule(roomId: string, room: RoomPace, at: number): void {
    if (room.timer !== undefined && room.dueAt <= at) return;
    clearTimeout(room.timer);
    room.dueAt = at;
    room.timer = setTimeout(() => this.#flush(roomId, room), Math.max(0, at - this.#now()));
    room.timer.unref();
  }

  #flush(roomId: string, room: RoomPace): void {
    room.timer = undefined;
    room.dueAt = Infinity;
    const now = this.#now();
    let next = Infinity;
    for (const [key, waiting] of room.waiting) {
      // A timer may fire a little early.
      if (waiting.dueAt > now + 1) {
        next = Math.min(next, waiting.dueAt);
        continue;
      }
      room.waiting.delete(key);
      room.lastOut.set(key, now);
      waiting.send();
    }
    if (next !== Infinity) this.#schedule(roomId, room, next);
  }
}

interface RoomPace {
  /** When each key last went out. */
  readonly lastOut: Map<string, number>;
  /** The newest update of each key not yet out, and when it may go. */
  readonly waiting: Map<string, { readonly send: () => void; readonly dueAt: number }>;
  timer: NodeJS.Timeout | undefined;
  dueAt: number;
}
