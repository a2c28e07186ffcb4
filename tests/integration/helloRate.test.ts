/**
 * Hellos are paced per user (--hello-rate, --hello-burst): every welcome carries the room's whole
 * catalog, encoded for that socket, so one token that opened and closed sockets in a loop made the
 * node encode and send a catalog hundreds of times a second, and other rooms' replies waited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('hellos per user', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: uniquePrefix('hello-rate'), helloRate: 2, helloBurst: 3 });
    await saleRoom(server, 'lobby', 10);
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a user\'s hello past the rate (RATE_LIMITED, 4004, retry-after) and no one else\'s', async () => {
    const looper = await viewerToken(server, 'looper');
    for (let i = 0; i < 3; i++) {
      const { client } = await RawClient.join(server.wsUrl, looper, 'lobby');
      client.close();
      await client.closed;
    }
    const refused = await RawClient.open(server.wsUrl);
    const answer = await refused.hello(looper, 'lobby');
    expect(answer).toMatchObject({ t: 'err', code: 1009, temporary: true, retryAfterMs: expect.any(Number) });
    expect((await refused.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);

    const { client: other } = await RawClient.join(server.wsUrl, await viewerToken(server, 'other'), 'lobby');
    other.close();

    // After the wait it was told, the user gets in again.
    await new Promise((r) => setTimeout(r, (answer as { retryAfterMs: number }).retryAfterMs));
    const { client: back } = await RawClient.join(server.wsUrl, looper, 'lobby');
    back.close();
  });
});
