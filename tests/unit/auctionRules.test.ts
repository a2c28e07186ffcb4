import { describe, expect, it } from 'vitest';
import { auctionInputSchema, auctionOf, type AuctionState, initialState, minNextBid, viewOf } from '../../server/src/auctions/auction.ts';
import { applyBid, type Bid, type BidAnswer, settleAuction } from '../../server/src/auctions/bidding.ts';
import { incrementScheduleSchema, nextBids, stepAt } from '../../server/src/auctions/increments.ts';
import { randomBids, runReference, SCHEDULE, seededRandom, T0, testAuction } from '../helpers/auctionBids.ts';

const price = (userId: string, amountCents: number, at = T0 + 1000): Bid => ({ userId, kind: 'price', amountCents, at });
const max = (userId: string, amountCents: number, at = T0 + 1000): Bid => ({ userId, kind: 'max', amountCents, at });

/** Applies the bids in order; the answers and the state after. */
function run(bids: readonly Bid[], auction = testAuction()): { answers: BidAnswer[]; state: AuctionState } {
  const { answers, state } = runReference(auction, bids);
  return { answers, state };
}

describe('the bid-increment schedule', () => {
  it('steps by the tier the price is below, the last tier above all', () => {
    expect([0, 4999, 5000, 19_999, 20_000, 900_000_000].map((p) => stepAt(SCHEDULE, p))).toEqual([100, 100, 500, 500, 1000, 1000]);
    expect(nextBids(SCHEDULE, 4900, 4)).toEqual([4900, 5000, 5500, 6000]);
  });

  it('refuses a schedule that is not integer cents, rising bounds and never-falling steps, open-ended last', () => {
    const bad = [
      [],
      [{ belowCents: 5000, stepCents: 100 }], // the last tier has a bound
      [{ stepCents: 100 }, { stepCents: 500 }], // a middle tier without one
      [{ belowCents: 5000, stepCents: 100 }, { belowCents: 5000, stepCents: 500 }, { stepCents: 1000 }], // bounds not rising
      [{ belowCents: 5000, stepCents: 500 }, { stepCents: 100 }], // a step falls
      [{ stepCents: 0 }],
      [{ stepCents: 1.5 }],
      [{ stepCents: 100, extra: 1 }],
      Array.from({ length: 21 }, (_, i) => (i === 20 ? { stepCents: 100 } : { belowCents: (i + 1) * 100, stepCents: 100 })),
    ];
    for (const schedule of bad) expect(incrementScheduleSchema.safeParse(schedule).success, JSON.stringify(schedule)).toBe(false);
    expect(incrementScheduleSchema.safeParse([{ stepCents: 100 }]).success).toBe(true);
  });

  it('takes an auction input with its defaults, and refuses a bad ending', () => {
    const input = auctionInputSchema.parse({ id: 'lot-1', sku: 'vase', startPriceCents: 1000, increments: [{ stepCents: 100 }], durationMs: 30_000, ending: { kind: 'sudden_death' } });
    const auction = auctionOf(input, 'r1', 'seller', T0);
    expect(auction).toMatchObject({ leaderShown: 'name', startsAt: T0, endsAt: T0 + 30_000, sellerId: 'seller' });
    expect(auctionInputSchema.safeParse({ ...input, ending: { kind: 'extend' } }).success).toBe(false);
    expect(auctionInputSchema.safeParse({ ...input, ending: { kind: 'extend', windowMs: 500 } }).success).toBe(false);
    expect(auctionInputSchema.safeParse({ ...input, id: 'a b' }).success).toBe(false);
  });
});

