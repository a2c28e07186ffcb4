/**
 * The retry and key-reuse rules of cart requests, without a server: first the pure helper (with
 * an injected clock, sleep and random source), then the SDK over a scripted in-memory socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  defaultRetry,
  idempotentRetry,
  LivecartError,
  newIdempotencyKey,
  resolveRetryOptions,
  retryDelay,
  retryTemporary,
  type LivecartClient,
  type RetryHooks,
  type RetryInfo,
} from '../../client/src/index.ts';
import { ScriptedSocket, until, welcomeFor } from './support/scriptedSocket.ts';

const unavailable = (retryAfterMs?: number) =>
  new LivecartError({ code: 1501, message: 'store unreachable', temporary: true, retryAfterMs });
const lostConnection = () => LivecartError.of('UNAVAILABLE', 'connection closed (4000) before the reply', true);
const forbidden = () => LivecartError.of('FORBIDDEN', 'no');

/** Hooks that never wait for real: sleeping advances a fake clock; every wait is recorded. */
function fakeTime(random = () => 0.5): RetryHooks & { clock: { now: number }; slept: number[]; retries: RetryInfo[] } {
  const clock = { now: 1_000 };
  const slept: number[] = [];
  const retries: RetryInfo[] = [];
  return {
    clock,
    slept,
    retries,
    random,
    now: () => clock.now,
    sleep: async (ms) => {
      slept.push(ms);
      clock.now += ms;
    },
    onRetry: (info) => retries.push(info),
  };
}

/** An action that fails with the given errors in turn, then answers `answer`; records the key of every call. */
function flaky<T>(failures: Error[], answer: T): { run: (key: string) => Promise<T>; keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    run: async (key) => {
      keys.push(key);
      const failure = failures[keys.length - 1];
      if (failure) throw failure;
      return answer;
    },
  };
}

describe('idempotentRetry', () => {
  it('sends the same key on every attempt and resolves with the first success', async () => {
    const time = fakeTime();
    const action = flaky([lostConnection(), unavailable(), lostConnection()], { status: 'reserved' });
    await expect(idempotentRetry(action.run, {}, time)).resolves.toEqual({ status: 'reserved' });
    expect(action.keys).toHaveLength(4);
    expect(new Set(action.keys).size).toBe(1);
    expect(action.keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(time.retries.map((r) => r.attempt)).toEqual([2, 3, 4]);
  });

  it('gives every action its own key, or the one passed in', async () => {
    const a = flaky([], 1);
    const b = flaky([], 2);
    await idempotentRetry(a.run);
    await idempotentRetry(b.run);
    expect(a.keys[0]).not.toBe(b.keys[0]);
    const c = flaky([lostConnection()], 3);
    await idempotentRetry(c.run, {}, { ...fakeTime(), key: 'my-key' });
    expect(c.keys).toEqual(['my-key', 'my-key']);
  });

  it('does not retry a permanent error', async () => {
    const time = fakeTime();
    const action = flaky([forbidden()], 'never');
    await expect(idempotentRetry(action.run, {}, time)).rejects.toMatchObject({ name: 'FORBIDDEN' });
    expect(action.keys).toHaveLength(1);
    expect(time.slept).toEqual([]);
  });

  it('does not retry errors that are not LivecartErrors (bugs are not temporary)', async () => {
    const action = flaky([new TypeError('bug')], 'never');
    await expect(idempotentRetry(action.run, {}, fakeTime())).rejects.toBeInstanceOf(TypeError);
    expect(action.keys).toHaveLength(1);
  });

  it('gives up after maxAttempts with the last error, unchanged', async () => {
    const time = fakeTime();
    const last = unavailable(10);
    const action = flaky([unavailable(), unavailable(), last, unavailable()], 'never');
    await expect(idempotentRetry(action.run, { maxAttempts: 3 }, time)).rejects.toBe(last);
    expect(action.keys).toHaveLength(3);
    expect(time.slept).toHaveLength(2);
  });

  it('gives up when the next attempt would start after maxElapsedMs', async () => {
    const time = fakeTime(() => 0.999_999);
    const action = flaky(Array.from({ length: 20 }, () => unavailable()), 'never');
    // Windows 100, 200, 400, 800, …: waits of 99 + 199 + 399 = 697 fit in 1000 ms, + 799 does not.
    await expect(idempotentRetry(action.run, { maxAttempts: 20, baseMs: 100, maxMs: 10_000, maxElapsedMs: 1000 }, time)).rejects.toMatchObject({ name: 'UNAVAILABLE' });
    expect(time.slept).toEqual([99, 199, 399]);
    expect(action.keys).toHaveLength(4);
  });

  it('never retries before retryAfterMs, and adds full jitter on top', async () => {
    const low = fakeTime(() => 0);
    await idempotentRetry(flaky([unavailable(700), unavailable(50)], 'ok').run, { baseMs: 100, maxMs: 1000 }, low);
    expect(low.slept).toEqual([700, 50]);

    const high = fakeTime(() => 0.999_999);
    await idempotentRetry(flaky([unavailable(700), unavailable(50), lostConnection()], 'ok').run, { baseMs: 100, maxMs: 1000 }, high);
    expect(high.slept).toEqual([700 + 99, 50 + 199, 399]);
  });

  it('spreads retries over the whole jitter window, capped at maxMs', () => {
    const options = { baseMs: 100, maxMs: 1000 };
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(1000, 100 * 2 ** (retry - 1));
      const delays = Array.from({ length: 500 }, () => retryDelay(retry, lostConnection(), options));
      expect(delays.every((d) => Number.isInteger(d) && d >= 0 && d < ceiling)).toBe(true);
      expect(delays.some((d) => d < ceiling / 2)).toBe(true);
      expect(delays.some((d) => d >= ceiling / 2)).toBe(true);
    }
  });

  it('stops waiting when the signal aborts and rejects with its reason', async () => {
    const controller = new AbortController();
    const closed = LivecartError.of('UNAVAILABLE', 'the client is closed', false);
    const action = flaky([unavailable(5_000)], 'never');
    const started = Date.now();
    const result = idempotentRetry(action.run, {}, { signal: controller.signal });
    setTimeout(() => controller.abort(closed), 20);
    await expect(result).rejects.toBe(closed);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(action.keys).toHaveLength(1);
  });

  it('retryTemporary numbers the attempts', async () => {
    const attempts: number[] = [];
    await retryTemporary(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw lostConnection();
    }, {}, fakeTime());
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('validates and completes its options', () => {
    expect(resolveRetryOptions({ maxAttempts: 2, baseMs: undefined })).toEqual({ ...defaultRetry, maxAttempts: 2 });
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetryOptions({ maxMs: -1 })).toThrow(RangeError);
  });
});

