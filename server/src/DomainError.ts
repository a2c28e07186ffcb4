/**
 * Why an operation of the stores, the broker, admission or commerce failed, in the domain's words.
 * Knows nothing of the wire: only the edge (`transport/wireErrors.ts`) turns a code into a wire
 * code, an HTTP status and the message a client sees.
 */
export type DomainErrorCode =
  /** A backing service (Redis, the in-memory store's capacity, a room's sequencer) cannot serve now: retry later. */
  | 'UNAVAILABLE'
  /** The room's queue cannot take the request, or it waited past its deadline: retry later. */
  | 'OVERLOADED'
  | 'PRODUCT_EXISTS'
  /** A room's cap (products, bans) is reached. */
  | 'LIMIT_EXCEEDED'
  /** A product in another currency than the room's catalog: one cart, one currency. */
  | 'CURRENCY_MISMATCH'
  /** Asks for something this server does not offer yet (a giveaway for followers). */
  | 'NOT_SUPPORTED'
  | 'PRODUCT_NOT_FOUND'
  | 'ORDER_NOT_FOUND'
  /** The order cannot go to the status asked from the one it is in. */
  | 'ORDER_STATUS_CONFLICT'
  /** The idempotency key already answered a different request. */
  | 'IDEMPOTENCY_MISMATCH'
  /** The user was removed from the room by a moderator and may not buy there until the ban ends. */
  | 'KICKED'
  /** Only the room's streamer or an operator may do this. */
  | 'NOT_MODERATOR'
  /** No coupon with that id in the room. */
  | 'COUPON_NOT_FOUND'
  /** The room has a coupon with that id already. */
  | 'COUPON_EXISTS'
  /** No giveaway with that id in the room. */
  | 'GIVEAWAY_NOT_FOUND'
  /** The room had a giveaway with that id already. */
  | 'GIVEAWAY_EXISTS'
  /** Another giveaway of the room is taking entries. */
  | 'GIVEAWAY_BUSY'
  /** The giveaway's entries are closed already: it cannot be ended or cancelled. */
  | 'GIVEAWAY_OVER'
  /** No auction with that id in the room. */
  | 'AUCTION_NOT_FOUND'
  /** The room had an auction with that id already. */
  | 'AUCTION_EXISTS'
  /** Another auction of the room is open. */
  | 'AUCTION_BUSY'
  /** The auction is settled already: it cannot be ended or cancelled. */
  | 'AUCTION_OVER';

/**
 * The message of an UNAVAILABLE error is for the operator's log (it may carry a driver's words);
 * the client gets a fixed one. The other codes' messages are written for the client who asked.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: DomainErrorCode;
  /** For temporary failures: when trying again makes sense. */
  readonly retryAfterMs: number | undefined;

  constructor(code: DomainErrorCode, message: string, options: { retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }
}
