import { createHmac, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type AuctionCard, type AuctionRequest, type auctionInputSchema, type BidRecordWire, type CartAnswer, type CartRequest, type DirectMessage, type OpsAuction, type RoomInfo, type StateUpdate, type UnsequencedEvent, latestAuctionCard } from '../../../protocol/src/index.ts';
import { BidBatcher } from '../admission/BidBatcher.ts';
import type { AuctionBids } from '../admission/CartDesk.ts';
import { type Auction, type AuctionState, auctionOf, minNextBid, viewOf } from '../auctions/auction.ts';
import type { AuctionOutcome, BidAnswer } from '../auctions/bidding.ts';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import type { Logger } from '../log.ts';
import type { AuctionSettle, AuctionStore, FollowUpLease } from '../store/AuctionStore.ts';
import type { ReleasedLine, Store } from '../store/Store.ts';
import type { RoomCheck } from './CommerceService.ts';

/** What auctions need from the room layer. */
export interface AuctionRooms {
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  /** Throws ROOM_NOT_FOUND (or KICKED for a banned user) as for a cart read. */
  assertRoom(roomId: string, check: RoomCheck): unknown;
  /** Where the room's stock and carts live (a show linked to its shop: the shop's). */
  scopeOf(roomId: string): string | Promise<string>;
  /** The room's owner: the seller, who may not bid. */
  roomInfo(roomId: string): Promise<RoomInfo>;
  /** Latest-value state to the room's sockets on every node. */
  publishState(roomId: string, update: StateUpdate): void;
  /** A sequenced event to the room on every node. */
  emit(roomId: string, event: UnsequencedEvent): Promise<number>;
  /** A frame for one user's sockets in the room, on every node. */
  notifyUser(roomId: string, userId: string, message: DirectMessage): void;
}

export interface AuctionOptions {
  /** The room's card goes out at most this often while bids come (latest wins), as stock does. */
  readonly cardIntervalMs: number;
  /** Settling waits this long past the end, so bids placed before it and still queued are decided by their placing time. */
  readonly settleGraceMs: number;
  /** How long the winner's cart line is held. */
  readonly reservationTtlMs: number;
  /** How long the settling node has to announce the end and hold the winner's line before another node takes that over. */
  readonly followUpLeaseMs: number;
  /** Keys the anonymous leader labels; the same on every node, so every node labels a bidder alike. */
  readonly labelSecret: string;
}

type AuctionInputParsed = z.output<typeof auctionInputSchema>;
type BidWire = Extract<CartRequest, { t: 'bid' }>;

interface Known {
  readonly auction: Auction;
  /** As this node last heard it. */
  status: AuctionState['status'];
  /** The lowest bid taken as last heard here: it only rises, so a bid below it cannot win. */
  minNextCents: number;
  endsAt: number;
  /** The newest card this node made or published. */
  card: AuctionCard | null;
  pendingCard: boolean;
  sentAt: number;
  cardTimer?: NodeJS.Timeout | undefined;
  settleTimer?: NodeJS.Timeout | undefined;
  /** Waits for another node's claim on the settle's follow-up to run out. */
  followUpTimer?: NodeJS.Timeout | undefined;
}

const sep = '\u0000';

/**
 * A room's auctions end to end: start, end early and cancel (moderators), the bids' last step (the
 * cart desk runs them in the room's admission turn; they leave in batches, one store call per
 * batch), the room's card (latest value, paced), settling at the end (a timer on each node that
 * knows the auction; the store settles once, and only the node that settled announces), the
 * winner's cart line at the winning price, and the moderators' bid history.
 *
 * The settle's follow-up (the end announced, the winner's line held) is recorded pending in the
 * settling step, under the settling node's claim, and marked done when finished: a node whose
 * settle answers `settled` while it is pending and the claim ran out (the settler died) claims and
 * finishes it, from the step recorded. The line is held under a key fixed by the auction, so a
 * second hold changes nothing.
 */
