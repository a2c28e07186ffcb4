import type { CartAnswer, CartRequest } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import { ProtocolError } from '../errors.ts';
import { bidFingerprint, checkoutFingerprint, claimFingerprint, entryFingerprint, fingerprintOf, IDEMPOTENCY_MISMATCH_MESSAGE, recordName } from '../store/idempotency.ts';
import type { ReserveRequest, Store } from '../store/Store.ts';
import { type Arrival, PRIORITY } from './AdmissionController.ts';
import type { CartGate } from './CartGate.ts';
import { ClaimBatcher } from './ClaimBatcher.ts';

/** What the desk needs from commerce: the room's rules before a request, the news after its answer. */
export interface CartRules {
  /**
   * Throws (or rejects with) the refusal (ROOM_NOT_FOUND, ROOM_ENDED, KICKED, …), or gives an
   * answer that refuses (`not_on_sale`), or undefined when the request may go on. Synchronous when
   * the room is at hand, so a request on a hosted room does not wait a microtask for it.
   */
  check(principal: Principal, roomId: string, request: CartRequest): CartAnswer | undefined | Promise<CartAnswer | undefined>;
  /** Every answer, just before it is replied (stock news, metrics, logs); `roomId` is the request's scope (`scopeOf`). Must not throw. */
  answered(principal: Principal, roomId: string, request: CartRequest, answer: CartAnswer): void;
  /**
   * Where the room's carts and stock live in the store (a show linked to its shop sells from the
   * shop's): the store calls, the gate's queue and the news of a request go there. Synchronous when
   * the room is at hand. Absent: the room itself.
   */
  scopeOf?(roomId: string): string | Promise<string>;
}

/** Giveaway entries: the giveaway's own rules (window, eligibility) and the batches to its store, run in the room's admission turn. */
export interface GiveawayEntries {
  /** `roomId`: the room whose giveaway it is (the gate's queue is its commerce scope's). */
  enter(principal: Principal, roomId: string, request: Extract<CartRequest, { t: 'enterGiveaway' }>): Promise<CartAnswer>;
  /** The entry's key's first answer (`entered` or `already_entered`), or undefined: what a refusal yields to. */
  recorded(principal: Principal, roomId: string, request: Extract<CartRequest, { t: 'enterGiveaway' }>): Promise<CartAnswer | undefined>;
}

/** Bids: the auction's last say before a bid queues, and its batches to the auction store, run in the room's admission turn. */
export interface AuctionBids {
  /** A bid that cannot win while the room is busy: its refusal (OVERLOADED with a retry-after), or undefined: it queues. */
  shed(roomId: string, scope: string, request: Extract<CartRequest, { t: 'bid' }>): DomainError | undefined;
  /** `roomId`: the room whose auction it is (the gate's queue is its commerce scope's); `placedAt`: when the node read the bid. */
  bid(principal: Principal, roomId: string, request: Extract<CartRequest, { t: 'bid' }>, placedAt: number): Promise<CartAnswer>;
}

/** Hears a request's one answer, or its error (a `DomainError`, or the room's `ProtocolError`, for every refusal). */
export type CartReply = (error: unknown, answer?: CartAnswer) => void;

interface Pending {
  readonly fingerprint: string;
  readonly replies: CartReply[];
}

/**
 * The one entry for every cart request, from any edge (WebSocket or HTTP); knows nothing about
 * sockets. In order:
 * 1. Idempotency: a request whose key is pending joins it (the same answer); a key used for a
 *    different request gets IDEMPOTENCY_MISMATCH. Answers come from the store's record of the key
 *    (the store checks it before anything else), never from a cache here: a buyer who got the last
 *    unit and retries hears `reserved` again. A refusal by the room's rules yields to a recorded answer too.
 * 2. The room's rules (commerce): room exists, sells, the user is not banned, the offer is open.
 * 3. The gate: the admission controller's sold-out fast path, the room's fair turn, one deadline
 *    from arrival, position notices and batching toward the store (or straight to the store). A
 *    request whose user was banned while it waited is refused KICKED at its turn (the gate's
 *    `turnRefusal`, or `refuseUser` on the kicking node); as with the rules' refusals, a key that
 *    has a recorded answer gets that instead.
 */
