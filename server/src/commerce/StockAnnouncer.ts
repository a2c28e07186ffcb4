/** A product's level is read back from the store once it has been quiet this many of its room's stock intervals. */
const SETTLE_INTERVALS = 3;

/** Where stock news goes: the room layer publishes it through the broker. */
export interface StockPublisher {
  publishStock(roomId: string, sku: string, available: number): void;
  publishSoldOut(roomId: string, sku: string): void;
}

/**
 * Turns every stock change into room updates a viewer can afford: latest value wins, at most one
 * `stock` update per product per interval; "sold out" goes out at once and once (again only after
 * the product came back in stock), in place of a `stock` 0, because it is the strongest backoff
 * signal a buyer gets.
 * `intervalFor` may stretch a room's interval: during a burst every update to a big room costs a
 * socket write per viewer.
 *
 * Each node announces the levels its own requests produced, so levels from several nodes may reach
 * a viewer out of order (a node's older level after another's newer one). With `settle`, once a
 * product has been quiet here for `settleIntervals` of its room's interval, its level is read from
 * the store and announced once more: every node's last word on a product is a level read after its
 * own last change, so viewers converge on the store's level after a burst.
 */
export class StockAnnouncer {
  /** Per room: the latest level of each product waiting to go out, when each last went out, and which were announced sold out. */
  readonly #rooms = new Map<string, RoomNews>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly publisher: StockPublisher,
    readonly intervalMs: number,
    readonly intervalFor: (roomId: string) => number = () => intervalMs,
    readonly now: () => number = Date.now,
    readonly settle?: { readonly read: (roomId: string, sku: string) => Promise<number | undefined>; readonly onError: (error: unknown) => void },
  ) {
    this.#timer = setInterval(() => this.flush(), intervalMs).unref();
  }

  /** Rooms with something kept here. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /**
   * `tookLastUnit`: the change reserved the last units, which the store's atomic steps make a new
   * sell-out whatever this node heard since its last one (a come-back through a node it does not
   * hear, when it does not host the room).
   */
  changed(roomId: string, sku: string, available: number, tookLastUnit = false): void {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = { pending: new Map(), lastSent: new Map(), soldOut: new Set(), unsettled: new Map(), forgotten: false, changedAt: 0 }));
    room.changedAt = this.now();
    if (this.settle !== undefined) room.unsettled.set(sku, room.changedAt);
    if (available === 0 && (tookLastUnit || !room.soldOut.has(sku))) {
      // The sold-out sets every viewer's count to 0: a `stock` 0 after it would say nothing new.
      room.soldOut.add(sku);
      room.pending.delete(sku);
      this.publisher.publishSoldOut(roomId, sku);
      return;
    }
    room.pending.set(sku, available);
    if (available > 0) room.soldOut.delete(sku);
  }

  /**
   * The room heard the product announced sold out, by this node or another. A level of it still
   * waiting here was most likely read before the last unit went (a come-back since is told by the
   * read-back): it does not go out after the sold-out. A read-back under way may be as old: the
   * product settles afresh, so this node's last word on it is still a level read after the sold-out.
   */
  soldOutHeard(roomId: string, sku: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    const spoken = room.pending.delete(sku) || room.lastSent.has(sku) || room.soldOut.has(sku) || room.unsettled.has(sku);
    if (this.settle !== undefined && spoken) room.unsettled.set(sku, this.now());
  }

  /**
   * The room heard the product back in stock, by this node or another: its next 0 is a new sell-out,
   * told as one, whichever node sold the last unit of the last one.
   */
  comeBackHeard(roomId: string, sku: string): void {
    this.#rooms.get(roomId)?.soldOut.delete(sku);
  }

  flush(): void {
    const now = this.now();
    for (const [roomId, room] of this.#rooms) {
      this.#settle(roomId, room, now);
      if (room.pending.size > 0) {
        // Half a base interval of slack: the timer's ticks are not exact.
        const interval = this.intervalFor(roomId) - this.intervalMs / 2;
        for (const [sku, available] of room.pending) {
          if (now - (room.lastSent.get(sku) ?? -Infinity) < interval) continue;
          this.publisher.publishStock(roomId, sku, available);
          room.lastSent.set(sku, now);
          room.pending.delete(sku);
        }
      }
      if (room.forgotten && room.pending.size === 0 && room.unsettled.size === 0) this.#rooms.delete(roomId);
    }
  }

  /** Reads and announces the store's level of every product of the room quiet for long enough (pending levels go out first). */
  #settle(roomId: string, room: RoomNews, now: number): void {
    const settle = this.settle;
    if (settle === undefined || room.unsettled.size === 0) return;
    const quietFor = this.intervalFor(roomId) * SETTLE_INTERVALS;
    for (const [sku, changedAt] of room.unsettled) {
      if (room.pending.has(sku) || now - changedAt < quietFor) continue;
      room.unsettled.delete(sku);
      settle.read(roomId, sku).then((available) => {
        // A change since the read was started (a sold-out too, which leaves nothing pending) announces itself and settles again later.
        if (available === undefined || room.unsettled.has(sku)) return;
        this.publisher.publishStock(roomId, sku, available);
      }, settle.onError);
    }
  }

  /** The room is no longer hosted here: what is kept for it goes, once its pending levels are out. */
  forget(roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    if (room.pending.size === 0 && room.unsettled.size === 0) this.#rooms.delete(roomId);
    else room.forgotten = true;
  }

  /** Rooms with nothing pending whose stock has not changed for `idleForMs`. */
  *idleRooms(idleForMs: number): Iterable<string> {
    const now = this.now();
    for (const [roomId, room] of this.#rooms) if (room.pending.size === 0 && room.unsettled.size === 0 && now - room.changedAt >= idleForMs) yield roomId;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

interface RoomNews {
  readonly pending: Map<string, number>;
  readonly lastSent: Map<string, number>;
  readonly soldOut: Set<string>;
  /** sku → when it last changed, until its level is read back from the store (`settle`). */
  readonly unsettled: Map<string, number>;
  /** Dropped at the flush that empties `pending`. */
  forgotten: boolean;
  /** When a level of the room last changed. */
  changedAt: number;
}
