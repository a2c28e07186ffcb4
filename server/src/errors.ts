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

/** HTTP status for an error code: who is at fault and whether to retry. */
export function httpStatusOf(code: ErrorCodeName): number {
  switch (code) {
    case 'UNAUTHORIZED': return 401;
    case 'FORBIDDEN': return 403;
    case 'ROOM_NOT_FOUND': case 'PRODUCT_NOT_FOUND': case 'COMMENT_NOT_FOUND': return 404;
    case 'PRODUCT_EXISTS': case 'ROOM_ENDED': case 'LIMIT_EXCEEDED': return 409;
    case 'RATE_LIMITED': return 429;
    case 'UNAVAILABLE': return 503;
    case 'INTERNAL': return 500;
    default: return 400;
  }
}
