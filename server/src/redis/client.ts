import type { Socket } from 'node:net';
import { Cluster, Redis } from 'ioredis';

/** Where Redis is: one server, or a Redis Cluster reached through seed addresses. */
export interface RedisTarget {
  /** redis:// or rediss:// URLs: the server, or some of a cluster's nodes. */
  readonly seeds: readonly string[];
  readonly cluster: boolean;
}

/** A connection to either: both speak the same commands; a cluster routes each by its key's slot. */
export type RedisConnection = Redis | Cluster;

/** `--redis` (comma-separated URLs) and `--redis-cluster`: several seeds mean a cluster. */
export function redisTarget(urls: string, cluster = false): RedisTarget {
  const seeds = urls.split(',').map((s) => s.trim()).filter(Boolean);
  return { seeds, cluster: cluster || seeds.length > 1 };
}

const retryStrategy = (attempt: number) => Math.min(50 * 2 ** attempt, 1000);

/** A lazy client that fails fast while Redis is away; shared by the store, the room directory and the broker. */
export function createRedisClient(target: RedisTarget | string, commandTimeoutMs: number): RedisConnection {
  const { seeds, cluster } = typeof target === 'string' ? redisTarget(target) : target;
  const nodeOptions = {
    // Fail fast while disconnected instead of queueing: a request must get an answer, not hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    retryStrategy,
    lazyConnect: true,
  };
  if (!cluster) {
    const redis = new Redis(seeds[0]!, nodeOptions);
    redis.on('error', () => undefined); // surfaced per command as UNAVAILABLE; reconnects by itself
    redis.on('connect', () => coalesceWrites(redis.stream));
    return redis;
  }
  const { password, username, tls } = credentialsOf(seeds[0]!);
  const redis = new Cluster(seeds.map(hostPort), {
    enableOfflineQueue: false,
    lazyConnect: true,
    // A slot whose master just died answers CLUSTERDOWN or stalls until its replica takes over:
    // the request fails as UNAVAILABLE (a typed retry answer) rather than waiting out the failover.
    maxRedirections: 4,
    retryDelayOnFailover: 50,
    retryDelayOnClusterDown: 50,
    retryDelayOnTryAgain: 50,
    slotsRefreshTimeout: Math.max(1000, commandTimeoutMs),
    clusterRetryStrategy: retryStrategy,
    redisOptions: { ...nodeOptions, lazyConnect: false, password, username, tls },
  });
  redis.on('error', () => undefined);
  redis.on('+node', (node: Redis) => node.on('connect', () => coalesceWrites(node.stream)));
  return redis;
}

/** The connection a broker listens on: pub/sub only, reconnecting by itself; on a cluster, one subscriber per shard (sharded pub/sub). */
export function createSubscriber(target: RedisTarget | string): RedisConnection {
  const { seeds, cluster } = typeof target === 'string' ? redisTarget(target) : target;
  if (!cluster) return new Redis(seeds[0]!, { retryStrategy, maxRetriesPerRequest: 0 });
  const { password, username, tls } = credentialsOf(seeds[0]!);
  return new Cluster(seeds.map(hostPort), {
    shardedSubscribers: true,
    clusterRetryStrategy: retryStrategy,
    redisOptions: { maxRetriesPerRequest: 0, password, username, tls },
  });
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

function credentialsOf(url: string): { password?: string; username?: string; tls?: object } {
  const parsed = new URL(url);
  return {
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
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
export async function connectWithin(redis: RedisConnection, url: string, waitMs = 5000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await untilReady(redis, Math.max(500, deadline - Date.now()));
      await redis.ping();
      return;
    } catch (error) {
      redis.disconnect();
      if (Date.now() > deadline) throw new Error(`cannot reach Redis at ${url}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * `connect()`, settled by the client's 'ready' too: a cluster client whose first ready check
 * fails reconnects by itself and becomes ready without ever settling the promise of that call.
 */
function untilReady(redis: RedisConnection, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    function done(error?: Error): void {
      clearTimeout(timer);
      redis.off('ready', onReady);
      if (error === undefined) resolve();
      else reject(error);
    }
    redis.once('ready', onReady);
    redis.connect().then(() => done(), (error: Error) => done(error));
  });
}
