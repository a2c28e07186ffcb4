import { type Auction, type AuctionState, initialState, viewOf } from '../auctions/auction.ts';
import { applyBid, type BidAnswer, type BidRecord, outcomeOf, settleAuction } from '../auctions/bidding.ts';
import { DomainError } from '../DomainError.ts';
import { IDEMPOTENCY_MISMATCH_MESSAGE } from './idempotency.ts';
import type { AuctionCreate, AuctionSettle, AuctionStore, BidRequest, FollowUpClaim, FollowUpLease } from './AuctionStore.ts';

interface Held {
  readonly auction: Auction;
  state: AuctionState;
  readonly history: BidRecord[];
  leaderName?: string | undefined;
  /** user␀key → what the bid asked (kind and amount) and its answer. */
  readonly answered: Map<string, { readonly asked: string; readonly answer: BidAnswer }>;
  /** The settle's follow-up, from the settling step on. */
  followUp?: { step: 'pending' | 'announced' | 'done'; owner: string; until: number };
}

const sep = '\u0000';

/** Auctions on one node. Each method's body runs without awaiting, so each is one atomic step. */
export class MemoryAuctionStore implements AuctionStore {
  readonly #auctions = new Map<string, Held>(); // room␀auction → auction
  readonly #current = new Map<string, string>(); // room → its auction not yet settled
  readonly #historyKept: number;

  constructor(historyKept: number) {
    this.#historyKept = historyKept;
  }

  async createAuction(auction: Auction): Promise<AuctionCreate> {
    const key = auction.roomId + sep + auction.id;
    if (this.#auctions.has(key)) return 'exists';
    if (this.#current.has(auction.roomId)) return 'busy';
    this.#auctions.set(key, { auction, state: initialState(auction), history: [], answered: new Map() });
    this.#current.set(auction.roomId, auction.id);
    return 'created';
  }

  async auction(roomId: string, auctionId: string): Promise<{ auction: Auction; state: AuctionState; leaderName?: string } | undefined> {
    const held = this.#auctions.get(roomId + sep + auctionId);
    if (held === undefined) return undefined;
    return held.leaderName === undefined ? { auction: held.auction, state: held.state } : { auction: held.auction, state: held.state, leaderName: held.leaderName };
  }

  async currentAuction(roomId: string): Promise<string | null> {
    return this.#current.get(roomId) ?? null;
  }

  async bid(requests: readonly BidRequest[]): Promise<Array<BidAnswer | DomainError>> {
    return requests.map((request): BidAnswer | DomainError => {
      const held = this.#auctions.get(request.roomId + sep + request.auctionId);
      if (held === undefined) return { status: 'not_allowed', reason: 'unknown_auction' };
      const keyed = request.key === undefined ? undefined : request.userId + sep + request.key;
      const asked = `${request.kind}|${request.amountCents}`;
      const recorded = keyed === undefined ? undefined : held.answered.get(keyed);
      if (recorded !== undefined) return recorded.asked === asked ? recorded.answer : new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE);
      const before = held.state.leaderId;
      const step = applyBid(held.auction, held.state, request);
      held.state = step.state;
      if (step.state.leaderId === request.userId && before !== request.userId) held.leaderName = request.name === '' ? undefined : request.name;
      if (keyed !== undefined) held.answered.set(keyed, { asked, answer: step.answer });
      if (step.record !== undefined) {
        held.history.push(step.record);
        if (held.history.length > this.#historyKept) held.history.shift();
      }
      return step.answer;
    });
  }

  async history(roomId: string, auctionId: string): Promise<BidRecord[]> {
    return [...(this.#auctions.get(roomId + sep + auctionId)?.history ?? [])];
  }

  async settle(roomId: string, auctionId: string, now: number, lease?: FollowUpLease): Promise<AuctionSettle> {
    const held = this.#auctions.get(roomId + sep + auctionId);
    if (held === undefined) return { result: 'unknown' };
    const settled = settleAuction(held.state, now);
    if (settled !== undefined) {
      held.state = settled.state;
      held.followUp = { step: 'pending', owner: lease?.owner ?? '', until: lease?.until ?? 0 };
      this.#forgetCurrent(roomId, auctionId);
      return { result: 'ended', outcome: settled.outcome, view: viewOf(held.auction, held.state) };
    }
    return this.#unchanged(held);
  }

  async cancel(roomId: string, auctionId: string, lease?: FollowUpLease): Promise<AuctionSettle> {
    const held = this.#auctions.get(roomId + sep + auctionId);
    if (held === undefined) return { result: 'unknown' };
    if (held.state.status !== 'open') return this.#unchanged(held);
    held.state = { ...held.state, status: 'cancelled' };
    held.followUp = { step: 'pending', owner: lease?.owner ?? '', until: lease?.until ?? 0 };
    this.#forgetCurrent(roomId, auctionId);
    return { result: 'cancelled', outcome: { status: 'cancelled' }, view: viewOf(held.auction, held.state) };
  }

  async claimFollowUp(roomId: string, auctionId: string, lease: FollowUpLease, now: number): Promise<FollowUpClaim> {
    const followUp = this.#auctions.get(roomId + sep + auctionId)?.followUp;
    if (followUp === undefined) return { result: 'none' };
    if (followUp.step === 'done') return { result: 'done' };
    if (followUp.until > now) return { result: 'leased', until: followUp.until };
    followUp.owner = lease.owner;
    followUp.until = lease.until;
    return { result: 'claimed', announced: followUp.step === 'announced' };
  }

  async markFollowUp(roomId: string, auctionId: string, owner: string, step: 'announced' | 'done'): Promise<boolean> {
    const followUp = this.#auctions.get(roomId + sep + auctionId)?.followUp;
    if (followUp === undefined || followUp.step === 'done' || followUp.owner !== owner || owner === '') return false;
    followUp.step = step;
    return true;
  }

  async close(): Promise<void> {}

  #unchanged(held: Held): AuctionSettle {
    const outcome = outcomeOf(held.state);
    const view = viewOf(held.auction, held.state);
    return outcome === undefined ? { result: 'not_due', view } : { result: 'settled', outcome, view };
  }

  #forgetCurrent(roomId: string, auctionId: string): void {
    if (this.#current.get(roomId) === auctionId) this.#current.delete(roomId);
  }
}
