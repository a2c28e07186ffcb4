import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CartAnswer, Order } from '../../protocol/src/index.ts';
import type { InventoryItem, Store } from '../../server/src/store/Store.ts';
import type { WebhookOutbox } from '../../server/src/store/WebhookOutbox.ts';

/** A store with webhooks on, and its outbox (on the same data). */
export interface OrderStoreFactory {
  create(): Promise<{ store: Store; outbox: WebhookOutbox }>;
}

const T0 = 1_800_000_000_000;
const TTL = 60_000;
let keyCounter = 0;
const key = () => `ok${++keyCounter}-${Math.random().toString(36).slice(2, 8)}`;
const item = (sku: string, stock: number, extra: Partial<InventoryItem> = {}): InventoryItem => ({ sku, stock, priceCents: 1000, currency: 'USD', ...extra });

function ordered(answer: CartAnswer): Order {
  expect(answer.status, JSON.stringify(answer)).toBe('ordered');
  return (answer as Extract<CartAnswer, { status: 'ordered' }>).order;
}

/** Orders after checkout (statuses, the buyer's list, the webhook outbox): one contract, every store. */
export function describeOrderContract(name: string, factory: OrderStoreFactory): void {
  describe(`Order contract: ${name}`, () => {
    let store: Store;
    let outbox: WebhookOutbox;
    beforeEach(async () => {
      ({ store, outbox } = await factory.create());
    });
    afterEach(() => store.close());

    /** `userId` buys `quantity` of `sku` in `roomId` at `at`. */
    async function buy(roomId: string, userId: string, sku: string, quantity: number, at: number): Promise<Order> {
      const reserved = await store.reserve({ roomId, userId, sku, quantity, key: key(), now: at, ttlMs: TTL });
      expect(reserved.status).toBe('reserved');
      return ordered(await store.checkout(roomId, userId, key(), at));
    }

    it('places an order with its first history step, and lists a buyer\'s orders over every room, newest first', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r2', item('b', 10, { priceCents: 250 }));
      const first = await buy('r1', 'u1', 'a', 1, T0);
      const second = await buy('r2', 'u1', 'b', 2, T0 + 1000);
      const other = await buy('r1', 'u2', 'a', 1, T0 + 2000);
      expect(first).toMatchObject({ status: 'placed', history: [{ status: 'placed', at: T0 }] });
      expect(first.payment).toBeUndefined();
      expect(await store.userOrders('u1', 10)).toEqual([second, first]);
      expect(await store.userOrders('u1', 1)).toEqual([second]);
      expect(await store.userOrders('u2', 10)).toEqual([other]);
      expect(await store.userOrders('nobody', 10)).toEqual([]);
      // a replayed checkout answers the same order and lists it once
      const cartKey = key();
      await store.reserve({ roomId: 'r1', userId: 'u3', sku: 'a', quantity: 1, key: key(), now: T0, ttlMs: TTL });
      const once = ordered(await store.checkout('r1', 'u3', cartKey, T0 + 3000));
      expect(ordered(await store.checkout('r1', 'u3', cartKey, T0 + 4000))).toEqual(once);
      expect(await store.userOrders('u3', 10)).toEqual([once]);
    });

    it('moves an order placed → paid → shipped → delivered; a status it reached before changes nothing', async () => {
      await store.addProduct('r1', item('a', 10));
      const order = await buy('r1', 'u1', 'a', 2, T0);
      const paid = await store.advanceOrder(order.id, { status: 'paid', at: T0 + 1, payment: { demo: false, reference: 'pi_123' } });
      expect(paid).toMatchObject({ changed: true, restocked: [], order: { status: 'paid', payment: { demo: false, reference: 'pi_123' } } });
      expect((await store.advanceOrder(order.id, { status: 'paid', at: T0 + 2, payment: { demo: false, reference: 'other' } }))).toEqual({ changed: false, restocked: [], order: paid.order });
      const shipped = await store.advanceOrder(order.id, { status: 'shipped', at: T0 + 3, note: 'DHL 0042 ✈' });
      expect(shipped.order.history).toEqual([{ status: 'placed', at: T0 }, { status: 'paid', at: T0 + 1 }, { status: 'shipped', at: T0 + 3, note: 'DHL 0042 ✈' }]);
      // a late retry of the payment step: already past it, nothing changes
      expect(await store.advanceOrder(order.id, { status: 'paid', at: T0 + 4, payment: { demo: false } })).toMatchObject({ changed: false, order: { status: 'shipped' } });
      const delivered = await store.advanceOrder(order.id, { status: 'delivered', at: T0 + 5 });
      expect(delivered.order).toMatchObject({ status: 'delivered', totalCents: 2000, lines: order.lines, createdAt: T0 });
      expect(await store.order(order.id)).toEqual(delivered.order);
      expect(await store.orders('r1')).toEqual([delivered.order]);
      expect(await store.userOrders('u1', 10)).toEqual([delivered.order]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 8, reserved: 0, sold: 2 });
    });

    it('refuses steps the status machine does not allow with a typed conflict, and unknown orders as not found', async () => {
      await store.addProduct('r1', item('a', 10));
      const order = await buy('r1', 'u1', 'a', 1, T0);
      await expect(store.advanceOrder(order.id, { status: 'shipped', at: T0 + 1 })).rejects.toMatchObject({ code: 'ORDER_STATUS_CONFLICT', message: expect.stringContaining('placed and cannot become shipped') });
      await store.advanceOrder(order.id, { status: 'paid', at: T0 + 1, payment: { demo: true } });
      await store.advanceOrder(order.id, { status: 'shipped', at: T0 + 2 });
      await expect(store.advanceOrder(order.id, { status: 'cancelled', at: T0 + 3 })).rejects.toMatchObject({ code: 'ORDER_STATUS_CONFLICT' });
      expect((await store.order(order.id))?.status).toBe('shipped');
      await expect(store.advanceOrder('o-r1.nope', { status: 'paid', at: T0 })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
      await expect(store.advanceOrder('not-an-order-id', { status: 'paid', at: T0 })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    });

    it('a cancel gives the units back to stock and off the buyer\'s per-customer count; once only', async () => {
      await store.addProduct('r1', item('a', 5, { perCustomerLimit: 2 }));
      await store.addProduct('r1', item('b', 5));
      await store.reserve({ roomId: 'r1', userId: 'u1', sku: 'a', quantity: 2, key: key(), now: T0, ttlMs: TTL });
      await store.reserve({ roomId: 'r1', userId: 'u1', sku: 'b', quantity: 1, key: key(), now: T0, ttlMs: TTL });
      const order = ordered(await store.checkout('r1', 'u1', key(), T0));
      expect((await store.reserve({ roomId: 'r1', userId: 'u1', sku: 'a', quantity: 1, key: key(), now: T0, ttlMs: TTL })).status).toBe('limit_reached');
      const cancelled = await store.advanceOrder(order.id, { status: 'cancelled', at: T0 + 1, note: 'out of time' });
      expect(cancelled.changed).toBe(true);
      expect(cancelled.order.status).toBe('cancelled');
      expect([...cancelled.restocked].sort((x, y) => x.sku.localeCompare(y.sku))).toEqual([{ sku: 'a', quantity: 2, available: 5 }, { sku: 'b', quantity: 1, available: 5 }]);
      expect(await store.stock('r1', 'a')).toEqual({ available: 5, reserved: 0, sold: 0 });
      expect(await store.advanceOrder(order.id, { status: 'cancelled', at: T0 + 2 })).toMatchObject({ changed: false, restocked: [] });
      expect(await store.stock('r1', 'a')).toEqual({ available: 5, reserved: 0, sold: 0 });
      await expect(store.advanceOrder(order.id, { status: 'paid', at: T0 + 3, payment: { demo: false } })).rejects.toMatchObject({ code: 'ORDER_STATUS_CONFLICT' });
      expect((await store.reserve({ roomId: 'r1', userId: 'u1', sku: 'a', quantity: 2, key: key(), now: T0, ttlMs: TTL }))).toMatchObject({ status: 'reserved', granted: 2 });
    });

    it('puts every order event in the webhook outbox with the order as the event left it; a claim leases, a settle ends or reschedules', async () => {
      await store.addProduct('r1', item('a', 10));
      await store.addProduct('r2', item('a', 10));
      const order = await buy('r1', 'u1', 'a', 1, T0);
      await store.advanceOrder(order.id, { status: 'paid', at: T0 + 10, payment: { demo: true } });
      const elsewhere = await buy('r2', 'u2', 'a', 1, T0 + 20);
      expect(await outbox.claim(T0 - 1, 1000, 10)).toEqual([]);
      const first = await outbox.claim(T0 + 100, 1000, 10);
      expect(first.map((d) => [d.type, d.orderId, d.order.status, d.attempt, d.createdAt]).sort()).toEqual([
        ['order.paid', order.id, 'paid', 1, T0 + 10],
        ['order.placed', elsewhere.id, 'placed', 1, T0 + 20],
        ['order.placed', order.id, 'placed', 1, T0],
      ].sort());
      expect(new Set(first.map((d) => d.id)).size).toBe(3);
      expect(first.find((d) => d.type === 'order.paid')?.order.payment).toEqual({ demo: true });
      // leased: nobody else gets them until the lease ends
      expect(await outbox.claim(T0 + 200, 1000, 10)).toEqual([]);
      const placed = first.find((d) => d.type === 'order.placed' && d.orderId === order.id)!;
      const paid = first.find((d) => d.type === 'order.paid')!;
      const other = first.find((d) => d.orderId === elsewhere.id)!;
      await outbox.settle(placed, { state: 'delivered', responseStatus: 200 }, T0 + 300);
      await outbox.settle(paid, { state: 'retrying', nextAttemptAt: T0 + 5000, responseStatus: 500, error: 'HTTP 500' }, T0 + 310);
      // the lease of the third ends: claimed again, second attempt, same delivery
      const again = await outbox.claim(T0 + 1200, 1000, 10);
      expect(again.map((d) => [d.id, d.attempt])).toEqual([[other.id, 2]]);
      expect(again[0]).toEqual({ ...other, attempt: 2 });
      // a settle of the first attempt, which the second replaced, does nothing
      await outbox.settle(other, { state: 'delivered', responseStatus: 200 }, T0 + 1300);
      expect(await outbox.claim(T0 + 2300, 1000, 10)).toEqual([{ ...other, attempt: 3 }]);
      await outbox.settle({ ...other, attempt: 3 }, { state: 'failed', error: 'connection refused' }, T0 + 2400);
      // the retry comes due when it said, the delivered and the failed ones never again
      expect(await outbox.claim(T0 + 4999, 1000, 10)).toEqual([]);
      expect(await outbox.claim(T0 + 5000, 1000, 10)).toEqual([{ ...paid, attempt: 2 }]);
      await outbox.settle({ ...paid, attempt: 2 }, { state: 'delivered', responseStatus: 204 }, T0 + 5100);
      expect(await outbox.claim(T0 + 100_000, 1000, 10)).toEqual([]);
      // a new event after the room's outbox emptied is found
      await store.advanceOrder(order.id, { status: 'shipped', at: T0 + 200_000 });
      expect((await outbox.claim(T0 + 200_000, 1000, 10)).map((d) => [d.type, d.attempt])).toEqual([['order.shipped', 1]]);

      const log = await outbox.recent(10);
      expect(log.map((e) => [e.id, e.state, e.attempts])).toEqual([[paid.id, 'delivered', 2], [other.id, 'failed', 3], [placed.id, 'delivered', 1]]);
      expect(log[1]).toMatchObject({ orderId: elsewhere.id, roomId: 'r2', type: 'order.placed', error: 'connection refused', lastAttemptAt: T0 + 2400 });
      expect(await outbox.recent(1)).toHaveLength(1);
    });

    it('claims at most the limit asked, the rest stays due', async () => {
      await store.addProduct('r1', item('a', 10));
      for (let i = 0; i < 5; i++) await buy('r1', `u${i}`, 'a', 1, T0 + i);
      const some = await outbox.claim(T0 + 10, 1000, 3);
      expect(some).toHaveLength(3);
      const rest = await outbox.claim(T0 + 10, 1000, 10);
      expect(rest).toHaveLength(2);
      expect(new Set([...some, ...rest].map((d) => d.orderId)).size).toBe(5);
    });
  });
}
