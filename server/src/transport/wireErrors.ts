import type { ErrorCodeName } from '../../../protocol/src/index.ts';
import { DomainError, type DomainErrorCode } from '../DomainError.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** The wire code of each domain error (its HTTP status follows from the wire code: `httpStatusOf`). Exhaustive by type. */
export const wireCodeOf: Readonly<Record<DomainErrorCode, ErrorCodeName>> = {
  UNAVAILABLE: 'UNAVAILABLE',
  OVERLOADED: 'OVERLOADED',
  PRODUCT_EXISTS: 'PRODUCT_EXISTS',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  CURRENCY_MISMATCH: 'BAD_REQUEST',
  NOT_SUPPORTED: 'BAD_REQUEST',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_STATUS_CONFLICT: 'ORDER_STATUS_CONFLICT',
  IDEMPOTENCY_MISMATCH: 'IDEMPOTENCY_MISMATCH',
  KICKED: 'KICKED',
  NOT_MODERATOR: 'FORBIDDEN',
  COUPON_NOT_FOUND: 'COUPON_NOT_FOUND',
  COUPON_EXISTS: 'COUPON_EXISTS',
  GIVEAWAY_NOT_FOUND: 'GIVEAWAY_NOT_FOUND',
  GIVEAWAY_EXISTS: 'GIVEAWAY_EXISTS',
  GIVEAWAY_BUSY: 'GIVEAWAY_BUSY',
  GIVEAWAY_OVER: 'GIVEAWAY_OVER',
  AUCTION_NOT_FOUND: 'AUCTION_NOT_FOUND',
  AUCTION_EXISTS: 'AUCTION_EXISTS',
  AUCTION_BUSY: 'AUCTION_BUSY',
  AUCTION_OVER: 'AUCTION_OVER',
};

/** What a client hears while a backing service is down: the driver's words are for the log only. */
export const UNAVAILABLE_MESSAGE = 'the store is unavailable, retry';

/** The error as a client sees it: a `ProtocolError` as it is, a `DomainError` mapped, anything else INTERNAL. */
export function toWireError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof DomainError) {
    return new ProtocolError(wireCodeOf[error.code], error.code === 'UNAVAILABLE' ? UNAVAILABLE_MESSAGE : error.message, error.retryAfterMs);
  }
  return new ProtocolError('INTERNAL', 'internal server error');
}

/**
 * Logs a failed request as it deserves: a refusal at debug, a fault at error, and a backing
 * service's failure (its driver's message) at warn, at most once per `everyMs` with the count of
 * those left out: in an outage every request fails the same way.
 */
export class FailureLog {
  readonly #everyMs: number;
  readonly #now: () => number;
  #loggedAt = Number.NEGATIVE_INFINITY;
  #unlogged = 0;

  constructor(everyMs = 1000, now: () => number = Date.now) {
    this.#everyMs = everyMs;
    this.#now = now;
  }

  failed(log: Logger, error: unknown, fields: Record<string, unknown>): void {
    if (error instanceof DomainError && error.code === 'UNAVAILABLE') {
      const now = this.#now();
      if (now - this.#loggedAt < this.#everyMs) {
        this.#unlogged++;
        return;
      }
      log.warn({ ...fields, err: error, alsoFailedSinceLastLine: this.#unlogged }, 'request failed: a backing service is unavailable');
      this.#loggedAt = now;
      this.#unlogged = 0;
    } else if (error instanceof ProtocolError || error instanceof DomainError) {
      log.debug({ ...fields, code: error.code }, 'request refused');
    } else {
      log.error({ ...fields, err: error }, 'request failed');
    }
  }
}
