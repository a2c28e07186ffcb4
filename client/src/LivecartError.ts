import { ErrorCode, errorCodeInfo, errorCodeName, type ErrorCodeName } from '../../protocol/src/codes.ts';
import type { Err } from '../../protocol/src/messages.ts';

/** `name` of an error whose code this client does not know (a newer server). */
export type LivecartErrorName = ErrorCodeName | 'UNKNOWN';

export interface LivecartErrorInit {
  code: number;
  message: string;
  temporary: boolean;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * A failed request: the server's `err` reply, or a client-side failure mapped onto the protocol's
 * error codes (connection lost or request timed out: `UNAVAILABLE`, temporary).
 * `name` is the ErrorCode name (`FORBIDDEN`, `RATE_LIMITED`, …), so `switch (error.name)` works.
 */
export class LivecartError extends Error {
  override readonly name: LivecartErrorName;
  readonly code: number;
  /** A retry of the same request may succeed later (after `retryAfterMs` when given). */
  readonly temporary: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(init: LivecartErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.name = errorCodeName(init.code) ?? 'UNKNOWN';
    this.temporary = init.temporary;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** From an `err` frame. */
  static fromErr(err: Pick<Err, 'code' | 'message' | 'temporary' | 'retryAfterMs'>): LivecartError {
    return new LivecartError({ code: err.code, message: err.message, temporary: err.temporary, retryAfterMs: err.retryAfterMs });
  }

  /** A client-side failure with a known error name; `temporary` defaults to the code's own. */
  static of(name: ErrorCodeName, message: string, temporary: boolean = errorCodeInfo[name].temporary): LivecartError {
    return new LivecartError({ code: ErrorCode[name], message, temporary });
  }
}

export function isLivecartError(value: unknown): value is LivecartError {
  return value instanceof LivecartError;
}

/** Thrown by an event listener; delivered on the `error` event. */
export class ListenerError extends Error {
  override readonly name = 'ListenerError';
  constructor(readonly event: string, cause: unknown) {
    super(`a "${event}" listener threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A frame the server sent that this client cannot read (not binary, not MessagePack). */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}
