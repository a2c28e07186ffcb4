import type { ShowLive } from '../../../protocol/src/index.ts';
import type { ShowNoticeInbox } from './ShowNoticeInbox.ts';

interface Kept {
  readonly notice: ShowLive;
  readonly expiresAt: number;
}

/** Notices of a single node, in process. Expired ones go as later puts and takes pass them. */
export class MemoryShowNoticeInbox implements ShowNoticeInbox {
  readonly #byUser = new Map<string, Map<string, Kept>>();
  /** Every put, in the order made: with one notice lifetime, also the order they expire in. */
  readonly #expiries: Array<{ at: number; userId: string; id: string }> = [];
  #head = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async put(userIds: readonly string[], notice: ShowLive, expiresAt: number, keep: number): Promise<void> {
    this.#sweep(this.#now());
    for (const userId of userIds) {
      let inbox = this.#byUser.get(userId);
      if (inbox === undefined) this.#byUser.set(userId, (inbox = new Map()));
      inbox.delete(notice.id);
      inbox.set(notice.id, { notice, expiresAt });
      this.#expiries.push({ at: expiresAt, userId, id: notice.id });
      while (inbox.size > keep) {
        let oldest: string | undefined;
        let oldestAt = Infinity;
        for (const [id, kept] of inbox) if (kept.expiresAt < oldestAt) [oldest, oldestAt] = [id, kept.expiresAt];
        inbox.delete(oldest!);
      }
    }
  }

  async take(userId: string, now: number): Promise<ShowLive[]> {
    this.#sweep(now);
    const inbox = this.#byUser.get(userId);
    if (inbox === undefined) return [];
    this.#byUser.delete(userId);
    return [...inbox.values()].filter((kept) => kept.expiresAt > now).map((kept) => kept.notice);
  }

  async delivered(userIds: readonly string[], noticeId: string): Promise<void> {
    for (const userId of userIds) {
      const inbox = this.#byUser.get(userId);
      inbox?.delete(noticeId);
      if (inbox?.size === 0) this.#byUser.delete(userId);
    }
  }

  async close(): Promise<void> {}

  /** Drops the notices expired by `now`, oldest first. */
  #sweep(now: number): void {
    while (this.#head < this.#expiries.length && this.#expiries[this.#head]!.at <= now) {
      const { userId, id, at } = this.#expiries[this.#head++]!;
      const inbox = this.#byUser.get(userId);
      if (inbox?.get(id)?.expiresAt !== at) continue; // put again since, or gone already
      inbox.delete(id);
      if (inbox.size === 0) this.#byUser.delete(userId);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#expiries.length) {
      this.#expiries.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
