import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CartAnswer, DirectMessage, StateUpdate, UnsequencedEvent } from '../../protocol/src/index.ts';
import type { Principal } from '../../server/src/auth/TokenService.ts';
import { AuctionService } from '../../server/src/commerce/AuctionService.ts';
import { MemoryAuctionStore } from '../../server/src/store/MemoryAuctionStore.ts';
import type { ReserveRequest } from '../../server/src/store/Store.ts';

const T0 = 1_800_000_000_000;
const seller: Principal = { userId: 'seller', name: 'Seller', role: 'streamer' };
const viewer = (userId: string): Principal => ({ userId, name: userId.toUpperCase(), role: 'viewer' });
const bid = (auctionId: string, amountCents: number, key: string, max = false) => ({ t: 'bid' as const, id: 0, key, auctionId, amountCents, ...(max ? { max } : {}) });

/** A node's auction service over a shared auction store, with the room layer and the cart store recorded. */
function node(auctions: MemoryAuctionStore, clock: { now: number }, pressure = 0) {
  const heard = { states: [] as StateUpdate[], events: [] as UnsequencedEvent[], direct: [] as Array<[string, DirectMessage]>, holds: [] as ReserveRequest[], pressure };
  const service = new AuctionService({
    auctions,
    store: {
      stock: async () => ({ available: 3, reserved: 0, sold: 0 }),
      reserve: async (request): Promise<CartAnswer> => {
        heard.holds.push(request);
        return { status: 'reserved', sku: request.sku, quantity: 1, granted: 1, expiresAt: request.now + request.ttlMs, available: 2 };
      },
    },
    rooms: {
      canModerate: async (principal) => principal.role !== 'viewer',
      assertRoom: () => undefined,
      scopeOf: (roomId) => roomId,
      roomInfo: async (roomId) => ({ id: roomId, title: 'R', streamerId: 'seller', state: 'live', createdAt: 0 }),
      publishState: (_roomId, update) => heard.states.push(update),
      emit: async (_roomId, event) => heard.events.push(event),
      notifyUser: (_roomId, userId, message) => heard.direct.push([userId, message]),
    },
    options: { cardIntervalMs: 50, settleGraceMs: 1000, followUpLeaseMs: 5000, reservationTtlMs: 60_000, labelSecret: 'secret' },
    pressure: () => heard.pressure,
    log: pino({ level: 'silent' }),
    now: () => clock.now,
  });
  return { service, heard };
}

const input = { id: 'lot', sku: 'vase', startPriceCents: 1000, increments: [{ stepCents: 100 }], durationMs: 60_000, ending: { kind: 'extend' as const, windowMs: 10_000 }, leaderShown: 'name' as const };

