import { RedisStore } from '../../server/src/store/RedisStore.ts';
import type { Store } from '../../server/src/store/Store.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeStoreContract } from './storeContract.ts';

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
