import type { GiveawayResult } from '../../../protocol/src/index.ts';
import type { PublishedDraw } from '../giveaways/draw.ts';
import type { Giveaway } from '../giveaways/giveaway.ts';

/** One entry, as the admission path sends it to the store (eligibility is checked before). */
export interface EntryRequest {
  readonly roomId: string;
  readonly giveawayId: string;
  readonly userId: string;
  readonly at: number;
  /** The name the room may see if this entrant wins; absent: anonymous. Kept from the user's first entry. */
  readonly name?: string | undefined;
  /** The entry's record name (`recordName(user, idempotency key)`): its first `entered`/`already_entered` answer is kept under it. */
  readonly record: string;
}

/**
 * Each entry's answer: counted now, counted before (one entry per user), or refused; `entrants` is
 * the count after it (`full`: the count that filled it). An entered user's answers stand after the
 * close: their key's recorded answer, else `already_entered`; only users who had not entered hear
 * `closed`, `not_open` or `full`.
 */
export type EntryAnswer =
  | { readonly status: 'entered' | 'already_entered' | 'full'; readonly entrants: number }
  | { readonly status: 'closed' | 'not_open' | 'unknown_giveaway' };

export type GiveawayStatus = 'open' | 'closed' | 'cancelled';

export interface HeldGiveaway {
  readonly giveaway: Giveaway;
  readonly status: GiveawayStatus;
  readonly entrants: number;
  /** The drawn giveaway's result as the room was shown it, once kept (`recordResult`). */
  readonly result?: GiveawayResult;
}

/** What closing the entries did: `closed` for the one caller that closed them, `already_closed` after, `not_due` before the window ends; `cancelled`: cancelled (now or before), never drawn. */
export type GiveawayClose =
  | { readonly result: 'closed' | 'already_closed'; readonly seed: string; readonly userIds: string[] }
  | { readonly result: 'not_due' | 'unknown' | 'cancelled' };

/** What opening did: `created` with the giveaway's serial in its room (1, 2, …; a higher one is newer). */
export type GiveawayCreation = { readonly result: 'created'; readonly serial: number } | { readonly result: 'exists' | 'busy' };

/**
 * Giveaways of each room, beside its stock (on Redis, in the room's slot). Entries are a set of
 * user ids: one entry per user however many sockets and nodes send it, at most the giveaway's
 * `maxEntrants`. A room has at most one giveaway taking entries. The secret seed is kept here so
 * that any node can draw. Each entry's first answer is kept under its record name for the store's
 * record TTL (as cart requests' are).
 */
export interface GiveawayStore {
  /** Opens `giveaway` (its `serial` is the store's to give). */
  createGiveaway(giveaway: Giveaway, seed: string): Promise<GiveawayCreation>;
  /** The giveaway (with its `serial`), its status, its entrants count and, once drawn, the result the room was shown. */
  giveaway(roomId: string, giveawayId: string): Promise<HeldGiveaway | undefined>;
  /** The id of the room's giveaway taking entries, or null. */
  currentGiveaway(roomId: string): Promise<string | null>;
  /** The id of the room's latest opened giveaway (taking entries or not), or null. */
  latestGiveaway(roomId: string): Promise<string | null>;
  /** The first answer kept for an entry's record name (`entered` or `already_entered`), or undefined. */
  recorded(roomId: string, giveawayId: string, record: string, now: number): Promise<EntryAnswer | undefined>;
  /** Entries in order, atomically per room; taken from `opensAt` until before `closesAt`, up to `maxEntrants`. */
  enter(requests: readonly EntryRequest[]): Promise<EntryAnswer[]>;
  /**
   * Closes the entries once `now` reaches `closesAt` (or at once, `early`), and hands back the seed and the entrants' user ids for the draw
   * (on Redis read after the close in chunks, never in one call: the set no longer changes then).
   * `cancel` closes an open giveaway for good without a draw (`cancelled`); a closed one stays closed (its draw stands).
   */
  closeEntries(roomId: string, giveawayId: string, now: number, early: boolean, cancel?: boolean): Promise<GiveawayClose>;
  /** The names `userIds` chose to show if they won (undefined: anonymous), in order. */
  names(roomId: string, giveawayId: string, userIds: readonly string[]): Promise<Array<string | undefined>>;
  /** Keeps the draw; the first one recorded stays (two nodes drawing at once publish one), and is returned. */
  recordDraw(draw: PublishedDraw): Promise<PublishedDraw>;
  /** Keeps the result shown to the room (the first kept stays), so a node meeting the drawn giveaway later shows it without drawing again. */
  recordResult(roomId: string, giveawayId: string, result: GiveawayResult): Promise<void>;
  /** The recorded draw, or undefined. */
  draw(roomId: string, giveawayId: string): Promise<PublishedDraw | undefined>;
  close(): Promise<void>;
}
