import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

/**
 * A retry gets its key's first answer ("sold_out", or the last unit "reserved" with available 0).
 * That answer is history, not stock news: after a come-back it must not make the node answer new
 * taps "sold_out" (recorded for their keys for good) while the store has units.
 */
describe.each([
  { store: 'memory', options: {} },
  { store: 'redis', options: { redis: REDIS_URL } },
])('a replayed sold-out answer after a come-back ($store)', ({ store, options }) => {
  let server: RunningServer;
  beforeAll(async () => {
    // A long sold-out memory: a wrong mark lasts the whole test instead of a second.
    server = await startTestServer({ ...options, ...(store === 'redis' ? { redisPrefix: uniquePrefix('soldout-replay') } : {}), admissionSoldOutCacheMs: 60_000, stockIntervalMs: 20 });
  });
  afterAll(() => server.close());

  it.each(['sold_out', 'reserved'])('a retry answered %s leaves new taps served from the store', async (replayed) => {
    const roomId = `replay-${replayed.replace('_', '-')}`;
    const streamer = await saleRoom(server, roomId, 1);
    const { client: first } = await RawClient.join(server.wsUrl, await viewerToken(server, `${roomId}-first`), roomId);
    const { client: late } = await RawClient.join(server.wsUrl, await viewerToken(server, `${roomId}-late`), roomId);
    const last = await first.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 1 });
    expect(last.t === 'ok' && last.result).toMatchObject({ status: 'reserved', available: 0 });
    const gone = await late.request({ t: 'addToCart', key: 'b', sku: 'hot', quantity: 1 });
    expect(gone.t === 'ok' && gone.result?.status).toBe('sold_out');

    // The come-back: a restock the room hears.
    expect((await http(server, 'PUT', `/api/rooms/${roomId}/products/hot/stock`, streamer, { available: 5 })).status).toBe(200);
    await late.waitFor((m) => m.t === 'stock' && m.sku === 'hot' && m.available === 5);

    // A client that lost its reply retries with the same key and hears its first answer...
    const retry = replayed === 'sold_out'
      ? await late.request({ t: 'addToCart', key: 'b', sku: 'hot', quantity: 1 })
      : await first.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 1 });
    expect(retry.t === 'ok' && retry.result?.status).toBe(replayed);

    // ...and a new tap still gets one of the 5 units.
    const { client: next } = await RawClient.join(server.wsUrl, await viewerToken(server, `${roomId}-next`), roomId);
    const fresh = await next.request({ t: 'addToCart', key: 'c', sku: 'hot', quantity: 1 });
    expect(fresh.t === 'ok' && fresh.result).toMatchObject({ status: 'reserved', granted: 1, available: 4 });
    for (const c of [first, late, next]) c.close();
  });
});