export class AuctionService implements AuctionBids {
  readonly #store: AuctionStore;
  readonly #commerce: Pick<Store, 'reserve' | 'stock'>;
  readonly #rooms: AuctionRooms;
  readonly #stock: { restocked(roomId: string, lines: readonly ReleasedLine[]): void } | undefined;
  readonly #pressure: (scope: string) => number;
  readonly #options: AuctionOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #batcher: BidBatcher;
  readonly #known = new Map<string, Known>(); // room␀auction → what this node knows
  readonly #latest = new Map<string, string>(); // room → its latest auction this node knows
  /** This node's name on follow-up claims. */
  readonly #owner = randomUUID();
  #closed = false;

  /** `pressure` tells how full the scope's admission queue is (0: nothing waits): hopeless bids are shed only then. */
  constructor(deps: {
    auctions: AuctionStore; store: Pick<Store, 'reserve' | 'stock'>; rooms: AuctionRooms; options: AuctionOptions; log: Logger; now?: () => number;
    stock?: { restocked(roomId: string, lines: readonly ReleasedLine[]): void }; pressure?: (scope: string) => number;
  }) {
    this.#store = deps.auctions;
    this.#commerce = deps.store;
    this.#rooms = deps.rooms;
    this.#stock = deps.stock;
    this.#pressure = deps.pressure ?? (() => 0);
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#batcher = new BidBatcher(deps.auctions);
  }

  /** An auction request over the WebSocket; the result becomes the `ok` reply. */
  async handle(principal: Principal, roomId: string, request: AuctionRequest): Promise<Record<string, unknown>> {
    switch (request.t) {
      case 'startAuction': return { auction: await this.start(principal, roomId, request.auction) };
      case 'endAuction': return { auction: await this.end(principal, roomId, request.auctionId) };
      case 'cancelAuction': return { auction: await this.cancel(principal, roomId, request.auctionId) };
      case 'getAuction': return { ...(await this.read(principal, roomId, request.auctionId)) };
    }
  }

