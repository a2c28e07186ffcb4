import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import type { InventoryItem, ReserveRequest, Store } from '../../server/src/store/Store.ts';
import type { StoreFactory } from './storeContract.ts';

/**
 * Variants (size, colour…) in the store: each variant is a sku of its own, registered like a
 * product with its own stock, sale price and list price, in the scope of its room or shop. The same
 * tests run on memory, Redis and Redis Cluster.
 */
const T0 = 1_800_000_000_000;
const TTL = 60_000;
const SHOP = 'shop-variants';
let keys = 0;
const key = () => `vk${++keys}-${Math.random().toString(36).slice(2, 8)}`;

function req(partial: Partial<ReserveRequest> & Pick<ReserveRequest, 'userId' | 'sku' | 'quantity'>): ReserveRequest {
  return { roomId: SHOP, key: key(), now: T0, ttlMs: TTL, ...partial };
}

const variant = (sku: string, stock: number, priceCents: number, extra: Partial<InventoryItem> = {}): InventoryItem => ({ sku, stock, priceCents, listPriceCents: 2999, currency: 'USD', ...extra });

function granted(answer: CartAnswer): number {
  return answer.status === 'reserved' ? answer.granted : 0;
}

export function describeVariantContract(name: string, factory: StoreFactory): void {
  describe(`Store contract, variants: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(() => store.close());

    it('keeps each variant\'s stock and sale price apart; a cart of two variants totals their sale prices exactly', async () => {
      await store.addProduct(SHOP, variant('tee-s-black', 3, 1999));
      await store.addProduct(SHOP, variant('tee-m-black', 5, 2199));
      await store.addProduct(SHOP, variant('tee-m-white', 0, 2199));
      expect(await store.roomStock(SHOP)).toEqual({ 'tee-s-black': 3, 'tee-m-black': 5, 'tee-m-white': 0 });

      expect(await store.reserve(req({ userId: 'ann', sku: 'tee-s-black', quantity: 2 }))).toMatchObject({ status: 'reserved', granted: 2, available: 1 });
      expect(await store.reserve(req({ userId: 'ann', sku: 'tee-m-black', quantity: 1 }))).toMatchObject({ status: 'reserved', granted: 1, available: 4 });
      expect(await store.reserve(req({ userId: 'ann', sku: 'tee-m-white', quantity: 1 }))).toEqual({ status: 'sold_out', sku: 'tee-m-white' });
      expect(await store.stock(SHOP, 'tee-s-black')).toEqual({ available: 1, reserved: 2, sold: 0 });
      expect(await store.stock(SHOP, 'tee-m-black')).toEqual({ available: 4, reserved: 1, sold: 0 });

      const cart = await store.cart(SHOP, 'ann', T0 + 1);
      // Sale prices (not the list price) in integer cents: 2 × 19.99 + 21.99.
      expect(cart.totalCents).toBe(2 * 1999 + 2199);
      expect(cart.lines.map((l) => [l.sku, l.quantity, l.priceCents]).sort()).toEqual([['tee-m-black', 1, 2199], ['tee-s-black', 2, 1999]]);

      const ordered = await store.checkout(SHOP, 'ann', key(), T0 + 2);
      expect(ordered.status).toBe('ordered');
      if (ordered.status !== 'ordered') return;
      expect(ordered.order.totalCents).toBe(6197);
      expect(ordered.order.roomId).toBe(SHOP);
      expect(await store.stock(SHOP, 'tee-s-black')).toEqual({ available: 1, reserved: 0, sold: 2 });
      expect(await store.stock(SHOP, 'tee-m-black')).toEqual({ available: 4, reserved: 0, sold: 1 });
      expect(await store.stock(SHOP, 'tee-m-white')).toEqual({ available: 0, reserved: 0, sold: 0 });
    });

    it('a sold-out variant leaves the others on sale, and a restock of one touches no other', async () => {
      await store.addProduct(SHOP, variant('cap-red', 1, 1500));
      await store.addProduct(SHOP, variant('cap-blue', 2, 1500));
      expect(await store.reserve(req({ userId: 'u1', sku: 'cap-red', quantity: 1 }))).toMatchObject({ status: 'reserved', available: 0 });
      expect(await store.reserve(req({ userId: 'u2', sku: 'cap-red', quantity: 1 }))).toEqual({ status: 'sold_out', sku: 'cap-red' });
      const lane = await store.soldOutBatch([req({ userId: 'u3', sku: 'cap-red', quantity: 1 })]);
      expect(lane).toEqual([{ status: 'sold_out', sku: 'cap-red' }]);
      expect(await store.reserve(req({ userId: 'u2', sku: 'cap-blue', quantity: 1 }))).toMatchObject({ status: 'reserved', available: 1 });
      expect((await store.setAvailable(SHOP, 'cap-red', 4)).available).toBe(4);
      expect(await store.stock(SHOP, 'cap-blue')).toEqual({ available: 1, reserved: 1, sold: 0 });
      await expect(store.addProduct(SHOP, variant('cap-blue', 9, 1500))).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
      expect(await store.stock(SHOP, 'cap-blue')).toEqual({ available: 1, reserved: 1, sold: 0 });
    });

    it('concurrent buyers on two nodes racing for two variants: each sells exactly its own stock, never the other\'s', async () => {
      await store.addProduct(SHOP, variant('shoe-40', 30, 5900));
      await store.addProduct(SHOP, variant('shoe-41', 70, 5900));
      await store.addProduct(SHOP, variant('shoe-42', 10, 5900));
      const other = factory.sibling ? await factory.sibling(store) : store;
      try {
        // 300 buyers, 1–3 units each; shoe-42 is never asked for.
        const asks = Array.from({ length: 300 }, (_, i) => ({ userId: `b${i}`, sku: i % 3 === 0 ? 'shoe-40' : 'shoe-41', quantity: 1 + (i % 3) }));
        const answers = await Promise.all(asks.map((ask, i) => (i % 2 === 0 ? store : other).reserve(req(ask))));
        expect(answers.every((a) => a.status === 'reserved' || a.status === 'sold_out')).toBe(true);
        const of = (sku: string) => answers.reduce((sum, a, i) => sum + (asks[i]!.sku === sku ? granted(a) : 0), 0);
        expect(of('shoe-40')).toBe(30);
        expect(of('shoe-41')).toBe(70);
        expect(await store.roomStock(SHOP)).toEqual({ 'shoe-40': 0, 'shoe-41': 0, 'shoe-42': 10 });
        // Batches mixing the variants, from both nodes, after the sell-out: nothing more is granted.
        const late = await Promise.all([store, other].map((s, n) => s.reserveBatch(['shoe-40', 'shoe-41', 'shoe-42'].map((sku) => req({ userId: `late${n}`, sku, quantity: 1 })))));
        expect(late.flat().map((a) => ('status' in a ? a.status : 'error'))).toEqual(['sold_out', 'sold_out', 'reserved', 'sold_out', 'sold_out', 'reserved']);
        expect(await store.stock(SHOP, 'shoe-42')).toEqual({ available: 8, reserved: 2, sold: 0 });
        for (const sku of ['shoe-40', 'shoe-41']) {
          const level = (await store.stock(SHOP, sku))!;
          expect(level.available + level.reserved + level.sold).toBe(sku === 'shoe-40' ? 30 : 70);
        }
      } finally {
        if (other !== store) await other.close();
      }
    });
  });
}
