/**
 * The shop window and a show linked to it sell one inventory: two nodes on Redis, buyers in the
 * shop and in the live room racing for the same units, exactly N sold, every request answered,
 * and both places hear the stock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, startTestServer } from '../helpers/server.ts';

const clients: LivecartClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

function open(server: RunningServer, token: string, room: string): LivecartClient {
  const client = connect({ url: server.wsUrl, token, room, reconnect: { baseMs: 20, maxMs: 100 } });
  clients.push(client);
  return client;
}

let keys = 0;
const key = (what: string) => `${what}-${++keys}-${Math.random().toString(36).slice(2, 8)}`;

describe('a shop window and its live show on two nodes (Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('shop');
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20 });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('buyers in the shop and in the show race for 40 units: exactly 40 sold, every request answered, both places told', async () => {
    const streamerId = 'shop owner/1'; // any user id: the shop's id is derived, safe for keys
    const streamer = await a.mintToken({ userId: streamerId, name: 'Mia', role: 'streamer' });
    const added = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'hot', title: 'Hot item', priceCents: 1999, listPriceCents: 2999, currency: 'USD', stock: 40 });
    expect(added.status).toBe(201);
    const shopId = added.body.shopId as string;
    expect(shopId).toMatch(/^shop-[A-Za-z0-9_-]{22}$/);

    const before = await http(b, 'GET', `/api/shops/${encodeURIComponent(streamerId)}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ shop: { id: shopId, kind: 'shop', state: 'live', streamerId, title: "Mia's shop", streamerName: 'Mia' }, stock: { hot: 40 }, live: null, shows: [] });
    expect(before.body.products).toMatchObject([{ sku: 'hot', listPriceCents: 2999 }]);

    const created = await http(b, 'POST', '/api/rooms', streamer, { title: 'Friday live', id: 'friday-live', shop: true });
    expect(created.status).toBe(201);
    expect(created.body.room).toMatchObject({ id: 'friday-live', shopId });
    // The show takes the shop's product as the shop has it (its stock is the shop's).
    const inShow = await http(a, 'POST', '/api/rooms/friday-live/products', streamer, { sku: 'hot', title: 'Other title', priceCents: 1, currency: 'USD', stock: 999 });
    expect(inShow.status).toBe(201);
    expect(inShow.body.product).toMatchObject({ sku: 'hot', title: 'Hot item', priceCents: 1999, stock: 40 });
    expect((await http(a, 'POST', '/api/rooms/friday-live/start', streamer)).status).toBe(200);
    const during = await http(a, 'GET', `/api/shops/${encodeURIComponent(streamerId)}`);
    expect(during.body.live).toMatchObject({ id: 'friday-live', state: 'live', shopId });
    // A shop id is not a show's to take, and a shop has no show to end.
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: 'x', id: shopId })).body.error.name).toBe('BAD_REQUEST');
    expect((await http(a, 'POST', `/api/rooms/${shopId}/end`, streamer)).body.error.name).toBe('BAD_REQUEST');

    // Watchers: one in the show on node a, one in the shop on node b.
    const watcher = await a.mintToken({ userId: 'watch-show', name: 'W1', role: 'viewer' });
    const browser = await b.mintToken({ userId: 'watch-shop', name: 'W2', role: 'viewer' });
    const inLive = open(a, watcher, 'friday-live');
    const inShop = open(b, browser, shopId);
    await Promise.all([inLive.ready, inShop.ready]);
    expect(inLive.state.stock.hot).toBe(40);
    expect(inShop.state.stock.hot).toBe(40);

    // 120 buyers, 1 unit each: even ones in the show, odd ones in the shop, spread over both nodes.
    const buyers = await Promise.all(Array.from({ length: 120 }, (_, i) => a.mintToken({ userId: `buyer-${i}`, name: `B${i}`, role: 'viewer' })));
    const roomOf = (i: number) => (i % 2 === 0 ? 'friday-live' : shopId);
    const nodeOf = (i: number) => (i % 4 < 2 ? a : b);
    const adds = await Promise.all(buyers.map((token, i) => http(nodeOf(i), 'POST', `/api/rooms/${roomOf(i)}/cart/items`, token, { sku: 'hot', quantity: 1, key: key('add') })));
    expect(adds.map((r) => r.status)).toEqual(adds.map(() => 200));
    const statuses = adds.map((r) => r.body.status as string);
    expect(statuses.every((s) => s === 'reserved' || s === 'sold_out')).toBe(true);
    const winners = statuses.flatMap((s, i) => (s === 'reserved' ? [i] : []));
    expect(winners).toHaveLength(40);
    // Both places won units.
    expect(winners.some((i) => roomOf(i) === 'friday-live')).toBe(true);
    expect(winners.some((i) => roomOf(i) === shopId)).toBe(true);

    // Each winner checks out where they added (one cart per shop, wherever it is read).
    const orders = await Promise.all(winners.map((i) => http(nodeOf(i + 1), 'POST', `/api/rooms/${roomOf(i)}/checkout`, buyers[i]!, { key: key('pay') })));
    expect(orders.map((r) => r.body.status)).toEqual(winners.map(() => 'ordered'));
    expect(orders.every((r) => r.body.order.roomId === shopId && r.body.order.totalCents === 1999)).toBe(true);

    const inventory = await http(a, 'GET', `/api/rooms/${shopId}/inventory`, streamer);
    expect(inventory.body.inventory).toEqual({ hot: { available: 0, reserved: 0, sold: 40 } });
    expect((await http(b, 'GET', '/api/rooms/friday-live/inventory', streamer)).body.inventory).toEqual({ hot: { available: 0, reserved: 0, sold: 40 } });
    await waitUntil(() => inLive.state.stock.hot === 0 && inShop.state.stock.hot === 0, 5000, 'both places hear the sell-out').catch((error: unknown) => {
      throw new Error(`${String(error)}: show ${inLive.state.stock.hot}, shop ${inShop.state.stock.hot}`);
    });

    // A buyer in the show finds the order in My orders, and a late add anywhere is sold out.
    const showBuyer = winners.find((i) => roomOf(i) === 'friday-live')!;
    const mine = await http(b, 'GET', '/api/me/orders', buyers[showBuyer]!);
    expect(mine.body.orders).toMatchObject([{ roomId: shopId, status: 'placed', lines: [{ sku: 'hot', quantity: 1, priceCents: 1999 }] }]);
    for (const room of ['friday-live', shopId]) {
      expect((await http(b, 'POST', `/api/rooms/${room}/cart/items`, buyers[0]!, { sku: 'hot', quantity: 1, key: key('late') })).body.status).toBe('sold_out');
    }

    // A restock in the show is the shop's: both places hear it.
    expect((await http(b, 'PUT', '/api/rooms/friday-live/products/hot/stock', streamer, { available: 5 })).body.stock).toEqual({ available: 5, reserved: 0, sold: 40 });
    await waitUntil(() => inLive.state.stock.hot === 5 && inShop.state.stock.hot === 5, 5000, 'both places hear the restock');
  });

  it('a show not linked to the shop keeps its own stock for the same sku, as before', async () => {
    const streamer = await a.mintToken({ userId: 'shop-two', name: 'Two', role: 'streamer' });
    await http(a, 'POST', '/api/shop/products', streamer, { sku: 'mug', title: 'Mug', priceCents: 500, currency: 'USD', stock: 3 });
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: 'Own stock', id: 'apart-show' })).status).toBe(201);
    expect((await http(b, 'POST', '/api/rooms/apart-show/products', streamer, { sku: 'mug', title: 'Mug', priceCents: 500, currency: 'USD', stock: 7 })).status).toBe(201);
    const room = await http(b, 'GET', '/api/rooms/apart-show');
    expect(room.body.stock).toEqual({ mug: 7 });
    expect((await http(a, 'GET', '/api/shops/shop-two')).body.stock).toEqual({ mug: 3 });
  });

  it('variants: the shop and a linked show list each variant\'s stock, and a buy of one variant leaves the others', async () => {
    const streamer = await a.mintToken({ userId: 'shop-three', name: 'Three', role: 'streamer' });
    const added = await http(a, 'POST', '/api/shop/products', streamer, {
      sku: 'tee', title: 'Tee', priceCents: 2000, listPriceCents: 2500, currency: 'USD', stock: 0, description: 'Soft cotton.',
      variants: [{ sku: 'tee-s', options: { size: 'S' }, stock: 2 }, { sku: 'tee-m', options: { size: 'M' }, stock: 3, priceCents: 2200 }],
    });
    expect(added.status).toBe(201);
    expect(added.body.product.stock).toBe(5);
    const shopId = added.body.shopId as string;
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: 'Tees', id: 'tees-show', shop: true })).status).toBe(201);
    expect((await http(b, 'POST', '/api/rooms/tees-show/products', streamer, { sku: 'tee', title: 'Tee', priceCents: 2000, currency: 'USD', stock: 0 })).status).toBe(201);
    const viewer = await b.mintToken({ userId: 'tee-buyer', name: 'T', role: 'viewer' });
    const show = open(b, viewer, 'tees-show');
    await show.ready;
    await waitUntil(() => show.state.stock['tee-s'] === 2 && show.state.stock['tee-m'] === 3, 5000, 'the variants\' stock in the show');
    expect(await show.addToCart('tee-m', 2)).toMatchObject({ status: 'reserved', granted: 2, available: 1 });
    await waitUntil(() => show.state.cart.totalCents === 4400, 5000, 'the cart totals the variant\'s own price');
    const window = await http(a, 'GET', '/api/shops/shop-three');
    expect(window.body.stock).toMatchObject({ 'tee-s': 2, 'tee-m': 1 });
    expect((await http(a, 'GET', `/api/rooms/${shopId}/inventory`, streamer)).body.inventory).toEqual({
      'tee-s': { available: 2, reserved: 0, sold: 0 }, 'tee-m': { available: 1, reserved: 2, sold: 0 },
    });
    // One cart per shop: a line added in the show is in the window's cart. A key is the shop's: a
    // retry gets its first answer in the show or in the window; another request with it is refused.
    const same = key('same');
    const first = await http(a, 'POST', '/api/rooms/tees-show/cart/items', viewer, { sku: 'tee-s', quantity: 1, key: same });
    expect(first.body).toMatchObject({ status: 'reserved', sku: 'tee-s', available: 1 });
    expect((await http(b, 'POST', '/api/rooms/tees-show/cart/items', viewer, { sku: 'tee-s', quantity: 1, key: same })).body).toEqual(first.body);
    const reused = await http(b, 'POST', `/api/rooms/${shopId}/cart/items`, viewer, { sku: 'tee-s', quantity: 1, key: same });
    expect(reused.body).toEqual(first.body);
    const other = await http(b, 'POST', `/api/rooms/${shopId}/cart/items`, viewer, { sku: 'tee-s', quantity: 2, key: same });
    expect(other.body.error?.name, JSON.stringify(other.body)).toBe('IDEMPOTENCY_MISMATCH');
    const cart = await http(b, 'GET', `/api/rooms/${shopId}/cart`, viewer);
    expect(cart.body.cart).toMatchObject({ roomId: shopId, totalCents: 2 * 2200 + 2000 });
    expect(cart.body.cart.lines.map((l: { sku: string; quantity: number }) => `${l.sku}×${l.quantity}`).sort()).toEqual(['tee-m×2', 'tee-s×1']);

    // A variant's list price must not be below its sale price; a variant sku may not repeat.
    const bad = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'x', title: 'X', priceCents: 500, listPriceCents: 400, currency: 'USD', stock: 1 });
    expect(bad.body.error.name).toBe('BAD_REQUEST');
    const twice = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'y', title: 'Y', priceCents: 500, currency: 'USD', stock: 1, variants: [{ sku: 'y1', options: { size: 'S' }, stock: 1 }, { sku: 'y1', options: { size: 'M' }, stock: 1 }] });
    expect(twice.body.error.name).toBe('BAD_REQUEST');
    const taken = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'z', title: 'Z', priceCents: 500, currency: 'USD', stock: 1, variants: [{ sku: 'tee-s', options: { size: 'S' }, stock: 1 }] });
    expect(taken.body.error.name).toBe('PRODUCT_EXISTS');
  });

  it('coupons of a linked show are its shop\'s: claimed in the show on one node, applied at checkout in the shop window on the other', async () => {
    const streamerId = 'coupon shop owner';
    const streamer = await a.mintToken({ userId: streamerId, name: 'Cleo', role: 'streamer' });
    const added = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'mug', title: 'Mug', priceCents: 2500, currency: 'USD', stock: 10 });
    expect(added.status).toBe(201);
    const shopId = added.body.shopId as string;
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: 'Coupon live', id: 'coupon-live', shop: true })).status).toBe(201);
    expect((await http(a, 'POST', '/api/rooms/coupon-live/products', streamer, { sku: 'mug', title: 'Mug', priceCents: 2500, currency: 'USD', stock: 0 })).status).toBe(201);
    expect((await http(a, 'POST', '/api/rooms/coupon-live/start', streamer)).status).toBe(200);
    expect((await http(a, 'POST', '/api/rooms/coupon-live/coupons', streamer, { id: 'LIVE5', amountOffCents: 500, minSpendCents: 2000, total: 1 })).status).toBe(201);
    expect((await http(a, 'PUT', '/api/rooms/coupon-live/coupons/pinned', streamer, { couponId: 'LIVE5' })).status).toBe(200);

    const buyer = await a.mintToken({ userId: 'coupon-buyer', name: 'Bo', role: 'viewer' });
    const other = await a.mintToken({ userId: 'coupon-other', name: 'Al', role: 'viewer' });
    const claim = await http(a, 'POST', '/api/rooms/coupon-live/coupons/LIVE5/claim', buyer, { key: key('claim') });
    expect(claim.body).toMatchObject({ status: 'coupon_claimed', left: 0 });
    // The one coupon is gone for the whole shop: the window on the other node says so too.
    expect((await http(b, 'POST', `/api/rooms/${shopId}/coupons/LIVE5/claim`, other, { key: key('claim') })).body).toMatchObject({ status: 'coupons_gone' });
    // The buyer's show cart is the shop's cart; the checkout in the window applies the show's coupon.
    expect((await http(a, 'POST', '/api/rooms/coupon-live/cart/items', buyer, { sku: 'mug', quantity: 1, key: key('add') })).body).toMatchObject({ status: 'reserved' });
    const order = await http(b, 'POST', `/api/rooms/${shopId}/checkout`, buyer, { key: key('pay') });
    expect(order.body).toMatchObject({ status: 'ordered', order: { roomId: shopId, subtotalCents: 2500, discountCents: 500, totalCents: 2000, couponId: 'LIVE5' } });
    // The show's viewers read the card with none left.
    expect((await http(b, 'GET', '/api/rooms/coupon-live/coupons', other)).body).toMatchObject({ pinned: { coupon: { id: 'LIVE5', roomId: 'coupon-live' }, left: 0 } });
  });
});
