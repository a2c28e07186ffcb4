import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';


describe('cart and checkout over WebSocket and HTTP', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ reservationTtlMs: 1000, sweepIntervalMs: 50, stockIntervalMs: 100, maxFramesPerSecond: 10_000 });
  });
  afterAll(() => server.close());

  it('reserves over WS, fans out coalesced stock and announces sold out once', async () => {
    await saleRoom(server, 'ws-cart', 5);
    const { client: watcher, welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'w'), 'ws-cart');
    expect(welcome.t === 'welcome' && welcome.stock).toEqual({ hot: 5 });
    const buyers = await Promise.all([1, 2, 3].map(async (n) => (await RawClient.join(server.wsUrl, await viewerToken(server, `b${n}`), 'ws-cart')).client));
    const answers = await Promise.all(buyers.map((b) => b.request({ t: 'addToCart', key: 'k1', sku: 'hot', quantity: 2 })));
    const results = answers.map((a) => (a.t === 'ok' ? (a.result as { status: string; granted?: number }) : a));
    expect(results.map((r) => 'status' in r && r.status).sort()).toEqual(['reserved', 'reserved', 'reserved']);
    expect(results.reduce((s, r) => s + ('granted' in r ? r.granted ?? 0 : 0), 0)).toBe(5);
    const soldOut = await watcher.waitFor((m) => m.t === 'soldOut' && m.sku === 'hot');
    const late = await buyers[0]!.request({ t: 'addToCart', key: 'k2', sku: 'hot', quantity: 1 });
    expect(late.t === 'ok' && late.result).toEqual({ status: 'sold_out', sku: 'hot' });
    await new Promise((r) => setTimeout(r, 250));
    expect(watcher.of('soldOut')).toHaveLength(1);
    // The sold-out sets the count to 0: no `stock` 0 repeats it.
    expect(watcher.messages.slice(watcher.messages.indexOf(soldOut)).filter((m) => m.t === 'stock')).toEqual([]);
    expect(watcher.of('stock').length).toBeLessThanOrEqual(3); // three reservations, coalesced
    const { welcome: lateWelcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'late'), 'ws-cart');
    expect(lateWelcome.t === 'welcome' && lateWelcome.stock).toEqual({ hot: 0 });
    for (const c of [watcher, ...buyers]) c.close();
  });

  it('returns an expired reservation to stock by itself and tells its owner', async () => {
    await saleRoom(server, 'expiry', 2);
    const { client: owner } = await RawClient.join(server.wsUrl, await viewerToken(server, 'owner'), 'expiry');
    const { client: other } = await RawClient.join(server.wsUrl, await viewerToken(server, 'other'), 'expiry');
    const reserved = await owner.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 2 });
    expect(reserved.t === 'ok' && reserved.result?.status).toBe('reserved');
    await owner.waitFor((m) => m.t === 'reservationExpired' && m.sku === 'hot' && m.quantity === 2, 3000);
    await other.waitFor((m) => m.t === 'stock' && m.available === 2, 3000);
    expect(other.of('reservationExpired')).toHaveLength(0); // only the owner is told
    expect(await server.store.stock('expiry', 'hot')).toEqual({ available: 2, reserved: 0, sold: 0 });
    for (const c of [owner, other]) c.close();
  });

  it('checks out over HTTP with idempotency keys; a retry returns the same order', async () => {
    const streamer = await saleRoom(server, 'http-cart', 10, { perCustomerLimit: 4 });
    const buyer = await viewerToken(server, 'http-buyer');
    const add = await fetch(`${server.url}/api/rooms/http-cart/cart/items`, {
      method: 'POST', headers: { authorization: `Bearer ${buyer}`, 'idempotency-key': 'add-1', 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'hot', quantity: 3 }),
    });
    expect(await add.json()).toMatchObject({ status: 'reserved', quantity: 3, granted: 3, available: 7 });
    const retry = await http(server, 'POST', '/api/rooms/http-cart/cart/items', buyer, { sku: 'hot', quantity: 3, key: 'add-1' });
    expect(retry.body).toMatchObject({ status: 'reserved', quantity: 3, available: 7 });
    expect((await http(server, 'POST', '/api/rooms/http-cart/cart/items', buyer, { sku: 'hot', quantity: 3, key: 'add-2' })).body).toMatchObject({ status: 'reserved', quantity: 4, granted: 1 });
    expect((await http(server, 'POST', '/api/rooms/http-cart/cart/items', buyer, { sku: 'hot', quantity: 1, key: 'add-3' })).body).toMatchObject({ status: 'limit_reached', limit: 4 });
    expect((await http(server, 'PUT', '/api/rooms/http-cart/cart/items/hot', buyer, { quantity: 2, key: 'set-1' })).body).toMatchObject({ status: 'released', quantity: 2 });
    const cart = await http(server, 'GET', '/api/rooms/http-cart/cart', buyer);
    expect(cart.body.cart).toMatchObject({ totalCents: 2 * 1999, lines: [{ sku: 'hot', quantity: 2 }] });
    const noKey = await http(server, 'POST', '/api/rooms/http-cart/checkout', buyer, {});
    expect(noKey.status).toBe(400);
    const order = await http(server, 'POST', '/api/rooms/http-cart/checkout', buyer, { key: 'pay-1' });
    expect(order.body).toMatchObject({ status: 'ordered', order: { totalCents: 3998, userId: 'viewer-http-buyer', lines: [{ sku: 'hot', quantity: 2, priceCents: 1999 }] } });
    const again = await http(server, 'POST', '/api/rooms/http-cart/checkout', buyer, { key: 'pay-1' });
    expect(again.body).toEqual(order.body);
    const orderId = order.body.order.id as string;
    expect((await http(server, 'GET', `/api/orders/${orderId}`, buyer)).body.order.id).toBe(orderId);
    expect((await http(server, 'GET', `/api/orders/${orderId}`, await viewerToken(server, 'snoop'))).status).toBe(404);
    expect((await http(server, 'GET', '/api/rooms/http-cart/orders', streamer)).body.orders).toHaveLength(1);
    expect((await http(server, 'GET', '/api/rooms/http-cart/inventory', streamer)).body.inventory).toEqual({ hot: { available: 8, reserved: 0, sold: 2 } });
    expect((await http(server, 'GET', '/api/rooms/http-cart/inventory', buyer)).status).toBe(403);
    // 2 bought + 2 more = the limit of 4
    expect((await http(server, 'POST', '/api/rooms/http-cart/cart/items', buyer, { sku: 'hot', quantity: 5, key: 'add-4' })).body).toMatchObject({ status: 'reserved', granted: 2 });
  });

  it('answers not on sale outside the flash-sale window, restocks, and types bad cart input', async () => {
    const startsAt = Date.now() + 60_000;
    const streamer = await saleRoom(server, 'flash', 10, { saleStartsAt: startsAt });
    const { client: viewer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'f1'), 'flash');
    const early = await viewer.request({ t: 'addToCart', key: 'x', sku: 'hot', quantity: 1 });
    expect(early.t === 'ok' && early.result).toEqual({ status: 'not_on_sale', sku: 'hot', startsAt });
    const unknown = await viewer.request({ t: 'addToCart', key: 'y', sku: 'nope', quantity: 1 });
    expect(unknown.t === 'err' && unknown.code).toBe(ErrorCode.PRODUCT_NOT_FOUND);
    const bad = await viewer.request({ t: 'addToCart', sku: 'hot', quantity: 1 });
    expect(bad.t === 'err' && bad.code).toBe(ErrorCode.BAD_REQUEST);
    const restock = await http(server, 'PUT', '/api/rooms/flash/products/hot/stock', streamer, { available: 50 });
    expect(restock.body.stock).toEqual({ available: 50, reserved: 0, sold: 0 });
    await viewer.waitFor((m) => m.t === 'stock' && m.available === 50);
    const mixed = await http(server, 'POST', '/api/rooms/flash/products', streamer, { sku: 'eur', title: 'E', priceCents: 1, currency: 'EUR', stock: 1 });
    expect(mixed.status).toBe(400);
    viewer.close();
  });

  it('keeps the cart exact under a WS race: 300 buyers × 1–3 units for 100 units', async () => {
    await saleRoom(server, 'race', 100);
    const buyers = await Promise.all(Array.from({ length: 300 }, async (_, i) => (await RawClient.join(server.wsUrl, await viewerToken(server, `race-${i}`), 'race')).client));
    const answers = await Promise.all(buyers.map((b, i) => b.request({ t: 'addToCart', key: 'r', sku: 'hot', quantity: 1 + (i % 3) })));
    const granted = answers.reduce((s, a) => s + (a.t === 'ok' && a.result?.status === 'reserved' ? (a.result.granted as number) : 0), 0);
    expect(answers.every((a) => a.t === 'ok')).toBe(true);
    expect(granted).toBe(100);
    expect(await server.store.stock('race', 'hot')).toEqual({ available: 0, reserved: 100, sold: 0 });
    await waitUntil(() => buyers[0]!.of('soldOut').length === 1);
    for (const b of buyers) b.close();
  });
});
