import { ProtocolError } from '../errors.ts';

/** Runs a Redis call; connection failures and timeouts become a typed, temporary UNAVAILABLE. */
export async function redisCall<T>(run: () => Promise<T>, retryAfterMs: number, what = 'store'): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('UNAVAILABLE', `${what} unavailable: ${(error as Error).message.slice(0, 120)}`, retryAfterMs);
  }
}
