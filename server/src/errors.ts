import { type Err, ErrorCode, type ErrorCodeName, errorCodeInfo } from '../../protocol/src/index.ts';

/**
 * A failure the client is meant to see: carries a registered code, a human message and, for
 * temporary failures, when to retry. Anything else thrown inside a handler is a server fault and
 * reaches the wire only as INTERNAL (see `toErrFrame`).
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCodeName;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCodeName, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  get temporary(): boolean {
    return errorCodeInfo[this.code].temporary;
  }
}

export function toErrFrame(error: unknown, id: number | undefined): Err {
  const known = error instanceof ProtocolError ? error : new ProtocolError('INTERNAL', 'internal server error');
  const frame: Err = { t: 'err', code: ErrorCode[known.code], message: known.message, temporary: known.temporary };
  if (id !== undefined) frame.id = id;
  if (known.retryAfterMs !== undefined) frame.retryAfterMs = Math.max(0, Math.ceil(known.retryAfterMs));
  return frame;
}

/** HTTP status for each error code: who is at fault and whether to retry. Exhaustive by type. */
const httpStatus: Readonly<Record<ErrorCodeName, number>> = {
  BAD_REQUEST: 400, UNKNOWN_TYPE: 400, NOT_JOINED: 400, ALREADY_JOINED: 400, UNSUPPORTED_VERSION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403, KICKED: 403, MUTED: 403, COMMENT_FILTERED: 403,
  ROOM_NOT_FOUND: 404, PRODUCT_NOT_FOUND: 404, COMMENT_NOT_FOUND: 404, MEDIA_NOT_FOUND: 404, ORDER_NOT_FOUND: 404, REPLAY_NOT_FOUND: 404,
  PRODUCT_EXISTS: 409, ROOM_EXISTS: 409, ROOM_ENDED: 409, LIMIT_EXCEEDED: 409, ORDER_STATUS_CONFLICT: 409,
  COUPON_NOT_FOUND: 404, COUPON_EXISTS: 409,
  GIVEAWAY_NOT_FOUND: 404, GIVEAWAY_EXISTS: 409, GIVEAWAY_BUSY: 409, GIVEAWAY_OVER: 409,
  AUCTION_NOT_FOUND: 404, AUCTION_EXISTS: 409, AUCTION_BUSY: 409, AUCTION_OVER: 409,
  IDEMPOTENCY_MISMATCH: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503, ROOM_FULL: 503, OVERLOADED: 503, MEDIA_UNAVAILABLE: 503, VIDEO_FULL: 503,
};

export function httpStatusOf(code: ErrorCodeName): number {
  return httpStatus[code];
}
