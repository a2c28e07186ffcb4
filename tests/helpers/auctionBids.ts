import { type Auction, type AuctionState, initialState } from '../../server/src/auctions/auction.ts';
import { applyBid, type Bid, type BidAnswer, type BidRecord } from '../../server/src/auctions/bidding.ts';
import { incrementScheduleSchema } from '../../server/src/auctions/increments.ts';

export const T0 = 1_800_000_000_000;

/** +1.00 below 50.00, +5.00 below 200.00, +10.00 above. */
export const SCHEDULE = incrementScheduleSchema.parse([{ belowCents: 5000, stepCents: 100 }, { belowCents: 20000, stepCents: 500 }, { stepCents: 1000 }]);

/** A 60 s auction from T0 at 10.00 with a 10 s anti-sniping window, sold by `seller`. */
export function testAuction(extra: Partial<Auction> = {}): Auction {
  return {
    id: 'lot1', roomId: 'r1', sku: 'vase', sellerId: 'seller', startPriceCents: 1000, increments: SCHEDULE,
    ending: { kind: 'extend', windowMs: 10_000 }, leaderShown: 'name', startsAt: T0, endsAt: T0 + 60_000, ...extra,
  };
}

/** A reproducible random source in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` bids meant to exercise every rule: mostly near the current minimum (some below, some
 * ties, some far above), by a handful of users and now and then the seller, mostly inside the
 * auction's time and often inside its anti-sniping window, some after its end.
 */
export function randomBids(random: () => number, auction: Auction, count: number, users = 6): Bid[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bids: Bid[] = [];
  let state = initialState(auction);
  let at = auction.startsAt;
  for (let i = 0; i < count; i++) {
    at += Math.floor(random() * 4000);
    const minNext = state.leaderId === null ? auction.startPriceCents : state.priceCents + 100;
    const amountCents = Math.max(1, pick([minNext - 100, minNext, minNext, minNext + 50, minNext + 700, state.leaderMaxCents, state.leaderMaxCents + 1, minNext + Math.floor(random() * 30_000)]));
    const userId = random() < 0.03 ? auction.sellerId : `u${Math.floor(random() * users)}`;
    const bid: Bid = { userId, kind: random() < 0.5 ? 'price' : 'max', amountCents, at: random() < 0.03 ? auction.startsAt - 1 : at };
    bids.push(bid);
    state = applyBid(auction, state, bid).state;
  }
  return bids;
}

/** The reference: the bids applied one after another by `applyBid`. */
export function runReference(auction: Auction, bids: readonly Bid[], historyKept = Number.POSITIVE_INFINITY): { state: AuctionState; answers: BidAnswer[]; history: BidRecord[] } {
  let state = initialState(auction);
  const answers: BidAnswer[] = [];
  const history: BidRecord[] = [];
  for (const bid of bids) {
    const step = applyBid(auction, state, bid);
    state = step.state;
    answers.push(step.answer);
    if (step.record !== undefined) history.push(step.record);
  }
  return { state, answers, history: history.slice(Math.max(0, history.length - historyKept)) };
}
