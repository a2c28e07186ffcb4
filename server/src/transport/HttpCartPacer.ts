import type { CartAnswer, CartRequest } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { ProtocolError } from '../errors.ts';
import type { TokenBucketLimiter } from '../rooms/TokenBucketLimiter.ts';

/** What the HTTP cart routes need of the cart desk. */
export interface CartAnswering {
  answer(principal: Principal, roomId: string, request: CartRequest): Promise<CartAnswer>;
}

/**
 * The cart desk as the HTTP routes see it: each user's requests paced by a token bucket. A socket's
 * requests are capped by its frame rate, HTTP's by nothing else: one token could otherwise fill its
 * room's admission queue for every other buyer, and leave a store record per idempotency key.
 * Refused requests never reach the desk (nothing recorded: a retry with the same key is served).
 */
export function pacedDesk(desk: CartAnswering, limiter: TokenBucketLimiter): CartAnswering {
  return {
    answer(principal, roomId, request) {
      const waitMs = limiter.take(principal.userId);
      if (waitMs > 0) return Promise.reject(new ProtocolError('RATE_LIMITED', `too many cart requests over HTTP: retry in ${waitMs} ms`, waitMs));
      return desk.answer(principal, roomId, request);
    },
  };
}
