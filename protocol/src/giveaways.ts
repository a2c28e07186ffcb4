import { z } from 'zod';

/**
 * Giveaways: a room's streamer (or an operator) opens one (a prize sku, how many winners, an entry
 * window, who may enter); viewers enter through the same admission path as add-to-cart, one entry
 * per user however many sockets and nodes they use, no purchase needed. At the window's end the
 * server draws the winners verifiably (docs/giveaway-verification.md): the commitment is published
 * at opening, the seed and the sorted entrants at the draw, and `scripts/verify-giveaway.mjs`
 * recomputes the winners from the published `draw.json`.
 *
 * Eligibility: `present`: anyone in the room (entering over a room socket; an HTTP entry, or one
 * from a socket that only follows its orders (`follow: 'orders'`), is not in the room and answers
 * `not_eligible`); `buyers`: users with an order in the room's commerce
 * scope; `followers`: not available yet (opening one is refused with BAD_REQUEST).
 *
 * The prize: each winner gets one unit of the prize sku as an order of total 0 (taken from the
 * sku's available stock, so nothing oversells); when stock runs short, the result says which
 * winners got none (`prizeShort`).
 */

const requestId = z.number().int().nonnegative().max(0xffffffff);
const timestampMs = z.number().int().nonnegative();
const idempotencyKey = z.string().min(1).max(64);
const hex = z.string().regex(/^[0-9a-f]+$/);

/** A giveaway's id: letters, digits, `_` and `-`, unique in its room. */
export const giveawayIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'giveaway id: letters, digits, _ and - only').min(1).max(32);

/** Most winners one giveaway draws. */
export const GIVEAWAY_WINNERS_MAX = 1000;

export const giveawayEligibilitySchema = z.enum(['present', 'buyers', 'followers']);
export type GiveawayEligibility = z.infer<typeof giveawayEligibilitySchema>;

/** A giveaway as a streamer opens it. */
export const giveawayInputSchema = z.object({
  id: giveawayIdSchema,
  /** The prize: a product of the room; each winner gets one unit at price 0. */
  sku: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'sku: letters, digits and _ . : - only').min(1).max(64),
  winners: z.number().int().min(1).max(GIVEAWAY_WINNERS_MAX),
  /** The entry window, from opening. */
  durationMs: z.number().int().min(5000).max(86_400_000),
  eligibility: giveawayEligibilitySchema.default('present'),
}).strict();
export type GiveawayInput = z.input<typeof giveawayInputSchema>;

/** A winner as the room sees them: the published entrant id, and the display name when the winner chose to show it. */
export const giveawayWinnerSchema = z.object({ entrantId: hex, name: z.string().optional() });
export type GiveawayWinner = z.infer<typeof giveawayWinnerSchema>;

/** The draw's outcome, published with the room's `giveaway` state once drawn. */
export const giveawayResultSchema = z.object({
  winners: z.array(giveawayWinnerSchema),
  entrantsCount: z.number().int().nonnegative(),
  /** The secret seed, revealed: SHA-256 of it is the commitment published at opening. */
  seed: hex,
  /** Path of the published draw data (`GET` it; `node scripts/verify-giveaway.mjs <url>` checks it). */
  drawUrl: z.string(),
  /** Winners (entrant ids) who got no prize unit: the prize sku's stock ran short. Absent when every winner got one. */
  prizeShort: z.array(hex).optional(),
});
export type GiveawayResult = z.infer<typeof giveawayResultSchema>;

/** A room's giveaway as everyone sees it (the room's `giveaway` state, `getGiveaway`'s answer). */
export const giveawayCardSchema = z.object({
  id: giveawayIdSchema,
  roomId: z.string(),
  sku: z.string(),
  winnersWanted: z.number().int().positive(),
  eligibility: giveawayEligibilitySchema,
  opensAt: timestampMs,
  /** Entries are taken before this. */
  closesAt: timestampMs,
  /** SHA-256 of the secret seed, hex, published at opening. */
  commitment: hex,
  /** The salt of the entrants' published ids, hex. */
  salt: hex,
  /** `open`: taking entries (until `closesAt`); `drawn`: closed, `result` holds the draw; `cancelled`: closed without a draw. */
  status: z.enum(['open', 'drawn', 'cancelled']),
  entrants: z.number().int().nonnegative(),
  result: giveawayResultSchema.optional(),
  /**
   * The giveaway's number in its room (1, 2, …), taken from the store as it opens: a higher serial
   * is a newer giveaway. Absent from servers older than it.
   */
  serial: z.number().int().positive().optional(),
});
export type GiveawayCard = z.infer<typeof giveawayCardSchema>;

/**
 * What a viewer (and a node's room) keeps of two cards of the room's giveaway (`held`, then
 * `heard`), as nodes' news may cross: the newer giveaway's (higher `serial`; without serials, the
 * one heard); for one giveaway, a finished card (`drawn`, `cancelled`) over an open one, and of two
 * open cards the larger entrants count. A null heard (a read that found none) changes nothing.
 */
