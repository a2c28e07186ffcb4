/**
 * A node's sold-out memory routes taps, it does not answer them: a come-back whose stock news never
 * reached the node (pub/sub is at most once; a node that does not host the room hears none) is sold
 * to the first tap after it, though the node still believes the product sold out.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('the sold-out memory under steady taps', () => {
  const prefix = uniquePrefix('soldout-memory');
  let server: RunningServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: prefix, admissionSoldOutCacheMs: 60_000, maxFramesPerSecond: 10_000 });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  it('sells a come-back the node never heard of to the next tap', async () => {
    await saleRoom(server, 'quiet-back', 1);
    const { client: first } = await RawClient.join(server.wsUrl, await viewerToken(server, 'quiet-first'), 'quiet-back');
    const last = await first.request({ t: 'addToCart', key: 'a', sku: 'hot', quantity: 1 });
    expect(last.t === 'ok' && last.result).toMatchObject({ status: 'reserved', available: 0 });

    // Units come back in the store without a word to this node (as when its stock news was lost).
    await redis.hset(`${prefix}:{r:quiet-back}:inv:hot`, 'avail', 3);

    const { client: tapper } = await RawClient.join(server.wsUrl, await viewerToken(server, 'quiet-tapper'), 'quiet-back');
    const answers: unknown[] = [];
    for (let n = 0; n < 4; n++) {
      const reply = await tapper.request({ t: 'addToCart', key: `t${n}`, sku: 'hot', quantity: 1 });
      answers.push(reply.t === 'ok' ? reply.result : reply);
    }
    expect(answers).toMatchObject([
      { status: 'reserved', available: 2 }, { status: 'reserved', available: 1 }, { status: 'reserved', available: 0 }, { status: 'sold_out' },
    ]);
    for (const c of [first, tapper]) c.close();
  });
});
