import type { createRedisClient } from '../../server/src/redis/client.ts';
import { RedisAuctionStore } from '../../server/src/store/RedisAuctionStore.ts';
import { RedisGiveawayStore } from '../../server/src/store/RedisGiveawayStore.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { describeAuctionContract } from './auctionContract.ts';
import { describeGiveawayContract } from './giveawayContract.ts';

/** A handle on its own connection (a node): `make` builds it on the connection, and closing it disconnects. */
export type RedisNode = <S extends { close(): Promise<void> }>(make: (redis: ReturnType<typeof createRedisClient>) => S) => Promise<S>;

/**
 * The auction and giveaway contracts on Redis, each handle a node of its own from `node` (one
 * Redis, or a Redis Cluster: an auction's and a giveaway's keys are in their room's slot).
 * `where` names the deployment in the suites' titles (" on Redis Cluster"), `tag` starts the key prefixes.
 */
export function describeRedisAuctionAndGiveawayContracts(where: string, tag: string, node: RedisNode): void {
  const handlePrefixes = new WeakMap<object, string>();
  const auctionNode = (prefix: string, historyKept: number) => node((redis) => new RedisAuctionStore(redis, { prefix, historyKept, retryAfterMs: 1000 }));
  const giveawayNode = (prefix: string) => node((redis) => new RedisGiveawayStore(redis, { prefix, retryAfterMs: 1000, scanCount: 64 }));

  describeAuctionContract(`RedisAuctionStore${where}`, {
    create: async (historyKept) => {
      const prefix = uniquePrefix(`${tag}auctions`);
      const store = await auctionNode(prefix, historyKept);
      handlePrefixes.set(store, `${prefix}|${historyKept}`);
      return store;
    },
    sibling: async (store) => {
      const [prefix, kept] = handlePrefixes.get(store)!.split('|');
      return auctionNode(prefix!, Number(kept));
    },
  });

  describeGiveawayContract(`RedisGiveawayStore${where}`, {
    create: async () => {
      const prefix = uniquePrefix(`${tag}giveaways`);
      const store = await giveawayNode(prefix);
      handlePrefixes.set(store, prefix);
      return store;
    },
    sibling: async (store) => giveawayNode(handlePrefixes.get(store)!),
  });
}