describe('proxy bidding', () => {
  it('runs like eBay: the system bids for the leader by the increment up to their maximum, never revealing it', () => {
    const auction = testAuction();
    const { answers, state } = run([
      max('ann', 3000), //    first bid: Ann leads at the start price, her maximum stays hers
      price('bo', 1500), //   Ann's proxy answers: 15.00 + 1.00
      max('bo', 3000), //     a tie goes to the earlier maximum, Ann's: the price is her maximum
      max('cy', 5000), //     above Ann's maximum: Cy leads at 30.00 + 1.00
      max('ann', 4000), //    below Cy's: the price rises to 40.00 + 1.00
      price('dee', 4200), //  at the minimum (41.00 + 1.00), below Cy's maximum: 42.00 + 1.00
      price('dee', 6000), //  a price bid above Cy's maximum: Dee leads at exactly 60.00
      max('cy', 6100), //     under the minimum now (60.00 + 5.00)
    ], auction);
    expect(answers.map((a) => [a.status, 'priceCents' in a ? a.priceCents : undefined])).toEqual([
      ['leading', 1000], ['outbid', 1600], ['outbid', 3000], ['leading', 3100], ['outbid', 4100], ['outbid', 4300], ['leading', 6000], ['too_low', 6000],
    ]);
    expect(answers[0]).toMatchObject({ maxCents: 3000, seq: 1 });
    expect(answers[1]).toMatchObject({ minNextCents: 1700 });
    expect(answers[7]).toMatchObject({ minNextCents: 6500, seq: 8 });
    expect(state).toMatchObject({ leaderId: 'dee', priceCents: 6000, leaderMaxCents: 6000, bids: 7, seq: 8 });
    // What the room sees has no maximum in it.
    expect(viewOf(auction, state)).not.toHaveProperty('leaderMaxCents');
    expect(viewOf(auction, state)).toMatchObject({ priceCents: 6000, minNextCents: 6500, leaderId: 'dee' });
  });

  it('prices a winning maximum at the leader\'s maximum plus its step, capped at the new maximum, across a tier', () => {
    expect(run([max('ann', 4950), max('bo', 10_000)]).state).toMatchObject({ leaderId: 'bo', priceCents: 5050 });
    expect(run([max('ann', 3000), max('bo', 3050)]).state).toMatchObject({ leaderId: 'bo', priceCents: 3050 });
    expect(run([price('ann', 2000)]).state).toMatchObject({ leaderId: 'ann', priceCents: 2000, leaderMaxCents: 2000 });
    // A maximum below the leader's that is outbid at the cap: the leader's maximum.
    expect(run([max('ann', 3000), max('bo', 2950)]).answers[1]).toMatchObject({ status: 'outbid', priceCents: 3000, minNextCents: 3100 });
  });

  it('lets the leader raise their maximum without moving the price or the end', () => {
    const auction = testAuction();
    const late = T0 + 55_000;
    const { answers, state } = run([max('ann', 3000), price('bo', 1500), max('ann', 9000, late), max('ann', 1700, late)], auction);
    expect(answers[2]).toEqual({ status: 'leading', priceCents: 1600, maxCents: 9000, endsAt: T0 + 60_000, seq: 3 });
    expect(answers[3]).toMatchObject({ status: 'leading', maxCents: 9000 }); // a lower maximum never lowers hers
    expect(state).toMatchObject({ leaderId: 'ann', priceCents: 1600, leaderMaxCents: 9000, bids: 2, endsAt: T0 + 60_000 });
  });

  it('answers too low with the minimum, not allowed for the seller and before the start, ended at and after the end', () => {
    const auction = testAuction();
    const { answers } = run([price('ann', 999), price('seller', 5000), price('bo', 5000, T0 - 1), price('bo', 5000, T0 + 60_000), price('bo', 1000)], auction);
    expect(answers).toEqual([
      { status: 'too_low', priceCents: 1000, minNextCents: 1000, endsAt: T0 + 60_000, seq: 1 },
      { status: 'not_allowed', reason: 'seller', seq: 2 },
      { status: 'not_allowed', reason: 'not_started', seq: 3 },
      { status: 'ended', priceCents: 1000, seq: 4 },
      { status: 'leading', priceCents: 1000, maxCents: 1000, endsAt: T0 + 60_000, seq: 5 },
    ]);
    expect(minNextBid(auction, initialState(auction))).toBe(1000);
  });
});

