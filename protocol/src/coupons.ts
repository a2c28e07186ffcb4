import { z } from 'zod';

/**
 * Coupons: a streamer creates one in a room (amount or percent off, a minimum spend, N to claim,
 * one per buyer, a validity window) and pins it; viewers claim it in a burst, through the same
 * admission path as add-to-cart; a claimed coupon takes its discount off a checkout in the room.
 * All money is integer cents.
 *
 * Pricing at checkout (both stores, atomically with the order):
 * - subtotal = Σ quantity × priceCents of the lines;
 * - amount off: discount = min(amountOffCents, subtotal); percent off: discount = ⌊subtotal × percentOff / 100⌋;
 * - total = subtotal − discount.
 * A coupon applies when its buyer claimed it, has not used it, the checkout is inside its window and
 * the subtotal reaches its `minSpendCents`. A checkout that names no coupon gets the claimed coupon
 * with the largest discount (none when none applies); one that names a coupon gets that one or, when
 * it does not apply, the answer `coupon_not_applicable` and no order. A coupon is used by one order;
 * when that order is cancelled the buyer gets the coupon back (claimed, unused): the pool of N does
 * not change, so "exactly N claimed" stays true.
 */

const requestId = z.number().int().nonnegative().max(0xffffffff);
const timestampMs = z.number().int().nonnegative();
const idempotencyKey = z.string().min(1).max(64);

/** A coupon's id is also the code buyers see (for example `SAVE5`): letters, digits, `_` and `-`, unique in its room. */
export const couponIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'coupon id: letters, digits, _ and - only').min(1).max(32);

/** Most coupons one room holds (a server's `--max-coupons-per-room` may be smaller). */
export const COUPONS_PER_ROOM_MAX = 1000;

/** A coupon as a streamer defines it: exactly one of `amountOffCents` and `percentOff`. */
export const couponInputSchema = z.object({
  id: couponIdSchema,
  /** Shown on the coupon card under the discount (pages describe the discount themselves). */
  title: z.string().min(1).max(80).optional(),
  amountOffCents: z.number().int().min(1).max(1_000_000_000).optional(),
  /** Whole percent, 1–100. */
  percentOff: z.number().int().min(1).max(100).optional(),
  /** The cart's subtotal must reach this for the coupon to apply (0: no minimum). */
  minSpendCents: z.number().int().min(0).max(1_000_000_000).default(0),
  /** How many buyers may claim it (one each). */
  total: z.number().int().min(1).max(1_000_000),
  /** Claims and checkouts are taken from `startsAt` (default: now) until before `endsAt` (default: never). */
  startsAt: timestampMs.optional(),
  endsAt: timestampMs.optional(),
}).refine((c) => (c.amountOffCents === undefined) !== (c.percentOff === undefined), {
  message: 'give exactly one of amountOffCents and percentOff', path: ['amountOffCents'],
}).refine((c) => c.startsAt === undefined || c.endsAt === undefined || c.endsAt > c.startsAt, {
  message: 'endsAt must be after startsAt', path: ['endsAt'],
});
export type CouponInput = z.input<typeof couponInputSchema>;

/** A coupon as the server keeps and tells it. */
export const couponSchema = z.object({
  id: couponIdSchema,
  roomId: z.string(),
  title: z.string().optional(),
  amountOffCents: z.number().int().positive().optional(),
  percentOff: z.number().int().min(1).max(100).optional(),
  minSpendCents: z.number().int().nonnegative(),
  total: z.number().int().positive(),
  startsAt: timestampMs.optional(),
  endsAt: timestampMs.optional(),
  createdAt: timestampMs,
});
export type Coupon = z.infer<typeof couponSchema>;

/** What a room's viewers see: the coupon and how many are left to claim. */
export const couponCardSchema = z.object({ coupon: couponSchema, left: z.number().int().nonnegative() });
export type CouponCard = z.infer<typeof couponCardSchema>;

/**
 * The room's pinned coupon as its viewers see it: the card (null: none pinned) and the pin's
 * `version`. Every pin and unpin in the room's commerce scope takes the next version, and every
 * announcement of the card (its `left` going down) carries its pin's, so nodes' news may cross but a
 * viewer keeps the card of the highest version: an older card never replaces a newer one.
 */
export const pinnedCouponSchema = z.object({ card: couponCardSchema.nullable(), version: z.number().int().nonnegative() });
export type PinnedCoupon = z.infer<typeof pinnedCouponSchema>;

/**
 * What a viewer keeps of two pieces of news of the room's pinned coupon (`held`, then `heard`): the
 * higher version's; for one version, the same coupon's lower `left` (it only goes down). Servers
 * keep their rooms' cards by the same rule.
 */
