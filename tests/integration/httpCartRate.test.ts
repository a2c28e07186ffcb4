/**
 * Over HTTP a user's cart requests are paced per user (--http-cart-rate, --http-cart-burst), as a
 * socket's are by its frame cap: before, one token could send them as fast as its connections
 * allowed, push every other buyer of the room toward the admission deadline, and leave an
 * idempotency record in the store for each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('HTTP cart requests per user', () => {
  let server: RunningServer;
  let streamer: string;
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: uniquePrefix('http-rate'), httpCartRate: 2, httpCartBurst: 5 });
    streamer = await saleRoom(server, 'paced', 1000);
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers a user past the rate RATE_LIMITED (429, Retry-After) without touching the store, and others not at all', async () => {
    const flooder = await viewerToken(server, 'flooder');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => http(server, 'POST', '/api/rooms/paced/cart/items', flooder, { sku: 'hot', quantity: 1, key: `f${i}` })));
    const served = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(served.length).toBeLessThanOrEqual(7);
    expect(limited.length).toBe(30 - served.length);
    for (const a of limited) expect(a.body.error).toMatchObject({ name: 'RATE_LIMITED', temporary: true, retryAfterMs: expect.any(Number) });
    // Only what was served reached the store.
    const inventory = (await http(server, 'GET', '/api/rooms/paced/inventory', streamer)).body.inventory.hot;
    expect(inventory.reserved).toBe(served.length);

    // Another user has a bucket of their own, and the flooder's sockets are paced by their frame cap instead.
    const other = await viewerToken(server, 'other');
    expect((await http(server, 'POST', '/api/rooms/paced/cart/items', other, { sku: 'hot', quantity: 1, key: 'o1' })).body.status).toBe('reserved');
    const { client } = await RawClient.join(server.wsUrl, flooder, 'paced');
    expect(await client.request({ t: 'addToCart', key: 'ws1', sku: 'hot', quantity: 1 })).toMatchObject({ t: 'ok', result: { status: 'reserved' } });
    client.close();

    // The bucket refills: the flooder is served again after the wait it was told.
    const wait = Math.max(...limited.map((a) => a.body.error.retryAfterMs as number));
    expect(wait).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, wait));
    expect((await http(server, 'POST', '/api/rooms/paced/cart/items', flooder, { sku: 'hot', quantity: 1, key: 'later' })).body.status).toBe('reserved');
  });
});
