import type { Socket } from 'node:net';
import { Redis } from 'ioredis';

/** A lazy client that fails fast while Redis is away; shared by the store, the room directory and the broker. */
export function createRedisClient(url: string, commandTimeoutMs: number): Redis {
  const redis = new Redis(url, {
    // Fail fast while disconnected instead of queueing: a request must get an answer, not hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
    lazyConnect: true,
  });
  redis.on('error', () => undefined); // surfaced per command as UNAVAILABLE; reconnects by itself
  redis.on('connect', () => coalesceWrites(redis.stream));
  return redis;
}

/**
 * The commands one piece of code sends together leave in one socket write: ioredis writes each
 * command with its own `write` call, and in a burst those syscalls were most of what Redis mode
 * added to the node's busy turns.
 */
function coalesceWrites(stream: Socket): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    }
    return write(...args);
  }) as typeof stream.write;
}

/** Connects a lazy client, retrying for up to `waitMs`; disconnects it and throws when Redis stays unreachable. */
export async function connectWithin(redis: Redis, url: string, waitMs = 5000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await redis.connect();
      await redis.ping();
      return;
    } catch (error) {
      redis.disconnect();
      if (Date.now() > deadline) throw new Error(`cannot reach Redis at ${url}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