describe('newIdempotencyKey', () => {
  const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('uses crypto.randomUUID when there is one (called as a method)', () => {
    const source = {
      calls: 0,
      randomUUID(this: { calls: number }) {
        this.calls++;
        return 'from-random-uuid';
      },
    };
    expect(newIdempotencyKey(source)).toBe('from-random-uuid');
    expect(source.calls).toBe(1);
    expect(newIdempotencyKey()).toMatch(uuidV4); // Node 20's global crypto
  });

  it('builds a v4 UUID from getRandomValues without randomUUID (browsers on plain http)', () => {
    const key = newIdempotencyKey({ getRandomValues: (bytes: Uint8Array) => bytes.fill(0xff) });
    expect(key).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });

  it('falls back to Math.random without any crypto', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newIdempotencyKey(undefined)));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(uuidV4);
  });
});

// ---------------------------------------------------------------------------------------------
// The SDK over a scripted socket: what goes on the wire when replies fail or get lost.

const clients: LivecartClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  ScriptedSocket.all.length = 0;
});

/** A client joined over a scripted socket. */
async function joined(options: Partial<Parameters<typeof connect>[0]> = {}): Promise<{ client: LivecartClient; socket: ScriptedSocket }> {
  const client = connect({ url: 'ws://scripted/ws', token: 't', room: 'r1', WebSocket: ScriptedSocket, reconnect: { baseMs: 1, maxMs: 1 }, retry: { baseMs: 1, maxMs: 2 }, ...options });
  clients.push(client);
  await until(() => ScriptedSocket.all.length === 1, 'the socket');
  const socket = ScriptedSocket.all[0]!;
  socket.open();
  socket.receive(welcomeFor(socket.of('hello')[0]!));
  await client.ready;
  return { client, socket };
}

const reserved = { status: 'reserved', sku: 'mug', quantity: 2, granted: 2, expiresAt: 99_000, available: 3 };

