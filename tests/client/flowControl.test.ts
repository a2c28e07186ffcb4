/**
 * The SDK's side of the server's flow control, over a scripted in-memory socket with fake
 * timers: periodic `ack` notices, `queued` news pushing a request's deadline back, `degrade`
 * levels, `OVERLOADED` retries, the `cartAction` stream of add-to-cart, and the local sold-out
 * fast path.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  connect,
  type CartActionEvent,
  type ConnectOptions,
  type DegradeEvent,
  type LivecartClient,
  type QueuedEvent,
  type Welcome,
} from '../../client/src/index.ts';
import { ScriptedSocket, welcomeFor, type Frame } from './support/scriptedSocket.ts';

const clients: LivecartClient[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  ScriptedSocket.all.length = 0;
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Lets promise chains run without moving the fake clock. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Moves the fake clock by `ms`, running due timers and the promise chains they start. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Opens socket number `index` (0-based) once the client created it, and answers its hello with a welcome. */
async function welcome(index: number, over: Partial<Welcome> = {}): Promise<ScriptedSocket> {
  // A reconnect waits for its backoff (1 ms here).
  for (let waited = 0; ScriptedSocket.all.length <= index && waited < 100; waited++) await advance(1);
  const socket = ScriptedSocket.all[index];
  if (!socket) throw new Error(`socket ${index} was not opened`);
  socket.open();
  socket.receive(welcomeFor(socket.last('hello'), over));
  await flush();
  return socket;
}

/** A client joined over a scripted socket; `actions` and `queued` record those events. */
async function joined(options: Partial<ConnectOptions> = {}, over: Partial<Welcome> = {}) {
  const client = connect({
    url: 'ws://scripted/ws', token: 't', room: 'r1', WebSocket: ScriptedSocket,
    reconnect: { baseMs: 1, maxMs: 1 }, retry: { baseMs: 100, maxMs: 100 }, requestTimeoutMs: 1000,
    ...options,
  });
  clients.push(client);
  const actions: CartActionEvent[] = [];
  const queued: QueuedEvent[] = [];
  const degrades: DegradeEvent[] = [];
  client.on('cartAction', (a) => actions.push(a));
  client.on('queued', (q) => queued.push(q));
  client.on('degrade', (d) => degrades.push(d));
  const socket = await welcome(0, over);
  await client.ready;
  return { client, socket, actions, queued, degrades };
}

const reserved = { status: 'reserved', sku: 'mug', quantity: 1, granted: 1, expiresAt: 99_000_000, available: 4 } as const;
const soldOut = { status: 'sold_out', sku: 'mug' } as const;
const overloaded = (id: number | undefined, retryAfterMs = 800) =>
  ({ t: 'err', id, code: 1018, message: 'admission queue full', temporary: true, retryAfterMs });
const comment = (seq: number) => ({ t: 'comment', seq, userId: 'u2', name: 'Bob', text: `c${seq}`, ts: seq });
const states = (actions: CartActionEvent[]) => actions.map((a) => a.state);