export class CartDesk {
  readonly #store: Store;
  readonly #gate: CartGate;
  readonly #rules: CartRules;
  readonly #reservationTtlMs: number;
  readonly #now: () => number;
  /** Requests in progress by idempotency record; each is bounded by the gate's queues and deadline. */
  readonly #pending = new Map<string, Pending>();
  readonly #claims: ClaimBatcher;
  readonly #entries: GiveawayEntries | undefined;

  readonly #bids: AuctionBids | undefined;

  constructor(deps: { store: Store; gate: CartGate; rules: CartRules; reservationTtlMs: number; now?: () => number; entries?: GiveawayEntries; bids?: AuctionBids }) {
    this.#entries = deps.entries;
    this.#bids = deps.bids;
    this.#store = deps.store;
    this.#gate = deps.gate;
    this.#rules = deps.rules;
    this.#reservationTtlMs = deps.reservationTtlMs;
    this.#now = deps.now ?? Date.now;
    this.#claims = new ClaimBatcher(deps.store);
  }

  /**
   * Serves `request` of `principal` in `roomId`; `reply` is called exactly once. `arrival` says when
   * the node read it (its deadline counts from there; default now) and who hears where it stands while queued.
   */
  submit(principal: Principal, roomId: string, request: CartRequest, reply: CartReply, arrival: Arrival = { arrivedAt: this.#now() }): void {
    if (request.t === 'getCart') {
      this.#serve(principal, roomId, request, arrival, undefined, undefined).then((answer) => reply(undefined, answer), (error: unknown) => reply(error));
      return;
    }
    const fingerprint = fingerprintFor(roomId, request);
    const name = recordName(principal.userId, request.key);
    // Keys are scoped to a user and a room, as the store's records are.
    const pendingName = `${roomId} ${name}`;
    const pending = this.#pending.get(pendingName);
    if (pending !== undefined) {
      if (pending.fingerprint !== fingerprint) {
        reply(new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE));
        return;
      }
      pending.replies.push(reply);
      this.#gate.joined(roomId);
      return;
    }
    const replies = [reply];
    this.#pending.set(pendingName, { fingerprint, replies });
    this.#serve(principal, roomId, request, arrival, fingerprint, name).then(
      (answer) => {
        this.#pending.delete(pendingName);
        for (const r of replies) r(undefined, answer);
      },
      (error: unknown) => {
        this.#pending.delete(pendingName);
        for (const r of replies) r(error);
      },
    );
  }

  /** `submit` as a promise (for the HTTP edge). */
  answer(principal: Principal, roomId: string, request: CartRequest): Promise<CartAnswer> {
    return new Promise((resolve, reject) => this.submit(principal, roomId, request, (error, answer) => (answer === undefined ? reject(error) : resolve(answer))));
  }

  // Promise chains rather than async functions: this runs for every tap of a burst, and each
  // await of a value at hand costs the tap microtask hops and allocations.
  #serve(principal: Principal, roomId: string, request: CartRequest, arrival: Arrival, fingerprint: string | undefined, record: string | undefined): Promise<CartAnswer> {
    let ruled: CartAnswer | undefined | Promise<CartAnswer | undefined>;
    try {
      ruled = this.#rules.check(principal, roomId, request);
    } catch (error) {
      return this.#refused(principal, roomId, request, fingerprint, error);
    }
    if (ruled instanceof Promise) {
      return ruled.then(
        (answer) => this.#ruled(principal, roomId, request, arrival, fingerprint, record, answer),
        (error: unknown) => this.#refused(principal, roomId, request, fingerprint, error),
      );
    }
    return this.#ruled(principal, roomId, request, arrival, fingerprint, record, ruled);
  }

  /** After the room's rules: the request goes on (`ruled` undefined), or the rules answered it. */
  #ruled(principal: Principal, roomId: string, request: CartRequest, arrival: Arrival, fingerprint: string | undefined, record: string | undefined, ruled: CartAnswer | undefined): Promise<CartAnswer> {
    return this.#scoped(roomId, (scope) => {
      const inScope = scopedFingerprint(roomId, scope, request, fingerprint);
      const answer = ruled === undefined
        ? this.#execute(principal, scope, request, { arrivedAt: arrival.arrivedAt, progress: arrival.progress, userId: principal.userId, roomId }, inScope, record).catch((error: unknown) => {
          if (!isKicked(error)) throw error;
          return this.#recordedOr(principal, scope, request, inScope, error, roomId);
        })
        : this.#recordedOr(principal, scope, request, inScope, ruled, roomId);
      return answer.then((a) => this.#answered(principal, scope, request, a));
    });
  }

  #refused(principal: Principal, roomId: string, request: CartRequest, fingerprint: string | undefined, error: unknown): Promise<CartAnswer> {
    if (!isRefusal(error)) return Promise.reject(error);
    return this.#scoped(roomId, (scope) => this.#recordedOr(principal, scope, request, scopedFingerprint(roomId, scope, request, fingerprint), error, roomId).then((a) => this.#answered(principal, scope, request, a)));
  }

  /** Runs `serve` with the room's commerce scope (the room itself when it has none, or when the room cannot be read: its refusal stands). */
  #scoped(roomId: string, serve: (scope: string) => Promise<CartAnswer>): Promise<CartAnswer> {
    const scope = this.#rules.scopeOf?.(roomId) ?? roomId;
    return typeof scope === 'string' ? serve(scope) : scope.then(serve, () => serve(roomId));
  }

  #answered(principal: Principal, roomId: string, request: CartRequest, answer: CartAnswer): CartAnswer {
    this.#rules.answered(principal, roomId, request, answer);
    return answer;
  }

  /** A key that already has an answer gets it even where the room now refuses (the show ended, the user was banned since). */
  async #recordedOr(principal: Principal, roomId: string, request: CartRequest, fingerprint: string | undefined, refusal: CartAnswer | DomainError | ProtocolError, room: string): Promise<CartAnswer> {
    let recorded: CartAnswer | undefined;
    if (request.t === 'enterGiveaway') {
      // An entry's answer is kept with its giveaway, the room's own (`room`).
      try {
        recorded = await this.#entries?.recorded(principal, room, request);
      } catch {
        // The store unreachable: the refusal stands.
      }
    } else if (fingerprint !== undefined && request.t !== 'getCart') {
      try {
        recorded = await this.#store.recorded(roomId, principal.userId, request.key, fingerprint);
      } catch (error) {
        // The store unreachable: the refusal stands (the key has no new answer either way).
        if (error instanceof DomainError && error.code === 'IDEMPOTENCY_MISMATCH') throw error;
      }
    }
    if (recorded !== undefined) return recorded;
    if (isRefusal(refusal)) throw refusal;
    return refusal;
  }

  #execute(principal: Principal, roomId: string, request: CartRequest, arrival: Arrival, fingerprint: string | undefined, record: string | undefined): Promise<CartAnswer> {
    const userId = principal.userId;
    switch (request.t) {
      case 'addToCart':
        return this.#gate.reserve(this.#reserveRequest(userId, roomId, request.sku, request.quantity, request.key, fingerprint, record), arrival);
      case 'setQuantity':
      case 'removeFromCart': {
        const change = this.#reserveRequest(userId, roomId, request.sku, request.t === 'setQuantity' ? request.quantity : 0, request.key, fingerprint, record);
        return this.#gate.run(roomId, PRIORITY.change, () => this.#store.setQuantity({ ...change, now: this.#now() }), arrival);
      }
      case 'getCart':
        return this.#gate.run(roomId, PRIORITY.read, () => this.#store.cart(roomId, userId, this.#now()), arrival).then((cart): CartAnswer => ({ status: 'cart', cart }));
      case 'checkout':
        return this.#gate.run(roomId, PRIORITY.change, () => this.#store.checkout(roomId, userId, request.key, this.#now(), request.couponId), arrival);
      case 'claimCoupon':
        // A claim is an add's peer: same class, same fair turn and deadline; the claims a turn lets go travel to the store together.
        return this.#gate.run(roomId, PRIORITY.add, () => this.#claims.claim({ roomId, userId, couponId: request.couponId, key: request.key, now: this.#now() }), arrival);
      case 'enterGiveaway': {
        // An entry is an add's peer too; the entries a turn lets go travel to the store together (GiveawayService's EntryBatcher).
        const entries = this.#entries;
        if (entries === undefined) return Promise.resolve({ status: 'no_giveaway', giveawayId: request.giveawayId });
        // The giveaway is the room's own (`arrival.roomId`); the queue is its commerce scope's (`roomId`).
        const room = arrival.roomId ?? roomId;
        return this.#gate.run(roomId, PRIORITY.add, () => entries.enter(principal, room, request), arrival);
      }
      case 'bid': {
        // A bid is placed when its node read it: the store decides it by that time, in the room's
        // arrival order (bids share the first class with checkouts: a full queue sheds adds and
        // reads for them). Only a bid that cannot win is shed before it queues.
        const bids = this.#bids;
        if (bids === undefined) return Promise.resolve({ status: 'not_allowed', auctionId: request.auctionId, reason: 'unknown_auction' });
        const room = arrival.roomId ?? roomId;
        const shed = bids.shed(room, roomId, request);
        if (shed !== undefined) return Promise.reject(shed);
        return this.#gate.run(roomId, PRIORITY.change, () => bids.bid(principal, room, request, arrival.arrivedAt), arrival);
      }
    }
  }

  #reserveRequest(userId: string, roomId: string, sku: string, quantity: number, key: string, fingerprint: string | undefined, record: string | undefined): ReserveRequest {
    return { roomId, userId, sku, quantity, key, now: this.#now(), ttlMs: this.#reservationTtlMs, record, fingerprint };
  }
}

