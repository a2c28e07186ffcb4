/**
 * The room's rules for carts, on a real server with real sockets: a pop-up's countdown ends its
 * offer, an ended show sells on the show's terms (its replay is a shop) or, with the shop closed
 * with the show, takes no new adds (checkout and removal still work), a kicked user's
 * reservations go back to stock and the cart stays closed to them over HTTP until a moderator lifts
 * the ban, and "watching" counts viewers only. Both edges (WebSocket and HTTP) pass the same check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, liveRoom, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const resultOf = (reply: { t: string; result?: unknown; code?: number }) => (reply.t === 'ok' ? reply.result : { err: reply.code });

describe('room rules for carts', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // The shop closes with the show (--replay-sales false); the replay's sales have a server of their own below.
    server = await startTestServer({ stockIntervalMs: 20, viewerCountIntervalMs: 100, maxFramesPerSecond: 10_000, replaySales: false });
  });
  afterAll(() => server.close());

  it('by default an ended show sells on as during the show: against current stock, limits and ended offers kept, over WebSocket and HTTP', async () => {
    const replayShop = await startTestServer({ maxFramesPerSecond: 10_000 });
    try {
      const streamer = await saleRoom(replayShop, 'replay-shop', 3, { perCustomerLimit: 2 });
      await http(replayShop, 'POST', '/api/rooms/replay-shop/products', streamer, { sku: 'cool', title: 'Cool item', priceCents: 500, currency: 'USD', stock: 10 });
      const { client: host } = await RawClient.join(replayShop.wsUrl, streamer, 'replay-shop');
      const endsAt = Date.now() + 300;
      expect((await host.request({ t: 'pin', sku: 'cool', endsAt })).t).toBe('ok');
      await waitUntil(() => Date.now() > endsAt, 2000, 'the countdown to end');
      expect((await http(replayShop, 'POST', '/api/rooms/replay-shop/end', streamer)).status).toBe(200);
      const buyerToken = await viewerToken(replayShop, 'replay-buyer');
      const { client: buyer, welcome } = await RawClient.join(replayShop.wsUrl, buyerToken, 'replay-shop'); // a late visitor
      expect(welcome.t === 'welcome' && welcome.room.state).toBe('ended');

      const reserved = resultOf(await buyer.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 1 }));
      expect(reserved).toMatchObject({ status: 'reserved', quantity: 1, available: 2 });
      expect(resultOf(await buyer.request({ t: 'setQuantity', key: 'b', sku: 'hot', quantity: 2 }))).toMatchObject({ status: 'reserved', quantity: 2 });
      expect((await http(replayShop, 'POST', '/api/rooms/replay-shop/cart/items', buyerToken, { sku: 'hot', quantity: 1, key: 'c' })).body).toEqual({ status: 'limit_reached', sku: 'hot', limit: 2 });
      expect(resultOf(await buyer.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 1 }))).toEqual(reserved); // a retry keeps its first answer
      // The pop-up offer that ended in the show stays ended.
      expect(resultOf(await buyer.request({ t: 'addToCart', key: 'd', sku: 'cool', quantity: 1 }))).toEqual({ status: 'not_on_sale', sku: 'cool', endsAt });
      const other = await viewerToken(replayShop, 'replay-other');
      expect((await http(replayShop, 'POST', '/api/rooms/replay-shop/cart/items', other, { sku: 'hot', quantity: 5, key: 'e' })).body).toMatchObject({ status: 'reserved', quantity: 1, granted: 1, available: 0 });
      expect((await http(replayShop, 'POST', '/api/rooms/replay-shop/checkout', buyerToken, { key: 'pay' })).body).toMatchObject({ status: 'ordered', order: { lines: [{ sku: 'hot', quantity: 2 }] } });
      expect(await replayShop.store.stock('replay-shop', 'hot')).toEqual({ available: 0, reserved: 1, sold: 2 });
      // Comments stay closed.
      expect(resultOf(await buyer.request({ t: 'comment', text: 'late' }))).toEqual({ err: ErrorCode.ROOM_ENDED });
      for (const c of [host, buyer]) c.close();
    } finally {
      await replayShop.close();
    }
  });

  it('a pop-up countdown ends the offer: adds answer not_on_sale with endsAt until the product is pinned again', async () => {
    const streamer = await saleRoom(server, 'offer', 10);
    await http(server, 'POST', '/api/rooms/offer/products', streamer, { sku: 'cool', title: 'Cool item', priceCents: 500, currency: 'USD', stock: 10 });
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'offer');
    const buyerToken = await viewerToken(server, 'offer-buyer');
    const { client: buyer } = await RawClient.join(server.wsUrl, buyerToken, 'offer');
    const endsAt = Date.now() + 400;
    expect((await host.request({ t: 'pin', sku: 'hot', endsAt })).t).toBe('ok');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'before', sku: 'hot', quantity: 1 }))).toMatchObject({ status: 'reserved', quantity: 1 });

    await waitUntil(() => Date.now() > endsAt, 2000, 'the countdown to end');
    const ended = { status: 'not_on_sale', sku: 'hot', endsAt };
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'after', sku: 'hot', quantity: 1 }))).toEqual(ended);
    expect((await http(server, 'POST', '/api/rooms/offer/cart/items', buyerToken, { sku: 'hot', quantity: 1, key: 'http-after' })).body).toEqual(ended);
    // Raising the line is an add too; lowering or removing what one holds is not.
    expect(resultOf(await buyer.request({ t: 'setQuantity', key: 'raise', sku: 'hot', quantity: 3 }))).toEqual(ended);
    expect(await server.store.stock('offer', 'hot')).toEqual({ available: 9, reserved: 1, sold: 0 });

    // Another product pinned, then unpinned: the ended offer stays ended.
    expect((await host.request({ t: 'pin', sku: 'cool' })).t).toBe('ok');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'cool', sku: 'cool', quantity: 1 }))).toMatchObject({ status: 'reserved' });
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'still', sku: 'hot', quantity: 1 }))).toEqual(ended);
    expect((await host.request({ t: 'unpin' })).t).toBe('ok');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'unpinned', sku: 'hot', quantity: 1 }))).toEqual(ended);

    // Pinned again: on sale again (with a new countdown, until that one ends).
    expect((await host.request({ t: 'pin', sku: 'hot', endsAt: Date.now() + 60_000 })).t).toBe('ok');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'again', sku: 'hot', quantity: 1 }))).toMatchObject({ status: 'reserved', quantity: 2 });
    for (const c of [host, buyer]) c.close();
  });

  it('an ended show (shop closed with it) or offer still lets a buyer hold less: lowering a line is a release, raising it an add', async () => {
    const streamer = await saleRoom(server, 'hold-less', 10);
    const buyerToken = await viewerToken(server, 'hold-less-buyer');
    const { client: buyer } = await RawClient.join(server.wsUrl, buyerToken, 'hold-less');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 3 }))).toMatchObject({ status: 'reserved', quantity: 3 });
    expect((await http(server, 'POST', '/api/rooms/hold-less/end', streamer)).status).toBe(200);
    await buyer.waitFor((m) => m.t === 'roomState' && m.state === 'ended');

    expect(resultOf(await buyer.request({ t: 'setQuantity', key: 'lower', sku: 'hot', quantity: 2 }))).toMatchObject({ status: 'released', quantity: 2 });
    expect(resultOf(await buyer.request({ t: 'setQuantity', key: 'raise', sku: 'hot', quantity: 3 }))).toEqual({ err: ErrorCode.ROOM_ENDED });
    const httpLower = await http(server, 'PUT', '/api/rooms/hold-less/cart/items/hot', buyerToken, { quantity: 1, key: 'http-lower' });
    expect(httpLower.body).toMatchObject({ status: 'released', quantity: 1 });
    expect(await server.store.stock('hold-less', 'hot')).toEqual({ available: 9, reserved: 1, sold: 0 });
    buyer.close();
  });

  it('with the shop closed with the show, an ended show takes no new adds, over WebSocket or HTTP; paying for or removing what one holds still works', async () => {
    const streamer = await saleRoom(server, 'ended-cart', 10);
    await http(server, 'POST', '/api/rooms/ended-cart/products', streamer, { sku: 'cool', title: 'Cool item', priceCents: 500, currency: 'USD', stock: 10 });
    const buyerToken = await viewerToken(server, 'ended-buyer');
    const { client: buyer } = await RawClient.join(server.wsUrl, buyerToken, 'ended-cart');
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 2 }))).toMatchObject({ status: 'reserved' });
    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'b', sku: 'cool', quantity: 1 }))).toMatchObject({ status: 'reserved' });
    expect((await http(server, 'POST', '/api/rooms/ended-cart/end', streamer)).status).toBe(200);
    await buyer.waitFor((m) => m.t === 'roomState' && m.state === 'ended');

    expect(resultOf(await buyer.request({ t: 'addToCart', key: 'c', sku: 'hot', quantity: 1 }))).toEqual({ err: ErrorCode.ROOM_ENDED });
    expect(resultOf(await buyer.request({ t: 'setQuantity', key: 'd', sku: 'hot', quantity: 3 }))).toEqual({ err: ErrorCode.ROOM_ENDED });
    const httpAdd = await http(server, 'POST', '/api/rooms/ended-cart/cart/items', buyerToken, { sku: 'hot', quantity: 1, key: 'e' });
    expect(httpAdd.status).toBe(409);
    expect(httpAdd.body.error.name).toBe('ROOM_ENDED');

    expect(resultOf(await buyer.request({ t: 'removeFromCart', key: 'f', sku: 'cool' }))).toMatchObject({ status: 'released', quantity: 0 });
    expect((await http(server, 'GET', '/api/rooms/ended-cart/cart', buyerToken)).body.cart.lines).toMatchObject([{ sku: 'hot', quantity: 2 }]);
    const paid = await http(server, 'POST', '/api/rooms/ended-cart/checkout', buyerToken, { key: 'pay' });
    expect(paid.body).toMatchObject({ status: 'ordered', order: { lines: [{ sku: 'hot', quantity: 2 }] } });
    expect(await server.store.stock('ended-cart', 'hot')).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await server.store.stock('ended-cart', 'cool')).toEqual({ available: 10, reserved: 0, sold: 0 });
    buyer.close();
  });

  it('a kick gives the user\'s reservations in the room back to stock, and the room hears it', async () => {
    const streamer = await saleRoom(server, 'kick-stock', 5);
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'kick-stock');
    const { client: watcher } = await RawClient.join(server.wsUrl, await viewerToken(server, 'ks-watcher'), 'kick-stock');
    const victimToken = await viewerToken(server, 'ks-victim');
    const { client: victim } = await RawClient.join(server.wsUrl, victimToken, 'kick-stock');
    expect(resultOf(await victim.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 3 }))).toMatchObject({ status: 'reserved', available: 2 });
    await watcher.waitFor((m) => m.t === 'stock' && m.sku === 'hot' && m.available === 2);
    expect(resultOf(await host.request({ t: 'kick', userId: 'viewer-ks-victim' }))).toEqual({ closed: 1, released: 3 });
    expect((await victim.closed).code).toBe(4505);
    await watcher.waitFor((m) => m.t === 'stock' && m.sku === 'hot' && m.available === 5);
    expect(await server.store.stock('kick-stock', 'hot')).toEqual({ available: 5, reserved: 0, sold: 0 });
    for (const c of [host, watcher]) c.close();
  });

  it('a kicked user can neither add to the cart nor check out over HTTP during the ban', async () => {
    const streamer = await saleRoom(server, 'kick-http', 5);
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'kick-http');
    const victimToken = await viewerToken(server, 'kh-victim');
    expect((await http(server, 'POST', '/api/rooms/kick-http/cart/items', victimToken, { sku: 'hot', quantity: 1, key: 'a' })).body).toMatchObject({ status: 'reserved' });
    expect((await host.request({ t: 'kick', userId: 'viewer-kh-victim' })).t).toBe('ok');
    for (const [method, path, body] of [
      ['POST', '/api/rooms/kick-http/cart/items', { sku: 'hot', quantity: 1, key: 'b' }],
      ['POST', '/api/rooms/kick-http/checkout', { key: 'c' }],
      ['GET', '/api/rooms/kick-http/cart', undefined],
    ] as const) {
      const refused = await http(server, method, path, victimToken, body);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.name, path).toBe('KICKED');
    }
    expect((await server.store.orders('kick-http'))).toEqual([]);
    host.close();
  });

  it('a moderator lists the room\'s bans by name and lifts one (WebSocket or HTTP): the user may buy and join again', async () => {
    const streamer = await saleRoom(server, 'ban', 5);
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'ban');
    const victimToken = await viewerToken(server, 'victim');
    const { client: victim } = await RawClient.join(server.wsUrl, victimToken, 'ban');
    // A user who commented and left, and one the room never saw.
    const { client: ghost } = await RawClient.join(server.wsUrl, await viewerToken(server, 'ghost'), 'ban');
    expect((await ghost.request({ t: 'comment', text: 'bye' })).t).toBe('ok');
    ghost.close();
    await ghost.closed;
    for (const userId of ['viewer-victim', 'viewer-ghost', 'stranger-1']) expect((await host.request({ t: 'kick', userId })).t).toBe('ok');
    expect((await victim.closed).code).toBe(4505);
    const listed = await http(server, 'GET', '/api/rooms/ban/bans', streamer);
    expect(listed.status).toBe(200);
    expect(listed.body.bans.map((b: { userId: string; name: string; until: number }) => [b.userId, b.name, b.until > Date.now()]).sort()).toEqual([
      ['stranger-1', 'stranger-1', true], // never seen: the id is all the server knows
      ['viewer-ghost', 'Viewer ghost', true],
      ['viewer-victim', 'Viewer victim', true],
    ]);
    const nosy = await viewerToken(server, 'nosy');
    expect((await http(server, 'GET', '/api/rooms/ban/bans', nosy)).status).toBe(403);
    expect((await http(server, 'DELETE', '/api/rooms/ban/bans/viewer-victim', nosy)).status).toBe(403);

    expect(resultOf(await host.request({ t: 'unban', userId: 'viewer-victim' }))).toEqual({ lifted: true });
    expect((await http(server, 'DELETE', '/api/rooms/ban/bans/viewer-ghost', streamer)).body).toEqual({ lifted: true });
    expect((await http(server, 'DELETE', '/api/rooms/ban/bans/viewer-ghost', streamer)).body).toEqual({ lifted: false });
    expect((await http(server, 'GET', '/api/rooms/ban/bans', streamer)).body.bans.map((b: { userId: string }) => b.userId)).toEqual(['stranger-1']);
    expect((await http(server, 'POST', '/api/rooms/ban/cart/items', victimToken, { sku: 'hot', quantity: 1, key: 'd' })).body).toMatchObject({ status: 'reserved' });
    const { client: back } = await RawClient.join(server.wsUrl, victimToken, 'ban');
    for (const c of [host, back]) c.close();
  });

  it('"watching" counts viewers, not the streamer and operators', async () => {
    const { streamer } = await liveRoom(server, 'watch');
    const operator = await server.mintToken({ userId: 'watch-op', name: 'Op', role: 'operator' });
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'watch');
    const { client: op } = await RawClient.join(server.wsUrl, operator, 'watch');
    const { client: first } = await RawClient.join(server.wsUrl, await viewerToken(server, 'watch-1'), 'watch');
    const { client: second, welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'watch-2'), 'watch');
    expect(welcome.t === 'welcome' && welcome.viewers).toBe(2);
    await host.waitFor((m) => m.t === 'viewers' && m.count === 2);
    expect(host.of('viewers').every((m) => m.count <= 2)).toBe(true);
    const snapshot = await http(server, 'GET', '/api/rooms/watch');
    expect(snapshot.body.viewers).toBe(2);
    expect((await http(server, 'GET', '/api/rooms')).body.rooms.find((r: { id: string }) => r.id === 'watch').viewers).toBe(2);
    for (const c of [host, op, first, second]) c.close();
  });
});

describe('room rules across nodes (Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const prefix = uniquePrefix('rules');
    [a, b] = (await Promise.all([0, 1].map(() => startTestServer({ redis: REDIS_URL, redisPrefix: prefix })))) as [RunningServer, RunningServer];
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('a node that does not host the room applies the ended offer and the ban from the shared directory', async () => {
    const streamer = await saleRoom(a, 'shared-rules', 10);
    const { client: host } = await RawClient.join(a.wsUrl, streamer, 'shared-rules');
    const endsAt = Date.now() + 300;
    expect((await host.request({ t: 'pin', sku: 'hot', endsAt })).t).toBe('ok');
    await waitUntil(() => Date.now() > endsAt, 2000, 'the countdown to end');
    const buyer = await viewerToken(b, 'shared-buyer');
    expect((await http(b, 'POST', '/api/rooms/shared-rules/cart/items', buyer, { sku: 'hot', quantity: 1, key: 'a' })).body).toEqual({ status: 'not_on_sale', sku: 'hot', endsAt });
    expect((await host.request({ t: 'pin', sku: 'hot' })).t).toBe('ok');
    // Node b's view of the room may be up to a second old.
    await waitUntil(async () => (await http(b, 'POST', '/api/rooms/shared-rules/cart/items', buyer, { sku: 'hot', quantity: 1, key: `b${Date.now()}` })).body.status === 'reserved', 3000, 'the offer back on node b', 100);
    expect(resultOf(await host.request({ t: 'kick', userId: 'viewer-shared-buyer' }))).toEqual({ closed: 0, released: 1 });
    expect(await a.store.stock('shared-rules', 'hot')).toMatchObject({ available: 10, reserved: 0 });
    await waitUntil(async () => (await http(b, 'POST', '/api/rooms/shared-rules/checkout', buyer, { key: `c${Date.now()}` })).status === 403, 3000, 'the ban on node b', 100);
    // The ban list and its lifting are shared too.
    expect((await http(b, 'GET', '/api/rooms/shared-rules/bans', streamer)).body.bans).toMatchObject([{ userId: 'viewer-shared-buyer', name: 'viewer-shared-buyer' }]);
    expect((await http(b, 'DELETE', '/api/rooms/shared-rules/bans/viewer-shared-buyer', streamer)).body).toEqual({ lifted: true });
    expect((await http(a, 'GET', '/api/rooms/shared-rules/bans', streamer)).body.bans).toEqual([]);
    // Node a hears the lift over the broker: the user may join there again.
    let back: RawClient | undefined;
    await waitUntil(async () => {
      back = await RawClient.join(a.wsUrl, buyer, 'shared-rules').then(({ client }) => client, () => undefined);
      return back !== undefined;
    }, 3000, 'the lift on node a', 50);
    for (const c of [host, back!]) c.close();
  });
});
