/**
 * The SDK's cart against the real server (no fakes): reservations and stock news, sold out,
 * reservation expiry, checkout, and an idempotent retry after a reply lost to a dropped socket.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../protocol/src/codec.ts';
import { until, useRealServer } from './support/realServer.ts';
import {
  connect,
  type CartView,
  type ConnectOptions,
  type LivecartClient,
  type ProductInput,
  type ReservationExpiredEvent,
  type SoldOutEvent,
  type StockEvent,
  type WebSocketConstructor,
} from '../../client/src/index.ts';

import type { RunningServer } from '../../server/src/server.ts';

const serverConfig = {
  port: 0,
  host: '127.0.0.1',
  tokenSecret: 'test-secret-0123456789abcdef0123456789',
  logLevel: 'silent',
  reservationTtlMs: 1500,
  sweepIntervalMs: 100,
} as const;

const fixture = useRealServer(serverConfig);
const clients = fixture.clients;
let roomCounter = 0;
let server: RunningServer;
beforeAll(() => {
  server = fixture.server;
});

const mug = { sku: 'mug-1', title: 'Mug', priceCents: 1299, currency: 'USD', stock: 3 } satisfies ProductInput;
const cap = { sku: 'cap-1', title: 'Cap', priceCents: 500, currency: 'USD', stock: 10 } satisfies ProductInput;

/** A live room with `products`, created over HTTP by a fresh streamer. */
async function saleRoom(...products: ProductInput[]): Promise<string> {
  const room = `cart-${process.pid}-${++roomCounter}`;
  const streamerToken = await server.mintToken({ userId: `streamer-${room}`, name: 'Streamer', role: 'streamer' });
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${streamerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await post('/api/rooms', { title: `Sale ${room}`, id: room })).status).toBe(201);
  for (const product of products) expect((await post(`/api/rooms/${room}/products`, product)).status).toBe(201);
  expect((await post(`/api/rooms/${room}/start`, {})).status).toBe(200);
  return room;
}

async function buyer(room: string, userId: string, options: Partial<ConnectOptions> = {}): Promise<LivecartClient> {
  const token = await server.mintToken({ userId, name: userId, role: 'viewer' });
  const client = connect({ url: server.wsUrl, token, room, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 100 }, ...options });
  clients.push(client);
  await client.ready;
  return client;
}