describe('ack notices', () => {
  it('acks the last seq once a second when it changed, and at least every 5 s', async () => {
    const { socket } = await joined(); // welcome seq 3
    const acks = () => socket.of('ack').map((f) => f.seq);

    await advance(4999);
    expect(acks()).toEqual([]); // nothing new since the welcome
    await advance(1);
    expect(acks()).toEqual([3]); // keepalive at 5 s

    await advance(200);
    socket.receive(comment(4));
    socket.receive(comment(5));
    await advance(799);
    expect(acks()).toEqual([3]);
    await advance(1); // the next tick: one ack for both events, with the last seq
    expect(acks()).toEqual([3, 5]);

    socket.receive(comment(5)); // a duplicate does not move lastSeq
    await advance(4000);
    expect(acks()).toEqual([3, 5]);
    await advance(1000);
    expect(acks()).toEqual([3, 5, 5]); // keepalive 5 s after the last ack

    socket.receive(comment(6));
    await advance(1000);
    expect(acks()).toEqual([3, 5, 5, 6]);
    expect(socket.of('ack').every((f) => Object.keys(f).sort().join() === 'seq,t')).toBe(true);
  });

  it('stops while disconnected, restarts after the next welcome, and stops for good on close', async () => {
    const { client, socket } = await joined({ requestTimeoutMs: 60_000 }); // no handshake timeout while we wait
    socket.receive(comment(4));
    socket.drop(4000);
    await advance(10_000);
    expect(socket.of('ack')).toEqual([]); // the tick after the event came after the drop

    // Resumed: the replayed event moves lastSeq past the resume point the server knows.
    const next = await welcome(1, { resumed: true, seq: 6 });
    expect(next.last('hello')).toMatchObject({ resume: { seq: 4, epoch: 'e1' } });
    next.receive(comment(5));
    next.receive(comment(6));
    await advance(1000);
    expect(next.of('ack').map((f) => f.seq)).toEqual([6]);

    client.close();
    await advance(20_000);
    expect(next.of('ack')).toHaveLength(1);
  });

  it('follows the ack option, and sends none with ack: false', async () => {
    const { socket } = await joined({ ack: { intervalMs: 200, keepaliveMs: 600 } });
    socket.receive(comment(4));
    await advance(200);
    expect(socket.of('ack').map((f) => f.seq)).toEqual([4]);
    await advance(600);
    expect(socket.of('ack').map((f) => f.seq)).toEqual([4, 4]);

    clients.splice(0).forEach((c) => c.close());
    ScriptedSocket.all.length = 0;
    const quiet = await joined({ ack: false });
    quiet.socket.receive(comment(4));
    await advance(30_000);
    expect(quiet.socket.of('ack')).toEqual([]);
    expect(() => connect({ url: 'ws://x', token: 't', room: 'r', ack: { intervalMs: 0 } })).toThrow(RangeError);
  });
});

describe('queued news', () => {
  it('pushes the request deadline to at least etaMs + requestTimeoutMs, never earlier', async () => {
    const { client, socket, queued } = await joined({ retry: false });
    let settled = false;
    const answer = client.addToCart('mug');
    answer.then(() => (settled = true), () => (settled = true));
    const { id, key } = socket.last('addToCart');

    await advance(900);
    socket.receive({ t: 'queued', id, position: 3, etaMs: 2000 }); // deadline: 900 + 2000 + 1000 = 3900
    await advance(2999);
    expect(settled).toBe(false);
    socket.receive({ t: 'queued', id, position: 1, etaMs: 100 }); // 3899 + 1100 = 4999
    socket.receive({ t: 'queued', id, position: 1, etaMs: 0 }); // 4899: does not shorten it
    await advance(1099);
    expect(settled).toBe(false);
    socket.receive({ t: 'ok', id, result: reserved });
    await expect(answer).resolves.toEqual(reserved);
    expect(queued).toEqual([
      { id, type: 'addToCart', key, position: 3, etaMs: 2000 },
      { id, type: 'addToCart', key, position: 1, etaMs: 100 },
      { id, type: 'addToCart', key, position: 1, etaMs: 0 },
    ]);
  });

  it('still times out at the extended deadline when the answer never comes', async () => {
    const { client, socket, actions } = await joined({ retry: false });
    const answer = client.addToCart('mug');
    const failed = expect(answer).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true, message: expect.stringMatching(/timed out after 3500 ms/) });
    socket.receive({ t: 'queued', id: socket.last('addToCart').id, position: 2, etaMs: 2500 });
    await advance(3499);
    socket.receive({ t: 'queued', id: 9999, position: 1, etaMs: 60_000 }); // not ours: ignored
    await advance(1);
    await failed;
    expect(states(actions)).toEqual(['adding', 'queued', 'failed']);
    expect(actions.at(-1)!.error).toMatchObject({ name: 'UNAVAILABLE' });
  });

  it('applies to any request, and reports no key for unkeyed ones', async () => {
    const { client, socket, queued } = await joined();
    const pong = client.ping();
    const { id } = socket.last('ping');
    socket.receive({ t: 'queued', id, position: 1, etaMs: 5000 });
    await advance(5500);
    socket.receive({ t: 'ok', id, result: { now: 1 } });
    await expect(pong).resolves.toEqual({ now: 1 });
    expect(queued).toEqual([{ id, type: 'ping', position: 1, etaMs: 5000 }]);
  });
});