export function latestPinnedCoupon(held: PinnedCoupon, heard: PinnedCoupon): PinnedCoupon {
  if (heard.version !== held.version) return heard.version > held.version ? heard : held;
  if (held.card === null || heard.card === null || held.card.coupon.id !== heard.card.coupon.id || heard.card.left <= held.card.left) return heard;
  return { card: { coupon: heard.card.coupon, left: held.card.left }, version: heard.version };
}

/** A buyer's claim: when, and the order that used it (absent while unused). */
export const couponClaimSchema = z.object({
  couponId: couponIdSchema,
  userId: z.string(),
  claimedAt: timestampMs,
  orderId: z.string().optional(),
});
export type CouponClaim = z.infer<typeof couponClaimSchema>;

/**
 * The answers to `claimCoupon` (the `result` of its `ok`; members of the cart answer union). Each
 * carries the coupon's terms (its `minSpendCents` among them), so the buyer learns what it needs.
 */
export const couponAnswerSchemas = [
  /** This claim took one of the coupons; `left` is how many remain. */
  z.object({ status: z.literal('coupon_claimed'), coupon: couponSchema, claim: couponClaimSchema, left: z.number().int().nonnegative() }),
  /** The buyer holds this coupon already (one per buyer): their claim, used or not. */
  z.object({ status: z.literal('coupon_already_claimed'), coupon: couponSchema, claim: couponClaimSchema }),
  /** All N were claimed by others. */
  z.object({ status: z.literal('coupons_gone'), coupon: couponSchema }),
  /** Outside the coupon's window: before `startsAt` or from `endsAt` on. */
  z.object({ status: z.literal('coupon_not_active'), coupon: couponSchema }),
  /**
   * A checkout named a coupon that does not apply to it: `reason` says why (`not_claimed`, `used`
   * by another order, `not_active` outside its window, `min_spend`: the subtotal is below
   * `minSpendCents`). Nothing was ordered; the cart is as it was.
   */
  z.object({ status: z.literal('coupon_not_applicable'), couponId: couponIdSchema, reason: z.enum(['not_claimed', 'used', 'not_active', 'min_spend']), minSpendCents: z.number().int().nonnegative().optional(), subtotalCents: z.number().int().nonnegative().optional() }),
] as const;

/** A claimed coupon's discount on `subtotalCents` (0 below its minimum spend). Both stores price this way. */
export function couponDiscount(coupon: Pick<Coupon, 'amountOffCents' | 'percentOff' | 'minSpendCents'>, subtotalCents: number): number {
  if (subtotalCents < coupon.minSpendCents) return 0;
  if (coupon.amountOffCents !== undefined) return Math.min(coupon.amountOffCents, subtotalCents);
  return Math.floor((subtotalCents * (coupon.percentOff ?? 0)) / 100);
}

/** Whether `now` is inside the coupon's window. */
export function couponActive(coupon: Pick<Coupon, 'startsAt' | 'endsAt'>, now: number): boolean {
  return (coupon.startsAt === undefined || now >= coupon.startsAt) && (coupon.endsAt === undefined || now < coupon.endsAt);
}

/** The room's coupon requests (client → server). `claimCoupon` is a cart request: it goes through the cart desk and admission. */
export const couponRequestSchemas = [
  /** Moderators: a new coupon in the room (COUPON_EXISTS when the id is taken). Result `{ coupon }`. */
  z.object({ t: z.literal('createCoupon'), id: requestId, coupon: couponInputSchema }),
  /** Moderators: show the coupon's card to the room (one pinned coupon at a time). Result `{ seq }`. */
  z.object({ t: z.literal('pinCoupon'), id: requestId, couponId: couponIdSchema }),
  z.object({ t: z.literal('unpinCoupon'), id: requestId }),
  /** The room's pinned coupon card (or null), its pin's version (`PinnedCoupon`) and the caller's claims in the room. Result `{ pinned, version, claims }`. */
  z.object({ t: z.literal('getCoupons'), id: requestId }),
  /** Claims one of the coupon's N; a retry with the same `key` gets the first answer. */
  z.object({ t: z.literal('claimCoupon'), id: requestId, key: idempotencyKey, couponId: couponIdSchema }),
] as const;

export const couponRequestTypes: ReadonlySet<string> = new Set(['createCoupon', 'pinCoupon', 'unpinCoupon', 'getCoupons']);

/**
 * Sequenced room event: the pinned coupon's card (null: unpinned) and its pin's `version`
 * (`PinnedCoupon`). Sent to the rooms of the commerce scope (a shop and its linked shows) when it is
 * pinned or unpinned, and again as its `left` changes (at most one per stock interval: latest wins).
 * Another node may still announce the card it knew for a moment after a re-pin: a viewer ignores a
 * card whose version is below the one it holds. The card at joining is in `welcome.coupon`.
 */
export const couponEventSchemas = [
  z.object({ t: z.literal('coupon'), seq: z.number().int().nonnegative(), card: couponCardSchema.nullable(), version: z.number().int().nonnegative().optional() }),
] as const;
