import { afterEach, describe, expect, it } from 'vitest';
import type { Product, ProductInput } from '../../protocol/src/index.ts';
import type { Principal } from '../../server/src/auth/TokenService.ts';
import { type CommerceRooms, CommerceService } from '../../server/src/commerce/CommerceService.ts';
import { ProtocolError } from '../../server/src/errors.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { captureLog } from '../helpers/captureLog.ts';

const streamer: Principal = { userId: 'boss', name: 'Boss', role: 'streamer' };
const buyer: Principal = { userId: 'buyer', name: 'Buyer', role: 'viewer' };
const mug: ProductInput = { sku: 'mug', title: 'Mug', priceCents: 100, currency: 'USD', stock: 2 };

/** Commerce over a memory store, fake room rules that record what the room was told, a fake gate and a clock the test moves. */
function setup() {
  const clock = { now: 1_000_000 };
  const store = new MemoryStore({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 1000, maxOrders: 1000 });
  const catalog = new Map<string, Product>();
  const told: string[] = [];
  const rooms: CommerceRooms = {
    assertRoom: () => undefined,
    canModerate: async (principal) => principal.role !== 'viewer',
    catalogFor: async (principal) => {
      if (principal.role === 'viewer') throw new ProtocolError('FORBIDDEN', 'viewers cannot do this');
      return catalog;
    },
    putProduct: async (roomId, product) => {
      // The inventory is in the store before the catalog shows the product.
      told.push(`product ${roomId}/${product.sku} stock=${(await store.stock(roomId, product.sku))?.available}`);
      catalog.set(product.sku, product);
    },
    notifyUser: (roomId, userId, message) => void told.push(`${userId}@${roomId} ${message.t} ${message.sku}x${message.quantity}`),
    degradeLevelOf: () => 0,
    publishStock: (roomId, sku, available) => void told.push(`stock ${roomId}/${sku}=${available}`),
    publishSoldOut: (roomId, sku) => void told.push(`sold out ${roomId}/${sku}`),
  };
  const gate: string[] = [];
  const { log } = captureLog();
  const commerce = new CommerceService({
    store, rooms, log, now: () => clock.now,
    gate: {
      stockChanged: (roomId, sku, available) => void gate.push(`${roomId}/${sku}=${available}`),
      // The gate answers the user's waiting adds and lets the calls under way finish: one more reservation lands meanwhile.
      refuseUser: async (roomId, userId, error) => {
        gate.push(`refuse ${userId}@${roomId}: ${(error as { code?: string }).code}`);
        await store.reserve({ roomId, userId, sku: 'mug', quantity: 1, key: 'under-way', now: clock.now, ttlMs: 10_000 });
      },
    },
    options: { sweepIntervalMs: 3_600_000, sweepBatch: 100, stockIntervalMs: 3_600_000, degradedStockIntervalMs: 3_600_000, maxProductsPerRoom: 2 },
  });
  return { commerce, store, catalog, told, gate, clock };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('CommerceService', () => {
  it('adds a product: moderators only, no duplicate, at most the room\'s cap, one currency; inventory first, then the catalog', async () => {
    const { commerce, store, told } = setup();
    close = () => commerce.close();
    await expect(commerce.addProduct(buyer, 'r', mug)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await commerce.addProduct(streamer, 'r', mug)).toEqual(mug);
    expect(told).toEqual(['product r/mug stock=2']);
    await expect(commerce.addProduct(streamer, 'r', mug)).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
    await expect(commerce.addProduct(streamer, 'r', { ...mug, sku: 'tee', currency: 'EUR' })).rejects.toMatchObject({ code: 'CURRENCY_MISMATCH' });
    // Another node put inventory for this sku first: the store refuses, and the catalog is not touched.
    await store.addProduct('r', { sku: 'raced', stock: 1, priceCents: 1, currency: 'USD' });
    await expect(commerce.addProduct(streamer, 'r', { ...mug, sku: 'raced' })).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
    await commerce.addProduct(streamer, 'r', { ...mug, sku: 'tee' });
    await expect(commerce.addProduct(streamer, 'r', { ...mug, sku: 'cap' })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect(told).toEqual(['product r/mug stock=2', 'product r/tee stock=2']);
  });

  it('announces sold out once, hands stock news to the gate, and sweeps expired reservations back by the clock', async () => {
    const { commerce, store, told, gate, clock } = setup();
    close = () => commerce.close();
    await commerce.addProduct(streamer, 'r', mug);
    told.length = 0;
    const reserve = async (userId: string, key: string) => {
      const request = { t: 'addToCart' as const, id: 1, sku: 'mug', quantity: 1, key };
      const answer = await store.reserve({ roomId: 'r', userId, sku: 'mug', quantity: 1, key, now: clock.now, ttlMs: 10_000 });
      commerce.answered({ ...buyer, userId }, 'r', request, answer);
      return answer;
    };
    expect(await reserve('u1', 'k1')).toMatchObject({ status: 'reserved', available: 1 });
    expect(await reserve('u2', 'k2')).toMatchObject({ status: 'reserved', available: 0 });
    expect(await reserve('u3', 'k3')).toMatchObject({ status: 'sold_out' });
    expect(told).toEqual(['sold out r/mug']); // once, at once; levels wait for the announcer's interval
    expect(gate).toEqual(['r/mug=1']); // only news of stock left: sold out is learnt from the answers and the room

    clock.now += 5_000;
    expect(await commerce.sweep()).toBe(0); // not expired yet
    clock.now += 5_001;
    expect(await commerce.sweep()).toBe(2);
    expect(told.filter((t) => t.includes('reservationExpired')).sort()).toEqual(['u1@r reservationExpired mugx1', 'u2@r reservationExpired mugx1']);
    expect(gate.slice(1)).toEqual(['r/mug=1', 'r/mug=2']);
    expect(await store.stock('r', 'mug')).toEqual({ available: 2, reserved: 0, sold: 0 });

    // Back in stock, so a second sell-out is announced again.
    expect(await reserve('u4', 'k4')).toMatchObject({ status: 'reserved', available: 1 });
    expect(await reserve('u5', 'k5')).toMatchObject({ status: 'reserved', available: 0 });
    expect(told.filter((t) => t.startsWith('sold out'))).toEqual(['sold out r/mug', 'sold out r/mug']);
  });

  it('releases a kicked user\'s reservations only after the gate refused their waiting adds and the calls under way landed', async () => {
    const { commerce, store, gate, clock } = setup();
    close = () => commerce.close();
    await commerce.addProduct(streamer, 'r', mug);
    await store.reserve({ roomId: 'r', userId: 'kicked', sku: 'mug', quantity: 1, key: 'first', now: clock.now, ttlMs: 10_000 });
    gate.length = 0;
    expect(await commerce.releaseUser('r', 'kicked')).toBe(2); // the reservation under way is released too
    expect(gate).toEqual(['refuse kicked@r: KICKED', 'r/mug=2']);
    expect(await store.stock('r', 'mug')).toEqual({ available: 2, reserved: 0, sold: 0 });
  });
});