/** A typed refusal: the domain's, or the room rules' (which speak the wire's codes); anything else is a fault. */
function isRefusal(error: unknown): error is DomainError | ProtocolError {
  return error instanceof DomainError || error instanceof ProtocolError;
}

/** The refusal of a user banned from the room (by its rules, or by the gate as the request waited). */
function isKicked(error: unknown): error is DomainError | ProtocolError {
  return isRefusal(error) && error.code === 'KICKED';
}

/** A request's fingerprint where its store records live: a show linked to its shop records its keys as the shop's. */
function scopedFingerprint(roomId: string, scope: string, request: CartRequest, fingerprint: string | undefined): string | undefined {
  return fingerprint === undefined || scope === roomId || request.t === 'getCart' ? fingerprint : fingerprintFor(scope, request);
}

/** What a keyed request asks for, as the store records it with its answer. */
function fingerprintFor(roomId: string, request: Exclude<CartRequest, { t: 'getCart' }>): string {
  switch (request.t) {
    case 'addToCart': return fingerprintOf('add', roomId, request.sku, request.quantity);
    case 'setQuantity': return fingerprintOf('set', roomId, request.sku, request.quantity);
    case 'removeFromCart': return fingerprintOf('set', roomId, request.sku, 0);
    case 'checkout': return checkoutFingerprint(roomId, request.couponId);
    case 'claimCoupon': return claimFingerprint(roomId, request.couponId);
    case 'enterGiveaway': return entryFingerprint(roomId, request.giveawayId);
    case 'bid': return bidFingerprint(roomId, request.auctionId, request.max === true, request.amountCents);
  }
}
