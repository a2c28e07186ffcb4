import type { RedisConnection } from '../redis/client.ts';
import { roomBase, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { MediaOrigin, MediaOriginClaim, MediaOriginDirectory, MediaOriginProducer } from './MediaOriginDirectory.ts';

/** How long a room's claim counter outlives its last claim (it only orders claims that overlap). */
const VERSION_TTL_MS = 86_400_000;

/** KEYS[1]: the room's base. ARGV: nodeId, url, producers JSON, ttl ms, counter ttl ms. Returns the new version. */
const claimScript = `
local record = KEYS[1] .. ':media-origin'
local counter = KEYS[1] .. ':media-origin-version'
local version = redis.call('INCR', counter)
redis.call('PEXPIRE', counter, ARGV[5])
redis.call('DEL', record)
redis.call('HSET', record, 'nodeId', ARGV[1], 'url', ARGV[2], 'producers', ARGV[3], 'version', version)
redis.call('PEXPIRE', record, ARGV[4])
return version
`;

/** KEYS[1]: the room's base. ARGV: version, nodeId, url, producers JSON, ttl ms. 1 written, 0 another claim holds the room. */
const refreshScript = `
local record = KEYS[1] .. ':media-origin'
local current = redis.call('HGET', record, 'version')
if current and current ~= ARGV[1] then return 0 end
redis.call('HSET', record, 'nodeId', ARGV[2], 'url', ARGV[3], 'producers', ARGV[4], 'version', ARGV[1])
redis.call('PEXPIRE', record, ARGV[5])
return 1
`;

/** KEYS[1]: the room's base. ARGV: version. */
const releaseScript = `
local record = KEYS[1] .. ':media-origin'
if redis.call('HGET', record, 'version') == ARGV[1] then redis.call('DEL', record) end
return 0
`;

type OriginCommands = {
  lcMediaClaim(base: string, nodeId: string, url: string, producers: string, ttlMs: number, counterTtlMs: number): Promise<number>;
  lcMediaRefresh(base: string, version: number, nodeId: string, url: string, producers: string, ttlMs: number): Promise<number>;
  lcMediaRelease(base: string, version: number): Promise<number>;
};

/**
 * Media origins in Redis: a hash `ns:{r:ROOM}:media-origin` (node id, url, version, producers
 * JSON) with a TTL its origin renews, and the claim counter `ns:{r:ROOM}:media-origin-version`:
 * both in the room's slot, each call one script.
 */
export class RedisMediaOriginDirectory implements MediaOriginDirectory {
  readonly #redis: RedisConnection & OriginCommands;
  readonly #prefix: string;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state (closed by its owner). */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number) {
    redis.defineCommand('lcMediaClaim', { numberOfKeys: 1, lua: claimScript });
    redis.defineCommand('lcMediaRefresh', { numberOfKeys: 1, lua: refreshScript });
    redis.defineCommand('lcMediaRelease', { numberOfKeys: 1, lua: releaseScript });
    this.#redis = redis as RedisConnection & OriginCommands;
    this.#prefix = prefix;
    this.#retryAfterMs = retryAfterMs;
  }

  async get(roomId: string): Promise<MediaOrigin | undefined> {
    const fields = await this.#call(() => this.#redis.hgetall(roomKey(this.#prefix, roomId, 'media-origin')));
    return parseOrigin(fields);
  }

  async claim(roomId: string, claim: MediaOriginClaim, ttlMs: number): Promise<number> {
    return Number(await this.#call(() => this.#redis.lcMediaClaim(roomBase(this.#prefix, roomId), claim.nodeId, claim.url, JSON.stringify(claim.producers), ttlMs, VERSION_TTL_MS)));
  }

  async refresh(roomId: string, version: number, claim: MediaOriginClaim, ttlMs: number): Promise<boolean> {
    return (await this.#call(() => this.#redis.lcMediaRefresh(roomBase(this.#prefix, roomId), version, claim.nodeId, claim.url, JSON.stringify(claim.producers), ttlMs))) === 1;
  }

  async release(roomId: string, version: number): Promise<void> {
    await this.#call(() => this.#redis.lcMediaRelease(roomBase(this.#prefix, roomId), version));
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'media origin');
  }
}

/** A record another node wrote (perhaps another version of livecart): taken only if it reads as one. */
function parseOrigin(fields: Record<string, string>): MediaOrigin | undefined {
  const version = Number(fields.version);
  if (typeof fields.nodeId !== 'string' || typeof fields.url !== 'string' || !Number.isInteger(version)) return undefined;
  try {
    const producers = JSON.parse(fields.producers ?? '[]') as unknown;
    if (!Array.isArray(producers)) return undefined;
    const valid = producers.filter((p): p is MediaOriginProducer => typeof p?.producerId === 'string' && (p.kind === 'audio' || p.kind === 'video') && typeof p.paused === 'boolean');
    return { nodeId: fields.nodeId, url: fields.url, version, producers: valid };
  } catch {
    return undefined;
  }
}