describe('AuctionService', () => {
  it('sends the bids of one turn in one store call, in order, and answers each with its auction', async () => {
    const store = new MemoryAuctionStore(100);
    const calls: number[] = [];
    const bidOf = store.bid.bind(store);
    store.bid = (requests) => {
      calls.push(requests.length);
      return bidOf(requests);
    };
    const clock = { now: T0 };
    const { service } = node(store, clock);
    await service.start(seller, 'r', input);
    const answers = await Promise.all([service.bid(viewer('ann'), 'r', bid('lot', 1000, 'a1'), T0 + 1), service.bid(viewer('bo'), 'r', bid('lot', 1000, 'b1'), T0 + 2), service.bid(viewer('cy'), 'r', bid('lot', 1500, 'c1', true), T0 + 3)]);
    expect(calls).toEqual([3]);
    expect(answers.map((a) => a.status)).toEqual(['leading', 'too_low', 'leading']);
    expect(answers[1]).toMatchObject({ auctionId: 'lot', minNextCents: 1100, seq: 2 });
    expect(answers[2]).toMatchObject({ auctionId: 'lot', priceCents: 1100, maxCents: 1500, seq: 3 });
    service.close();
  });

  it('sheds only a bid below the lowest bid known here, and only while the room\'s queue is busy', async () => {
    const clock = { now: T0 };
    const { service, heard } = node(new MemoryAuctionStore(100), clock);
    await service.start(seller, 'r', input);
    expect(service.shed('r', 'r', bid('lot', 900, 'x'))).toBeUndefined(); // the queue is empty: the store answers too_low
    heard.pressure = 0.5;
    expect(service.shed('r', 'r', bid('lot', 900, 'x'))).toMatchObject({ code: 'OVERLOADED', retryAfterMs: 50 });
    expect(service.shed('r', 'r', bid('lot', 1000, 'x'))).toBeUndefined();
    expect(service.shed('r', 'r', bid('other', 1, 'x'))).toBeUndefined(); // not known here: the store answers
    expect(await service.bid(viewer('ann'), 'r', bid('lot', 2000, 'a1'), T0 + 1)).toMatchObject({ status: 'leading', priceCents: 2000 });
    // The price moved: a bid below 2100 cannot win any more; a maximum is no different.
    expect(service.shed('r', 'r', bid('lot', 2000, 'x', true))).toMatchObject({ code: 'OVERLOADED' });
    expect(service.shed('r', 'r', bid('lot', 2100, 'x'))).toBeUndefined();
    service.close();
  });

  it('settles once across two nodes at the end plus the grace: one announcement, one hold at the winning price, one notice', async () => {
    const store = new MemoryAuctionStore(100);
    const clock = { now: T0 };
    const a = node(store, clock);
    const b = node(store, clock);
    const started = await a.service.start(seller, 'r', input);
    await b.service.bid(viewer('ann'), 'r', bid('lot', 3000, 'a1', true), T0 + 1);
    await a.service.bid(viewer('bo'), 'r', bid('lot', 2000, 'b1'), started.endsAt - 1); // in the window: the end moves
    clock.now = started.endsAt + 5000; // past the first end, before the pushed one's grace
    expect((await b.service.read(viewer('cy'), 'r', 'lot')).auction).toMatchObject({ status: 'open', endsAt: started.endsAt - 1 + 10_000 });
    clock.now = started.endsAt + 20_000;
    const reads = await Promise.all([a.service.read(seller, 'r', 'lot'), b.service.read(viewer('cy'), 'r', 'lot')]);
    for (const read of reads) expect(read.auction).toMatchObject({ status: 'ended', priceCents: 2100, leader: 'ANN' });
    expect(reads[0]!.history?.map((r) => r.userId)).toEqual(['ann', 'bo']);
    expect(reads[1]!.history).toBeUndefined();
    const ended = [...a.heard.events, ...b.heard.events];
    expect(ended).toEqual([expect.objectContaining({ t: 'auctionEnded', outcome: 'sold', winner: 'ANN', priceCents: 2100 })]);
    const holds = [...a.heard.holds, ...b.heard.holds];
    expect(holds).toEqual([expect.objectContaining({ roomId: 'r', userId: 'ann', sku: 'vase', quantity: 1, priceCents: 2100, key: 'auction:r:lot' })]);
    expect([...a.heard.direct, ...b.heard.direct]).toEqual([['ann', expect.objectContaining({ t: 'auctionWon', auctionId: 'lot', priceCents: 2100, held: true })]]);
    await expect(a.service.end(seller, 'r', 'lot')).rejects.toMatchObject({ code: 'AUCTION_OVER' });
    a.service.close();
    b.service.close();
  });

  it('takes over a follow-up its settling node left unfinished once the claim ran out: from the step recorded, the line held once', async () => {
    const store = new MemoryAuctionStore(100);
    const clock = { now: T0 };
    const b = node(store, clock);
    const started = await b.service.start(seller, 'r', input);
    await b.service.bid(viewer('ann'), 'r', bid('lot', 1500, 'a1'), T0 + 1);
    // Node A settled, announced, and died before holding the line.
    expect(await store.settle('r', 'lot', started.endsAt, { owner: 'a', until: started.endsAt + 3000 })).toMatchObject({ result: 'ended' });
    expect(await store.markFollowUp('r', 'lot', 'a', 'announced')).toBe(true);
    clock.now = started.endsAt + 2000; // A's claim still runs: B leaves it alone
    await expect(b.service.end(seller, 'r', 'lot')).rejects.toMatchObject({ code: 'AUCTION_OVER' });
    expect(await store.claimFollowUp('r', 'lot', { owner: 'probe', until: 0 }, clock.now)).toEqual({ result: 'leased', until: started.endsAt + 3000 });
    expect(b.heard.holds).toEqual([]);
    clock.now = started.endsAt + 3000;
    await expect(b.service.end(seller, 'r', 'lot')).rejects.toMatchObject({ code: 'AUCTION_OVER' });
    await expect.poll(() => b.heard.direct.length).toBe(1);
    expect(b.heard.events).toEqual([]); // announced by A already
    expect(b.heard.holds).toEqual([expect.objectContaining({ userId: 'ann', sku: 'vase', priceCents: 1500, key: 'auction:r:lot' })]);
    expect(b.heard.direct).toEqual([['ann', expect.objectContaining({ t: 'auctionWon', auctionId: 'lot', priceCents: 1500, held: true })]]);
    expect(await store.claimFollowUp('r', 'lot', { owner: 'probe', until: 0 }, clock.now + 60_000)).toEqual({ result: 'done' });
    await expect(b.service.end(seller, 'r', 'lot')).rejects.toMatchObject({ code: 'AUCTION_OVER' });
    expect(b.heard.holds).toHaveLength(1);
    b.service.close();
  });

  it('starts the next auction when the last one is past its end with nobody left to settle it: it is settled first', async () => {
    const store = new MemoryAuctionStore(100);
    const clock = { now: T0 };
    const gone = node(store, clock);
    const started = await gone.service.start(seller, 'r', input);
    gone.service.close(); // its node went away before the end
    const other = node(store, clock);
    await expect(other.service.start(seller, 'r', { ...input, id: 'lot2' })).rejects.toMatchObject({ code: 'AUCTION_BUSY' });
    clock.now = started.endsAt + 1000;
    expect(await other.service.start(seller, 'r', { ...input, id: 'lot2' })).toMatchObject({ id: 'lot2', status: 'open' });
    expect(other.heard.events).toEqual([expect.objectContaining({ t: 'auctionEnded', outcome: 'no_bids', winner: null })]);
    other.service.close();
  });
});
