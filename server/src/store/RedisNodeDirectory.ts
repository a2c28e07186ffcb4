import type { RedisConnection } from '../redis/client.ts';
import { globalKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { NodeDirectory, NodeRecord } from './NodeDirectory.ts';

/** Removes a node's record only if its heartbeat is still the one seen (unreadable records go too). KEYS: hash. ARGV: node id, heartbeatAt. */
const removeStaleScript = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
local ok, record = pcall(cjson.decode, value)
if ok and type(record) == 'table' and record.heartbeatAt ~= tonumber(ARGV[2]) then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
`;

type NodeCommands = {
  lcRemoveStaleNode(hash: string, nodeId: string, heartbeatAt: number): Promise<number>;
};

/**
 * The node registry in Redis: one hash `ns:nodes`, node id → record (JSON). A key of no room,
 * touched alone by every call.
 */
export class RedisNodeDirectory implements NodeDirectory {
  readonly #redis: RedisConnection & NodeCommands;
  readonly #key: string;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state (closed by its owner). */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number) {
    redis.defineCommand('lcRemoveStaleNode', { numberOfKeys: 1, lua: removeStaleScript });
    this.#redis = redis as RedisConnection & NodeCommands;
    this.#key = globalKey(prefix, 'nodes');
    this.#retryAfterMs = retryAfterMs;
  }

  async put(record: NodeRecord): Promise<void> {
    await this.#call(() => this.#redis.hset(this.#key, record.nodeId, JSON.stringify(record)));
  }

  async all(): Promise<NodeRecord[]> {
    const all = await this.#call(() => this.#redis.hgetall(this.#key));
    const records: NodeRecord[] = [];
    for (const json of Object.values(all)) {
      const record = parseRecord(json);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  async removeStale(nodeId: string, heartbeatAt: number): Promise<void> {
    await this.#call(() => this.#redis.lcRemoveStaleNode(this.#key, nodeId, heartbeatAt));
  }

  async remove(nodeId: string): Promise<void> {
    await this.#call(() => this.#redis.hdel(this.#key, nodeId));
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'node registry');
  }
}

/** A record another node wrote (perhaps another version of livecart): kept if its identity and heartbeat read. */
function parseRecord(json: string): NodeRecord | undefined {
  try {
    const record = JSON.parse(json) as Partial<NodeRecord> | null;
    if (typeof record?.nodeId !== 'string' || typeof record.heartbeatAt !== 'number' || typeof record.heartbeatMs !== 'number' || !Array.isArray(record.rooms)) return undefined;
    return record as NodeRecord;
  } catch {
    return undefined;
  }
}
