import type { z } from 'zod';
import type { AuctionEnding, auctionInputSchema } from '../../../protocol/src/auctions.ts';
import { type IncrementSchedule, stepAt } from './increments.ts';

/** The auction's wire schemas (id, ending, input) live with the protocol. */
export { type AuctionEnding, auctionEndingSchema, auctionIdSchema, type AuctionInput, auctionInputSchema } from '../../../protocol/src/auctions.ts';

/** An auction as the server keeps it: the input, where, by whom, and when it started and first ends. */
export interface Auction {
  readonly id: string;
  readonly roomId: string;
  readonly sku: string;
  /** Who sells (the streamer): may not bid. */
  readonly sellerId: string;
  readonly startPriceCents: number;
  readonly increments: IncrementSchedule;
  readonly ending: AuctionEnding;
  readonly leaderShown: 'name' | 'anonymous';
  readonly startsAt: number;
  /** The end before any extension. */
  readonly endsAt: number;
}

/** The auction `input` describes, started by `sellerId` in `roomId` at `now`. */
export function auctionOf(input: z.output<typeof auctionInputSchema>, roomId: string, sellerId: string, now: number): Auction {
  return {
    id: input.id, roomId, sku: input.sku, sellerId, startPriceCents: input.startPriceCents, increments: input.increments,
    ending: input.ending, leaderShown: input.leaderShown, startsAt: now, endsAt: now + input.durationMs,
  };
}

/**
 * Where an auction stands. `leaderMaxCents` is the leader's maximum: the store's secret, never
 * told to anyone (the leader hears their own in their answer). `seq` counts every bid answered,
 * so answers and room updates can be put in the store's order.
 */
export interface AuctionState {
  readonly status: 'open' | 'ended' | 'cancelled';
  /** The current price: the start price until the first bid. */
  readonly priceCents: number;
  readonly leaderId: string | null;
  readonly leaderMaxCents: number;
  readonly endsAt: number;
  /** Bids that moved the price (the bid history's length). */
  readonly bids: number;
  readonly seq: number;
}

export function initialState(auction: Auction): AuctionState {
  return { status: 'open', priceCents: auction.startPriceCents, leaderId: null, leaderMaxCents: 0, endsAt: auction.endsAt, bids: 0, seq: 0 };
}

/** The lowest bid taken now: the start price before any bid, then the price plus its step. */
export function minNextBid(auction: Auction, state: AuctionState): number {
  return state.leaderId === null ? auction.startPriceCents : state.priceCents + stepAt(auction.increments, state.priceCents);
}

/** What the room and the streamer may see of an auction: everything but the leader's maximum. */
export interface AuctionView {
  readonly auction: Auction;
  readonly status: AuctionState['status'];
  readonly priceCents: number;
  readonly leaderId: string | null;
  readonly minNextCents: number;
  readonly endsAt: number;
  readonly bids: number;
  readonly seq: number;
}

export function viewOf(auction: Auction, state: AuctionState): AuctionView {
  return {
    auction, status: state.status, priceCents: state.priceCents, leaderId: state.leaderId, minNextCents: minNextBid(auction, state),
    endsAt: state.endsAt, bids: state.bids, seq: state.seq,
  };
}
