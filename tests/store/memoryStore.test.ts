import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { MemoryWebhookOutbox } from '../../server/src/store/MemoryWebhookOutbox.ts';
import { describeCouponContract } from './couponContract.ts';
import { describeOrderContract } from './orderContract.ts';
import { describeStoreContract } from './storeContract.ts';
import { describeVariantContract } from './variantContract.ts';

describeStoreContract('MemoryStore', {
  create: async () => new MemoryStore({ idempotencyTtlMs: 86_400_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 }),
});

describeOrderContract('MemoryStore', {
  create: async () => {
    const outbox = new MemoryWebhookOutbox(100);
    return { store: new MemoryStore({ idempotencyTtlMs: 86_400_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 }, outbox), outbox };
  },
});

describeCouponContract('MemoryStore', {
  create: async () => new MemoryStore({ idempotencyTtlMs: 86_400_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 }),
});

describeVariantContract('MemoryStore', {
  create: async () => new MemoryStore({ idempotencyTtlMs: 86_400_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 }),
});
