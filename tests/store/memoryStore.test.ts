import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { describeStoreContract } from './storeContract.ts';

describeStoreContract('MemoryStore', {
  create: async () => new MemoryStore({ idempotencyTtlMs: 86_400_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 }),
});
