/**
 * The cart desk on a real server, WebSocket and HTTP alike, with the memory store and with Redis:
 * a key's first answer always wins (also after the product sold out on this node), and a key reused
 * for a different request is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { ConfigInput } from '../../server/src/config.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const stores: Array<[string, () => ConfigInput]> = [
  ['memory', () => ({})],
  ['Redis', () => ({ redis: REDIS_URL, redisPrefix: uniquePrefix('desk') })],
  // The comparison mode: no admission controller, every request straight to the store, through the same desk.
  ['memory, admission off', () => ({ admission: false })],
];

describe.each(stores)('the cart desk (%s store)', (_name, storeConfig) => {
  let server: RunningServer;
  beforeAll(async () => {
    // The shop closes with the show here, so a new add after the end is refused while a retried one is not.
    server = await startTestServer({ ...storeConfig(), maxFramesPerSecond: 10_000, replaySales: false });
  });
  afterAll(() => server.close());

  const add = (client: RawClient, key: string, quantity = 1) => client.request({ t: 'addToCart', key, sku: 'hot', quantity });
  const postAdd = async (token: string, roomId: string, key: string, quantity = 1) => http(server, 'POST', `/api/rooms/${roomId}/cart/items`, token, { sku: 'hot', quantity, key });

  it('over the WebSocket, a retry after the sell-out gets the first answer, not "sold out"', async () => {
    await saleRoom(server, 'ws-last', 1);
    const { client: holder } = await RawClient.join(server.wsUrl, await viewerToken(server, 'ws-holder'), 'ws-last');
    const { client: late } = await RawClient.join(server.wsUrl, await viewerToken(server, 'ws-late'), 'ws-last');
    const first = await add(holder, 'last-unit');
    expect(first.t === 'ok' && first.result).toMatchObject({ status: 'reserved', quantity: 1, available: 0 });
    // The node now knows the product is sold out, and answers new taps past the queue.
    const other = await add(late, 'late-1');
    expect(other.t === 'ok' && other.result?.status).toBe('sold_out');
    // The holder's reply was lost; the retry with the same key hears what the store recorded.
    const retry = await add(holder, 'last-unit');
    expect(retry.t === 'ok' && retry.result).toEqual(first.t === 'ok' && first.result);
    // ... and over HTTP too: a key belongs to its user, whichever edge the retry takes.
    const overHttp = await postAdd(await viewerToken(server, 'ws-holder'), 'ws-last', 'last-unit');
    expect(overHttp.body).toEqual(first.t === 'ok' && first.result);
    expect(await server.store.stock('ws-last', 'hot')).toEqual({ available: 0, reserved: 1, sold: 0 });
    holder.close();
    late.close();
  });

  it('over HTTP, a retry after the sell-out gets the first answer, not "sold out"', async () => {
    await saleRoom(server, 'http-last', 1);
    const holder = await viewerToken(server, 'http-holder');
    const first = await postAdd(holder, 'http-last', 'last-unit');
    expect(first.body).toMatchObject({ status: 'reserved', quantity: 1, available: 0 });
    expect((await postAdd(await viewerToken(server, 'http-late'), 'http-last', 'late-1')).body).toEqual({ status: 'sold_out', sku: 'hot' });
    const retry = await postAdd(holder, 'http-last', 'last-unit');
    expect(retry).toEqual({ status: 200, body: first.body });
    // A checkout retried after it succeeded gets the same order back, not "cart not found".
    const paid = await http(server, 'POST', '/api/rooms/http-last/checkout', holder, { key: 'pay' });
    expect(paid.body.status).toBe('ordered');
    expect(await http(server, 'POST', '/api/rooms/http-last/checkout', holder, { key: 'pay' })).toEqual(paid);
  });

  it('a retry while the first request still waits joins it: one answer for both', async () => {
    await saleRoom(server, 'joined', 5);
    const { client } = await RawClient.join(server.wsUrl, await viewerToken(server, 'joiner'), 'joined');
    const [a, b] = await Promise.all([add(client, 'twice', 2), add(client, 'twice', 2)]);
    expect(a.t === 'ok' && a.result).toMatchObject({ status: 'reserved', quantity: 2 });
    expect(b.t === 'ok' && b.result).toEqual(a.t === 'ok' && a.result);
    expect(await server.store.stock('joined', 'hot')).toEqual({ available: 3, reserved: 2, sold: 0 });
    client.close();
  });

  it('refuses a key reused for a different request with IDEMPOTENCY_MISMATCH, over both edges', async () => {
    await saleRoom(server, 'mismatch', 10);
    const token = await viewerToken(server, 'reuser');
    const { client } = await RawClient.join(server.wsUrl, token, 'mismatch');
    expect((await add(client, 'k1', 1)).t).toBe('ok');
    const otherQuantity = await add(client, 'k1', 3);
    expect(otherQuantity).toMatchObject({ t: 'err', code: ErrorCode.IDEMPOTENCY_MISMATCH, temporary: false });
    const otherAction = await client.request({ t: 'removeFromCart', key: 'k1', sku: 'hot' });
    expect(otherAction).toMatchObject({ t: 'err', code: ErrorCode.IDEMPOTENCY_MISMATCH });
    const overHttp = await http(server, 'POST', '/api/rooms/mismatch/checkout', token, { key: 'k1' });
    expect(overHttp.status).toBe(422);
    expect(overHttp.body.error).toMatchObject({ code: ErrorCode.IDEMPOTENCY_MISMATCH, name: 'IDEMPOTENCY_MISMATCH' });
    // Nothing moved: one unit held, the same key still answers its own request.
    expect(await server.store.stock('mismatch', 'hot')).toEqual({ available: 9, reserved: 1, sold: 0 });
    expect((await add(client, 'k1', 1)).t).toBe('ok');
    // Two requests in flight with one key and different bodies: the second is refused, the first served.
    const [first, second] = await Promise.all([add(client, 'k2', 1), add(client, 'k2', 2)]);
    expect(first.t === 'ok' && first.result?.status).toBe('reserved');
    expect(second).toMatchObject({ t: 'err', code: ErrorCode.IDEMPOTENCY_MISMATCH });
    client.close();
  });

  it('keeps the first answer of a key once the show ended: a retried add hears "reserved", a new one ROOM_ENDED', async () => {
    const streamer = await saleRoom(server, 'ended', 3);
    const token = await viewerToken(server, 'late-retrier');
    const first = await postAdd(token, 'ended', 'before-end');
    expect(first.body.status).toBe('reserved');
    await http(server, 'POST', '/api/rooms/ended/end', streamer);
    expect(await postAdd(token, 'ended', 'before-end')).toEqual(first);
    const fresh = await postAdd(token, 'ended', 'after-end');
    expect(fresh.body.error).toMatchObject({ name: 'ROOM_ENDED' });
  });
});
