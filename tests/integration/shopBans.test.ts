/**
 * Bans and the shop's commerce, on two nodes sharing Redis:
 * - a kick in a show linked to its shop bars the user from the whole shop's commerce (the shop
 *   window and every show linked to it: cart adds, checkout, coupon claims) and from the shop
 *   window itself, for the ban's duration; lifting the ban in the show lifts it there too. The
 *   shop's other shows may still be watched and commented in, and unrelated rooms are untouched;
 * - a cart request or coupon claim waiting in a node's admission queue when its buyer is kicked
 *   on another node is refused KICKED at its turn and never reaches the store (a key with a
 *   recorded answer still gets that answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import type { ReserveRequest } from '../../server/src/store/Store.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';

/** A refusal over HTTP: its code's name, or the answer's status. */
const outcome = (reply: { status: number; body: Record<string, any> }) => (reply.status === 200 ? reply.body.status as string : reply.body.error?.name as string);

describe('a kick in a show linked to its shop bars the user from the shop\'s commerce (two nodes, Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('shopbans');
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000 });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('bars cart adds, checkout and coupon claims in the shop window and every linked show, and the shop window itself, until lifted in the show', async () => {
    const streamer = await a.mintToken({ userId: 'shop-ban-owner', name: 'Owner', role: 'streamer' });
    const added = await http(a, 'POST', '/api/shop/products', streamer, { sku: 'tee', title: 'Tee', priceCents: 1500, currency: 'USD', stock: 20 });
    expect(added.status).toBe(201);
    const shopId = added.body.shopId as string;
    for (const show of ['ban-show-1', 'ban-show-2']) {
      expect((await http(a, 'POST', '/api/rooms', streamer, { title: show, id: show, shop: true })).status).toBe(201);
      expect((await http(a, 'POST', `/api/rooms/${show}/products`, streamer, { sku: 'tee', title: 'Tee', priceCents: 1500, currency: 'USD', stock: 20 })).status).toBe(201);
      expect((await http(a, 'POST', `/api/rooms/${show}/start`, streamer)).status).toBe(200);
    }
    expect((await http(a, 'POST', `/api/rooms/${shopId}/coupons`, streamer, { id: 'SHOP1', amountOffCents: 100, total: 10 })).status).toBe(201);
    await saleRoom(b, 'ban-elsewhere', 5);

    const buyer = await a.mintToken({ userId: 'shop-ban-buyer', name: 'Buyer', role: 'viewer' });
    // The shop window and the second show are hosted on node b (a watcher stays in each), the first show on node a.
    const { client: host } = await RawClient.join(a.wsUrl, streamer, 'ban-show-1');
    const { client: shopWatcher } = await RawClient.join(b.wsUrl, await b.mintToken({ userId: 'shop-watcher', name: 'W', role: 'viewer' }), shopId);
    const { client: showWatcher } = await RawClient.join(b.wsUrl, await b.mintToken({ userId: 'show-watcher', name: 'W2', role: 'viewer' }), 'ban-show-2');
    const { client: inShop } = await RawClient.join(b.wsUrl, buyer, shopId);
    expect(outcome(await http(b, 'POST', `/api/rooms/${shopId}/cart/items`, buyer, { sku: 'tee', quantity: 2, key: 'before' }))).toBe('reserved');

    expect(await host.request({ t: 'kick', userId: 'shop-ban-buyer' })).toMatchObject({ t: 'ok', result: { released: 2 } });
    // The shop window's socket on the other node is closed, as in the show: the shop is barred too.
    expect((await inShop.closed).code).toBe(4505);
    expect(await a.store.stock(shopId, 'tee')).toEqual({ available: 20, reserved: 0, sold: 0 });

    const refusedEverywhere = async () => {
      for (const [server, room] of [[b, shopId], [b, 'ban-show-2'], [a, shopId], [a, 'ban-show-2'], [a, 'ban-show-1']] as const) {
        expect(outcome(await http(server, 'POST', `/api/rooms/${room}/cart/items`, buyer, { sku: 'tee', quantity: 1, key: `add-${room}` })), room).toBe('KICKED');
        expect(outcome(await http(server, 'POST', `/api/rooms/${room}/checkout`, buyer, { key: `pay-${room}` })), room).toBe('KICKED');
        expect(outcome(await http(server, 'POST', `/api/rooms/${room}/coupons/SHOP1/claim`, buyer, { key: `claim-${room}` })), room).toBe('KICKED');
      }
    };
    await refusedEverywhere();
    expect(await b.store.stock(shopId, 'tee')).toEqual({ available: 20, reserved: 0, sold: 0 });
    expect((await b.store.roomCoupons(shopId))[0]?.left).toBe(10);
    // The shop window is closed to them; the shop's other show may still be watched and commented in, and other rooms are untouched.
    const again = await RawClient.open(b.wsUrl);
    const refused = await again.hello(buyer, shopId);
    expect(refused.t === 'err' && refused.code).toBe(ErrorCode.KICKED);
    const { client: inShow } = await RawClient.join(b.wsUrl, buyer, 'ban-show-2');
    expect((await inShow.request({ t: 'comment', text: 'still watching' })).t).toBe('ok');
    const { client: elsewhere } = await RawClient.join(b.wsUrl, buyer, 'ban-elsewhere');
    expect((await elsewhere.request({ t: 'comment', text: 'hello' })).t).toBe('ok');
    expect(outcome(await http(b, 'POST', '/api/rooms/ban-elsewhere/cart/items', buyer, { sku: 'hot', quantity: 1, key: 'elsewhere' }))).toBe('reserved');
    // The shop's ban list names them, for the streamer to see (and lift) there too.
    const bans = await http(b, 'GET', `/api/rooms/${shopId}/bans`, streamer);
    expect(bans.body.bans).toMatchObject([{ userId: 'shop-ban-buyer' }]);

    // Lifted in the show (on node a): the whole shop sells to them again, on node b at once.
    expect((await http(a, 'DELETE', `/api/rooms/ban-show-1/bans/${'shop-ban-buyer'}`, streamer)).body).toEqual({ lifted: true });
    await waitUntil(async () => outcome(await http(b, 'POST', `/api/rooms/${shopId}/cart/items`, buyer, { sku: 'tee', quantity: 1, key: 'after-shop' })) === 'reserved', 5000, 'the shop sells again');
    expect(outcome(await http(b, 'POST', '/api/rooms/ban-show-2/cart/items', buyer, { sku: 'tee', quantity: 1, key: 'after-show' }))).toBe('reserved');
    expect(outcome(await http(a, 'POST', `/api/rooms/${shopId}/coupons/SHOP1/claim`, buyer, { key: 'after-claim' }))).toBe('coupon_claimed');
    expect(outcome(await http(a, 'POST', '/api/rooms/ban-show-1/checkout', buyer, { key: 'after-pay' }))).toBe('ordered');
    const { client: back } = await RawClient.join(b.wsUrl, buyer, shopId);
    expect((await http(b, 'GET', `/api/rooms/${shopId}/bans`, streamer)).body.bans).toEqual([]);
    for (const client of [host, shopWatcher, showWatcher, inShow, elsewhere, back]) client.close();
  });

  it('a kick in the shop window bars the shop\'s shows\' carts too, and only the shop\'s', async () => {
    const streamer = await a.mintToken({ userId: 'window-ban-owner', name: 'Owner', role: 'streamer' });
    const shopId = (await http(a, 'POST', '/api/shop/products', streamer, { sku: 'cap', title: 'Cap', priceCents: 900, currency: 'USD', stock: 5 })).body.shopId as string;
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: 'Show', id: 'window-ban-show', shop: true })).status).toBe(201);
    expect((await http(a, 'POST', '/api/rooms/window-ban-show/products', streamer, { sku: 'cap', title: 'Cap', priceCents: 900, currency: 'USD', stock: 5 })).status).toBe(201);
    expect((await http(a, 'POST', '/api/rooms/window-ban-show/start', streamer)).status).toBe(200);
    const buyer = await a.mintToken({ userId: 'window-ban-buyer', name: 'Buyer', role: 'viewer' });
    const { client: host } = await RawClient.join(b.wsUrl, streamer, shopId);
    expect((await host.request({ t: 'kick', userId: 'window-ban-buyer' })).t).toBe('ok');
    // Node a reads the shop's bans afresh within a second (it hosts neither the shop nor the show).
    await waitUntil(async () => outcome(await http(a, 'POST', '/api/rooms/window-ban-show/cart/items', buyer, { sku: 'cap', quantity: 1, key: 'x' })) === 'KICKED', 3000, 'the show refuses');
    expect(await a.store.stock(shopId, 'cap')).toEqual({ available: 5, reserved: 0, sold: 0 });
    // The show itself bans nobody: it may be watched.
    const { client: watching } = await RawClient.join(a.wsUrl, buyer, 'window-ban-show');
    for (const client of [host, watching]) client.close();
  });
});

