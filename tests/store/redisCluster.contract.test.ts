import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../server/src/broker/Broker.ts';
import { RedisBroker } from '../../server/src/broker/RedisBroker.ts';
import { connectWithin, createRedisClient, redisTarget } from '../../server/src/redis/client.ts';
import { RedisStore } from '../../server/src/store/RedisStore.ts';
import { RedisWebhookOutbox } from '../../server/src/store/RedisWebhookOutbox.ts';
import type { Store } from '../../server/src/store/Store.ts';
import { describeBrokerContract } from '../broker/brokerContract.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { OwnRedisCluster } from '../helpers/redisCluster.ts';
import { describeModerationContract } from './moderationContract.ts';
import { describeCouponContract } from './couponContract.ts';
import { describeOrderContract } from './orderContract.ts';
import { RedisRoomDirectory } from '../../server/src/store/RedisRoomDirectory.ts';
import { describeStoreContract } from './storeContract.ts';
import { describeVariantContract } from './variantContract.ts';
import { RedisUserNotices } from '../../server/src/broker/RedisUserNotices.ts';
import { RedisReminderDirectory } from '../../server/src/store/RedisReminderDirectory.ts';
import { describeReminderContract } from './reminderContract.ts';
import { describeRedisAuctionAndGiveawayContracts } from './redisAuctionGiveawayContracts.ts';
import type { ReminderDirectory } from '../../server/src/store/ReminderDirectory.ts';
import { RedisShowNoticeInbox } from '../../server/src/store/RedisShowNoticeInbox.ts';
import { failingAfter } from '../helpers/failingRedis.ts';

// One real cluster (3 masters, 3 replicas) for the file: the same contracts as on one Redis.
let cluster: OwnRedisCluster;
beforeAll(async () => {
  cluster = await OwnRedisCluster.start();
}, 60_000);
afterAll(() => cluster?.stop());

const target = () => redisTarget(cluster.url);
const storeOptions = (prefix: string) => ({ url: target(), prefix, idempotencyTtlMs: 86_400_000, commandTimeoutMs: 2000, retryAfterMs: 1000, orderReplicas: 1, orderReplicaTimeoutMs: 1000 });
const storePrefixes = new WeakMap<Store, string>();

describeStoreContract('RedisStore on Redis Cluster', {
  create: async () => {
    const prefix = uniquePrefix('cluster-store');
    const store = await RedisStore.connect(storeOptions(prefix));
    storePrefixes.set(store, prefix);
    return store;
  },
  sibling: async (store) => RedisStore.connect(storeOptions(storePrefixes.get(store)!)),
});

describeCouponContract('RedisStore on Redis Cluster', {
  create: async () => {
    const prefix = uniquePrefix('cluster-coupons');
    const store = await RedisStore.connect(storeOptions(prefix));
    storePrefixes.set(store, prefix);
    return store;
  },
  sibling: async (store) => RedisStore.connect(storeOptions(storePrefixes.get(store)!)),
});

// A user's order list and the webhook room index live in other slots than the rooms': written apart, one single-key command each.
describeOrderContract('RedisStore on Redis Cluster', {
  create: async () => {
    const prefix = uniquePrefix('cluster-orders');
    const store = await RedisStore.connect({ ...storeOptions(prefix), webhooks: true });
    return { store, outbox: new RedisWebhookOutbox(store.redis, { prefix, logSize: 100, retryAfterMs: 1000 }) };
  },
});

// A room's moderation keys (moderators, filter, pinned comment) in the room's slot.
const moderationStores: RedisStore[] = [];
afterAll(async () => {
  for (const store of moderationStores.splice(0)) await store.close();
});
describeModerationContract('Redis Cluster', async () => {
  const prefix = uniquePrefix('cluster-moderation');
  const store = await RedisStore.connect(storeOptions(prefix));
  moderationStores.push(store);
  return new RedisRoomDirectory(store.redis, prefix, 1000);
});

