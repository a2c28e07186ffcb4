import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialState } from '../../server/src/auctions/auction.ts';
import type { Bid, BidAnswer } from '../../server/src/auctions/bidding.ts';
import { DomainError } from '../../server/src/DomainError.ts';
import type { AuctionStore, BidRequest } from '../../server/src/store/AuctionStore.ts';
import { randomBids, runReference, seededRandom, T0, testAuction } from '../helpers/auctionBids.ts';

export interface AuctionStoreFactory {
  /** A store keeping the newest `historyKept` price moves of an auction. */
  create(historyKept: number): Promise<AuctionStore>;
  /** A second handle on the same data (another node), when the store has one. */
  sibling?(store: AuctionStore): Promise<AuctionStore>;
}

const HISTORY = 50;
const request = (bid: Bid, auctionId = 'lot1', roomId = 'r1'): BidRequest => ({ ...bid, roomId, auctionId });

/** The answers of bids sent without reused keys: a DomainError in a slot is a failure here. */
function answered(got: ReadonlyArray<BidAnswer | DomainError>): BidAnswer[] {
  return got.map((answer) => {
    if (answer instanceof DomainError) throw answer;
    return answer;
  });
}

/** Splits `items` into runs of 1 to `most` items, by `random`. */
function batches<T>(items: readonly T[], random: () => number, most: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const size = 1 + Math.floor(random() * most);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Auctions, every store: the same rules as auctions/bidding.ts, atomic per batch, one leader under concurrency, settled once. */
export function describeAuctionContract(name: string, factory: AuctionStoreFactory): void {
  describe(`Auction contract: ${name}`, () => {
    let store: AuctionStore;
    beforeEach(async () => {
      store = await factory.create(HISTORY);
    });
    afterEach(() => store.close());

    it('starts an auction once, one at a time per room, and tells where it stands', async () => {
      const auction = testAuction();
      expect(await store.createAuction(auction)).toBe('created');
      expect(await store.createAuction(auction)).toBe('exists');
      expect(await store.createAuction(testAuction({ id: 'lot2' }))).toBe('busy');
      expect(await store.createAuction(testAuction({ roomId: 'r2' }))).toBe('created');
      expect(await store.currentAuction('r1')).toBe('lot1');
      expect(await store.currentAuction('r3')).toBeNull();
      expect(await store.auction('r1', 'lot1')).toEqual({ auction, state: initialState(auction) });
      expect(await store.auction('r1', 'nope')).toBeUndefined();
      expect(await store.bid([request({ userId: 'ann', kind: 'price', amountCents: 1000, at: T0 + 1 }, 'nope')])).toEqual([{ status: 'not_allowed', reason: 'unknown_auction' }]);
    });

    it('answers random bid sequences exactly as the reference rules do, batch after batch', async () => {
      for (let seed = 1; seed <= 12; seed++) {
        const random = seededRandom(seed);
        const auction = testAuction({ id: `lot${seed}`, roomId: `room${seed}`, ending: seed % 3 === 0 ? { kind: 'sudden_death' } : { kind: 'extend', windowMs: 10_000 } });
        const bids = randomBids(random, auction, 80);
        const expected = runReference(auction, bids, HISTORY);
        expect(await store.createAuction(auction)).toBe('created');
        const answers: BidAnswer[] = [];
        // Batches as admission sends them, a bid for another room's auction mixed in now and then.
        for (const batch of batches(bids, random, 12)) {
          const requests = batch.map((bid) => request(bid, auction.id, auction.roomId));
          if (random() < 0.3) requests.splice(Math.floor(random() * requests.length), 0, request(batch[0]!, 'lot1', 'elsewhere'));
          const got = answered(await store.bid(requests));
          expect(got).toHaveLength(requests.length);
          answers.push(...got.filter((_, i) => requests[i]!.roomId === auction.roomId));
        }
        expect(answers, `seed ${seed}`).toEqual(expected.answers);
        expect(await store.auction(auction.roomId, auction.id)).toEqual({ auction, state: expected.state });
        expect(await store.history(auction.roomId, auction.id)).toEqual(expected.history);
      }
    });

    it('keeps one leader at the highest valid bid under parallel batches from two nodes, in an order the reference reproduces', async () => {
      const auction = testAuction({ ending: { kind: 'extend', windowMs: 3000 } });
      await store.createAuction(auction);
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const random = seededRandom(99);
        // 600 bids by 200 viewers in the last second, a third of them maximums.
        // Amounts climb with the burst, jittered: batches arriving out of turn make some too low, most valid.
        const bids: Bid[] = Array.from({ length: 600 }, (_, i) => ({
          userId: `v${Math.floor(random() * 200)}`, kind: random() < 0.33 ? 'max' : 'price', amountCents: 1000 + 100 * (i + Math.floor(random() * 40)), at: T0 + 59_000 + Math.floor(random() * 1000),
        }));
        const parts = batches(bids, random, 25);
        const answers = (await Promise.all(parts.map((batch, b) => (b % 2 === 0 ? store : other).bid(batch.map((bid) => request(bid))).then(answered)))).flat();
        expect(answers).toHaveLength(600);
        // Every bid was answered at its own place in the store's order: replaying them in that order gives the same answers.
        const seqs = answers.map((a) => ('seq' in a ? a.seq : 0));
        expect([...seqs].sort((a, b) => a - b)).toEqual(bids.map((_, i) => i + 1));
        const order = bids.map((bid, i) => ({ bid, answer: answers[i]! })).sort((x, y) => ('seq' in x.answer ? x.answer.seq : 0) - ('seq' in y.answer ? y.answer.seq : 0));
        const replay = runReference(auction, order.map((o) => o.bid), HISTORY);
        expect(order.map((o) => o.answer)).toEqual(replay.answers);
        const { state } = (await store.auction('r1', 'lot1'))!;
        expect(state).toEqual(replay.state);
        const valid = order.filter((o) => o.answer.status === 'leading' || o.answer.status === 'outbid');
        const highest = Math.max(...valid.map((o) => o.bid.amountCents));
        expect(state.leaderId).toBe(valid.find((o) => o.bid.amountCents === highest)!.bid.userId);
        expect(state.leaderMaxCents).toBe(highest);
        expect(valid.length).toBeGreaterThan(HISTORY);
        expect(await store.history('r1', 'lot1')).toEqual(replay.history);
        expect(replay.history).toHaveLength(HISTORY);
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('settles once across nodes at the end: one caller hears ended, bids after it hear ended, the room is free again', async () => {
      await store.createAuction(testAuction());
      await store.bid([request({ userId: 'ann', kind: 'max', amountCents: 3000, at: T0 + 1000 }), request({ userId: 'bo', kind: 'price', amountCents: 2000, at: T0 + 2000 })]);
      expect(await store.settle('r1', 'lot1', T0 + 59_999)).toMatchObject({ result: 'not_due', view: { status: 'open', priceCents: 2100, leaderId: 'ann', minNextCents: 2200 } });
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : other).settle('r1', 'lot1', T0 + 60_000)));
        expect(results.filter((r) => r.result === 'ended')).toHaveLength(1);
        expect(results.filter((r) => r.result === 'settled')).toHaveLength(9);
        for (const r of results) expect(r).toMatchObject({ outcome: { status: 'ended', winnerId: 'ann', priceCents: 2100, bids: 2 }, view: { status: 'ended' } });
        expect(results[0]).not.toHaveProperty('view.leaderMaxCents');
      } finally {
        if (other !== store) await other.close();
      }
      expect(await store.bid([request({ userId: 'cy', kind: 'price', amountCents: 9000, at: T0 + 1 })])).toEqual([{ status: 'ended', priceCents: 2100, seq: 3 }]);
      expect(await store.cancel('r1', 'lot1')).toMatchObject({ result: 'settled', outcome: { status: 'ended', winnerId: 'ann' } });
      expect(await store.currentAuction('r1')).toBeNull();
      expect(await store.createAuction(testAuction({ id: 'lot2' }))).toBe('created');
      expect(await store.settle('r1', 'none', T0)).toEqual({ result: 'unknown' });
    });

    it('keeps the leader\'s display name with the lead: a new leader\'s name replaces it, an outbid challenger\'s does not', async () => {
      await store.createAuction(testAuction());
      await store.bid([{ ...request({ userId: 'ann', kind: 'max', amountCents: 3000, at: T0 + 1000 }), name: 'Ann' }, { ...request({ userId: 'bo', kind: 'price', amountCents: 2000, at: T0 + 2000 }), name: 'Bo' }]);
      expect(await store.auction('r1', 'lot1')).toMatchObject({ state: { leaderId: 'ann' }, leaderName: 'Ann' });
      await store.bid([{ ...request({ userId: 'cy', kind: 'price', amountCents: 5000, at: T0 + 3000 }), name: 'Cy' }]);
      expect(await store.auction('r1', 'lot1')).toMatchObject({ state: { leaderId: 'cy' }, leaderName: 'Cy' });
    });

    it('answers a bid sent again with its idempotency key as the first time, and changes nothing', async () => {
      await store.createAuction(testAuction());
      const first = { ...request({ userId: 'ann', kind: 'price', amountCents: 1500, at: T0 + 1000 }), key: 'k1' };
      const [answer] = await store.bid([first]);
      expect(answer).toEqual({ status: 'leading', priceCents: 1500, maxCents: 1500, endsAt: T0 + 60_000, seq: 1 });
      // Again in one batch with another bid, and alone: the same answer; the other user's same key is theirs.
      const again = await store.bid([first, { ...request({ userId: 'bo', kind: 'price', amountCents: 1600, at: T0 + 2000 }), key: 'k1' }, first]);
      expect(again[0]).toEqual(answer);
      expect(again[1]).toMatchObject({ status: 'leading', seq: 2 });
      expect(again[2]).toEqual(answer);
      expect((await store.auction('r1', 'lot1'))!.state).toMatchObject({ seq: 2, bids: 2, leaderId: 'bo' });
      // The key asking another amount, or a maximum instead of a price: refused in its slot, nothing changes.
      const reused = await store.bid([{ ...first, amountCents: 1600 }, { ...first, kind: 'max' }, first]);
      expect(reused[0]).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      expect(reused[1]).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
      expect(reused[2]).toEqual(answer);
      expect((await store.auction('r1', 'lot1'))!.state).toMatchObject({ seq: 2, bids: 2, leaderId: 'bo' });
    });

    it('records the settle\'s follow-up pending under the settler\'s claim: another claimant takes it only once the claim ran out, steps are compare-and-set on the claimant', async () => {
      await store.createAuction(testAuction());
      await store.bid([request({ userId: 'ann', kind: 'price', amountCents: 1500, at: T0 + 1000 })]);
      const lease = (owner: string, until: number) => ({ owner, until });
      expect(await store.claimFollowUp('r1', 'lot1', lease('b', 500), 0)).toEqual({ result: 'none' });
      expect(await store.claimFollowUp('r1', 'nope', lease('b', 500), 0)).toEqual({ result: 'none' });
      expect(await store.settle('r1', 'lot1', T0 + 60_000, lease('a', 1000))).toMatchObject({ result: 'ended' });
      // The settler's claim runs until 1000: nobody takes it before, not even the settler again.
      expect(await store.claimFollowUp('r1', 'lot1', lease('b', 2000), 999)).toEqual({ result: 'leased', until: 1000 });
      expect(await store.claimFollowUp('r1', 'lot1', lease('a', 2000), 999)).toEqual({ result: 'leased', until: 1000 });
      expect(await store.markFollowUp('r1', 'lot1', 'b', 'done')).toBe(false);
      expect(await store.markFollowUp('r1', 'lot1', 'a', 'announced')).toBe(true);
      // The settler died: b takes it over from the step recorded; the settler's late steps change nothing.
      expect(await store.claimFollowUp('r1', 'lot1', lease('b', 2000), 1000)).toEqual({ result: 'claimed', announced: true });
      expect(await store.markFollowUp('r1', 'lot1', 'a', 'done')).toBe(false);
      expect(await store.claimFollowUp('r1', 'lot1', lease('c', 3000), 1500)).toEqual({ result: 'leased', until: 2000 });
      expect(await store.markFollowUp('r1', 'lot1', 'b', 'done')).toBe(true);
      expect(await store.claimFollowUp('r1', 'lot1', lease('c', 9000), 5000)).toEqual({ result: 'done' });
      expect(await store.markFollowUp('r1', 'lot1', 'b', 'announced')).toBe(false);
      expect(await store.settle('r1', 'lot1', T0 + 90_000, lease('d', 9000))).toMatchObject({ result: 'settled' });
      expect(await store.claimFollowUp('r1', 'lot1', lease('d', 9000), 5000)).toEqual({ result: 'done' });
    });

    it('gives a follow-up whose claim ran out to exactly one of many claimants across nodes; a settle or cancel without a claim leaves it claimable at once', async () => {
      await store.createAuction(testAuction());
      expect(await store.cancel('r1', 'lot1')).toMatchObject({ result: 'cancelled' });
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : other).claimFollowUp('r1', 'lot1', { owner: `n${i}`, until: 2000 }, 1000)));
        const claimed = claims.flatMap((claim, i) => (claim.result === 'claimed' ? [i] : []));
        expect(claimed).toHaveLength(1);
        expect(claims[claimed[0]!]).toEqual({ result: 'claimed', announced: false });
        expect(claims.filter((claim) => claim.result === 'leased')).toEqual(Array(9).fill({ result: 'leased', until: 2000 }));
        const winner = `n${claimed[0]}`;
        expect(await other.markFollowUp('r1', 'lot1', winner === 'n1' ? 'n3' : 'n1', 'done')).toBe(false);
        expect(await other.markFollowUp('r1', 'lot1', winner, 'done')).toBe(true);
        expect(await store.claimFollowUp('r1', 'lot1', { owner: 'late', until: 9000 }, 5000)).toEqual({ result: 'done' });
      } finally {
        if (other !== store) await other.close();
      }
      await store.createAuction(testAuction({ id: 'lot2' }));
      expect(await store.settle('r1', 'lot2', T0 + 60_000)).toMatchObject({ result: 'ended', outcome: { status: 'ended', winnerId: null } });
      expect(await store.markFollowUp('r1', 'lot2', '', 'done')).toBe(false);
      expect(await store.claimFollowUp('r1', 'lot2', { owner: 'b', until: 2000 }, 0)).toEqual({ result: 'claimed', announced: false });
    });

    it('cancels an open auction once: no winner, bids answered ended', async () => {
      await store.createAuction(testAuction());
      await store.bid([request({ userId: 'ann', kind: 'price', amountCents: 1000, at: T0 + 1000 })]);
      expect(await store.cancel('r1', 'lot1')).toMatchObject({ result: 'cancelled', outcome: { status: 'cancelled' }, view: { status: 'cancelled' } });
      expect(await store.cancel('r1', 'lot1')).toMatchObject({ result: 'settled', outcome: { status: 'cancelled' } });
      expect(await store.settle('r1', 'lot1', T0 + 90_000)).toMatchObject({ result: 'settled' });
      expect((await store.bid([request({ userId: 'bo', kind: 'price', amountCents: 5000, at: T0 + 2000 })]))[0]).toMatchObject({ status: 'ended' });
      expect(await store.currentAuction('r1')).toBeNull();
      expect(await store.cancel('r1', 'none')).toEqual({ result: 'unknown' });
    });
  });
}
