import type { GiveawayResult } from '../../../protocol/src/index.ts';
import type { PublishedDraw } from '../giveaways/draw.ts';
import type { Giveaway } from '../giveaways/giveaway.ts';
import type { EntryAnswer, EntryRequest, GiveawayClose, GiveawayCreation, GiveawayStatus, GiveawayStore, HeldGiveaway } from './GiveawayStore.ts';

type Recorded = { readonly status: 'entered' | 'already_entered'; readonly entrants: number };

interface Held {
  readonly giveaway: Giveaway;
  readonly seed: string;
  status: GiveawayStatus;
  readonly entrants: Set<string>;
  readonly names: Map<string, string>;
  /** Each entry's first answer by record name, and when it was given. */
  readonly answers: Map<string, { readonly answer: Recorded; readonly at: number }>;
  draw?: PublishedDraw;
  result?: GiveawayResult;
}

const sep = '\u0000';

/** Giveaways on one node. Each method's body runs without awaiting, so each is one atomic step. */
export class MemoryGiveawayStore implements GiveawayStore {
  readonly #giveaways = new Map<string, Held>(); // room␀giveaway → giveaway
  readonly #current = new Map<string, string>(); // room → its giveaway taking entries
  readonly #latest = new Map<string, { id: string; serial: number }>(); // room → its latest giveaway
  readonly #recordTtlMs: number;

  /** `recordTtlMs`: how long an entry's first answer is kept for its key (`--idempotency-ttl-ms`). */
  constructor(options: { recordTtlMs?: number } = {}) {
    this.#recordTtlMs = options.recordTtlMs ?? 86_400_000;
  }

  async createGiveaway(giveaway: Giveaway, seed: string): Promise<GiveawayCreation> {
    const key = giveaway.roomId + sep + giveaway.id;
    if (this.#giveaways.has(key)) return { result: 'exists' };
    if (this.#current.has(giveaway.roomId)) return { result: 'busy' };
    const serial = (this.#latest.get(giveaway.roomId)?.serial ?? 0) + 1;
    this.#giveaways.set(key, { giveaway: { ...giveaway, serial }, seed, status: 'open', entrants: new Set(), names: new Map(), answers: new Map() });
    this.#current.set(giveaway.roomId, giveaway.id);
    this.#latest.set(giveaway.roomId, { id: giveaway.id, serial });
    return { result: 'created', serial };
  }

  async giveaway(roomId: string, giveawayId: string): Promise<HeldGiveaway | undefined> {
    const held = this.#giveaways.get(roomId + sep + giveawayId);
    if (held === undefined) return undefined;
    const found = { giveaway: held.giveaway, status: held.status, entrants: held.entrants.size };
    return held.result === undefined ? found : { ...found, result: held.result };
  }

  async currentGiveaway(roomId: string): Promise<string | null> {
    return this.#current.get(roomId) ?? null;
  }

  async latestGiveaway(roomId: string): Promise<string | null> {
    return this.#latest.get(roomId)?.id ?? null;
  }

  async recorded(roomId: string, giveawayId: string, record: string, now: number): Promise<EntryAnswer | undefined> {
    const seen = this.#giveaways.get(roomId + sep + giveawayId)?.answers.get(record);
    return seen !== undefined && now - seen.at < this.#recordTtlMs ? seen.answer : undefined;
  }

  async enter(requests: readonly EntryRequest[]): Promise<EntryAnswer[]> {
    return requests.map((r): EntryAnswer => {
      const held = this.#giveaways.get(r.roomId + sep + r.giveawayId);
      if (held === undefined) return { status: 'unknown_giveaway' };
      const seen = held.answers.get(r.record);
      if (seen !== undefined && r.at - seen.at < this.#recordTtlMs) return seen.answer;
      if (held.entrants.has(r.userId)) return this.#record(held, r, { status: 'already_entered', entrants: held.entrants.size });
      if (held.status !== 'open' || r.at >= held.giveaway.closesAt) return { status: 'closed' };
      if (r.at < held.giveaway.opensAt) return { status: 'not_open' };
      if (held.entrants.size >= held.giveaway.maxEntrants) return { status: 'full', entrants: held.entrants.size };
      held.entrants.add(r.userId);
      if (r.name !== undefined && r.name !== '') held.names.set(r.userId, r.name);
      return this.#record(held, r, { status: 'entered', entrants: held.entrants.size });
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

  async recordResult(roomId: string, giveawayId: string, result: GiveawayResult): Promise<void> {
    const held = this.#giveaways.get(roomId + sep + giveawayId);
    if (held !== undefined) held.result ??= result;
  }

  async draw(roomId: string, giveawayId: string): Promise<PublishedDraw | undefined> {
    return this.#giveaways.get(roomId + sep + giveawayId)?.draw;
  }

  async close(): Promise<void> {}

  /** Keeps `answer` as the entry's key's first; records past their TTL go as new ones come (at most one sweep per TTL). */
  #record(held: Held, request: EntryRequest, answer: Recorded): Recorded {
    const oldest = held.answers.values().next().value;
    if (oldest !== undefined && request.at - oldest.at >= this.#recordTtlMs) {
      for (const [name, seen] of held.answers) {
        if (request.at - seen.at < this.#recordTtlMs) break;
        held.answers.delete(name);
      }
    }
    held.answers.set(request.record, { answer, at: request.at });
    return answer;
  }
}