describe('degrade', () => {
  it('takes the level from welcome and from degrade updates', async () => {
    const { client, socket, degrades } = await joined({}, { degradeLevel: 2 });
    expect(client.state.degradeLevel).toBe(2);
    expect(degrades).toEqual([{ level: 2, reason: 'welcome' }]);
    const seen: number[] = [];
    client.on('degrade', () => seen.push(client.state.degradeLevel)); // state first, then the event
    socket.receive({ t: 'degrade', level: 3, reason: 'admission queue 90% full' });
    socket.receive({ t: 'degrade', level: 1, reason: 'recovering' });
    expect(client.state.degradeLevel).toBe(1);
    expect(seen).toEqual([3, 1]);
    expect(degrades.slice(1)).toEqual([{ level: 3, reason: 'admission queue 90% full' }, { level: 1, reason: 'recovering' }]);

    // The update that ended it was missed while away: the next welcome says so.
    socket.drop(4000);
    await welcome(1, { resumed: true });
    expect(client.state.degradeLevel).toBe(0);
    expect(degrades.at(-1)).toEqual({ level: 0, reason: 'welcome' });
  });

  it('reads a welcome without degradeLevel (an older server) as level 0, with no event', async () => {
    const { client, degrades } = await joined({}, { degradeLevel: undefined as unknown as number });
    expect(client.state.degradeLevel).toBe(0);
    expect(degrades).toEqual([]);
  });
});

