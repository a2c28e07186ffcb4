import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import { DomainError, type DomainErrorCode } from '../../server/src/DomainError.ts';
import { httpStatusOf, ProtocolError, toErrFrame } from '../../server/src/errors.ts';
import { redisCall } from '../../server/src/redis/redisCall.ts';
import { FailureLog, toWireError, UNAVAILABLE_MESSAGE, wireCodeOf } from '../../server/src/transport/wireErrors.ts';

describe('domain errors at the edge', () => {
  it('maps each domain error to its wire code and HTTP status', () => {
    const expected: Record<DomainErrorCode, [string, number]> = {
      UNAVAILABLE: ['UNAVAILABLE', 503],
      OVERLOADED: ['OVERLOADED', 503],
      PRODUCT_EXISTS: ['PRODUCT_EXISTS', 409],
      LIMIT_EXCEEDED: ['LIMIT_EXCEEDED', 409],
      CURRENCY_MISMATCH: ['BAD_REQUEST', 400],
      NOT_SUPPORTED: ['BAD_REQUEST', 400],
      PRODUCT_NOT_FOUND: ['PRODUCT_NOT_FOUND', 404],
      ORDER_NOT_FOUND: ['ORDER_NOT_FOUND', 404],
      ORDER_STATUS_CONFLICT: ['ORDER_STATUS_CONFLICT', 409],
      IDEMPOTENCY_MISMATCH: ['IDEMPOTENCY_MISMATCH', 422],
      KICKED: ['KICKED', 403],
      NOT_MODERATOR: ['FORBIDDEN', 403],
      COUPON_NOT_FOUND: ['COUPON_NOT_FOUND', 404],
      COUPON_EXISTS: ['COUPON_EXISTS', 409],
      GIVEAWAY_NOT_FOUND: ['GIVEAWAY_NOT_FOUND', 404],
      GIVEAWAY_EXISTS: ['GIVEAWAY_EXISTS', 409],
      GIVEAWAY_BUSY: ['GIVEAWAY_BUSY', 409],
      GIVEAWAY_OVER: ['GIVEAWAY_OVER', 409],
      AUCTION_NOT_FOUND: ['AUCTION_NOT_FOUND', 404],
      AUCTION_EXISTS: ['AUCTION_EXISTS', 409],
      AUCTION_BUSY: ['AUCTION_BUSY', 409],
      AUCTION_OVER: ['AUCTION_OVER', 409],
    };
    expect(Object.keys(wireCodeOf).sort()).toEqual(Object.keys(expected).sort());
    for (const [code, [wire, status]] of Object.entries(expected) as Array<[DomainErrorCode, [string, number]]>) {
      const mapped = toWireError(new DomainError(code, 'what happened'));
      expect(mapped.code, code).toBe(wire);
      expect(httpStatusOf(mapped.code), code).toBe(status);
    }
  });

  it('keeps the message and retry-after of a refusal written for the client', () => {
    const frame = toErrFrame(toWireError(new DomainError('OVERLOADED', 'the room\'s queue is full', { retryAfterMs: 812.4 })), 7);
    expect(frame).toEqual({ t: 'err', id: 7, code: ErrorCode.OVERLOADED, message: 'the room\'s queue is full', temporary: true, retryAfterMs: 813 });
  });

  it('sends a fixed message for a backing service\'s failure, never the driver\'s', async () => {
    const failed = await redisCall(() => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379')), 750).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(DomainError);
    expect((failed as DomainError).message).toContain('ECONNREFUSED'); // for the log
    const frame = toErrFrame(toWireError(failed), 1);
    expect(frame).toEqual({ t: 'err', id: 1, code: ErrorCode.UNAVAILABLE, message: UNAVAILABLE_MESSAGE, temporary: true, retryAfterMs: 750 });
  });

  it('passes the wire\'s own errors through and hides anything else as INTERNAL', () => {
    const refused = new ProtocolError('KICKED', 'banned');
    expect(toWireError(refused)).toBe(refused);
    expect(toErrFrame(toWireError(new TypeError('x is undefined')), undefined)).toMatchObject({ t: 'err', code: ErrorCode.INTERNAL, message: 'internal server error' });
  });

  it('logs a backing service\'s failures at most once per interval, with the count left out', () => {
    const lines: Array<{ level: number; msg: string; alsoFailedSinceLastLine?: number }> = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = 0;
    const failures = new FailureLog(1000, () => now);
    const down = new DomainError('UNAVAILABLE', 'store unavailable: Connection is closed.');
    for (let i = 0; i < 5; i++) failures.failed(log, down, { type: 'addToCart' });
    now = 1000;
    failures.failed(log, down, { type: 'addToCart' });
    failures.failed(log, new DomainError('PRODUCT_NOT_FOUND', 'no product x'), {});
    failures.failed(log, new Error('a bug'), {});
    expect(lines.map((l) => [l.level, l.msg, l.alsoFailedSinceLastLine])).toEqual([
      [40, 'request failed: a backing service is unavailable', 0],
      [40, 'request failed: a backing service is unavailable', 4],
      [20, 'request refused', undefined],
      [50, 'request failed', undefined],
    ]);
  });
});