  async start(principal: Principal, roomId: string, input: AuctionInputParsed): Promise<AuctionCard> {
    await this.#mustModerate(principal, roomId);
    const scope = await this.#rooms.scopeOf(roomId);
    if ((await this.#commerce.stock(scope, input.sku)) === undefined) throw new DomainError('PRODUCT_NOT_FOUND', `no product ${input.sku} in this room: the auction sells one of its products`);
    const info = await this.#rooms.roomInfo(roomId);
    const auction = auctionOf(input, roomId, info.streamerId, this.#now());
    let created = await this.#store.createAuction(auction);
    // The room's last auction may be past its end with nobody left to settle it (its nodes gone): settle it now, then start.
    if (created === 'busy' && (await this.#settleOverdue(roomId))) created = await this.#store.createAuction(auction);
    if (created === 'exists') throw new DomainError('AUCTION_EXISTS', `this room had an auction ${input.id} already`);
    if (created === 'busy') throw new DomainError('AUCTION_BUSY', 'another auction of this room is open: end or cancel it first');
    const known = this.#remember(auction, 'open', minNextBid(auction, { status: 'open', priceCents: auction.startPriceCents, leaderId: null, leaderMaxCents: 0, endsAt: auction.endsAt, bids: 0, seq: 0 }), auction.endsAt);
    const card = this.#cardOf(auction, { status: 'open', priceCents: auction.startPriceCents, leaderId: null, leaderMaxCents: 0, endsAt: auction.endsAt, bids: 0, seq: 0 }, undefined);
    known.card = card;
    known.sentAt = this.#now();
    this.#scheduleSettle(known);
    this.#rooms.publishState(roomId, { t: 'auction', auction: card });
    this.#log.info({ roomId, auctionId: auction.id, sku: auction.sku, startPriceCents: auction.startPriceCents, endsAt: auction.endsAt, ending: auction.ending.kind, by: principal.userId }, 'auction started');
    return card;
  }

  /** Ends the auction now: the leader wins at the current price. */
  async end(principal: Principal, roomId: string, auctionId: string): Promise<AuctionCard> {
    await this.#mustModerate(principal, roomId);
    return this.#closeNow(roomId, auctionId, await this.#store.settle(roomId, auctionId, Number.MAX_SAFE_INTEGER, this.#lease()), principal);
  }

  /** Ends the auction without a winner. */
  async cancel(principal: Principal, roomId: string, auctionId: string): Promise<AuctionCard> {
    await this.#mustModerate(principal, roomId);
    return this.#closeNow(roomId, auctionId, await this.#store.cancel(roomId, auctionId, this.#lease()), principal);
  }

  /** The auction `auctionId` (default: the room's open one, else the latest this node knows), or null; moderators get its bid history too. */
  async read(principal: Principal, roomId: string, auctionId?: string): Promise<{ auction: AuctionCard | null; history?: BidRecordWire[] }> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
    const id = auctionId ?? (await this.#store.currentAuction(roomId)) ?? this.#latest.get(roomId);
    if (id === undefined || id === null) return { auction: null };
    let held = await this.#store.auction(roomId, id);
    if (held === undefined) {
      if (auctionId !== undefined) throw new DomainError('AUCTION_NOT_FOUND', `no auction ${auctionId} in this room`);
      return { auction: null };
    }
    const known = this.#remember(held.auction, held.state.status, minNextBid(held.auction, held.state), held.state.endsAt);
    if (held.state.status === 'open' && this.#now() >= held.state.endsAt + this.#options.settleGraceMs) {
      await this.#settleDue(known);
      held = (await this.#store.auction(roomId, id)) ?? held;
    } else if (held.state.status === 'open' && known.settleTimer === undefined) {
      this.#scheduleSettle(known);
    }
    const card = this.#cardOf(held.auction, held.state, held.leaderName);
    if (!(await this.#rooms.canModerate(principal, roomId))) return { auction: card };
    return { auction: card, history: await this.#store.history(roomId, id) };
  }

  /** The card of the room's open auction, or null (for a node that starts hosting the room: its welcome carries it). */
  async currentCard(roomId: string): Promise<AuctionCard | null> {
    const id = await this.#store.currentAuction(roomId);
    const held = id === null ? undefined : await this.#store.auction(roomId, id);
    if (held === undefined) return null;
    this.#remember(held.auction, held.state.status, minNextBid(held.auction, held.state), held.state.endsAt);
    return this.#cardOf(held.auction, held.state, held.leaderName);
  }

  /** The room's open auction for the operator console (no principal: the ops API checks the operator), or null; read only, nothing remembered. */
  async openIn(roomId: string): Promise<OpsAuction | null> {
    const id = await this.#store.currentAuction(roomId);
    const held = id === null ? undefined : await this.#store.auction(roomId, id);
    if (held === undefined || held.state.status !== 'open') return null;
    const card = this.#cardOf(held.auction, held.state, held.leaderName);
    return { id: card.id, sku: card.sku, priceCents: card.priceCents, leader: card.leader, bids: card.bids, endsAt: card.endsAt, status: card.status };
  }

  /**
   * A bid that cannot win, shed before it queues: below the lowest bid this node has heard of (the
   * true one is as high or higher: it only rises) while the room's queue is not empty. Its refusal
   * is OVERLOADED with a retry-after of one card interval, by when the bidder has heard the price.
   */
  shed(roomId: string, scope: string, request: BidWire): DomainError | undefined {
    const known = this.#known.get(roomId + sep + request.auctionId);
    if (known === undefined || known.status !== 'open' || request.amountCents >= known.minNextCents || this.#pressure(scope) <= 0) return undefined;
    return new DomainError('OVERLOADED', `the room is busy and this bid is below the lowest bid taken (${known.minNextCents}): bid again at or above it`, { retryAfterMs: this.#options.cardIntervalMs });
  }

  /** A bid in the room's admission turn (the cart desk calls this), placed at `placedAt` (when its node read it): to the store in a batch, one answer. */
  bid(principal: Principal, roomId: string, request: BidWire, placedAt: number): Promise<CartAnswer> {
    const auctionId = request.auctionId;
    return this.#batcher.bid({
      roomId, auctionId, userId: principal.userId, name: principal.name, key: request.key, kind: request.max === true ? 'max' : 'price', amountCents: request.amountCents, at: placedAt,
    }).then((answer) => {
      this.#heard(roomId, auctionId, answer);
      return wireAnswer(auctionId, answer);
    });
  }

  close(): void {
    this.#closed = true;
    for (const known of this.#known.values()) {
      clearTimeout(known.cardTimer);
      clearTimeout(known.settleTimer);
      clearTimeout(known.followUpTimer);
    }
  }

  /** The room is no longer hosted here: what this node keeps of its settled auctions goes (an open one keeps its settle timer). */
  forget(roomId: string): void {
    for (const [key, known] of this.#known) {
      if (known.auction.roomId === roomId && known.status !== 'open' && known.cardTimer === undefined && known.followUpTimer === undefined) this.#known.delete(key);
    }
    if (![...this.#known.values()].some((known) => known.auction.roomId === roomId)) this.#latest.delete(roomId);
  }

  /** Rooms whose auctions this node knows are all settled, with no card news pending. */
  *idleRooms(_idleForMs: number): Iterable<string> {
    const busy = new Set<string>();
    const rooms = new Set<string>();
    for (const known of this.#known.values()) {
      rooms.add(known.auction.roomId);
      if (known.status === 'open' || known.cardTimer !== undefined) busy.add(known.auction.roomId);
    }
    for (const roomId of rooms) if (!busy.has(roomId)) yield roomId;
  }

  perRoomState(): Record<string, number> {
    return { auctions: this.#known.size };
  }

  // ------------------------------------------------------------------ answers and the card

  /** What a store answer tells this node: the lowest bid now, the end, that the card should go out, that settling is due. */
  #heard(roomId: string, auctionId: string, answer: BidAnswer): void {
    const known = this.#known.get(roomId + sep + auctionId);
    if (known === undefined) {
      if (answer.status !== 'not_allowed') void this.#load(roomId, auctionId).catch((error: unknown) => this.#log.warn({ err: error, roomId, auctionId }, 'auction could not be read'));
      return;
    }
    switch (answer.status) {
      case 'leading':
        known.minNextCents = Math.max(known.minNextCents, minNextBid(known.auction, { status: 'open', priceCents: answer.priceCents, leaderId: 'someone', leaderMaxCents: 0, endsAt: answer.endsAt, bids: 1, seq: answer.seq }));
        known.endsAt = Math.max(known.endsAt, answer.endsAt);
        this.#cardChanged(known);
        break;
      case 'outbid':
      case 'too_low':
        known.minNextCents = Math.max(known.minNextCents, answer.minNextCents);
        known.endsAt = Math.max(known.endsAt, answer.endsAt);
        if (answer.status === 'outbid') this.#cardChanged(known);
        break;
      case 'ended':
        if (known.status === 'open' && this.#now() >= known.endsAt + this.#options.settleGraceMs) void this.#settleDue(known);
        break;
      case 'not_allowed':
        break;
    }
    if (known.status === 'open' && known.settleTimer === undefined) this.#scheduleSettle(known);
  }

  /** The card goes out at most once per interval: read from the store then, so it carries the leader and every node's bids. */
  #cardChanged(known: Known): void {
    known.pendingCard = true;
    if (known.cardTimer !== undefined || this.#closed) return;
    const wait = Math.max(0, known.sentAt + this.#options.cardIntervalMs - this.#now());
    known.cardTimer = setTimeout(() => {
      known.cardTimer = undefined;
      if (!known.pendingCard || this.#closed || known.status !== 'open') return;
      known.pendingCard = false;
      known.sentAt = this.#now();
      const { roomId, id } = known.auction;
      this.#store.auction(roomId, id).then((held) => {
        if (held === undefined || held.state.status !== 'open' || known.status !== 'open') return;
        const card = this.#cardOf(held.auction, held.state, held.leaderName);
        known.card = latestAuctionCard(known.card, card);
        known.endsAt = Math.max(known.endsAt, card.endsAt);
        known.minNextCents = Math.max(known.minNextCents, card.minNextCents);
        this.#rooms.publishState(roomId, { t: 'auction', auction: card });
      }, (error: unknown) => this.#log.warn({ err: error, roomId, auctionId: id }, 'auction card could not be read'));
    }, wait);
    known.cardTimer.unref();
  }

  // ------------------------------------------------------------------ settling

  #scheduleSettle(known: Known): void {
    clearTimeout(known.settleTimer);
    known.settleTimer = undefined;
    if (this.#closed || known.status !== 'open') return;
    known.settleTimer = setTimeout(() => {
      known.settleTimer = undefined;
      void this.#settleDue(known);
    }, Math.max(0, known.endsAt + this.#options.settleGraceMs - this.#now()));
    known.settleTimer.unref();
  }

  /** Asks the store to settle at its end (grace past): the one node that settles announces; an extended auction is tried again at its new end. */
  async #settleDue(known: Known): Promise<void> {
    const { roomId, id } = known.auction;
    try {
      // The grace is for queued bids placed before the end: the store's end is what the bids were placed against.
      const settled = await this.#store.settle(roomId, id, this.#now() - this.#options.settleGraceMs, this.#lease());
      if (settled.result === 'unknown') return;
      if (settled.result === 'not_due') {
        known.endsAt = Math.max(known.endsAt, settled.view.endsAt);
        this.#scheduleSettle(known);
        return;
      }
      await this.#settled(known, settled);
    } catch (error) {
      this.#log.warn({ err: error, roomId, auctionId: id }, 'the auction could not be settled; trying again');
      if (!this.#closed && known.status === 'open') {
        known.settleTimer = setTimeout(() => {
          known.settleTimer = undefined;
          void this.#settleDue(known);
        }, this.#options.cardIntervalMs);
        known.settleTimer.unref();
      }
    }
  }

  /** An early end or a cancel by a moderator: the settling caller announces; a settled auction is AUCTION_OVER. */
  async #closeNow(roomId: string, auctionId: string, settled: AuctionSettle, principal: Principal): Promise<AuctionCard> {
    if (settled.result === 'unknown') throw new DomainError('AUCTION_NOT_FOUND', `no auction ${auctionId} in this room`);
    if (settled.result === 'not_due') throw new DomainError('AUCTION_OVER', `auction ${auctionId} is settled already`);
    if (settled.result === 'settled') {
      const known = this.#remember(settled.view.auction, settled.view.status, settled.view.minNextCents, settled.view.endsAt);
      void this.#settled(known, settled).catch((error: unknown) => this.#log.warn({ err: error, roomId, auctionId }, 'the auction\'s follow-up could not be checked'));
      throw new DomainError('AUCTION_OVER', `auction ${auctionId} is settled already`);
    }
    const known = this.#remember(settled.view.auction, settled.view.status, settled.view.minNextCents, settled.view.endsAt);
    this.#log.info({ roomId, auctionId, result: settled.result, by: principal.userId }, 'auction closed by a moderator');
    return this.#settled(known, settled);
  }

  /**
   * The auction is settled: the caller the store told `ended`/`cancelled` follows it up (tells the
   * room and the winner, holds the winner's line); a caller told `settled` takes the follow-up over
   * when it is still pending and its claim ran out.
   */
  async #settled(known: Known, settled: Extract<AuctionSettle, { outcome: AuctionOutcome }>): Promise<AuctionCard> {
    const { roomId, id } = known.auction;
    clearTimeout(known.settleTimer);
    clearTimeout(known.cardTimer);
    known.settleTimer = undefined;
    known.cardTimer = undefined;
    known.status = settled.view.status;
    const held = await this.#store.auction(roomId, id);
    const state: AuctionState = held?.state ?? { status: settled.view.status, priceCents: settled.view.priceCents, leaderId: settled.view.leaderId, leaderMaxCents: 0, endsAt: settled.view.endsAt, bids: settled.view.bids, seq: settled.view.seq };
    const card = this.#cardOf(known.auction, state, held?.leaderName);
    known.card = card;
    if (settled.result !== 'settled') {
      await this.#followUp(known, settled.outcome, card, false);
      return card;
    }
    clearTimeout(known.followUpTimer);
    known.followUpTimer = undefined;
    const claim = await this.#store.claimFollowUp(roomId, id, this.#lease(), this.#now());
    if (claim.result === 'claimed') {
      this.#log.warn({ roomId, auctionId: id, announced: claim.announced }, 'the auction\'s follow-up was left unfinished by the node that settled it: finishing it here');
      await this.#followUp(known, settled.outcome, card, claim.announced);
    } else if (claim.result === 'leased' && !this.#closed) {
      // Its claimant may die before finishing: look again once its claim runs out.
      known.followUpTimer = setTimeout(() => {
        known.followUpTimer = undefined;
        this.#settled(known, settled).catch((error: unknown) => this.#log.warn({ err: error, roomId, auctionId: id }, 'the auction\'s follow-up could not be checked'));
      }, Math.max(0, claim.until - this.#now()) + 1);
      known.followUpTimer.unref();
    }
    return card;
  }

  /** The settle's follow-up under this node's claim: the room and the winner told, the winner's line held, each step recorded. */
  async #followUp(known: Known, outcome: AuctionOutcome, card: AuctionCard, announced: boolean): Promise<void> {
    const { roomId, id } = known.auction;
    const sold = outcome.status === 'ended' && outcome.winnerId !== null ? outcome : undefined;
    const ended = { t: 'auctionEnded', auction: card, outcome: sold !== undefined ? 'sold' : outcome.status === 'cancelled' ? 'cancelled' : 'no_bids', winner: sold !== undefined ? card.leader : null } as const;
    if (!announced) {
      // The room first, at once: the end is what everyone waits for.
      this.#rooms.publishState(roomId, { t: 'auction', auction: card });
      await this.#rooms.emit(roomId, sold === undefined ? ended : { ...ended, priceCents: sold.priceCents }).catch((error: unknown) => this.#log.warn({ err: error, roomId, auctionId: id }, 'auction end announcement failed'));
      await this.#mark(known, 'announced');
    }
    if (sold !== undefined) await this.#holdForWinner(known.auction, sold.winnerId, sold.priceCents);
    await this.#mark(known, 'done');
    this.#log.info({ roomId, auctionId: id, outcome: ended.outcome, winnerId: sold?.winnerId, priceCents: sold?.priceCents, bids: card.bids }, 'auction settled');
  }

  /** Records a follow-up step; a claim lost meanwhile (this node was too slow) is logged: another node finishes it. */
  async #mark(known: Known, step: 'announced' | 'done'): Promise<void> {
    const { roomId, id } = known.auction;
    const marked = await this.#store.markFollowUp(roomId, id, this.#owner, step).catch((error: unknown) => {
      this.#log.warn({ err: error, roomId, auctionId: id, step }, 'the auction\'s follow-up step could not be recorded');
      return true;
    });
    if (!marked) this.#log.warn({ roomId, auctionId: id, step }, 'the auction\'s follow-up claim ran out before this step was recorded: another node takes it over');
  }

  /** This node's claim on a settle's follow-up, from now. */
  #lease(): FollowUpLease {
    return { owner: this.#owner, until: this.#now() + this.#options.followUpLeaseMs };
  }

  /** The winner's cart line at the winning price (once: keyed by the auction), and their own notice. */
  async #holdForWinner(auction: Auction, winnerId: string, priceCents: number): Promise<void> {
    const { roomId, id, sku } = auction;
    let answer: CartAnswer | undefined;
    try {
      const scope = await this.#rooms.scopeOf(roomId);
      answer = await this.#commerce.reserve({ roomId: scope, userId: winnerId, sku, quantity: 1, key: `auction:${roomId}:${id}`, now: this.#now(), ttlMs: this.#options.reservationTtlMs, priceCents });
      if (answer.status === 'reserved') this.#stock?.restocked(scope, [{ sku, quantity: answer.granted, available: answer.available }]);
      else this.#log.warn({ roomId, auctionId: id, winnerId, answer }, 'the auction\'s winner could not be held a unit');
    } catch (error) {
      this.#log.error({ err: error, roomId, auctionId: id, winnerId }, 'the auction\'s winner could not be held a unit');
    }
    const won: DirectMessage = answer?.status === 'reserved'
      ? { t: 'auctionWon', auctionId: id, sku, priceCents, held: true, expiresAt: answer.expiresAt }
      : { t: 'auctionWon', auctionId: id, sku, priceCents, held: false };
    this.#rooms.notifyUser(roomId, winnerId, won);
  }

  /** Settles the room's open auction when it is past its end and grace; true when it did (or another node just had). */
  async #settleOverdue(roomId: string): Promise<boolean> {
    const current = await this.#store.currentAuction(roomId);
    const held = current === null ? undefined : await this.#store.auction(roomId, current);
    if (held === undefined) return current === null;
    if (held.state.status === 'open' && this.#now() < held.state.endsAt + this.#options.settleGraceMs) return false;
    await this.#settleDue(this.#remember(held.auction, held.state.status, minNextBid(held.auction, held.state), held.state.endsAt));
    return true;
  }

  // ------------------------------------------------------------------ what this node knows

  async #load(roomId: string, auctionId: string): Promise<Known | undefined> {
    const held = await this.#store.auction(roomId, auctionId);
    return held === undefined ? undefined : this.#remember(held.auction, held.state.status, minNextBid(held.auction, held.state), held.state.endsAt);
  }

  #remember(auction: Auction, status: AuctionState['status'], minNextCents: number, endsAt: number): Known {
    const key = auction.roomId + sep + auction.id;
    let known = this.#known.get(key);
    if (known === undefined) {
      this.#known.set(key, (known = { auction, status, minNextCents, endsAt, card: null, pendingCard: false, sentAt: 0 }));
      if (status === 'open') this.#scheduleSettle(known);
    } else {
      if (known.status === 'open') known.status = status;
      known.minNextCents = Math.max(known.minNextCents, minNextCents);
      known.endsAt = Math.max(known.endsAt, endsAt);
    }
    this.#latest.set(auction.roomId, auction.id);
    return known;
  }

  #cardOf(auction: Auction, state: AuctionState, leaderName: string | undefined): AuctionCard {
    const view = viewOf(auction, state);
    return {
      id: auction.id, roomId: auction.roomId, sku: auction.sku, startPriceCents: auction.startPriceCents, increments: auction.increments, ending: auction.ending,
      leaderShown: auction.leaderShown, startsAt: auction.startsAt, status: view.status, priceCents: view.priceCents, minNextCents: view.minNextCents,
      leader: this.#label(auction, view.leaderId, leaderName), endsAt: view.endsAt, bids: view.bids, seq: view.seq,
    };
  }

  /** The leader as the room sees them: their name, or (anonymous, or no name known) a pseudonym fixed per bidder and auction. */
  #label(auction: Auction, leaderId: string | null, leaderName: string | undefined): string | null {
    if (leaderId === null) return null;
    if (auction.leaderShown === 'name' && leaderName !== undefined) return leaderName;
    const tag = createHmac('sha256', this.#options.labelSecret).update(`${auction.roomId}\u0000${auction.id}\u0000${leaderId}`).digest('hex').slice(0, 4);
    return `Bidder ${tag}`;
  }

  async #mustModerate(principal: Principal, roomId: string): Promise<void> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'manage' });
    if (!(await this.#rooms.canModerate(principal, roomId))) throw new DomainError('NOT_MODERATOR', 'only this room\'s streamer or an operator can do this');
  }
}

/** A store answer on the wire: with its auction's id. */
function wireAnswer(auctionId: string, answer: BidAnswer): CartAnswer {
  return { ...answer, auctionId } as CartAnswer;
}
