/** Where stock news goes: the room layer publishes it through the broker. */
export interface StockPublisher {
  publishStock(roomId: string, sku: string, available: number): void;
  publishSoldOut(roomId: string, sku: string): void;
}

/**
 * Turns every stock change into room updates a viewer can afford: latest value wins, at most one
 * `stock` update per product per interval; "sold out" goes out at once and once (again only after
 * the product came back in stock), because it is the strongest backoff signal a buyer gets.
 */
export class StockAnnouncer {
  readonly #pending = new Map<string, { roomId: string; sku: string; available: number }>();
  readonly #soldOut = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly publisher: StockPublisher,
    intervalMs: number,
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
    for (const { roomId, sku, available } of this.#pending.values()) this.publisher.publishStock(roomId, sku, available);
    this.#pending.clear();
  }

  /** Products of a deleted room; keeps the sold-out memory bounded by live products. */
  forgetRoom(roomId: string): void {
    const prefix = `${roomId}\u0000`;
    for (const key of this.#soldOut) if (key.startsWith(prefix)) this.#soldOut.delete(key);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
