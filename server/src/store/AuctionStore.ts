import type { Auction, AuctionState, AuctionView } from '../auctions/auction.ts';
import type { AuctionOutcome, Bid, BidAnswer, BidRecord } from '../auctions/bidding.ts';
import type { DomainError } from '../DomainError.ts';

/** One bid, as the admission path sends it to the store. */
export interface BidRequest extends Bid {
  readonly roomId: string;
  readonly auctionId: string;
  /** The bidder's display name: kept with the lead while they hold it, for the room's card. */
  readonly name?: string | undefined;
  /**
   * The bidder's idempotency key: a bid whose user and key were answered already gets that answer
   * again and changes nothing; one asking another kind or amount gets IDEMPOTENCY_MISMATCH in its slot.
   */
  readonly key?: string | undefined;
}

/** What starting an auction did: started, refused for a taken id, or refused while another auction of the room is not settled. */
export type AuctionCreate = 'created' | 'exists' | 'busy';

/** What settling or cancelling did: `ended`/`cancelled` for the one caller that did it (it announces), `settled` once that happened, `not_due` before the end, `unknown` for no such auction. */
export type AuctionSettle =
  | { readonly result: 'ended' | 'cancelled' | 'settled'; readonly outcome: AuctionOutcome; readonly view: AuctionView }
  | { readonly result: 'not_due'; readonly view: AuctionView }
  | { readonly result: 'unknown' };

/** A claim on a settled auction's follow-up (its end announced, the winner's line held): by whom, until when (ms since the epoch). */
export interface FollowUpLease {
  readonly owner: string;
  readonly until: number;
}

/**
 * Claiming a settled auction's follow-up: `claimed` (now the caller's, `announced` once a claimant
 * marked the announcement made), `leased` (another claimant's until `until`), `done`, or `none`
 * (no such auction, or not settled).
 */
export type FollowUpClaim =
  | { readonly result: 'claimed'; readonly announced: boolean }
  | { readonly result: 'leased'; readonly until: number }
  | { readonly result: 'done' | 'none' };

/**
 * The auctions of each room, in the same place as the room's stock (on Redis, the room's slot), so
 * a batch of bids is decided in one atomic step whatever node admitted it. Bids follow
 * auctions/bidding.ts's `applyBid` exactly, in arrival order: any number of concurrent batches
 * leave one leader, the holder of the highest maximum. A room has at most one auction not yet
 * settled; the bid history keeps the newest `historyKept` price moves.
 */
export interface AuctionStore {
  /** Starts `auction` (its state: `initialState`). */
  createAuction(auction: Auction): Promise<AuctionCreate>;
  /** The auction and where it stands (the leader's maximum included: never send it out), and the leader's name when their bid gave one; or undefined. */
  auction(roomId: string, auctionId: string): Promise<{ auction: Auction; state: AuctionState; leaderName?: string } | undefined>;
  /** The id of the room's auction not yet settled, or null. */
  currentAuction(roomId: string): Promise<string | null>;
  /** Applies the bids in order, atomically per room; one answer per bid, in the requests' order (IDEMPOTENCY_MISMATCH in its slot for a key used for another bid). */
  bid(requests: readonly BidRequest[]): Promise<Array<BidAnswer | DomainError>>;
  /** The newest price moves, oldest first. */
  history(roomId: string, auctionId: string): Promise<BidRecord[]>;
  /**
   * Ends the auction when `now` is at or past its end; exactly one caller, on any node, hears
   * `ended`. In the same step its follow-up is recorded pending, claimed by `lease` (without one:
   * claimable at once).
   */
  settle(roomId: string, auctionId: string, now: number, lease?: FollowUpLease): Promise<AuctionSettle>;
  /** Cancels an open auction (no winner); exactly one caller hears `cancelled`; the follow-up as for `settle`. */
  cancel(roomId: string, auctionId: string, lease?: FollowUpLease): Promise<AuctionSettle>;
  /** Takes a settled auction's pending follow-up when no claim on it runs at `now` (its own claimant's included). */
  claimFollowUp(roomId: string, auctionId: string, lease: FollowUpLease, now: number): Promise<FollowUpClaim>;
  /** Records a step of the follow-up, only while `owner` holds its claim (compare-and-set); false when it does not. */
  markFollowUp(roomId: string, auctionId: string, owner: string, step: 'announced' | 'done'): Promise<boolean>;
  close(): Promise<void>;
}
