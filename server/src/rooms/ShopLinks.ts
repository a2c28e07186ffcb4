import { isShopId } from '../commerce/commerceScope.ts';
import type { Logger } from '../log.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';

/**
 * Which rooms hear a commerce scope's news: a room hears its own; a shop's news (stock, sold out, a
 * buyer's orders and expired reservations) also goes to the shows linked to it, so the shop window
 * and the live room show the same stock. The shop's show list is read from the directory and
 * reused for `freshMs` (a show linked on another node is heard of within that); a show linked on
 * this node is known at once.
 */
export class ShopLinks {
  readonly #directory: Pick<RoomDirectory, 'shows'>;
  readonly #freshMs: number;
  readonly #keep: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #shows = new Map<string, { ids: string[]; at: number; loading: Promise<readonly string[]> | undefined }>();

  /** `keep`: the shows a shop lists at most (the directory keeps as many, the newest). */
  constructor(deps: { directory: Pick<RoomDirectory, 'shows'>; freshMs: number; keep: number; log: Logger; now?: () => number }) {
    this.#directory = deps.directory;
    this.#freshMs = deps.freshMs;
    this.#keep = deps.keep;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Calls `send` for the scope and for each show linked to it, in the order news was given: when
   * the shop's list is not at hand, the shows hear it once it is read (the scope at once).
   */
  toAudience(scopeId: string, send: (roomId: string) => void): void {
    send(scopeId);
    if (!isShopId(scopeId)) return;
    const known = this.#shows.get(scopeId);
    // A list at hand, even one being read again, is used at once: news never waits behind a read but the first.
    if (known !== undefined && (known.loading === undefined || known.at > 0 || known.ids.length > 0)) {
      for (const id of known.ids) send(id);
      if (this.#now() - known.at > this.#freshMs && known.loading === undefined) this.#load(scopeId).catch(() => undefined);
      return;
    }
    (known?.loading ?? this.#load(scopeId)).then(
      (ids) => {
        for (const id of ids) send(id);
      },
      () => undefined,
    );
  }

  /**
   * A show is linked to the shop (linked on this node, or a request of it was seen here): its shop's
   * news reaches it from now on, without waiting for the next read of the list.
   */
  linked(shopId: string, roomId: string): void {
    const known = this.#shows.get(shopId);
    // Known but never read (`at` 0): the next news reads the list in the background.
    if (known === undefined) this.#shows.set(shopId, { ids: [roomId], at: 0, loading: undefined });
    else if (!known.ids.includes(roomId)) known.ids = [roomId, ...known.ids].slice(0, this.#keep);
  }

  /** The shop is no longer hosted here: its list goes (read again when its news next comes). */
  forget(shopId: string): void {
    if (this.#shows.get(shopId)?.loading === undefined) this.#shows.delete(shopId);
  }

  /** Shops whose list was last read `idleForMs` ago or more, nothing being read. */
  *idleRooms(idleForMs: number): Iterable<string> {
    const now = this.#now();
    for (const [shopId, entry] of this.#shows) if (entry.loading === undefined && now - entry.at >= idleForMs) yield shopId;
  }

  perRoomState(): Record<string, number> {
    return { shopLinks: this.#shows.size };
  }

  /** Number of shops whose show list is kept here. */
  get size(): number {
    return this.#shows.size;
  }

  #load(shopId: string): Promise<readonly string[]> {
    let entry = this.#shows.get(shopId);
    if (entry?.loading !== undefined) return entry.loading;
    const loading = this.#directory.shows(shopId).then(
      (ids) => {
        this.#shows.set(shopId, { ids, at: this.#now(), loading: undefined });
        return ids;
      },
      (error: unknown) => {
        this.#log.warn({ err: error, shopId }, 'the shop\'s shows could not be read; its news reaches the shop only');
        const stale = this.#shows.get(shopId);
        if (stale?.ids.length) this.#shows.set(shopId, { ...stale, loading: undefined });
        else this.#shows.delete(shopId);
        throw error;
      },
    );
    if (entry === undefined) this.#shows.set(shopId, (entry = { ids: [], at: 0, loading }));
    else entry.loading = loading;
    return loading;
  }
}
