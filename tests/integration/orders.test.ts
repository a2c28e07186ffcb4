/**
 * Orders a buyer can follow, against real servers: the buyer's list over rooms, the shop's steps
 * (the payment hook, shipped, delivered, cancelled) with who may take them and the typed
 * conflicts, the news of each step pushed live to the buyer's sockets (a "My orders" follower
 * socket too, on another node), a cancel's units back on sale, and demo payments that say so.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient, type Order, type OrderUpdatedEvent } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const clients: LivecartClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

function open(server: RunningServer, token: string, room: string, follow?: 'orders'): LivecartClient {
  const client = connect({ url: server.wsUrl, token, room, reconnect: { baseMs: 20, maxMs: 100 }, ...(follow ? { follow } : {}) });
  clients.push(client);
  return client;
}

let keyCounter = 0;
/** The buyer reserves `quantity` of the room's `hot` product and checks out over HTTP. */
async function buy(server: RunningServer, token: string, room: string, quantity = 1): Promise<Order> {
  const added = await http(server, 'POST', `/api/rooms/${room}/cart/items`, token, { sku: 'hot', quantity, key: `add-${++keyCounter}` });
  expect(added.body.status).toBe('reserved');
  const ordered = await http(server, 'POST', `/api/rooms/${room}/checkout`, token, { key: `pay-${++keyCounter}` });
  expect(ordered.body.status).toBe('ordered');
  return ordered.body.order as Order;
}

describe('orders on one node', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ stockIntervalMs: 20, viewerCountIntervalMs: 100 });
  });
  afterAll(() => server?.close());

  it('lists a buyer\'s orders over rooms, newest first, for the buyer only', async () => {
    await saleRoom(server, 'list-a', 10);
    await saleRoom(server, 'list-b', 10);
    const ann = await viewerToken(server, 'list-ann');
    const first = await buy(server, ann, 'list-a');
    const second = await buy(server, ann, 'list-b', 2);
    expect(first.id).toMatch(/^o-list-a\.[A-Za-z0-9_-]{16}$/);
    const mine = await http(server, 'GET', '/api/me/orders', ann);
    expect(mine.status).toBe(200);
    expect(mine.body.orders.map((o: Order) => [o.id, o.status, o.history.length])).toEqual([[second.id, 'placed', 1], [first.id, 'placed', 1]]);
    expect((await http(server, 'GET', '/api/me/orders?limit=1', ann)).body.orders.map((o: Order) => o.id)).toEqual([second.id]);
    expect((await http(server, 'GET', '/api/me/orders', await viewerToken(server, 'list-bo'))).body.orders).toEqual([]);
    expect((await http(server, 'GET', '/api/me/orders')).status).toBe(401);
    expect((await http(server, 'GET', '/api/me/orders?limit=0', ann)).body.error).toMatchObject({ name: 'BAD_REQUEST', message: expect.stringContaining('limit') });
  });

  it('lets the room\'s streamer or an operator take the shop\'s steps, idempotently; refuses illegal ones with a typed conflict', async () => {
    const streamer = await saleRoom(server, 'steps', 10);
    const otherStreamer = await saleRoom(server, 'steps-other', 10);
    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    const ann = await viewerToken(server, 'steps-ann');
    const order = await buy(server, ann, 'steps');

    const byBuyer = await http(server, 'POST', `/api/orders/${order.id}/payment`, ann, {});
    expect([byBuyer.status, byBuyer.body.error.name]).toEqual([403, 'FORBIDDEN']);
    const byOtherShop = await http(server, 'POST', `/api/orders/${order.id}/payment`, otherStreamer, {});
    expect([byOtherShop.status, byOtherShop.body.error.name]).toEqual([404, 'ORDER_NOT_FOUND']);
    const notPaidHere = await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'paid' });
    expect([notPaidHere.status, notPaidHere.body.error.message]).toEqual([400, expect.stringContaining('/payment')]);
    const tooEarly = await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'shipped' });
    expect([tooEarly.status, tooEarly.body.error.name, tooEarly.body.error.code]).toEqual([409, 'ORDER_STATUS_CONFLICT', 1025]);

    const paid = await http(server, 'POST', `/api/orders/${order.id}/payment`, streamer, { reference: 'pi_3Nx' });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ changed: true, order: { status: 'paid', payment: { demo: false, reference: 'pi_3Nx' } } });
    const again = await http(server, 'POST', `/api/orders/${order.id}/payment`, streamer, { reference: 'pi_3Nx' });
    expect(again.body).toEqual({ changed: false, order: paid.body.order });
    const shipped = await http(server, 'POST', `/api/orders/${order.id}/status`, operator, { status: 'shipped', note: 'DHL 1234' });
    expect(shipped.body.order.history.map((s: { status: string; note?: string }) => [s.status, s.note])).toEqual([['placed', undefined], ['paid', undefined], ['shipped', 'DHL 1234']]);
    const cancel = await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'cancelled' });
    expect(cancel.body.error).toMatchObject({ name: 'ORDER_STATUS_CONFLICT', message: expect.stringContaining('shipped and cannot become cancelled') });
    expect((await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'delivered' })).body.order.status).toBe('delivered');

    expect((await http(server, 'GET', `/api/orders/${order.id}`, ann)).body.order.status).toBe('delivered');
    expect((await http(server, 'GET', '/api/rooms/steps/orders', streamer)).body.orders.map((o: Order) => o.status)).toEqual(['delivered']);
    expect((await http(server, 'POST', '/api/orders/o-steps.unknown/status', streamer, { status: 'shipped' })).status).toBe(404);
    expect((await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'lost' })).status).toBe(400);
  });

  it('pushes each step to the buyer\'s sockets in the room, a "My orders" follower too, which no viewer count includes and no broadcast reaches', async () => {
    const streamer = await saleRoom(server, 'live', 10);
    const ann = await viewerToken(server, 'live-ann');
    const viewerPage = open(server, ann, 'live');
    const ordersPage = open(server, ann, 'live', 'orders');
    const bystander = open(server, await viewerToken(server, 'live-bo'), 'live');
    await Promise.all([viewerPage.ready, ordersPage.ready, bystander.ready]);
    expect(server.rooms.hosted('live')!.viewerCount).toBe(2);
    expect(server.rooms.hosted('live')!.followerCount).toBe(1);

    const seen: Array<[string, string]> = [];
    ordersPage.on('orderUpdated', (e: OrderUpdatedEvent) => seen.push(['follower', e.order.status]));
    viewerPage.on('orderUpdated', (e: OrderUpdatedEvent) => seen.push(['viewer', e.order.status]));
    bystander.on('orderUpdated', () => seen.push(['bystander', 'anything']));
    const comments: string[] = [];
    ordersPage.on('comment', (c) => comments.push(c.text));

    const answer = await viewerPage.addToCart('hot', 1).then(() => viewerPage.checkout());
    expect(answer.status).toBe('ordered');
    const order = (answer as Extract<typeof answer, { status: 'ordered' }>).order;
    await waitUntil(() => ordersPage.state.orders[order.id]?.status === 'placed', 5000, 'the follower heard of the new order');
    await http(server, 'POST', `/api/orders/${order.id}/payment`, streamer, {});
    await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'shipped', note: 'on its way' });
    await waitUntil(() => ordersPage.state.orders[order.id]?.status === 'shipped' && viewerPage.state.orders[order.id]?.status === 'shipped', 5000, 'both sockets heard shipped');
    expect(ordersPage.state.orders[order.id]!.history.at(-1)).toMatchObject({ status: 'shipped', note: 'on its way' });
    expect(viewerPage.state.cart.lastOrder?.status).toBe('shipped');
    expect(seen.filter(([who]) => who === 'follower').map(([, status]) => status)).toEqual(['placed', 'paid', 'shipped']);
    expect(seen.some(([who]) => who === 'bystander')).toBe(false);

    // A comment reaches the room's viewers, not the follower.
    const commented = new Promise<void>((resolve) => bystander.on('comment', () => resolve()));
    await viewerPage.comment('hello room');
    await commented;
    expect(comments).toEqual([]);
    expect(server.rooms.hosted('live')!.viewerCount).toBe(2);
  });

  it('a cancel puts the units back on sale: the room hears the stock, and a kicked buyer still follows their order', async () => {
    const streamer = await saleRoom(server, 'cancel', 2);
    const ann = await viewerToken(server, 'cancel-ann');
    const order = await buy(server, ann, 'cancel', 2);
    const watcher = open(server, await viewerToken(server, 'cancel-bo'), 'cancel');
    await watcher.ready;
    expect(watcher.state.stock.hot).toBe(0);
    const streamerSocket = open(server, streamer, 'cancel');
    await streamerSocket.ready;
    await streamerSocket.kick('viewer-cancel-ann');
    const follower = open(server, ann, 'cancel', 'orders');
    await follower.ready;
    const cancelled = await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'cancelled', note: 'not paid in time' });
    expect(cancelled.body).toMatchObject({ changed: true, order: { status: 'cancelled' } });
    await waitUntil(() => watcher.state.stock.hot === 2, 5000, 'the room hears the units back');
    await waitUntil(() => follower.state.orders[order.id]?.status === 'cancelled', 5000, 'the kicked buyer hears the cancel');
    expect((await http(server, 'GET', '/api/rooms/cancel/inventory', streamer)).body.inventory.hot).toEqual({ available: 2, reserved: 0, sold: 0 });
  });
});

