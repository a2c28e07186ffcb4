import type { PublishedDraw } from '../giveaways/draw.ts';
import type { Giveaway } from '../giveaways/giveaway.ts';
import type { EntryAnswer, EntryRequest, GiveawayClose, GiveawayStatus, GiveawayStore } from './GiveawayStore.ts';

interface Held {
  readonly giveaway: Giveaway;
  readonly seed: string;
  status: GiveawayStatus;
  readonly entrants: Set<string>;
  readonly names: Map<string, string>;
  draw?: PublishedDraw;
}

const sep = '\u0000';

/** Giveaways on one node. Each method's body runs without awaiting, so each is one atomic step. */
export class MemoryGiveawayStore implements GiveawayStore {
  readonly #giveaways = new Map<string, Held>(); // room␀giveaway → giveaway
  readonly #current = new Map<string, string>(); // room → its giveaway taking entries

  async createGiveaway(giveaway: Giveaway, seed: string): Promise<'created' | 'exists' | 'busy'> {
    const key = giveaway.roomId + sep + giveaway.id;
    if (this.#giveaways.has(key)) return 'exists';
    if (this.#current.has(giveaway.roomId)) return 'busy';
    this.#giveaways.set(key, { giveaway, seed, status: 'open', entrants: new Set(), names: new Map() });
    this.#current.set(giveaway.roomId, giveaway.id);
    return 'created';
  }

  async giveaway(roomId: string, giveawayId: string): Promise<{ giveaway: Giveaway; status: GiveawayStatus; entrants: number } | undefined> {
    const held = this.#giveaways.get(roomId + sep + giveawayId);
    return held && { giveaway: held.giveaway, status: held.status, entrants: held.entrants.size };
  }

  async currentGiveaway(roomId: string): Promise<string | null> {
    return this.#current.get(roomId) ?? null;
  }

  async enter(requests: readonly EntryRequest[]): Promise<EntryAnswer[]> {
    return requests.map((r): EntryAnswer => {
      const held = this.#giveaways.get(r.roomId + sep + r.giveawayId);
      if (held === undefined) return { status: 'unknown_giveaway' };
      if (held.status !== 'open' || r.at >= held.giveaway.closesAt) return { status: 'closed' };
      if (r.at < held.giveaway.opensAt) return { status: 'not_open' };
      if (held.entrants.has(r.userId)) return { status: 'already_entered', entrants: held.entrants.size };
      held.entrants.add(r.userId);
      if (r.name !== undefined && r.name !== '') held.names.set(r.userId, r.name);
      return { status: 'entered', entrants: held.entrants.size };
    });
  }

  async closeEntries(roomId: string, giveawayId: string, now: number, early: boolean, cancel = false): Promise<GiveawayClose> {
    const held = this.#giveaways.get(roomId + sep + giveawayId);
    if (held === undefined) return { result: 'unknown' };
    if (held.status === 'cancelled') return { result: 'cancelled' };
    if (cancel && held.status === 'open') {
      held.status = 'cancelled';
      if (this.#current.get(roomId) === giveawayId) this.#current.delete(roomId);
      return { result: 'cancelled' };
    }
    if (held.status === 'closed') return { result: 'already_closed', seed: held.seed, userIds: [...held.entrants] };
    if (!early && now < held.giveaway.closesAt) return { result: 'not_due' };
    held.status = 'closed';
    if (this.#current.get(roomId) === giveawayId) this.#current.delete(roomId);
    return { result: 'closed', seed: held.seed, userIds: [...held.entrants] };
  }

  async names(roomId: string, giveawayId: string, userIds: readonly string[]): Promise<Array<string | undefined>> {
    const held = this.#giveaways.get(roomId + sep + giveawayId);
    return userIds.map((userId) => held?.names.get(userId));
  }

  async recordDraw(draw: PublishedDraw): Promise<PublishedDraw> {
    const held = this.#giveaways.get(draw.roomId + sep + draw.giveawayId);
    if (held === undefined) return draw;
    held.draw ??= draw;
    return held.draw;
  }

  async draw(roomId: string, giveawayId: string): Promise<PublishedDraw | undefined> {
    return this.#giveaways.get(roomId + sep + giveawayId)?.draw;
  }

  async close(): Promise<void> {}
}
