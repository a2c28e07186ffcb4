import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import type { InventoryItem, ReserveRequest, Store, VariantInventories } from '../../server/src/store/Store.ts';
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

    it('registers a product\'s variants in one step: a taken sku refuses the whole add, and nothing of it is registered', async () => {
      await store.addProduct(SHOP, { sku: 'hoodie', variants: [variant('hoodie-s', 2, 3900), variant('hoodie-m', 3, 3900)] });
      expect(await store.roomStock(SHOP)).toEqual({ 'hoodie-s': 2, 'hoodie-m': 3 });
      const refused = async (product: InventoryItem | VariantInventories) => {
        await expect(store.addProduct(SHOP, product)).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
        expect(await store.roomStock(SHOP)).toEqual({ 'hoodie-s': 2, 'hoodie-m': 3 });
      };
      // One variant taken (the last one named): the variants before it are not registered either.
      await refused({ sku: 'jacket', variants: [variant('jacket-s', 5, 4900), variant('jacket-m', 5, 4900), variant('hoodie-m', 5, 4900)] });
      expect(await store.stock(SHOP, 'jacket-s')).toBeUndefined();
      // The product's own sku is taken though it holds no inventory: as a product, and as a variant.
      await refused(variant('hoodie', 1, 3900));
      await refused({ sku: 'hoodie', variants: [variant('hoodie-xl', 1, 3900)] });
      await refused({ sku: 'sweater', variants: [variant('hoodie', 1, 3900)] });
      // A product's sku is not free for a product with variants either, nor is a sku named twice in one add.
      await refused({ sku: 'hoodie-s', variants: [variant('other-s', 1, 3900)] });
      await refused({ sku: 'scarf', variants: [variant('scarf-red', 1, 900), variant('scarf-red', 2, 900)] });
      await refused({ sku: 'scarf', variants: [variant('scarf', 1, 900)] });
      // The skus a refused add named are still free.
      await store.addProduct(SHOP, { sku: 'jacket', variants: [variant('jacket-s', 5, 4900)] });
      expect(await store.stock(SHOP, 'jacket-s')).toEqual({ available: 5, reserved: 0, sold: 0 });
      // Each variant keeps its own price and sale window, registered in the same step.
      await store.addProduct(SHOP, { sku: 'socks', variants: [variant('socks-a', 4, 500, { saleStartsAt: T0 + 60_000 }), variant('socks-b', 4, 700, { perCustomerLimit: 1 })] });
      expect(await store.reserve(req({ userId: 'v1', sku: 'socks-a', quantity: 1 }))).toEqual({ status: 'not_on_sale', sku: 'socks-a', startsAt: T0 + 60_000 });
      expect(await store.reserve(req({ userId: 'v1', sku: 'socks-b', quantity: 3 }))).toMatchObject({ status: 'reserved', granted: 1 });
      expect((await store.cart(SHOP, 'v1', T0 + 1)).totalCents).toBe(700);
    });

    it('two nodes adding products with overlapping variant skus at once: exactly one wins whole, the loser registered nothing', async () => {
      const other = factory.sibling ? await factory.sibling(store) : store;
      try {
        for (let round = 0; round < 20; round++) {
          // Each product's variants around the shared one: a loser that registered variant by variant would leave its first behind.
          const product = (name: string): VariantInventories => ({
            sku: `${name}-${round}`,
            variants: [variant(`${name}-${round}-a`, 1, 100), variant(`shared-${round}`, 1, 100), variant(`${name}-${round}-b`, 1, 100)],
          });
          const results = await Promise.allSettled([store.addProduct(SHOP, product('left')), other.addProduct(SHOP, product('right'))]);
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
          expect(lost.reason).toMatchObject({ code: 'PRODUCT_EXISTS' });
          const [winner, loser] = results[0]!.status === 'fulfilled' ? ['left', 'right'] : ['right', 'left'];
          for (const end of ['a', 'b']) {
            expect(await store.stock(SHOP, `${winner}-${round}-${end}`)).toEqual({ available: 1, reserved: 0, sold: 0 });
            expect(await store.stock(SHOP, `${loser}-${round}-${end}`)).toBeUndefined();
          }
          // The loser's product sku stayed free: it can be added again with skus of its own.
          await other.addProduct(SHOP, { sku: `${loser}-${round}`, variants: [variant(`${loser}-${round}-c`, 1, 100)] });
        }
        const stock = await store.roomStock(SHOP);
        expect(Object.keys(stock)).toHaveLength(20 * 4);
      } finally {
        if (other !== store) await other.close();
      }
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