function clusterBrokers(sequencerLeaseMs: number) {
  const prefixes = new WeakMap<Broker, string>();
  const connect = async (prefix: string, ringSize: number) => {
    const publisher = createRedisClient(target(), 2000);
    await connectWithin(publisher, cluster.url);
    const broker = new RedisBroker(publisher, { url: target(), prefix, ringSize, retryAfterMs: 1000, sequencerLeaseMs });
    prefixes.set(broker, prefix);
    return broker;
  };
  return {
    create: (ringSize: number) => connect(uniquePrefix('cluster-broker'), ringSize),
    sibling: (broker: Broker, ringSize: number) => connect(prefixes.get(broker)!, ringSize),
    sequencesLocally: sequencerLeaseMs > 0,
  };
}

describeBrokerContract('RedisBroker on Redis Cluster (every seq from Redis)', clusterBrokers(0));
describeBrokerContract('RedisBroker on Redis Cluster with a sequencer lease', clusterBrokers(3000));

// Reminders in each room's slot, each user's index in the user's: written apart, checked against the rooms' sets on read.
const clusterReminderPrefixes = new WeakMap<ReminderDirectory, string>();
describeReminderContract('Redis Cluster', {
  reminders: async () => {
    const prefix = uniquePrefix('cluster-reminders');
    const reminders = await clusterNode((redis) => new RedisReminderDirectory(redis, prefix, { cluster: true, retryAfterMs: 1000 }));
    clusterReminderPrefixes.set(reminders, prefix);
    return reminders;
  },
  sibling: async (of, failAfter) => clusterNode((redis) => new RedisReminderDirectory(failAfter === undefined ? redis : failingAfter(redis, failAfter), clusterReminderPrefixes.get(of)!, { cluster: true, retryAfterMs: 1000 })),
  inbox: async () => clusterNode((redis) => new RedisShowNoticeInbox(redis, uniquePrefix('cluster-inbox'), 1000)),
  notices: async () => {
    const prefix = uniquePrefix('cluster-notices');
    const node = async () => {
      const redis = createRedisClient(target(), 2000);
      await connectWithin(redis, cluster.url);
      const notices = new RedisUserNotices(redis, { target: target(), prefix, retryAfterMs: 1000 });
      const close = notices.close.bind(notices);
      return Object.assign(notices, { close: async () => { await close(); redis.disconnect(); } });
    };
    return [await node(), await node()];
  },
});

describe('rooms on Redis Cluster', () => {
  it('spreads rooms over the shards, and each room\'s keys stay in one slot', async () => {
    const prefix = uniquePrefix('cluster-slots');
    const store = await RedisStore.connect(storeOptions(prefix));
    try {
      const masters = new Set<number>();
      for (let i = 0; i < 12; i++) {
        const room = `room-${i}`;
        await store.addProduct(room, { sku: 'a', stock: 5, priceCents: 100, currency: 'USD' });
        const answer = await store.reserve({ roomId: room, userId: 'u', sku: 'a', quantity: 1, key: `k${i}`, now: Date.now(), ttlMs: 60_000 });
        expect(answer.status).toBe('reserved');
        expect((await store.checkout(room, 'u', `c${i}`, Date.now())).status).toBe('ordered');
        masters.add(await cluster.masterOf(`${prefix}:{r:${room}}:inv:a`));
      }
      expect(masters.size).toBeGreaterThan(1);
    } finally {
      await store.close();
    }
  });
});

describeVariantContract('RedisStore on Redis Cluster', {
  create: async () => {
    const prefix = uniquePrefix('cluster-variants');
    const store = await RedisStore.connect(storeOptions(prefix));
    storePrefixes.set(store, prefix);
    return store;
  },
  sibling: async (store) => RedisStore.connect(storeOptions(storePrefixes.get(store)!)),
});

// Each handle its own connection to the cluster (a node): closing the handle disconnects it.
async function clusterNode<S extends { close(): Promise<void> }>(make: (redis: ReturnType<typeof createRedisClient>) => S): Promise<S> {
  const redis = createRedisClient(target(), 2000);
  await connectWithin(redis, cluster.url);
  return Object.assign(make(redis), { close: async () => redis.disconnect() });
}

describeRedisAuctionAndGiveawayContracts(' on Redis Cluster', 'cluster-', clusterNode);