export function latestGiveawayCard(held: GiveawayCard | null, heard: GiveawayCard | null): GiveawayCard | null {
  if (heard === null) return held;
  if (held === null) return heard;
  if (held.id !== heard.id || held.roomId !== heard.roomId) {
    if (held.serial !== undefined && heard.serial !== undefined) return heard.serial > held.serial ? heard : held;
    return heard;
  }
  if (held.status !== 'open') return heard.status === 'open' ? held : heard;
  return heard.status === 'open' && heard.entrants < held.entrants ? { ...heard, entrants: held.entrants } : heard;
}

/**
 * The answers to `enterGiveaway` (the `result` of its `ok`; members of the cart answer union).
 * `entrants` is the count just after this entry. An entry's answer stands, during the window and
 * after it: a retry with the same idempotency key gets exactly its first `entered` or
 * `already_entered` answer (as long as a cart request's key is remembered), and a user who entered
 * gets `already_entered` for a new key, even once the giveaway is closed; `giveaway_closed` and
 * `giveaway_full` go only to users who had not entered.
 */
export const giveawayAnswerSchemas = [
  z.object({ status: z.literal('entered'), giveawayId: giveawayIdSchema, entrants: z.number().int().positive() }),
  /** This user had entered already (another tap, socket or node): still one entry. */
  z.object({ status: z.literal('already_entered'), giveawayId: giveawayIdSchema, entrants: z.number().int().positive() }),
  /** The giveaway's eligibility leaves this user out (`buyers`: no order in this room; `present`: not entering from the room). */
  z.object({ status: z.literal('not_eligible'), giveawayId: giveawayIdSchema, eligibility: giveawayEligibilitySchema }),
  /** The entry window ended (or the giveaway was ended early or cancelled), and this user had not entered. */
  z.object({ status: z.literal('giveaway_closed'), giveawayId: giveawayIdSchema }),
  /** The giveaway has as many entrants as it takes (the server's `--giveaway-max-entrants` when it opened), and this user is not one. */
  z.object({ status: z.literal('giveaway_full'), giveawayId: giveawayIdSchema, entrants: z.number().int().positive() }),
  /** No giveaway with that id in this room. */
  z.object({ status: z.literal('no_giveaway'), giveawayId: giveawayIdSchema }),
] as const;

/** Giveaway requests (client → server). `enterGiveaway` is a cart request: the cart desk and admission serve it. */
export const giveawayRequestSchemas = [
  /** Streamer or operator: opens a giveaway (one taking entries per room). Result `{ giveaway: GiveawayCard }`. */
  z.object({ t: z.literal('openGiveaway'), id: requestId, giveaway: giveawayInputSchema }),
  /** Streamer or operator: closes the entries now and draws. Result `{ giveaway: GiveawayCard }` (drawn). */
  z.object({ t: z.literal('endGiveaway'), id: requestId, giveawayId: giveawayIdSchema }),
  /** Streamer or operator: closes the entries now, no draw. Result `{ giveaway: GiveawayCard }` (cancelled). */
  z.object({ t: z.literal('cancelGiveaway'), id: requestId, giveawayId: giveawayIdSchema }),
  /** The room's current giveaway (the one taking entries, else the room's latest), or null. Result `{ giveaway }`. */
  z.object({ t: z.literal('getGiveaway'), id: requestId, giveawayId: giveawayIdSchema.optional() }),
  /** Enters the giveaway; `showName`: the room may see the display name if this entry wins (default: anonymous). */
  z.object({ t: z.literal('enterGiveaway'), id: requestId, key: idempotencyKey, giveawayId: giveawayIdSchema, showName: z.boolean().optional() }),
] as const;

export const giveawayRequestTypes: ReadonlySet<string> = new Set(['openGiveaway', 'endGiveaway', 'cancelGiveaway', 'getGiveaway']);

/** Latest-value room state (commerce lane, not replayed: the card at joining is in `welcome.giveaway`). */
export const giveawayStateSchemas = [
  /** The giveaway as it is now: opened, closed, drawn (with `result`) or cancelled. */
  z.object({ t: z.literal('giveaway'), giveaway: giveawayCardSchema }),
  /** The entrants count, at most one per stock interval (latest wins). */
  z.object({ t: z.literal('giveawayEntrants'), giveawayId: giveawayIdSchema, entrants: z.number().int().nonnegative() }),
] as const;

/** For one user only: they won; `orderId` is the prize's order (total 0), absent when the prize's stock ran short. */
export const giveawayDirectSchemas = [
  z.object({ t: z.literal('giveawayWon'), giveawayId: giveawayIdSchema, sku: z.string(), orderId: z.string().optional() }),
] as const;
