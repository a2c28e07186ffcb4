/** Where stock news goes: the room layer publishes it through the broker. */
export interface StockPublisher {
  publishStock(roomId: string, sku: string, available: number): void;
  publishSoldOut(roomId: string, sku: string): void;
}

/**
 * Turns every stock change into room updates a viewer can afford: latest value wins, at most one
 * `stock` update per product per interval; "sold out" goes out at once and once (again only after
 * the product came back in stock), because it is the strongest backoff signal a buyer gets.
 * `intervalFor` may stretch a room's interval: during a burst every update to a big room costs a
 * socket write per viewer.
 */
export class StockAnnouncer {
  readonly #pending = new Map<string, { roomId: string; sku: string; available: number }>();
  readonly #lastSent = new Map<string, number>();
  readonly #soldOut = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly publisher: StockPublisher,
    readonly intervalMs: number,
    readonly intervalFor: (roomId: string) => number = () => intervalMs,
    readonly now: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => this.flush(), intervalMs).unref();
  }

  changed(roomId: string, sku: string, available: number): void {
    const key = `${roomId}\u0000${sku}`;
    this.#pending.set(key, { roomId, sku, available });
    if (available === 0) {
      if (!this.#soldOut.has(key)) {
        this.#soldOut.add(key);
        this.publisher.publishSoldOut(roomId, sku);
      }
    } else {
      this.#soldOut.delete(key);
    }
  }

  flush(): void {
    const now = this.now();
    for (const [key, { roomId, sku, available }] of this.#pending) {
      // Half a base interval of slack: the timer's ticks are not exact.
      if (now - (this.#lastSent.get(key) ?? -Infinity) < this.intervalFor(roomId) - this.intervalMs / 2) continue;
      this.publisher.publishStock(roomId, sku, available);
      this.#lastSent.set(key, now);
      this.#pending.delete(key);
    }
  }

  /** Products of a deleted room; keeps the sold-out memory bounded by live products. */
  forgetRoom(roomId: string): void {
    const prefix = `${roomId}\u0000`;
    for (const key of this.#soldOut) if (key.startsWith(prefix)) this.#soldOut.delete(key);
    for (const key of this.#lastSent.keys()) if (key.startsWith(prefix)) this.#lastSent.delete(key);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