describe('the end: anti-sniping or sudden death', () => {
  it('pushes the end to N seconds after a bid in the last N seconds, never earlier, and only for a bid that moves the price', () => {
    const auction = testAuction({ ending: { kind: 'extend', windowMs: 10_000 } });
    const { answers, state } = run([
      price('ann', 1000, T0 + 40_000), //  20 s left: no extension
      price('bo', 1100, T0 + 55_000), //   5 s left: ends 10 s after it
      price('cy', 1200, T0 + 64_000), //   past the first end, inside the extension: 10 s after again
      price('ann', 1100, T0 + 60_000), //  stamped earlier (another node), arriving later: too low, nothing moves
      max('cy', 9000, T0 + 73_000), //     the leader raising their maximum: no extension
      price('ann', 1300, T0 + 74_000), //  at the end: ended
    ], auction);
    expect(answers.map((a) => ('endsAt' in a ? a.endsAt : a.status))).toEqual([T0 + 60_000, T0 + 65_000, T0 + 74_000, T0 + 74_000, T0 + 74_000, 'ended']);
    expect(state.endsAt).toBe(T0 + 74_000);
    // A bid stamped earlier than the last one never pulls the end back.
    expect(run([price('bo', 1100, T0 + 58_000), price('cy', 1200, T0 + 52_000)], auction).state.endsAt).toBe(T0 + 68_000);
  });

  it('ends a sudden-death auction at its end whatever comes last', () => {
    const auction = testAuction({ ending: { kind: 'sudden_death' } });
    const { answers } = run([price('ann', 1000, T0 + 59_999), price('bo', 5000, T0 + 60_000)], auction);
    expect(answers[0]).toMatchObject({ status: 'leading', endsAt: T0 + 60_000 });
    expect(answers[1]).toMatchObject({ status: 'ended', priceCents: 1000 });
  });

  it('settles once, at the end: the leader wins at the price, or nobody without a bid', () => {
    const auction = testAuction();
    const { state } = run([max('ann', 3000), price('bo', 2000)], auction);
    expect(settleAuction(state, T0 + 59_999)).toBeUndefined();
    const settled = settleAuction(state, T0 + 60_000)!;
    expect(settled.outcome).toEqual({ status: 'ended', winnerId: 'ann', priceCents: 2100, bids: 2 });
    expect(settleAuction(settled.state, T0 + 70_000)).toBeUndefined();
    expect(applyBid(auction, settled.state, price('cy', 9000, T0 + 50_000)).answer).toMatchObject({ status: 'ended', priceCents: 2100 });
    expect(settleAuction(initialState(auction), T0 + 60_000)!.outcome).toEqual({ status: 'ended', winnerId: null, bids: 0 });
  });
});

describe('a batch of bids in arrival order', () => {
  it('leaves exactly one leader: the first valid bid at the highest maximum, the price never above it', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const auction = testAuction({ ending: seed % 2 === 0 ? { kind: 'sudden_death' } : { kind: 'extend', windowMs: 10_000 } });
      const bids = randomBids(seededRandom(seed), auction, 60);
      const { answers, state } = runReference(auction, bids);
      const valid = bids.filter((_, i) => answers[i]!.status === 'leading' || answers[i]!.status === 'outbid');
      if (valid.length === 0) {
        expect(state.leaderId).toBeNull();
        continue;
      }
      const highest = Math.max(...valid.map((b) => b.amountCents));
      expect(state.leaderId, `seed ${seed}`).toBe(valid.find((b) => b.amountCents === highest)!.userId);
      expect(state.leaderMaxCents).toBe(highest);
      expect(state.priceCents).toBeLessThanOrEqual(highest);
      // Prices only rise, and every answer's price is the state's price at that point.
      const prices = answers.flatMap((a) => (a.status === 'leading' || a.status === 'outbid' ? [a.priceCents] : []));
      expect(prices).toEqual([...prices].sort((a, b) => a - b));
      expect(answers.map((a) => ('seq' in a ? a.seq : 0))).toEqual(bids.map((_, i) => i + 1));
    }
  });
});