describe('a request waiting in the admission queue when its buyer is kicked on another node (Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('turnban');
    // One store call at a time, one request each: what waits behind a call held open stays queued.
    const small = { admissionInitialLimit: 1, admissionMinLimit: 1, admissionMaxLimit: 1, admissionBatchMax: 1, admissionMaxWaitMs: 20_000 };
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000, ...small });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000, ...small });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('is refused KICKED at its turn and never reaches the store; a key with a recorded answer gets that answer', async () => {
    const streamer = await saleRoom(a, 'turn-ban', 10);
    expect((await http(a, 'POST', '/api/rooms/turn-ban/coupons', streamer, { id: 'TURN', amountOffCents: 100, total: 3 })).status).toBe(201);
    const token = (userId: string) => a.mintToken({ userId, name: userId, role: 'viewer' });
    const [victim, blocker, after] = await Promise.all([token('turn-victim'), token('turn-blocker'), token('turn-after')]);
    // Node b hosts the room (it hears the kick from node a as every hosting node does).
    const { client: watcher } = await RawClient.join(b.wsUrl, after, 'turn-ban');
    const { client: victimSocket } = await RawClient.join(b.wsUrl, victim, 'turn-ban');
    expect(outcome(await http(b, 'POST', '/api/rooms/turn-ban/cart/items', victim, { sku: 'hot', quantity: 1, key: 'early' }))).toBe('reserved');

    // Node b's store holds its next reservation call open: the blocker's add is in flight, what follows waits in the queue.
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    const reserveBatch = b.store.reserveBatch.bind(b.store);
    b.store.reserveBatch = async (requests: readonly ReserveRequest[]) => {
      await held;
      return reserveBatch(requests);
    };
    const blocked = http(b, 'POST', '/api/rooms/turn-ban/cart/items', blocker, { sku: 'hot', quantity: 1, key: 'blocker' });
    await waitUntil(() => b.admission!.roomStats('turn-ban').inFlight === 1, 5000, 'the blocker in flight');
    const waiting = [
      http(b, 'POST', '/api/rooms/turn-ban/cart/items', victim, { sku: 'hot', quantity: 2, key: 'queued-add' }),
      http(b, 'POST', '/api/rooms/turn-ban/coupons/TURN/claim', victim, { key: 'queued-claim' }),
      // A retry of a key answered before the kick: its recorded answer still stands.
      http(b, 'POST', '/api/rooms/turn-ban/cart/items', victim, { sku: 'hot', quantity: 1, key: 'early' }),
      http(b, 'POST', '/api/rooms/turn-ban/cart/items', after, { sku: 'hot', quantity: 1, key: 'after' }),
    ];
    await waitUntil(() => b.admission!.roomStats('turn-ban').queued === 4, 5000, 'four requests queued');

    // Kicked on node a: node b hears it (the victim's socket there closes) while the requests wait.
    const { client: host } = await RawClient.join(a.wsUrl, streamer, 'turn-ban');
    expect(await host.request({ t: 'kick', userId: 'turn-victim' })).toMatchObject({ t: 'ok', result: { released: 1 } });
    expect((await victimSocket.closed).code).toBe(4505);
    open();
    const [add, claim, retried, later] = await Promise.all(waiting);
    expect(outcome(add!)).toBe('KICKED');
    expect(outcome(claim!)).toBe('KICKED');
    expect(retried!.body).toMatchObject({ status: 'reserved', quantity: 1 });
    expect(outcome(later!)).toBe('reserved');
    expect(outcome(await blocked)).toBe('reserved');
    // Nothing of the victim's queued requests reached the store: two units held (blocker, after), no claim.
    expect(await a.store.stock('turn-ban', 'hot')).toEqual({ available: 8, reserved: 2, sold: 0 });
    expect((await a.store.cart('turn-ban', 'turn-victim', Date.now())).lines).toEqual([]);
    expect(await a.store.userClaims('turn-ban', 'turn-victim')).toEqual([]);
    expect((await a.store.roomCoupons('turn-ban'))[0]?.left).toBe(3);
    for (const client of [watcher, host]) client.close();
  });
});