describe('LivecartClient cart retries (scripted socket)', () => {
  it('retries a temporary err after retryAfterMs with the same key and a new request id', async () => {
    const { client, socket } = await joined();
    const answer = client.addToCart('mug', 2);
    const first = socket.of('addToCart')[0]!;
    expect(first).toMatchObject({ t: 'addToCart', sku: 'mug', quantity: 2, key: expect.any(String) });
    const refusedAt = Date.now();
    socket.receive({ t: 'err', id: first.id, code: 1501, message: 'store unreachable', temporary: true, retryAfterMs: 40 });
    await until(() => socket.of('addToCart').length === 2, 'the retry');
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(35);
    const second = socket.of('addToCart')[1]!;
    expect(second.key).toBe(first.key);
    expect(second.id).not.toBe(first.id);
    socket.receive({ t: 'ok', id: second.id, result: reserved });
    await expect(answer).resolves.toEqual(reserved);
    expect(client.state.cart.lines).toEqual([{ sku: 'mug', quantity: 2, expiresAt: 99_000, priceCents: 1200 }]);
  });

  it('resends the same key after the reply was lost to a dropped socket', async () => {
    const { client, socket } = await joined();
    const answer = client.addToCart('mug', 2);
    const first = socket.of('addToCart')[0]!;
    socket.drop(4000); // the server may have reserved; the reply is gone
    await until(() => ScriptedSocket.all.length === 2, 'the reconnect');
    const next = ScriptedSocket.all[1]!;
    next.open();
    expect(next.of('hello')[0]).toMatchObject({ resume: { seq: 3, epoch: 'e1' } });
    next.receive(welcomeFor(next.of('hello')[0]!, { resumed: true }));
    await until(() => next.of('addToCart').length === 1, 'the retried request');
    expect(next.of('addToCart')[0]).toMatchObject({ key: first.key, sku: 'mug', quantity: 2 });
    next.receive({ t: 'ok', id: next.of('addToCart')[0]!.id, result: reserved });
    await expect(answer).resolves.toMatchObject({ status: 'reserved', quantity: 2 });
    expect(socket.of('addToCart')).toHaveLength(1);
  });

  it('gives each action its own key, and checkout its own', async () => {
    const { client, socket } = await joined();
    const ignore = () => undefined; // never answered; rejected when the client closes
    client.addToCart('mug').catch(ignore);
    client.addToCart('cap').catch(ignore); // another sku: a repeat on 'mug' would join the pending one
    client.checkout().catch(ignore);
    const keys = [...socket.of('addToCart'), ...socket.of('checkout')].map((f) => f.key);
    expect(new Set(keys).size).toBe(3);
    expect(socket.of('addToCart')[0]).toMatchObject({ quantity: 1 });
  });

  it('does not retry a permanent err', async () => {
    const { client, socket } = await joined();
    const answer = client.setQuantity('nope', 3);
    socket.receive({ t: 'err', id: socket.of('setQuantity')[0]!.id, code: 1011, message: 'no product nope', temporary: false });
    await expect(answer).rejects.toMatchObject({ name: 'PRODUCT_NOT_FOUND' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(socket.of('setQuantity')).toHaveLength(1);
  });

  it('tries once with retry: false', async () => {
    const { client, socket } = await joined({ retry: false });
    const answer = client.checkout();
    socket.receive({ t: 'err', id: socket.of('checkout')[0]!.id, code: 1501, message: 'down', temporary: true, retryAfterMs: 1 });
    await expect(answer).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(socket.of('checkout')).toHaveLength(1);
  });

  it('stops retrying when the client is closed during the wait', async () => {
    const { client, socket } = await joined();
    const answer = client.removeFromCart('mug');
    const settled = expect(answer).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: false });
    socket.receive({ t: 'err', id: socket.of('removeFromCart')[0]!.id, code: 1009, message: 'slow down', temporary: true, retryAfterMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    client.close();
    await settled;
    expect(socket.of('removeFromCart')).toHaveLength(1);
  });

  it('gives up at once when retryAfterMs is beyond the time budget', async () => {
    const { client, socket } = await joined({ retry: { maxElapsedMs: 1000 } });
    const answer = client.addToCart('mug');
    socket.receive({ t: 'err', id: socket.of('addToCart')[0]!.id, code: 1501, message: 'down for a while', temporary: true, retryAfterMs: 60_000 });
    await expect(answer).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true, retryAfterMs: 60_000 });
    expect(socket.of('addToCart')).toHaveLength(1);
  });

  it('cart() retries too and replaces the local cart', async () => {
    const { client, socket } = await joined();
    const changes: number[] = [];
    client.on('cartChanged', (cart) => changes.push(cart.lines.length));
    const answer = client.cart();
    socket.receive({ t: 'err', id: socket.of('getCart')[0]!.id, code: 1500, message: 'internal', temporary: true });
    await until(() => socket.of('getCart').length === 2, 'the retry');
    const cart = { roomId: 'r1', lines: [{ sku: 'mug', quantity: 1, priceCents: 1200, expiresAt: 5 }], currency: 'USD', totalCents: 1200 };
    socket.receive({ t: 'ok', id: socket.of('getCart')[1]!.id, result: { status: 'cart', cart } });
    await expect(answer).resolves.toEqual(cart);
    expect(client.state.cart).toMatchObject({ lines: cart.lines, totalCents: 1200, currency: 'USD' });
    expect(changes).toEqual([1]);
  });
});
