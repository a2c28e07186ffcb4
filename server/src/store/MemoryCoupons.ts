import { type CartAnswer, type Coupon, couponActive, type CouponCard, type CouponClaim, couponDiscount, type PinnedCoupon } from '../../../protocol/src/index.ts';
import { DomainError } from '../DomainError.ts';

interface RoomCoupon {
  readonly coupon: Coupon;
  left: number;
}

/** How a checkout is priced: the coupon and its discount, or the answer that refuses a named coupon. */
export type CouponPricing = { readonly couponId: string | undefined; readonly discountCents: number } | { readonly refusal: CartAnswer };

const sep = '\u0000';

/**
 * The memory store's coupons. Its methods do not await: each runs inside one of MemoryStore's
 * atomic steps (a claim, a checkout, a cancel).
 */
export class MemoryCoupons {
  readonly #coupons = new Map<string, Map<string, RoomCoupon>>(); // room → coupon id → coupon
  readonly #claims = new Map<string, Map<string, CouponClaim>>(); // room␀user → coupon id → claim
  readonly #pinned = new Map<string, { couponId: string | null; version: number }>(); // room → pinned coupon id and the pin's version

  create(roomId: string, coupon: Coupon, maxPerRoom: number): void {
    let room = this.#coupons.get(roomId);
    if (room === undefined) this.#coupons.set(roomId, (room = new Map()));
    if (room.has(coupon.id)) throw new DomainError('COUPON_EXISTS', `coupon ${coupon.id} already exists in this room`);
    if (room.size >= maxPerRoom) throw new DomainError('LIMIT_EXCEEDED', `a room holds at most ${maxPerRoom} coupons`);
    room.set(coupon.id, { coupon: { ...coupon }, left: coupon.total });
  }

  card(roomId: string, couponId: string): CouponCard | undefined {
    const c = this.#coupons.get(roomId)?.get(couponId);
    return c && { coupon: c.coupon, left: c.left };
  }

  cards(roomId: string): CouponCard[] {
    return [...(this.#coupons.get(roomId)?.values() ?? [])].map((c) => ({ coupon: c.coupon, left: c.left }));
  }

  claim(roomId: string, userId: string, couponId: string, now: number): CartAnswer {
    const c = this.#coupons.get(roomId)?.get(couponId);
    if (c === undefined) throw new DomainError('COUPON_NOT_FOUND', `no coupon ${couponId} in this room`);
    const claimsKey = roomId + sep + userId;
    const mine = this.#claims.get(claimsKey)?.get(couponId);
    if (mine !== undefined) return { status: 'coupon_already_claimed', coupon: c.coupon, claim: { ...mine } };
    if (!couponActive(c.coupon, now)) return { status: 'coupon_not_active', coupon: c.coupon };
    if (c.left <= 0) return { status: 'coupons_gone', coupon: c.coupon };
    c.left--;
    const claim: CouponClaim = { couponId, userId, claimedAt: now };
    let claims = this.#claims.get(claimsKey);
    if (claims === undefined) this.#claims.set(claimsKey, (claims = new Map()));
    claims.set(couponId, claim);
    return { status: 'coupon_claimed', coupon: c.coupon, claim: { ...claim }, left: c.left };
  }

  claims(roomId: string, userId: string): CouponClaim[] {
    return [...(this.#claims.get(roomId + sep + userId)?.values() ?? [])].map((claim) => ({ ...claim }));
  }

  /** Pins (null: unpins); answers the pin's version, the next of the room's. */
  pin(roomId: string, couponId: string | null): number {
    if (couponId !== null && !this.#coupons.get(roomId)?.has(couponId)) throw new DomainError('COUPON_NOT_FOUND', `no coupon ${couponId} in this room`);
    const version = (this.#pinned.get(roomId)?.version ?? 0) + 1;
    this.#pinned.set(roomId, { couponId, version });
    return version;
  }

  pinned(roomId: string): PinnedCoupon {
    const pin = this.#pinned.get(roomId);
    if (pin === undefined) return { card: null, version: 0 };
    return { card: (pin.couponId === null ? undefined : this.card(roomId, pin.couponId)) ?? null, version: pin.version };
  }

  /** The checkout's coupon and discount on `subtotalCents` (see `Store.checkout`); changes nothing. */
  price(roomId: string, userId: string, subtotalCents: number, now: number, wanted: string | undefined): CouponPricing {
    const claims = this.#claims.get(roomId + sep + userId);
    const room = this.#coupons.get(roomId);
    if (wanted !== undefined) {
      const claim = claims?.get(wanted);
      const coupon = room?.get(wanted)?.coupon;
      const refuse = (reason: 'not_claimed' | 'used' | 'not_active' | 'min_spend'): CouponPricing => ({
        refusal: reason === 'min_spend'
          ? { status: 'coupon_not_applicable', couponId: wanted, reason, minSpendCents: coupon!.minSpendCents, subtotalCents }
          : { status: 'coupon_not_applicable', couponId: wanted, reason },
      });
      if (claim === undefined || coupon === undefined) return refuse('not_claimed');
      if (claim.orderId !== undefined) return refuse('used');
      if (!couponActive(coupon, now)) return refuse('not_active');
      if (subtotalCents < coupon.minSpendCents) return refuse('min_spend');
      return { couponId: wanted, discountCents: couponDiscount(coupon, subtotalCents) };
    }
    let best: { couponId: string | undefined; discountCents: number } = { couponId: undefined, discountCents: 0 };
    for (const [couponId, claim] of claims ?? []) {
      const coupon = room?.get(couponId)?.coupon;
      if (claim.orderId !== undefined || coupon === undefined || !couponActive(coupon, now)) continue;
      const discountCents = couponDiscount(coupon, subtotalCents);
      if (discountCents > best.discountCents || (discountCents > 0 && discountCents === best.discountCents && couponId < best.couponId!)) best = { couponId, discountCents };
    }
    return best;
  }

  /** The coupon is used by `orderId`. */
  use(roomId: string, userId: string, couponId: string, orderId: string): void {
    const claim = this.#claims.get(roomId + sep + userId)?.get(couponId);
    if (claim !== undefined) this.#claims.get(roomId + sep + userId)!.set(couponId, { ...claim, orderId });
  }

  /** `orderId` was cancelled: its coupon is its buyer's again, unused. */
  giveBack(roomId: string, userId: string, couponId: string, orderId: string): void {
    const claims = this.#claims.get(roomId + sep + userId);
    const claim = claims?.get(couponId);
    if (claim?.orderId !== orderId) return;
    claims!.set(couponId, { couponId: claim.couponId, userId: claim.userId, claimedAt: claim.claimedAt });
  }
}
