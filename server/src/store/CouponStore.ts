import type { CartAnswer, Coupon, CouponCard, CouponClaim, PinnedCoupon } from '../../../protocol/src/index.ts';
import type { DomainError } from '../DomainError.ts';

/** One coupon claim, as the admission path sends it to the store. */
export interface ClaimRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly couponId: string;
  /** Idempotency key, scoped by user and room: a repeat returns the first answer. */
  readonly key: string;
  /** When the store applies it (the coupon's window is checked against it). */
  readonly now: number;
}

/**
 * The coupons of a room, in the same store as its stock and orders (one room, one place: a Redis
 * Cluster slot), so that a claim is one atomic step and a checkout prices its order with its
 * coupon in the same step that places it (see `Store.checkout` and protocol/src/coupons.ts).
 */
export interface CouponStore {
  /** Registers a coupon with `total` left. Throws COUPON_EXISTS for a taken id, LIMIT_EXCEEDED past `maxPerRoom` coupons in the room. */
  createCoupon(roomId: string, coupon: Coupon, maxPerRoom: number): Promise<void>;
  /** The coupon and how many are left, or undefined. */
  coupon(roomId: string, couponId: string): Promise<CouponCard | undefined>;
  /** Every coupon of the room, oldest first. */
  roomCoupons(roomId: string): Promise<CouponCard[]>;
  /**
   * Claims, in one atomic step per room, answered in order. Each: the key's recorded answer when it
   * has one (IDEMPOTENCY_MISMATCH in its slot for another request's key); COUPON_NOT_FOUND in its
   * slot (not recorded); else `coupon_already_claimed` when the user holds it, `coupon_not_active`
   * outside its window, `coupons_gone` when none is left, or `coupon_claimed` taking one: never
   * more than `total` claims, one per user. Every answer but an error is recorded for the key.
   */
  claimCoupons(requests: readonly ClaimRequest[]): Promise<Array<CartAnswer | DomainError>>;
  /** The user's claims in the room. */
  userClaims(roomId: string, userId: string): Promise<CouponClaim[]>;
  /**
   * Pins the coupon (or unpins, with null) for the room's card; resolves with the pin's version: the
   * room's next, in the same atomic step (every pin and unpin takes one, so the latest has the
   * highest whatever node made it). Throws COUPON_NOT_FOUND for an unknown id.
   */
  pinCoupon(roomId: string, couponId: string | null): Promise<number>;
  /** The pinned coupon's card (null: none) and its pin's version (0 before any pin). */
  pinnedCoupon(roomId: string): Promise<PinnedCoupon>;
}