describe('demo payments', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ demoPayments: true });
  });
  afterAll(() => server?.close());

  it('mark every new order paid at once, as a demo', async () => {
    await saleRoom(server, 'demo-pay', 5);
    const ann = await viewerToken(server, 'demo-ann');
    const page = open(server, ann, 'demo-pay');
    await page.ready;
    const answer = await page.addToCart('hot', 1).then(() => page.checkout());
    expect(answer).toMatchObject({ status: 'ordered', order: { status: 'placed' } });
    const order = (answer as Extract<typeof answer, { status: 'ordered' }>).order;
    await waitUntil(() => page.state.orders[order.id]?.status === 'paid', 5000, 'the demo payment');
    expect(page.state.orders[order.id]!.payment).toEqual({ demo: true });
    expect((await http(server, 'GET', '/api/me/orders', ann)).body.orders[0]).toMatchObject({ id: order.id, status: 'paid', payment: { demo: true } });
  });
});

describe('orders on two nodes (Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('orders');
    a = await startTestServer({ redis: REDIS_URL, redisPrefix });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a step taken through one node reaches the buyer\'s follower on the other; the list reads the same on both', async () => {
    const streamer = await saleRoom(a, 'two-nodes', 5);
    const ann = await viewerToken(a, 'nodes-ann');
    const order = await buy(b, ann, 'two-nodes');
    const follower = open(a, ann, 'two-nodes', 'orders');
    await follower.ready;
    const paid = await http(b, 'POST', `/api/orders/${order.id}/payment`, streamer, { reference: 'ch_1' });
    expect(paid.body.changed).toBe(true);
    await waitUntil(() => follower.state.orders[order.id]?.status === 'paid', 5000, 'the follower on the other node heard paid');
    expect((await http(a, 'GET', '/api/me/orders', ann)).body).toEqual((await http(b, 'GET', '/api/me/orders', ann)).body);
    expect((await http(a, 'GET', '/api/me/orders', ann)).body.orders.map((o: Order) => o.status)).toEqual(['paid']);
  });
});
