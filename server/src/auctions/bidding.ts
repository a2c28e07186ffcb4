import { type Auction, type AuctionState, minNextBid } from './auction.ts';
import { stepAt } from './increments.ts';

/**
 * A bid. `price`: the buyer offers exactly `amountCents` (leading, the price becomes it). `max`:
 * the buyer's maximum; the system bids for them by the increment, only as high as it must to lead.
 * `at`: when it was placed (its node's clock when admitted).
 */
export interface Bid {
  readonly userId: string;
  readonly kind: 'price' | 'max';
  readonly amountCents: number;
  readonly at: number;
}

/**
 * Every bid's one definite answer. `seq` is the auction's count of bids answered, this one
 * included: the store's order. `leading` tells the bidder their own maximum (never anyone else's).
 */
export type BidAnswer =
  | { readonly status: 'leading'; readonly priceCents: number; readonly maxCents: number; readonly endsAt: number; readonly seq: number }
  | { readonly status: 'outbid'; readonly priceCents: number; readonly minNextCents: number; readonly endsAt: number; readonly seq: number }
  | { readonly status: 'too_low'; readonly priceCents: number; readonly minNextCents: number; readonly endsAt: number; readonly seq: number }
  | { readonly status: 'ended'; readonly priceCents: number; readonly seq: number }
  | { readonly status: 'not_allowed'; readonly reason: 'seller' | 'not_started'; readonly seq: number }
  /** No auction with that id in the room (the store answers it; the auction has no seq to give). */
  | { readonly status: 'not_allowed'; readonly reason: 'unknown_auction' };

/** A bid that moved the price, as the streamer's bid history lists it: who bid, and the price and leader after it. */
export interface BidRecord {
  readonly seq: number;
  readonly at: number;
  readonly userId: string;
  readonly priceCents: number;
  readonly leaderId: string;
}

export interface BidStep {
  readonly state: AuctionState;
  readonly answer: BidAnswer;
  /** Set when the bid moved the price. */
  readonly record?: BidRecord;
}

/**
 * Applies one bid, the reference rules of every store (the Redis Lua mirrors this function; a
 * contract test compares them on random bid sequences). Bids apply one after another in arrival
 * order, so any batch leaves exactly one leader, the holder of the highest maximum (the earliest
 * of equal ones).
 *
 * - Ended: the auction is not open, or `at` is at or past its end.
 * - Not allowed: the seller bids, or the bid is placed before the start.
 * - Too low: below the minimum next bid (the start price first, then price + step(price)).
 * - First bid: its bidder leads at the start price (a max) or at the amount (a price).
 * - The leader bidding again raises their maximum when higher; the price does not move and the end
 *   is not extended (nobody bids against themselves).
 * - A challenger above the leader's maximum L leads: the price becomes the amount (a price) or
 *   min(L + step(L), amount) (a max).
 * - A challenger at or below L is outbid at once: the leader's proxy answers, the price becomes
 *   min(amount + step(amount), L); a tie goes to the earlier maximum, the leader's.
 * - Every bid that moves the price, in the last `windowMs` of an `extend` auction, pushes the end
 *   to `at + windowMs` (never earlier than it was).
 */
export function applyBid(auction: Auction, state: AuctionState, bid: Bid): BidStep {
  const seq = state.seq + 1;
  if (state.status !== 'open' || bid.at >= state.endsAt) return { state: { ...state, seq }, answer: { status: 'ended', priceCents: state.priceCents, seq } };
  if (bid.userId === auction.sellerId) return { state: { ...state, seq }, answer: { status: 'not_allowed', reason: 'seller', seq } };
  if (bid.at < auction.startsAt) return { state: { ...state, seq }, answer: { status: 'not_allowed', reason: 'not_started', seq } };
  const minNext = minNextBid(auction, state);
  const amount = bid.amountCents;
  if (amount < minNext) return { state: { ...state, seq }, answer: { status: 'too_low', priceCents: state.priceCents, minNextCents: minNext, endsAt: state.endsAt, seq } };

  if (state.leaderId === bid.userId) {
    const next = { ...state, seq, leaderMaxCents: Math.max(state.leaderMaxCents, amount) };
    return { state: next, answer: { status: 'leading', priceCents: next.priceCents, maxCents: next.leaderMaxCents, endsAt: next.endsAt, seq } };
  }

  let leaderId: string;
  let leaderMax: number;
  let price: number;
  if (state.leaderId === null) {
    [leaderId, leaderMax, price] = [bid.userId, amount, bid.kind === 'price' ? amount : minNext];
  } else if (amount > state.leaderMaxCents) {
    const proxied = Math.min(state.leaderMaxCents + stepAt(auction.increments, state.leaderMaxCents), amount);
    [leaderId, leaderMax, price] = [bid.userId, amount, bid.kind === 'price' ? amount : proxied];
  } else {
    [leaderId, leaderMax, price] = [state.leaderId, state.leaderMaxCents, Math.min(amount + stepAt(auction.increments, amount), state.leaderMaxCents)];
  }
  const windowMs = auction.ending.kind === 'extend' ? auction.ending.windowMs : 0;
  const endsAt = Math.max(state.endsAt, bid.at + windowMs);
  const next: AuctionState = { status: 'open', priceCents: price, leaderId, leaderMaxCents: leaderMax, endsAt, bids: state.bids + 1, seq };
  const record: BidRecord = { seq, at: bid.at, userId: bid.userId, priceCents: price, leaderId };
  const answer: BidAnswer = leaderId === bid.userId
    ? { status: 'leading', priceCents: price, maxCents: leaderMax, endsAt, seq }
    : { status: 'outbid', priceCents: price, minNextCents: minNextBid(auction, next), endsAt, seq };
  return { state: next, answer, record };
}

/** How an auction came out: its winner at the final price, or nobody (no bid, or cancelled). */
export type AuctionOutcome =
  | { readonly status: 'ended'; readonly winnerId: string; readonly priceCents: number; readonly bids: number }
  | { readonly status: 'ended'; readonly winnerId: null; readonly bids: 0 }
  | { readonly status: 'cancelled' };

/** The auction ends at `now` when it is open and its end has come; undefined while it is not due (or was settled already). */
export function settleAuction(state: AuctionState, now: number): { state: AuctionState; outcome: AuctionOutcome } | undefined {
  if (state.status !== 'open' || now < state.endsAt) return undefined;
  const ended: AuctionState = { ...state, status: 'ended' };
  return { state: ended, outcome: outcomeOf(ended)! };
}

/** The outcome of a settled auction (undefined while open). */
export function outcomeOf(state: AuctionState): AuctionOutcome | undefined {
  if (state.status === 'open') return undefined;
  if (state.status === 'cancelled') return { status: 'cancelled' };
  return state.leaderId === null
    ? { status: 'ended', winnerId: null, bids: 0 }
    : { status: 'ended', winnerId: state.leaderId, priceCents: state.priceCents, bids: state.bids };
}