/** A fixed wait: only where the test is about time passing with nothing to await. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LivecartClient cart against the real server', () => {
  it('reserves, updates the local cart, and the new stock reaches another viewer', async () => {
    const room = await saleRoom(mug);
    const ann = await buyer(room, 'ann');
    const bob = await buyer(room, 'bob');
    expect(ann.state.stock).toEqual({ 'mug-1': 3 });
    const stockSeen: StockEvent[] = [];
    bob.on('stock', (s) => stockSeen.push(s));
    const cartViews: number[] = [];
    ann.on('cartChanged', (cart: CartView) => cartViews.push(cart.lines.length));

    const before = Date.now();
    const answer = await ann.addToCart('mug-1', 2);
    expect(answer).toMatchObject({ status: 'reserved', sku: 'mug-1', quantity: 2, granted: 2, available: 1 });
    if (answer.status !== 'reserved') throw new Error('unreachable');
    expect(answer.expiresAt).toBeGreaterThanOrEqual(before + 1500);
    // The local view was updated before the promise resolved.
    expect(cartViews).toEqual([1]);
    expect(ann.state.cart.lines).toEqual([{ sku: 'mug-1', quantity: 2, expiresAt: answer.expiresAt, priceCents: 1299 }]);
    expect(ann.state.cart).toMatchObject({ totalCents: 2598, currency: 'USD' });

    await until(() => stockSeen.some((s) => s.available === 1), 'the stock update');
    expect(stockSeen.at(-1)).toEqual({ sku: 'mug-1', available: 1 });
    expect(bob.state.stock['mug-1']).toBe(1);
    await until(() => ann.state.stock['mug-1'] === 1, 'the buyer\'s own stock update');
  });

  it('announces sold out once, and answers sold_out afterwards', async () => {
    const room = await saleRoom(mug);
    const ann = await buyer(room, 'ann');
    const bob = await buyer(room, 'bob');
    const watcher = await buyer(room, 'watcher');
    const soldOut: SoldOutEvent[] = [];
    watcher.on('soldOut', (e) => soldOut.push(e));

    expect(await ann.addToCart('mug-1', 2)).toMatchObject({ status: 'reserved', granted: 2 });
    // Bob asks for 2 but only 1 is left: a partial grant, and the product sells out.
    expect(await bob.addToCart('mug-1', 2)).toMatchObject({ status: 'reserved', quantity: 1, granted: 1, available: 0 });
    await until(() => soldOut.length === 1, 'the soldOut event');
    expect(soldOut[0]).toMatchObject({ t: 'soldOut', sku: 'mug-1', seq: expect.any(Number) });
    expect(watcher.state.stock['mug-1']).toBe(0);
    expect(watcher.state.lastSeq).toBe(soldOut[0]!.seq);

    expect(await bob.addToCart('mug-1')).toEqual({ status: 'sold_out', sku: 'mug-1' });
    expect(await watcher.addToCart('mug-1', 3)).toEqual({ status: 'sold_out', sku: 'mug-1' });
    expect(bob.state.cart.lines).toMatchObject([{ sku: 'mug-1', quantity: 1 }]); // a refusal leaves the cart alone
    await sleep(400); // past a stock interval: nothing more is announced
    expect(soldOut).toHaveLength(1);
    expect(watcher.state.stock['mug-1']).toBe(0);

    // A newcomer sees it in the welcome.
    const late = await buyer(room, 'late');
    expect(late.state.stock).toEqual({ 'mug-1': 0 });
  });

  it('a repeat tap while an add-to-cart is pending joins it: one request, the same answer; the next tap after the answer is a new action', async () => {
    const room = await saleRoom(cap);
    const ann = await buyer(room, 'ann');
    const actions: string[] = [];
    ann.on('cartAction', (e) => actions.push(e.state));
    const sent = () => server.gateway.stats.messagesIn['addToCart'] ?? 0;
    const before = sent();
    const [first, repeat, another] = await Promise.all([ann.addToCart('cap-1'), ann.addToCart('cap-1'), ann.addToCart('cap-1', 2)]);
    expect(first).toMatchObject({ status: 'reserved', quantity: 1, granted: 1 });
    expect(repeat).toBe(first);
    expect(another).toBe(first);
    expect(sent() - before).toBe(1);
    expect(actions).toEqual(['adding', 'reserved']); // the joined taps report nothing of their own
    expect(ann.state.cart.lines).toMatchObject([{ sku: 'cap-1', quantity: 1 }]);

    expect(await ann.addToCart('cap-1')).toMatchObject({ status: 'reserved', quantity: 2, granted: 1 });
    expect(sent() - before).toBe(2);
  });

  it('tells the owner when a reservation expires and the stock comes back', async () => {
    const room = await saleRoom(mug);
    const owner = await buyer(room, 'owner');
    const other = await buyer(room, 'other');
    const expired: ReservationExpiredEvent[] = [];
    const othersExpired: ReservationExpiredEvent[] = [];
    owner.on('reservationExpired', (e) => expired.push(e));
    other.on('reservationExpired', (e) => othersExpired.push(e));
    const cartSizes: number[] = [];
    owner.on('cartChanged', (cart) => cartSizes.push(cart.lines.length));

    expect(await owner.addToCart('mug-1', 3)).toMatchObject({ status: 'reserved', available: 0 });
    await until(() => other.state.stock['mug-1'] === 0, 'stock 0');
    await until(() => expired.length === 1, 'the expiry notice', 5000);
    expect(expired).toEqual([{ sku: 'mug-1', quantity: 3 }]);
    expect(owner.state.cart.lines).toEqual([]);
    expect(cartSizes).toEqual([1, 0]);
    await until(() => other.state.stock['mug-1'] === 3, 'stock back to 3');
    expect(othersExpired).toEqual([]); // only the owner is told
    expect(await server.store.stock(room, 'mug-1')).toEqual({ available: 3, reserved: 0, sold: 0 });
    // The line is gone on the server too.
    expect(await owner.setQuantity('mug-1', 1)).toEqual({ status: 'cart_not_found' });
  });

  it('checks out with the right total and empties the cart', async () => {
    const room = await saleRoom(mug, cap);
    const ann = await buyer(room, 'ann');
    await ann.addToCart('mug-1', 1);
    expect(await ann.setQuantity('mug-1', 3)).toMatchObject({ status: 'reserved', quantity: 3, granted: 2 });
    await ann.addToCart('cap-1', 4);
    expect(await ann.setQuantity('cap-1', 1)).toMatchObject({ status: 'released', quantity: 1 });
    await ann.addToCart('cap-1', 2);
    expect(await ann.removeFromCart('cap-1')).toMatchObject({ status: 'released', quantity: 0, available: 10 });
    await ann.addToCart('cap-1', 1);

    const cart = await ann.cart();
    expect(cart).toMatchObject({ roomId: room, currency: 'USD', totalCents: 3 * 1299 + 500 });
    expect(cart.lines.map((l) => [l.sku, l.quantity])).toEqual([['mug-1', 3], ['cap-1', 1]]);
    expect(ann.state.cart.totalCents).toBe(cart.totalCents);
    expect(ann.state.cart.lines.map((l) => [l.sku, l.quantity])).toEqual([['mug-1', 3], ['cap-1', 1]]);

    const answer = await ann.checkout();
    expect(answer.status).toBe('ordered');
    if (answer.status !== 'ordered') throw new Error('unreachable');
    expect(answer.order).toMatchObject({ roomId: room, userId: 'ann', currency: 'USD', totalCents: 4397 });
    expect(answer.order.lines).toEqual(expect.arrayContaining([{ sku: 'mug-1', quantity: 3, priceCents: 1299 }, { sku: 'cap-1', quantity: 1, priceCents: 500 }]));
    expect(ann.state.cart).toMatchObject({ lines: [], totalCents: 0, lastOrder: answer.order });
    expect(await server.store.stock(room, 'mug-1')).toEqual({ available: 0, reserved: 0, sold: 3 });
    expect(await ann.checkout()).toEqual({ status: 'cart_not_found' });
    expect((await ann.cart()).lines).toEqual([]);
  });

  it('refreshes the cart after a reconnect: expiry notices sent while away are lost', async () => {
    const room = await saleRoom(mug);
    const outage = { down: false };
    const ann = await buyer(room, 'ann', { WebSocket: gatedWebSocket(outage) });
    const watcher = await buyer(room, 'watcher');
    const expired: ReservationExpiredEvent[] = [];
    ann.on('reservationExpired', (e) => expired.push(e));
    await ann.addToCart('mug-1', 1);
    expect(ann.state.cart.lines).toHaveLength(1);
    await until(() => watcher.state.stock['mug-1'] === 2, 'the reservation announced');

    outage.down = true;
    ann.dropConnectionForTest();
    // The reservation expires and is swept while the client is away, and the room hears the stock.
    await until(() => watcher.state.stock['mug-1'] === 3, 'the expired reservation back in stock, announced');
    expect(await server.store.stock(room, 'mug-1')).toEqual({ available: 3, reserved: 0, sold: 0 });
    expect(ann.state.cart.lines).toHaveLength(1); // stale: the notice went nowhere
    const welcomes: unknown[] = [];
    ann.on('welcome', (w) => welcomes.push(w));
    outage.down = false;
    await until(() => welcomes.length === 1, 'the reconnect');
    await until(() => ann.state.cart.lines.length === 0, 'the refreshed cart');
    expect(expired).toEqual([]);
    expect(ann.state.stock['mug-1']).toBe(3);
  });

  it('retries after a lost reply with the same key: one reservation, not two', async () => {
    const room = await saleRoom(mug);
    const plan: LossPlan = { type: 'addToCart', sent: [] };
    const ann = await buyer(room, 'ann', { WebSocket: lossyWebSocket(plan) });
    const reconnects: number[] = [];
    ann.on('reconnecting', (r) => reconnects.push(r.code));
    // The server answers the first addToCart, but the socket drops before the client reads it.
    plan.onLost = () => ann.dropConnectionForTest();

    const answer = await ann.addToCart('mug-1', 2);
    expect(plan.lost).toMatchObject({ t: 'ok', result: { status: 'reserved', quantity: 2, granted: 2 } });
    expect(reconnects).toEqual([4000]);
    expect(answer).toEqual(plan.lost!.result); // the first answer, replayed
    const attempts = plan.sent.filter((f) => f.t === 'addToCart');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.key).toBe(attempts[0]!.key);
    expect(attempts[1]!.id).not.toBe(attempts[0]!.id);
    expect(await server.store.stock(room, 'mug-1')).toEqual({ available: 1, reserved: 2, sold: 0 });
    expect(ann.state.cart.lines).toMatchObject([{ sku: 'mug-1', quantity: 2 }]);

    // A new action gets a new key and does reserve again.
    expect(await ann.addToCart('mug-1', 1)).toMatchObject({ status: 'reserved', quantity: 3, granted: 1 });
    const keys = new Set(plan.sent.filter((f) => f.t === 'addToCart').map((f) => f.key));
    expect(keys.size).toBe(2);
    expect(await server.store.stock(room, 'mug-1')).toEqual({ available: 0, reserved: 3, sold: 0 });
  });
});

/** A real `ws` socket behind a switchable outage: while `outage.down`, new sockets fail to connect (1006). */
function gatedWebSocket(outage: { down: boolean }): WebSocketConstructor {
  return class GatedWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(outage.down ? 'ws://127.0.0.1:1/ws' : url);
    }
  };
}

type Frame = Record<string, unknown> & { t: string; id?: number; key?: string };
interface LossPlan {
  /** Lose the reply to the first request of this type. */
  type: string;
  /** Every frame the client sent, decoded. */
  sent: Frame[];
  /** Called, instead of delivering, when the reply arrives. */
  onLost?: () => void;
  /** The reply that was lost. */
  lost?: Frame;
}

/** A real `ws` socket that loses one reply as a dropped connection would, after the server handled the request. */
function lossyWebSocket(plan: LossPlan): WebSocketConstructor {
  let targetId: number | undefined;
  return class LossyWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(url);
    }
    override send(data: Uint8Array): void {
      const frame = decode(data) as Frame;
      plan.sent.push(frame);
      if (frame.t === plan.type && targetId === undefined) targetId = frame.id;
      super.send(data);
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message' && plan.lost === undefined && targetId !== undefined) {
        const data = args[0] as ArrayBuffer | Buffer; // ArrayBuffer: the client sets binaryType 'arraybuffer'
        const frame = decode(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as Frame;
        if (frame.id === targetId && (frame.t === 'ok' || frame.t === 'err')) {
          plan.lost = frame;
          plan.onLost?.();
          return true;
        }
      }
      return super.emit(event, ...args);
    }
  };
}
