import type { RedisConnection } from '../../server/src/redis/client.ts';

/**
 * `redis` as a node dying mid-write sees it: the first `budget` calls (a command, a script, a
 * MULTI) go through, every later one throws as a lost connection would. Defining scripts is free.
 */
export function failingAfter(redis: RedisConnection, budget: number): RedisConnection {
  let left = budget;
  return new Proxy(redis, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'defineCommand') return value.bind(target);
      return (...args: unknown[]) => {
        if (left <= 0) throw new Error('connection lost (the test cut it)');
        left -= 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