describe('addToCart: OVERLOADED retries and the cartAction stream', () => {
  it('adding → queued → reserved', async () => {
    const { client, socket, actions } = await joined();
    const answer = client.addToCart('mug');
    expect(states(actions)).toEqual(['adding']); // at once, synchronously
    const { id, key } = socket.last('addToCart');
    socket.receive({ t: 'queued', id, position: 7, etaMs: 1400 });
    socket.receive({ t: 'queued', id, position: 2, etaMs: 300 });
    socket.receive({ t: 'ok', id, result: reserved });
    await expect(answer).resolves.toEqual(reserved);
    expect(actions).toEqual([
      { sku: 'mug', key, state: 'adding' },
      { sku: 'mug', key, state: 'queued', position: 7, etaMs: 1400 },
      { sku: 'mug', key, state: 'queued', position: 2, etaMs: 300 },
      { sku: 'mug', key, state: 'reserved', answer: reserved },
    ]);
  });

  it('adding → retrying → reserved: retries OVERLOADED after retryAfterMs + jitter with the same key', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { client, socket, actions } = await joined();
    const answer = client.addToCart('mug');
    const first = socket.last('addToCart');
    socket.receive(overloaded(first.id, 800));
    await flush();
    expect(actions.at(-1)).toEqual({ sku: 'mug', key: first.key, state: 'retrying', retryInMs: 850 }); // 800 + 0.5 × 100
    await advance(849);
    expect(socket.of('addToCart')).toHaveLength(1);
    await advance(1);
    expect(socket.of('addToCart')).toHaveLength(2);
    const second = socket.last('addToCart');
    expect(second).toMatchObject({ key: first.key, sku: 'mug', quantity: 1 });
    expect(second.id).not.toBe(first.id);
    socket.receive({ t: 'ok', id: second.id, result: reserved });
    await expect(answer).resolves.toEqual(reserved);
    expect(states(actions)).toEqual(['adding', 'retrying', 'reserved']);
    expect(new Set(actions.map((a) => a.key))).toEqual(new Set([first.key]));
  });

  it('ends in failed with the last error when OVERLOADED persists', async () => {
    const { client, socket, actions } = await joined({ retry: { maxAttempts: 3, baseMs: 0, maxMs: 0 } });
    const answer = client.addToCart('mug');
    const rejected = expect(answer).rejects.toMatchObject({ name: 'OVERLOADED', code: 1018, temporary: true, retryAfterMs: 100 });
    for (let i = 0; i < 3; i++) {
      socket.receive(overloaded(socket.last('addToCart').id, 100));
      await advance(100);
    }
    await rejected;
    expect(socket.of('addToCart')).toHaveLength(3);
    expect(states(actions)).toEqual(['adding', 'retrying', 'retrying', 'failed']);
    expect(actions.at(-1)!.error).toMatchObject({ name: 'OVERLOADED' });
  });

  it('a sold_out answer to another action stops a retry that waits, without sending it', async () => {
    const { client, socket, actions } = await joined();
    const start = Date.now();
    const first = client.addToCart('mug');
    socket.receive(overloaded(socket.last('addToCart').id, 5000));
    await flush();
    // Another action on the sku (a repeat addToCart would join the waiting one instead).
    const second = client.setQuantity('mug', 2);
    socket.receive({ t: 'ok', id: socket.last('setQuantity').id, result: soldOut });
    await expect(second).resolves.toEqual(soldOut);
    await expect(first).resolves.toEqual(soldOut); // at once, not after 5 s
    expect(Date.now()).toBe(start);
    await advance(10_000);
    expect(socket.of('addToCart')).toHaveLength(1);
    expect(states(actions)).toEqual(['adding', 'retrying', 'sold_out']);
  });

  it('a repeat addToCart while one waits to retry joins it: nothing sent, the same answer', async () => {
    const { client, socket, actions } = await joined();
    const first = client.addToCart('mug');
    socket.receive(overloaded(socket.last('addToCart').id, 5000));
    await flush();
    expect(client.addToCart('mug', 2)).toBe(first);
    expect(socket.of('addToCart')).toHaveLength(1);
    await advance(5_500);
    expect(socket.of('addToCart')).toHaveLength(2); // the retry, with the first key
    expect(socket.of('addToCart')[1]).toMatchObject({ key: socket.of('addToCart')[0]!.key, quantity: 1 });
    socket.receive({ t: 'ok', id: socket.last('addToCart').id, result: reserved });
    await expect(first).resolves.toEqual(reserved);
    expect(states(actions)).toEqual(['adding', 'retrying', 'reserved']);
    // Answered: the next call is a new action with a key of its own.
    const next = client.addToCart('mug');
    expect(next).not.toBe(first);
    expect(socket.of('addToCart')).toHaveLength(3);
    expect(socket.last('addToCart').key).not.toBe(socket.of('addToCart')[0]!.key);
  });

  it('a soldOut event stops a waiting retry too; an OVERLOADED after it resolves sold_out without retrying', async () => {
    const { client, socket, actions } = await joined();
    const waiting = client.addToCart('mug');
    socket.receive(overloaded(socket.last('addToCart').id, 5000));
    await flush();
    const late = client.addToCart('cap'); // sent, not answered yet
    const lateId = socket.last('addToCart').id;
    socket.receive({ t: 'soldOut', seq: 4, sku: 'mug' });
    socket.receive({ t: 'soldOut', seq: 5, sku: 'cap' });
    await expect(waiting).resolves.toEqual(soldOut);
    socket.receive(overloaded(lateId, 5000));
    await expect(late).resolves.toEqual({ status: 'sold_out', sku: 'cap' });
    await advance(10_000);
    expect(socket.of('addToCart')).toHaveLength(2);
    expect(states(actions)).toEqual(['adding', 'retrying', 'adding', 'sold_out', 'sold_out']);
  });

  it('still retries with its key after a lost reply, even if the sku sold out meanwhile (it may hold the last unit)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { client, socket, actions } = await joined();
    const answer = client.addToCart('mug');
    const first = socket.last('addToCart');
    // The reply never comes: the server may have reserved. Then, during the retry wait (50 ms), the product sells out.
    await advance(1000);
    expect(actions.at(-1)).toMatchObject({ state: 'retrying', retryInMs: 50 });
    socket.receive({ t: 'soldOut', seq: 4, sku: 'mug' });
    await advance(49);
    expect(socket.of('addToCart')).toHaveLength(1);
    await advance(1);
    expect(socket.of('addToCart')).toHaveLength(2);
    const second = socket.last('addToCart');
    expect(second.key).toBe(first.key);
    const replayed = { ...reserved, available: 0 };
    socket.receive({ t: 'ok', id: second.id, result: replayed }); // the first answer, replayed
    await expect(answer).resolves.toEqual(replayed);
    expect(states(actions)).toEqual(['adding', 'retrying', 'reserved']);
    expect(client.state.cart.lines).toMatchObject([{ sku: 'mug', quantity: 1 }]);
  });
});

