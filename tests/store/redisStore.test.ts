import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { connectWithin, createRedisClient } from '../../server/src/redis/client.ts';
import { RedisStore } from '../../server/src/store/RedisStore.ts';
import { RedisWebhookOutbox } from '../../server/src/store/RedisWebhookOutbox.ts';
import type { Store } from '../../server/src/store/Store.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeCouponContract } from './couponContract.ts';
import { describeOrderContract } from './orderContract.ts';
import { describeStoreContract } from './storeContract.ts';
import { describeVariantContract } from './variantContract.ts';
import { describeRedisAuctionAndGiveawayContracts } from './redisAuctionGiveawayContracts.ts';

const options = (prefix: string) => ({ url: REDIS_URL, prefix, idempotencyTtlMs: 86_400_000, commandTimeoutMs: 2000, retryAfterMs: 1000 });
const prefixes = new WeakMap<Store, string>();

describeStoreContract('RedisStore', {
  create: async () => {
    const prefix = uniquePrefix('store');
    const store = await RedisStore.connect(options(prefix));
    prefixes.set(store, prefix);
    return store;
  },
  // A second connection on the same keys: another node racing for the same stock.
  sibling: async (store) => RedisStore.connect(options(prefixes.get(store)!)),
});

describeCouponContract('RedisStore', {
  create: async () => {
    const prefix = uniquePrefix('coupons');
    const store = await RedisStore.connect(options(prefix));
    prefixes.set(store, prefix);
    return store;
  },
  sibling: async (store) => RedisStore.connect(options(prefixes.get(store)!)),
});

describeOrderContract('RedisStore', {
  create: async () => {
    const prefix = uniquePrefix('orders');
    const store = await RedisStore.connect({ ...options(prefix), webhooks: true });
    return { store, outbox: new RedisWebhookOutbox(store.redis, { prefix, logSize: 100, retryAfterMs: 1000 }) };
  },
});

describe('the Redis client', () => {
  it('sends the commands issued together in one socket write, and each still gets its own answer', async () => {
    const redis = createRedisClient(REDIS_URL, 2000) as Redis;
    try {
      await connectWithin(redis, REDIS_URL);
      const stream = redis.stream as unknown as { _write: (...args: unknown[]) => void; _writev?: (...args: unknown[]) => void };
      let writes = 0;
      for (const method of ['_write', '_writev'] as const) {
        const original = stream[method];
        if (original === undefined) continue;
        stream[method] = (...args: unknown[]) => {
          writes++;
          return original.apply(stream, args);
        };
      }
      const key = `${uniquePrefix('coalesce')}:n`;
      const answers = await Promise.all(Array.from({ length: 20 }, () => redis.incr(key)));
      expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(writes).toBe(1);
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });
});

describeVariantContract('RedisStore', {
  create: async () => {
    const prefix = uniquePrefix('variants');
    const store = await RedisStore.connect(options(prefix));
    prefixes.set(store, prefix);
    return store;
  },
  sibling: async (store) => RedisStore.connect(options(prefixes.get(store)!)),
});

// Each handle its own connection (a node): closing the handle disconnects it.
async function redisNode<S extends { close(): Promise<void> }>(make: (redis: ReturnType<typeof createRedisClient>) => S): Promise<S> {
  const redis = createRedisClient(REDIS_URL, 2000);
  await connectWithin(redis, REDIS_URL);
  return Object.assign(make(redis), { close: async () => redis.disconnect() });
}

describeRedisAuctionAndGiveawayContracts('', '', redisNode);
