import { MemoryAuctionStore } from '../../server/src/store/MemoryAuctionStore.ts';
import { MemoryGiveawayStore } from '../../server/src/store/MemoryGiveawayStore.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { MemoryWebhookOutbox } from '../../server/src/store/MemoryWebhookOutbox.ts';
import { describeAuctionContract } from './auctionContract.ts';
import { describeCouponContract } from './couponContract.ts';
import { describeGiveawayContract } from './giveawayContract.ts';
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

describeAuctionContract('MemoryAuctionStore', { create: async (historyKept) => new MemoryAuctionStore(historyKept) });

describeGiveawayContract('MemoryGiveawayStore', { create: async () => new MemoryGiveawayStore() });
