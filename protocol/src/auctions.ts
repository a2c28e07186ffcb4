import { z } from 'zod';

/**
 * Live auctions: the streamer (or an operator) auctions one product of the room's catalog; viewers
 * bid a price or a maximum (proxy bidding). Bids are cart requests: they go through the room's
 * admission turn and are decided in the store, one atomic step per batch, in arrival order. All
 * money is integer cents. The rules themselves (increments, proxy bidding, anti-sniping) are
 * server/src/auctions/bidding.ts's `applyBid`; PROTOCOL.md describes them.
 */

const requestId = z.number().int().nonnegative().max(0xffffffff);
const timestampMs = z.number().int().nonnegative();
const idempotencyKey = z.string().min(1).max(64);
const sku = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'sku: letters, digits and _ . : - only').min(1).max(64);

/** The largest amount an auction handles, in cents: every sum of two amounts stays an exact integer in JavaScript and in Redis's Lua. */
export const AUCTION_CENTS_MAX = 1_000_000_000;

/** Most tiers one increment schedule has. */
export const INCREMENT_TIERS_MAX = 20;

const cents = z.number().int().min(1).max(AUCTION_CENTS_MAX);

/**
 * A bid-increment schedule, for example +1 up to 50, +5 up to 200, +10 above, written
 * `[{ belowCents: 5000, stepCents: 100 }, { belowCents: 20000, stepCents: 500 }, { stepCents: 1000 }]`.
 * A price below a tier's `belowCents` (and at or above the tier before) steps by its `stepCents`;
 * the last tier has no bound. Bounds rise strictly and steps never fall, so a higher price never
 * asks a smaller next bid (proxy bidding relies on it).
 */
export const incrementScheduleSchema = z
  .array(z.object({ belowCents: cents.optional(), stepCents: cents }).strict())
  .min(1)
  .max(INCREMENT_TIERS_MAX)
  .superRefine((tiers, ctx) => {
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last !== (tier.belowCents === undefined)) {
        ctx.addIssue({ code: 'custom', path: [i, 'belowCents'], message: last ? 'the last tier has no belowCents' : 'every tier but the last has a belowCents' });
      }
      const before = tiers[i - 1];
      if (before === undefined) return;
      if (tier.belowCents !== undefined && before.belowCents !== undefined && tier.belowCents <= before.belowCents) {
        ctx.addIssue({ code: 'custom', path: [i, 'belowCents'], message: 'belowCents must rise from tier to tier' });
      }
      if (tier.stepCents < before.stepCents) ctx.addIssue({ code: 'custom', path: [i, 'stepCents'], message: 'stepCents must not fall from tier to tier' });
    });
  });
export type IncrementSchedule = z.infer<typeof incrementScheduleSchema>;

/** The step above `priceCents`: the first tier whose bound is above it, else the last tier's. */
export function stepAt(schedule: IncrementSchedule, priceCents: number): number {
  for (const tier of schedule) {
    if (tier.belowCents === undefined || priceCents < tier.belowCents) return tier.stepCents;
  }
  return schedule[schedule.length - 1]!.stepCents;
}

/** The next `count` bids a buyer can tap, from `minNextCents` up, each one step above the one before. */
export function nextBids(schedule: IncrementSchedule, minNextCents: number, count: number): number[] {
  const out: number[] = [];
  for (let price = minNextCents; out.length < count && price <= AUCTION_CENTS_MAX; price += stepAt(schedule, price)) out.push(price);
  return out;
}

/** An auction's id: letters, digits, `_` and `-`, unique in its room. */
export const auctionIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'auction id: letters, digits, _ and - only').min(1).max(32);

/**
 * How an auction ends: `sudden_death` at its end time whatever happens; `extend` (anti-sniping):
 * a bid that moves the price in the last `windowMs` pushes the end to `windowMs` after that bid.
 */
export const auctionEndingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sudden_death') }).strict(),
  z.object({ kind: z.literal('extend'), windowMs: z.number().int().min(1000).max(600_000) }).strict(),
]);
export type AuctionEnding = z.infer<typeof auctionEndingSchema>;

/** An auction as a streamer starts it. */
export const auctionInputSchema = z.object({
  id: auctionIdSchema,
  /** The product sold (a sku of the room's catalog): the winner's cart line. */
  sku,
  /** The lowest first bid, and the price until there is one. */
  startPriceCents: z.number().int().min(1).max(AUCTION_CENTS_MAX),
  increments: incrementScheduleSchema,
  durationMs: z.number().int().min(5000).max(86_400_000),
  ending: auctionEndingSchema,
  /** The room sees the leader's display name, or only a pseudonym that changes from auction to auction. */
  leaderShown: z.enum(['name', 'anonymous']).default('name'),
}).strict();
export type AuctionInput = z.input<typeof auctionInputSchema>;

/**
 * An auction as the room sees it (never anyone's maximum). `leader` is the leader's display name,
 * or with `leaderShown: 'anonymous'` a pseudonym (`Bidder 1a2b`) that stays the same for one bidder
 * within one auction; null before the first bid. `seq` counts the bids the store answered: of two
 * cards of one auction the higher `seq` is the newer (cards from different nodes may cross).
 */
export const auctionCardSchema = z.object({
  id: auctionIdSchema,
  roomId: z.string(),
  sku,
  startPriceCents: z.number().int().positive(),
  increments: incrementScheduleSchema,
  ending: auctionEndingSchema,
  leaderShown: z.enum(['name', 'anonymous']),
  startsAt: timestampMs,
  status: z.enum(['open', 'ended', 'cancelled']),
  priceCents: z.number().int().nonnegative(),
  /** The lowest bid taken now: the start price before any bid, then price + step(price). */
  minNextCents: z.number().int().positive(),
  leader: z.string().nullable(),
  /** The end now (anti-sniping moves it); a settled auction's is when it closed to bids. */
  endsAt: timestampMs,
  /** Bids that moved the price. */
  bids: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
});
export type AuctionCard = z.infer<typeof auctionCardSchema>;

