import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import { DomainError } from '../../server/src/DomainError.ts';
import { BACK_IN_STOCK, type InventoryItem, type ReserveRequest, type Store } from '../../server/src/store/Store.ts';

export interface StoreFactory {
  create(): Promise<Store>;
  /** A second handle on the same data (another node), when the store supports it. */
  sibling?(store: Store): Promise<Store>;
}

const T0 = 1_800_000_000_000;
const TTL = 60_000;
let keyCounter = 0;
const key = () => `k${++keyCounter}-${Math.random().toString(36).slice(2, 8)}`;

function req(partial: Partial<ReserveRequest> & Pick<ReserveRequest, 'userId' | 'sku' | 'quantity'>): ReserveRequest {
  return { roomId: 'r1', key: key(), now: T0, ttlMs: TTL, ...partial };
}

const item = (sku: string, stock: number, extra: Partial<InventoryItem> = {}): InventoryItem => ({ sku, stock, priceCents: 1000, currency: 'USD', ...extra });

function expectStatus<S extends CartAnswer['status']>(answer: CartAnswer, status: S): Extract<CartAnswer, { status: S }> {
  expect(answer.status, JSON.stringify(answer)).toBe(status);
  return answer as Extract<CartAnswer, { status: S }>;
}

/** One contract, every store: the same tests run unchanged against memory and Redis. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(() => store.close());

    it('reserves stock for a user with an expiry and counts it as reserved', async () => {
      await store.addProduct('r1', item('a', 10));
      const answer = expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 3 })), 'reserved');
      expect(answer).toMatchObject({ sku: 'a', quantity: 3, granted: 3, available: 7, expiresAt: T0 + TTL });
      expect(await store.stock('r1', 'a')).toEqual({ available: 7, reserved: 3, sold: 0 });
      const more = expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 2, now: T0 + 1000 })), 'reserved');
      expect(more).toMatchObject({ quantity: 5, granted: 2, expiresAt: T0 + 1000 + TTL });
      const cart = await store.cart('r1', 'u1', T0 + 1000);
      expect(cart).toMatchObject({ roomId: 'r1', currency: 'USD', totalCents: 5000, lines: [{ sku: 'a', quantity: 5, priceCents: 1000 }] });
      expect(await store.roomStock('r1')).toEqual({ a: 5 });
    });

    it('grants what is left when stock runs short, then answers sold out', async () => {
      await store.addProduct('r1', item('a', 4));
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 3 })), 'reserved');
      const partial = expectStatus(await store.reserve(req({ userId: 'u2', sku: 'a', quantity: 3 })), 'reserved');
      expect(partial).toMatchObject({ quantity: 1, granted: 1, available: 0 });
      expectStatus(await store.reserve(req({ userId: 'u3', sku: 'a', quantity: 1 })), 'sold_out');
    });

    it('changes quantity, releasing or reserving the difference; removing needs a line', async () => {
      await store.addProduct('r1', item('a', 10));
      expectStatus(await store.setQuantity(req({ userId: 'u1', sku: 'a', quantity: 2 })), 'cart_not_found');
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 5 })), 'reserved');
      expect(expectStatus(await store.setQuantity(req({ userId: 'u1', sku: 'a', quantity: 2 })), 'released')).toMatchObject({ quantity: 2, available: 8 });
      expect(expectStatus(await store.setQuantity(req({ userId: 'u1', sku: 'a', quantity: 4 })), 'reserved')).toMatchObject({ quantity: 4, granted: 2, available: 6 });
      expect(expectStatus(await store.setQuantity(req({ userId: 'u1', sku: 'a', quantity: 0 })), 'released')).toMatchObject({ quantity: 0, available: 10 });
      expect((await store.cart('r1', 'u1', T0)).lines).toEqual([]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 10, reserved: 0, sold: 0 });
    });

    it('returns expired reservations to stock through the sweeper and reports them', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r1', item('b', 10));
      await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 4 }));
      await store.reserve(req({ userId: 'u2', sku: 'b', quantity: 1, now: T0 + 30_000 }));
      expect(await store.sweepExpired(T0 + TTL - 1, 100)).toEqual([]);
      const swept = await store.sweepExpired(T0 + TTL, 100);
      expect(swept).toEqual([{ roomId: 'r1', userId: 'u1', sku: 'a', quantity: 4, available: 10 }]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 10, reserved: 0, sold: 0 });
      expect((await store.cart('r1', 'u1', T0 + TTL)).lines).toEqual([]);
      expect(await store.sweepExpired(T0 + TTL, 100)).toEqual([]); // once only
      expect(await store.stock('r1', 'b')).toEqual({ available: 9, reserved: 1, sold: 0 });
    });

    it('releases every line a user holds in a room at once (a kick), and only theirs', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r1', item('b', 5));
      await store.addProduct('r2', item('a', 10));
      await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 3 }));
      await store.reserve(req({ userId: 'u1', sku: 'b', quantity: 5 }));
      await store.reserve(req({ userId: 'u2', sku: 'a', quantity: 1 }));
      await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 2, roomId: 'r2' }));
      const released = await store.releaseUser('r1', 'u1');
      expect([...released].sort((x, y) => x.sku.localeCompare(y.sku))).toEqual([{ sku: 'a', quantity: 3, available: 9 }, { sku: 'b', quantity: 5, available: 5 }]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 9, reserved: 1, sold: 0 });
      expect(await store.stock('r1', 'b')).toEqual({ available: 5, reserved: 0, sold: 0 });
      expect((await store.cart('r1', 'u1', T0)).lines).toEqual([]);
      expect((await store.cart('r1', 'u2', T0)).lines).toHaveLength(1);
      expect((await store.cart('r2', 'u1', T0)).lines).toHaveLength(1); // another room is untouched
      // Released lines are not swept again, and a second release finds nothing.
      const swept = await store.sweepExpired(T0 + TTL, 100);
      expect(swept.filter((e) => e.userId === 'u1' && e.roomId === 'r1')).toEqual([]);
      expect(swept).toHaveLength(2); // u2's line in r1 and u1's in r2
      expect(await store.releaseUser('r1', 'u1')).toEqual([]);
      expect(await store.checkout('r1', 'u1', key(), T0)).toEqual({ status: 'cart_not_found' });
    });

    it('checks out all lines into one durable order, atomically, and sells the stock', async () => {
      await store.addProduct('r1', item('a', 10, { priceCents: 1299 }));
      await store.addProduct('r1', item('b', 5, { priceCents: 500 }));
      await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 2 }));
      await store.reserve(req({ userId: 'u1', sku: 'b', quantity: 3 }));
      const ordered = expectStatus(await store.checkout('r1', 'u1', key(), T0 + 1000), 'ordered');
      expect(ordered.order).toMatchObject({ roomId: 'r1', userId: 'u1', totalCents: 2 * 1299 + 3 * 500, currency: 'USD', createdAt: T0 + 1000 });
      expect(ordered.order.lines).toEqual(expect.arrayContaining([{ sku: 'a', quantity: 2, priceCents: 1299 }, { sku: 'b', quantity: 3, priceCents: 500 }]));
      expect(await store.stock('r1', 'a')).toEqual({ available: 8, reserved: 0, sold: 2 });
      expect(await store.stock('r1', 'b')).toEqual({ available: 2, reserved: 0, sold: 3 });
      expect(await store.order(ordered.order.id)).toEqual(ordered.order);
      expect((await store.orders('r1')).map((o) => o.id)).toEqual([ordered.order.id]);
      expectStatus(await store.checkout('r1', 'u1', key(), T0 + 2000), 'cart_not_found');
      // sold units never come back through the sweeper
      expect(await store.sweepExpired(T0 + 10 * TTL, 100)).toEqual([]);
    });

    it('refuses the whole checkout when a line expired: nothing is ordered, the expired units go back', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r1', item('b', 10));
      await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1 }));
      await store.reserve(req({ userId: 'u1', sku: 'b', quantity: 1, now: T0 + 30_000 }));
      const refused = expectStatus(await store.checkout('r1', 'u1', key(), T0 + TTL + 1), 'expired');
      expect(refused.skus).toEqual(['a']);
      expect(await store.stock('r1', 'a')).toEqual({ available: 10, reserved: 0, sold: 0 });
      expect(await store.stock('r1', 'b')).toEqual({ available: 9, reserved: 1, sold: 0 });
      expect(await store.orders('r1')).toEqual([]);
      // confirming again orders what is still held
      const ordered = expectStatus(await store.checkout('r1', 'u1', key(), T0 + TTL + 2), 'ordered');
      expect(ordered.order.lines).toEqual([{ sku: 'b', quantity: 1, priceCents: 1000 }]);
    });

    it('holds a line at its own price (an auction\'s): the cart and the order price it so, outside the sale window, and it takes no more units', async () => {
      await store.addProduct('r1', item('lot', 3, { priceCents: 1000, saleStartsAt: T0 + 60_000 }));
      await store.addProduct('r1', item('b', 5, { priceCents: 500 }));
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'lot', quantity: 1, priceCents: 4200 })), 'reserved')).toMatchObject({ quantity: 1, granted: 1, available: 2, expiresAt: T0 + TTL });
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'lot', quantity: 1 })), 'limit_reached').limit).toBe(1);
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'lot', quantity: 1, priceCents: 4300 })), 'limit_reached');
      await store.reserve(req({ userId: 'u1', sku: 'b', quantity: 1 }));
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'b', quantity: 1, priceCents: 100 })), 'limit_reached');
      const cart = await store.cart('r1', 'u1', T0 + 1);
      expect(cart.totalCents).toBe(4200 + 500);
      expect(cart.lines).toEqual(expect.arrayContaining([{ sku: 'lot', quantity: 1, priceCents: 4200, expiresAt: T0 + TTL }]));
      const ordered = expectStatus(await store.checkout('r1', 'u1', key(), T0 + 2), 'ordered');
      expect(ordered.order.totalCents).toBe(4200 + 500);
      expect(ordered.order.lines).toEqual(expect.arrayContaining([{ sku: 'lot', quantity: 1, priceCents: 4200 }]));
      expect(await store.stock('r1', 'lot')).toEqual({ available: 2, reserved: 0, sold: 1 });
      // Another buyer's add of the same product is the product's price, inside its window.
      expectStatus(await store.reserve(req({ userId: 'u2', sku: 'lot', quantity: 1 })), 'not_on_sale');
    });

    it('enforces the per-customer limit across reserved and bought units', async () => {
      await store.addProduct('r1', item('a', 100, { perCustomerLimit: 3 }));
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 5 })), 'reserved')).toMatchObject({ quantity: 3, granted: 3 });
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1 })), 'limit_reached').limit).toBe(3);
      await store.checkout('r1', 'u1', key(), T0);
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1 })), 'limit_reached');
      expectStatus(await store.reserve(req({ userId: 'u2', sku: 'a', quantity: 1 })), 'reserved');
    });

    it('answers not on sale outside the flash-sale window, with the start or end time', async () => {
      await store.addProduct('r1', item('a', 10, { saleStartsAt: T0 + 1000, saleEndsAt: T0 + 5000 }));
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1 })), 'not_on_sale').startsAt).toBe(T0 + 1000);
      expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1, now: T0 + 1000 })), 'reserved');
      expect(expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1, now: T0 + 5000 })), 'not_on_sale').endsAt).toBe(T0 + 5000);
    });

    it('returns the first answer for a repeated idempotency key and changes nothing', async () => {
      await store.addProduct('r1', item('a', 10));
      const k = key();
      const first = await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 2, key: k }));
      const again = await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 2, key: k, now: T0 + 500 }));
      expect(again).toEqual(first);
      expect(await store.stock('r1', 'a')).toEqual({ available: 8, reserved: 2, sold: 0 });
      // the key is scoped by user
      expect(expectStatus(await store.reserve(req({ userId: 'u2', sku: 'a', quantity: 2, key: k })), 'reserved').available).toBe(6);
      const ck = key();
      const order = await store.checkout('r1', 'u1', ck, T0 + 1000);
      expect(await store.checkout('r1', 'u1', ck, T0 + 2000)).toEqual(order);
      expect(await store.orders('r1')).toHaveLength(1);
    });

    it('refuses a key reused for a different request, and keeps users\' keys apart however they are spelled', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r1', item('b', 10));
      const k = key();
      const first = expectStatus(await store.reserve(req({ userId: 'u1', sku: 'a', quantity: 1, key: k })), 'reserved');
      for (const other of [req({ userId: 'u1', sku: 'a', quantity: 2, key: k }), req({ userId: 'u1', sku: 'b', quantity: 1, key: k })]) {
        await expect(store.reserve(other)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      }
      await expect(store.setQuantity(req({ userId: 'u1', sku: 'a', quantity: 1, key: k }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      await expect(store.checkout('r1', 'u1', k, T0)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      const batch = await store.reserveBatch([req({ userId: 'u1', sku: 'b', quantity: 1, key: k }), req({ userId: 'u1', sku: 'a', quantity: 1, key: k })]);
      expect((batch[0] as DomainError).code).toBe('IDEMPOTENCY_MISMATCH');
      expect(batch[1]).toEqual(first);
      // What the key answered, as the desk looks it up (a mismatch is an error there too).
      expect(await store.recorded('r1', 'u1', k, 'add|r1|a|1')).toEqual(first);
      expect(await store.recorded('r1', 'u1', `${k}-never`, 'add|r1|a|1')).toBeUndefined();
      await expect(store.recorded('r1', 'u1', k, 'add|r1|a|2')).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      expect(await store.stock('r1', 'a')).toEqual({ available: 9, reserved: 1, sold: 0 });
      // User `alice` with key `x:y` and user `alice:x` with key `y` are two records, not one.
      const suffix = key();
      const alice = expectStatus(await store.reserve(req({ userId: 'alice', sku: 'a', quantity: 1, key: `x:${suffix}` })), 'reserved');
      const aliceX = expectStatus(await store.reserve(req({ userId: 'alice:x', sku: 'a', quantity: 2, key: suffix })), 'reserved');
      expect(aliceX.quantity).toBe(2);
      expect(aliceX.available).toBe(alice.available - 2);
      // Adds of a product believed sold out: each key's recorded answer first; while the product is in
      // stock (it came back), nothing is recorded for the others and nothing moves: the caller reserves them.
      const lane = await store.soldOutBatch([
        req({ userId: 'u1', sku: 'a', quantity: 1, key: k }),
        req({ userId: 'u1', sku: 'a', quantity: 5, key: k }),
        req({ userId: 'u9', sku: 'a', quantity: 1, key: k }),
      ]);
      expect(lane[0]).toEqual(first);
      expect((lane[1] as DomainError).code).toBe('IDEMPOTENCY_MISMATCH');
      expect(lane[2]).toBe(BACK_IN_STOCK);
      expect(await store.recorded('r1', 'u9', k, 'add|r1|a|1')).toBeUndefined();
      expect(await store.stock('r1', 'a')).toEqual({ available: 6, reserved: 4, sold: 0 });
      // Sold out: sold_out is recorded as the key's answer, and stands after a come-back.
      await store.setAvailable('r1', 'a', 0);
      expect(await store.soldOutBatch([req({ userId: 'u9', sku: 'a', quantity: 1, key: k })])).toEqual([{ status: 'sold_out', sku: 'a' }]);
      await store.setAvailable('r1', 'a', 6);
      expect(await store.reserve(req({ userId: 'u9', sku: 'a', quantity: 1, key: k }))).toEqual({ status: 'sold_out', sku: 'a' });
      expect(await store.stock('r1', 'a')).toEqual({ available: 6, reserved: 4, sold: 0 });
      // A user id outside ASCII: the record the store writes is the one it finds again.
      const buyer = '买家😀';
      const k2 = key();
      const bought = expectStatus(await store.reserve(req({ userId: buyer, sku: 'b', quantity: 1, key: k2 })), 'reserved');
      expect(await store.recorded('r1', buyer, k2, 'add|r1|b|1')).toEqual(bought);
      expect(await store.reserve(req({ userId: buyer, sku: 'b', quantity: 1, key: k2 }))).toEqual(bought);
    });

    it('answers a batch like the same requests one by one, with per-request errors in place', async () => {
      await store.addProduct('r1', item('a', 3));
      const answers = await store.reserveBatch([
        req({ userId: 'u1', sku: 'a', quantity: 2 }),
        req({ userId: 'u2', sku: 'nope', quantity: 1 }),
        req({ userId: 'u2', sku: 'a', quantity: 2 }),
        req({ userId: 'u3', sku: 'a', quantity: 1 }),
      ]);
      expect((answers[0] as CartAnswer).status).toBe('reserved');
      expect(answers[1]).toBeInstanceOf(DomainError);
      expect((answers[1] as DomainError).code).toBe('PRODUCT_NOT_FOUND');
      expect(answers[2]).toMatchObject({ status: 'reserved', granted: 1, available: 0 });
      expect(answers[3]).toMatchObject({ status: 'sold_out' });
    });

    it('grants a giveaway prize as an order of total 0 from available stock, once per key, never past the stock', async () => {
      await store.addProduct('r1', item('tote', 2, { listPriceCents: 1500 }));
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        // Three winners race on two nodes for two units; one winner's grant is retried at once.
        const answers = await Promise.all([
          store.grantPrize('r1', 'w1', 'tote', 'giveaway:r1:g', T0), other.grantPrize('r1', 'w2', 'tote', 'giveaway:r1:g', T0),
          store.grantPrize('r1', 'w3', 'tote', 'giveaway:r1:g', T0), other.grantPrize('r1', 'w1', 'tote', 'giveaway:r1:g', T0),
        ]);
        const orders = answers.filter((a) => a.status === 'ordered');
        expect(new Set(orders.map((a) => a.status === 'ordered' && a.order.id)).size).toBe(2);
        expect(answers.filter((a) => a.status === 'sold_out')).toHaveLength(answers.length - orders.length);
        expect(answers[0]).toEqual(answers[3]);
        for (const a of orders) {
          expect(a.status === 'ordered' && a.order).toMatchObject({ roomId: 'r1', totalCents: 0, subtotalCents: 0, discountCents: 0, currency: 'USD', status: 'placed', lines: [{ sku: 'tote', quantity: 1, priceCents: 0, listPriceCents: 1500 }] });
        }
        expect(await store.stock('r1', 'tote')).toEqual({ available: 0, reserved: 0, sold: 2 });
        await expect(store.grantPrize('r1', 'w1', 'nope', 'giveaway:r1:h', T0)).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('types unknown and duplicate products as errors', async () => {
      await store.addProduct('r1', item('a', 1));
      await expect(store.addProduct('r1', item('a', 1))).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
      await expect(store.reserve(req({ userId: 'u1', sku: 'zzz', quantity: 1 }))).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
      await store.addProduct('r2', item('a', 7)); // same sku, another room: separate stock
      expect(await store.roomStock('r2')).toEqual({ a: 7 });
      expect((await store.setAvailable('r2', 'a', 20)).available).toBe(20);
    });

    it('never oversells: 300 concurrent buyers × 1–3 units race for 100 units', async () => {
      await store.addProduct('r1', item('hot', 100));
      const other = factory.sibling ? await factory.sibling(store) : store;
      const wants = Array.from({ length: 300 }, (_, i) => 1 + (i % 3));
      const answers = await Promise.all(
        wants.map((quantity, i) => (i % 2 === 0 ? store : other).reserve(req({ userId: `buyer-${i}`, sku: 'hot', quantity }))),
      );
      const granted = answers.reduce((sum, a) => sum + (a.status === 'reserved' ? a.granted : 0), 0);
      expect(granted).toBe(100);
      expect(answers.every((a) => a.status === 'reserved' || a.status === 'sold_out')).toBe(true);
      expect(await store.stock('r1', 'hot')).toEqual({ available: 0, reserved: 100, sold: 0 });
      // half of the winners check out concurrently, the rest expire: still exactly 100 accounted for
      const winners = answers.map((a, i) => ({ a, i })).filter(({ a }) => a.status === 'reserved');
      const checkouts = await Promise.all(
        winners.filter((_, n) => n % 2 === 0).map(({ i }) => (i % 2 === 0 ? store : other).checkout('r1', `buyer-${i}`, key(), T0 + 10)),
      );
      const sold = checkouts.reduce((sum, a) => sum + (a.status === 'ordered' ? a.order.lines[0]!.quantity : 0), 0);
      const level = (await store.stock('r1', 'hot'))!;
      expect(level.sold).toBe(sold);
      expect(level.available + level.reserved + level.sold).toBe(100);
      await store.sweepExpired(T0 + TTL, 10_000);
      expect(await store.stock('r1', 'hot')).toEqual({ available: 100 - sold, reserved: 0, sold });
      if (other !== store) await other.close();
    });
  });
}
