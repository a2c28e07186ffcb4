import { DomainError } from '../DomainError.ts';

/**
 * Runs a Redis call; connection failures and timeouts become a temporary UNAVAILABLE whose message
 * (for the log, never the client) names `what` failed and the driver's reason.
 */
export async function redisCall<T>(run: () => Promise<T>, retryAfterMs: number, what = 'store'): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError('UNAVAILABLE', `${what} unavailable: ${(error as Error).message.slice(0, 120)}`, { retryAfterMs, cause: error });
  }
}