describe('addToCart: local sold-out fast path', () => {
  const addToCartFrames = (socket: ScriptedSocket): Frame[] => socket.of('addToCart');

  it('after a soldOut event, answers sold_out without sending until stock comes back', async () => {
    const { client, socket, actions } = await joined();
    socket.receive({ t: 'soldOut', seq: 4, sku: 'mug' });
    await expect(client.addToCart('mug')).resolves.toEqual(soldOut);
    await expect(client.addToCart('mug', 3)).resolves.toEqual(soldOut);
    expect(addToCartFrames(socket)).toEqual([]);
    expect(actions.map((a) => [a.state, a.answer])).toEqual([['sold_out', soldOut], ['sold_out', soldOut]]);
    expect(actions[0]!.key).not.toBe(actions[1]!.key);

    // Only for that sku.
    client.addToCart('cap').catch(() => undefined);
    expect(addToCartFrames(socket)).toHaveLength(1);

    socket.receive({ t: 'stock', sku: 'mug', available: 0 }); // still none
    await expect(client.addToCart('mug')).resolves.toEqual(soldOut);
    socket.receive({ t: 'stock', sku: 'mug', available: 2 }); // a reservation expired
    const answer = client.addToCart('mug');
    expect(addToCartFrames(socket)).toHaveLength(2);
    socket.receive({ t: 'ok', id: socket.last('addToCart').id, result: reserved });
    await expect(answer).resolves.toEqual(reserved);
  });

  it('after a sold_out answer, and until a welcome shows units again', async () => {
    const { client, socket } = await joined();
    const answer = client.setQuantity('mug', 4);
    socket.receive({ t: 'ok', id: socket.last('setQuantity').id, result: soldOut });
    await expect(answer).resolves.toEqual(soldOut);
    await expect(client.addToCart('mug')).resolves.toEqual(soldOut);
    expect(socket.of('addToCart')).toEqual([]);

    // The stock update was missed while away: the snapshot in the next welcome counts.
    socket.drop(4000);
    const next = await welcome(1, { resumed: true, stock: { mug: 1 } });
    client.addToCart('mug').catch(() => undefined);
    expect(next.of('addToCart')).toHaveLength(1);
  });

  it('ignores a replayed soldOut that the welcome stock already counts', async () => {
    const { client, socket } = await joined();
    socket.drop(4000);
    // Sold out at seq 4, back in stock since: the resumed welcome (seq 6) says 2, then seq 4 is replayed.
    const next = await welcome(1, { resumed: true, seq: 6, stock: { mug: 2 } });
    next.receive({ t: 'soldOut', seq: 4, sku: 'mug' });
    expect(client.state.stock.mug).toBe(2);
    client.addToCart('mug').catch(() => undefined);
    expect(next.of('addToCart')).toHaveLength(1);
  });

  it('does not answer locally once the client is closed', async () => {
    const { client, socket } = await joined();
    socket.receive({ t: 'soldOut', seq: 4, sku: 'mug' });
    client.close();
    await expect(client.addToCart('mug')).rejects.toMatchObject({ name: 'UNAVAILABLE' });
  });
});