/** Of two cards of the room's auction, the one to keep: the newer auction's, then the higher `seq`, a settled one over an open one. */
export function latestAuctionCard(held: AuctionCard | null, heard: AuctionCard): AuctionCard {
  if (held === null || held.id !== heard.id) return held === null || heard.startsAt >= held.startsAt ? heard : held;
  if (held.status !== 'open' && heard.status === 'open') return held;
  if (heard.status !== 'open' && held.status === 'open') return heard;
  return heard.seq >= held.seq ? heard : held;
}

/** A bid that moved the price, as a moderator's history lists it (user ids, for the streamer). */
export const bidRecordSchema = z.object({ seq: z.number().int().positive(), at: timestampMs, userId: z.string(), priceCents: z.number().int().positive(), leaderId: z.string() });
export type BidRecordWire = z.infer<typeof bidRecordSchema>;

/**
 * The answers to `bid` (the `result` of its `ok`; members of the cart answer union). Every bid gets
 * exactly one; `seq` is its place in the store's order of the auction's bids.
 */
export const bidAnswerSchemas = [
  /** The bidder leads at `priceCents`; `maxCents` is their own maximum (told to them only). */
  z.object({ status: z.literal('leading'), auctionId: auctionIdSchema, priceCents: z.number().int().positive(), maxCents: z.number().int().positive(), endsAt: timestampMs, seq: z.number().int().positive() }),
  /** Another bidder's maximum was higher (or as high and earlier): the price is now `priceCents`, the next bid at least `minNextCents`. */
  z.object({ status: z.literal('outbid'), auctionId: auctionIdSchema, priceCents: z.number().int().positive(), minNextCents: z.number().int().positive(), endsAt: timestampMs, seq: z.number().int().positive() }),
  /** Below the lowest bid taken: at least `minNextCents`. */
  z.object({ status: z.literal('too_low'), auctionId: auctionIdSchema, priceCents: z.number().int().positive(), minNextCents: z.number().int().positive(), endsAt: timestampMs, seq: z.number().int().positive() }),
  /** The auction was over when the bid was placed (past its end, ended early or cancelled). */
  z.object({ status: z.literal('ended'), auctionId: auctionIdSchema, priceCents: z.number().int().positive(), seq: z.number().int().positive() }),
  /** `seller`: the streamer may not bid on their own auction; `unknown_auction`: no such auction in the room; `not_started`: placed before its start. */
  z.object({ status: z.literal('not_allowed'), auctionId: auctionIdSchema, reason: z.enum(['seller', 'not_started', 'unknown_auction']), seq: z.number().int().positive().optional() }),
] as const;

/** The room's auction requests (client → server). `bid` is a cart request: it goes through the cart desk and admission. */
export const auctionRequestSchemas = [
  /** Moderators: starts an auction of a catalog sku (AUCTION_EXISTS for a used id, AUCTION_BUSY while another is open). Result `{ auction }`. */
  z.object({ t: z.literal('startAuction'), id: requestId, auction: auctionInputSchema }),
  /** Moderators: ends it now; the leader wins at the current price. Result `{ auction }`. */
  z.object({ t: z.literal('endAuction'), id: requestId, auctionId: auctionIdSchema }),
  /** Moderators: ends it without a winner. Result `{ auction }`. */
  z.object({ t: z.literal('cancelAuction'), id: requestId, auctionId: auctionIdSchema }),
  /** The auction (default: the room's open one, else null). Result `{ auction }`, and `history` (newest price moves) for moderators. */
  z.object({ t: z.literal('getAuction'), id: requestId, auctionId: auctionIdSchema.optional() }),
  /** A bid of exactly `amountCents`, or with `max: true` a maximum the server bids up to by the increment. A retry with the same `key` gets the first answer. */
  z.object({ t: z.literal('bid'), id: requestId, key: idempotencyKey, auctionId: auctionIdSchema, amountCents: cents, max: z.boolean().optional() }),
] as const;

export const auctionRequestTypes: ReadonlySet<string> = new Set(['startAuction', 'endAuction', 'cancelAuction', 'getAuction']);

/** Latest-value state: the room's auction card, at most one per stock interval while bids come (latest wins), at once when it starts. */
export const auctionStateSchemas = [z.object({ t: z.literal('auction'), auction: auctionCardSchema })] as const;

/**
 * Sequenced event, once per auction, at once when it is settled (on every node): how it came out.
 * `winner` is the winner's label as the card shows leaders (null: no bid, or cancelled).
 */
export const auctionEventSchemas = [
  z.object({
    t: z.literal('auctionEnded'), seq: z.number().int().nonnegative(), auction: auctionCardSchema,
    outcome: z.enum(['sold', 'no_bids', 'cancelled']), winner: z.string().nullable(), priceCents: z.number().int().positive().optional(),
  }),
] as const;

/**
 * To the winner's own sockets: they won at `priceCents`. `held`: the product is in their cart at
 * that price until `expiresAt` (the reservation TTL); false when no unit could be held (sold out).
 */
export const auctionDirectSchemas = [
  z.object({ t: z.literal('auctionWon'), auctionId: auctionIdSchema, sku, priceCents: z.number().int().positive(), held: z.boolean(), expiresAt: timestampMs.optional() }),
] as const;
