import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CartAnswer, Coupon } from '../../protocol/src/index.ts';
import { DomainError } from '../../server/src/DomainError.ts';
import type { ClaimRequest } from '../../server/src/store/CouponStore.ts';
import type { InventoryItem, ReserveRequest, Store } from '../../server/src/store/Store.ts';
import type { StoreFactory } from './storeContract.ts';

const T0 = 1_800_000_000_000;
const TTL = 60_000;
let keys = 0;
const key = () => `ck${++keys}-${Math.random().toString(36).slice(2, 8)}`;

const coupon = (id: string, extra: Partial<Coupon> = {}): Coupon => ({ id, roomId: 'r1', title: id, amountOffCents: 500, minSpendCents: 0, total: 10, createdAt: T0, ...extra });
const claim = (userId: string, couponId: string, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({ roomId: 'r1', userId, couponId, key: key(), now: T0, ...extra });
const item = (sku: string, stock: number, extra: Partial<InventoryItem> = {}): InventoryItem => ({ sku, stock, priceCents: 1000, currency: 'USD', ...extra });
const add = (userId: string, sku: string, quantity: number, now = T0): ReserveRequest => ({ roomId: 'r1', userId, sku, quantity, key: key(), now, ttlMs: TTL });

async function claimOne(store: Store, request: ClaimRequest): Promise<CartAnswer> {
  const [answer] = await store.claimCoupons([request]);
  if (answer instanceof DomainError) throw answer;
  return answer!;
}

function expectStatus<S extends CartAnswer['status']>(answer: CartAnswer, status: S): Extract<CartAnswer, { status: S }> {
  expect(answer.status, JSON.stringify(answer)).toBe(status);
  return answer as Extract<CartAnswer, { status: S }>;
}

async function ordered(store: Store, userId: string, now = T0, couponId?: string) {
  return expectStatus(await store.checkout('r1', userId, key(), now, couponId), 'ordered').order;
}

/** Coupons, every store: exactly N claims under concurrency, one per buyer, idempotent, windowed, priced at checkout. */
export function describeCouponContract(name: string, factory: StoreFactory): void {
  describe(`Coupon contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(() => store.close());

    it('creates a coupon once, lists it, pins and unpins its card', async () => {
      await store.createCoupon('r1', coupon('SAVE5'), 10);
      await expect(store.createCoupon('r1', coupon('SAVE5'), 10)).rejects.toMatchObject({ code: 'COUPON_EXISTS' });
      await store.createCoupon('r1', coupon('TEN', { amountOffCents: undefined, percentOff: 10 }), 10);
      await expect(store.createCoupon('r1', coupon('THIRD'), 2)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
      expect((await store.roomCoupons('r1')).map((c) => [c.coupon.id, c.left])).toEqual([['SAVE5', 10], ['TEN', 10]]);
      expect(await store.coupon('r1', 'nope')).toBeUndefined();
      expect(await store.pinnedCoupon('r1')).toEqual({ card: null, version: 0 });
      // Every pin and unpin takes the room's next version, in the step that pins.
      expect(await store.pinCoupon('r1', 'TEN')).toBe(1);
      expect(await store.pinnedCoupon('r1')).toMatchObject({ card: { coupon: { id: 'TEN', percentOff: 10 }, left: 10 }, version: 1 });
      await expect(store.pinCoupon('r1', 'nope')).rejects.toMatchObject({ code: 'COUPON_NOT_FOUND' });
      expect(await store.pinCoupon('r1', 'SAVE5')).toBe(2);
      expect(await store.pinnedCoupon('r1')).toMatchObject({ card: { coupon: { id: 'SAVE5' } }, version: 2 });
      expect(await store.pinCoupon('r1', null)).toBe(3);
      expect(await store.pinnedCoupon('r1')).toEqual({ card: null, version: 3 });
      expect(await store.pinnedCoupon('r2')).toEqual({ card: null, version: 0 });
    });

    it('two nodes re-pinning at once: each pin has its own version, and the highest is the pin the room keeps', async () => {
      for (const id of ['A', 'B', 'C', 'D']) await store.createCoupon('r1', coupon(id), 10);
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const pins = ['A', 'B', 'C', 'D'].map((id, i) => [id, i % 2 === 0 ? store : other] as const);
        const versions = await Promise.all(pins.map(([id, on]) => on.pinCoupon('r1', id)));
        expect([...versions].sort()).toEqual([1, 2, 3, 4]);
        const last = pins[versions.indexOf(4)]![0];
        expect(await other.pinnedCoupon('r1')).toMatchObject({ card: { coupon: { id: last } }, version: 4 });
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('gives exactly N claims to concurrent buyers, one each, and answers every claim', async () => {
      await store.createCoupon('r1', coupon('HOT', { total: 50 }), 10);
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        // 200 buyers, each trying twice with new keys, over two handles (two nodes), in batches as admission sends them.
        const requests = Array.from({ length: 400 }, (_, i) => claim(`u${i % 200}`, 'HOT'));
        const batches = Array.from({ length: 40 }, (_, b) => requests.slice(b * 10, b * 10 + 10));
        const answers = (await Promise.all(batches.map((batch, b) => (b % 2 === 0 ? store : other).claimCoupons(batch)))).flat();
        expect(answers).toHaveLength(400);
        const statuses = answers.map((a) => (a instanceof DomainError ? a.code : a.status));
        expect(statuses.filter((s) => s === 'coupon_claimed')).toHaveLength(50);
        expect(new Set(statuses)).toEqual(new Set(['coupon_claimed', 'coupons_gone', 'coupon_already_claimed']));
        const winners = answers.flatMap((a, i) => (!(a instanceof DomainError) && a.status === 'coupon_claimed' ? [requests[i]!.userId] : []));
        expect(new Set(winners).size).toBe(50);
        // Nobody got two; everyone who won and asked again heard of their claim.
        answers.forEach((a, i) => {
          if (!(a instanceof DomainError) && a.status === 'coupon_already_claimed') expect(winners).toContain(requests[i]!.userId);
        });
        expect(await store.coupon('r1', 'HOT')).toMatchObject({ left: 0 });
        const lefts = answers.flatMap((a) => (!(a instanceof DomainError) && a.status === 'coupon_claimed' ? [a.left] : []));
        expect([...lefts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('answers a retried key with its first answer, and another request under the key with IDEMPOTENCY_MISMATCH', async () => {
      await store.createCoupon('r1', coupon('ONE', { total: 1 }), 10);
      await store.createCoupon('r1', coupon('TWO'), 10);
      const first = claim('u1', 'ONE');
      const claimed = expectStatus(await claimOne(store, first), 'coupon_claimed');
      expect(claimed).toMatchObject({ left: 0, claim: { couponId: 'ONE', userId: 'u1', claimedAt: T0 } });
      expectStatus(await claimOne(store, claim('u2', 'ONE')), 'coupons_gone');
      // The last one's winner retries (a lost reply): claimed again, not "gone", not "already".
      expect(await claimOne(store, { ...first, now: T0 + 5 })).toEqual(claimed);
      expect(await store.recorded('r1', 'u1', first.key, 'claim|r1|ONE')).toEqual(claimed);
      const [mismatch] = await store.claimCoupons([{ ...first, couponId: 'TWO' }]);
      expect(mismatch).toBeInstanceOf(DomainError);
      expect((mismatch as DomainError).code).toBe('IDEMPOTENCY_MISMATCH');
      const again = expectStatus(await claimOne(store, claim('u1', 'ONE')), 'coupon_already_claimed');
      expect(again.claim).toEqual(claimed.claim);
      const [unknown] = await store.claimCoupons([claim('u1', 'NOPE')]);
      expect((unknown as DomainError).code).toBe('COUPON_NOT_FOUND');
      expect(await store.userClaims('r1', 'u1')).toEqual([claimed.claim]);
    });

    it('takes claims only inside the window', async () => {
      await store.createCoupon('r1', coupon('WIN', { startsAt: T0 + 1000, endsAt: T0 + 2000 }), 10);
      expectStatus(await claimOne(store, claim('u1', 'WIN', { now: T0 })), 'coupon_not_active');
      expectStatus(await claimOne(store, claim('u1', 'WIN', { now: T0 + 2000 })), 'coupon_not_active');
      expectStatus(await claimOne(store, claim('u1', 'WIN', { now: T0 + 1000 })), 'coupon_claimed');
      expect(await store.coupon('r1', 'WIN')).toMatchObject({ left: 9 });
    });

    it('applies the claimed coupon at checkout exactly, records list price, subtotal, discount and total, and uses it once', async () => {
      await store.addProduct('r1', item('a', 10, { priceCents: 1999, listPriceCents: 2599 }));
      await store.addProduct('r1', item('b', 10, { priceCents: 333 }));
      await store.createCoupon('r1', coupon('PCT', { amountOffCents: undefined, percentOff: 15 }), 10);
      expectStatus(await claimOne(store, claim('u1', 'PCT')), 'coupon_claimed');
      await store.reserve(add('u1', 'a', 2));
      await store.reserve(add('u1', 'b', 3));
      const order = await ordered(store, 'u1');
      // 2 × 1999 + 3 × 333 = 4997; 15% = 749.55 → 749 (floored).
      expect(order).toMatchObject({ subtotalCents: 4997, discountCents: 749, totalCents: 4248, couponId: 'PCT' });
      expect(order.lines.find((l) => l.sku === 'a')).toEqual({ sku: 'a', quantity: 2, priceCents: 1999, listPriceCents: 2599 });
      expect(order.lines.find((l) => l.sku === 'b')).toEqual({ sku: 'b', quantity: 3, priceCents: 333 });
      expect(await store.userClaims('r1', 'u1')).toEqual([expect.objectContaining({ couponId: 'PCT', orderId: order.id })]);
      // Used: the next order pays full price.
      await store.reserve(add('u1', 'b', 1));
      const next = await ordered(store, 'u1');
      expect(next).toMatchObject({ subtotalCents: 333, discountCents: 0, totalCents: 333 });
      expect(next.couponId).toBeUndefined();
      expect(await store.order(order.id)).toMatchObject({ subtotalCents: 4997, discountCents: 749, totalCents: 4248 });
    });

    it('checks the minimum spend at checkout: the best coupon that applies, or the named one refused', async () => {
      await store.addProduct('r1', item('a', 10, { priceCents: 1000 }));
      await store.createCoupon('r1', coupon('BIG', { amountOffCents: 3000, minSpendCents: 5000 }), 10);
      await store.createCoupon('r1', coupon('SMALL', { amountOffCents: 200 }), 10);
      await store.createCoupon('r1', coupon('AMT', { amountOffCents: 99_999 }), 10);
      expectStatus(await claimOne(store, claim('u1', 'BIG')), 'coupon_claimed');
      expectStatus(await claimOne(store, claim('u1', 'SMALL')), 'coupon_claimed');
      await store.reserve(add('u1', 'a', 2));
      const refused = expectStatus(await store.checkout('r1', 'u1', key(), T0, 'BIG'), 'coupon_not_applicable');
      expect(refused).toMatchObject({ couponId: 'BIG', reason: 'min_spend', minSpendCents: 5000, subtotalCents: 2000 });
      expectStatus(await store.checkout('r1', 'u1', key(), T0, 'AMT'), 'coupon_not_applicable');
      // Nothing was ordered: the cart and the stock are as they were.
      expect(await store.stock('r1', 'a')).toEqual({ available: 8, reserved: 2, sold: 0 });
      // Best that applies at 2000: SMALL (BIG needs 5000).
      expect(await ordered(store, 'u1')).toMatchObject({ subtotalCents: 2000, discountCents: 200, totalCents: 1800, couponId: 'SMALL' });
      await store.reserve(add('u1', 'a', 6));
      expect(await ordered(store, 'u1')).toMatchObject({ subtotalCents: 6000, discountCents: 3000, totalCents: 3000, couponId: 'BIG' });
      expectStatus(await claimOne(store, claim('u2', 'AMT')), 'coupon_claimed');
      await store.reserve(add('u2', 'a', 1));
      // An amount above the subtotal takes it to 0, never below.
      expect(await ordered(store, 'u2', T0, 'AMT')).toMatchObject({ subtotalCents: 1000, discountCents: 1000, totalCents: 0 });
    });

    it('uses a coupon only inside its window at checkout, and gives it back when its order is cancelled (stock exact)', async () => {
      await store.addProduct('r1', item('a', 5, { priceCents: 1000 }));
      await store.createCoupon('r1', coupon('LATE', { endsAt: T0 + 10_000 }), 10);
      expectStatus(await claimOne(store, claim('u1', 'LATE')), 'coupon_claimed');
      await store.reserve(add('u1', 'a', 1, T0 + 10_000));
      expect(expectStatus(await store.checkout('r1', 'u1', key(), T0 + 10_000, 'LATE'), 'coupon_not_applicable').reason).toBe('not_active');
      expect(await ordered(store, 'u1', T0 + 10_000)).toMatchObject({ discountCents: 0, totalCents: 1000 });

      await store.createCoupon('r1', coupon('BACK'), 10);
      expectStatus(await claimOne(store, claim('u2', 'BACK')), 'coupon_claimed');
      await store.reserve(add('u2', 'a', 2));
      const order = await ordered(store, 'u2');
      expect(order).toMatchObject({ discountCents: 500, totalCents: 1500, couponId: 'BACK' });
      await store.reserve(add('u2', 'a', 1));
      expect(expectStatus(await store.checkout('r1', 'u2', key(), T0, 'BACK'), 'coupon_not_applicable').reason).toBe('used');
      const cancelled = await store.advanceOrder(order.id, { status: 'cancelled', at: T0 + 1 });
      expect(cancelled.restocked).toEqual([{ sku: 'a', quantity: 2, available: 3 }]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 3, reserved: 1, sold: 1 });
      expect(await store.userClaims('r1', 'u2')).toEqual([{ couponId: 'BACK', userId: 'u2', claimedAt: T0 }]);
      expect(await store.coupon('r1', 'BACK')).toMatchObject({ left: 9 });
      expect(await ordered(store, 'u2')).toMatchObject({ discountCents: 500, totalCents: 500, couponId: 'BACK' });
    });

    it('answers a checkout retry with its first order, coupon and all', async () => {
      await store.addProduct('r1', item('a', 5));
      await store.createCoupon('r1', coupon('R'), 10);
      expectStatus(await claimOne(store, claim('u1', 'R')), 'coupon_claimed');
      await store.reserve(add('u1', 'a', 1));
      const k = key();
      const first = expectStatus(await store.checkout('r1', 'u1', k, T0, 'R'), 'ordered');
      expect(await store.checkout('r1', 'u1', k, T0 + 1, 'R')).toEqual(first);
      await expect(store.checkout('r1', 'u1', k, T0 + 1)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    });
  });
}
