import type { RedisConnection } from '../redis/client.ts';
import { roomKey, userKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { ReminderAdd, ReminderDirectory } from './ReminderDirectory.ts';

/**
 * Reminders shared by every node through Redis. The truth is one set per room,
 * `ns:{r:ID}:reminders` (user ids), with `ns:{r:ID}:reminders-sent` once its go-live notice was
 * claimed, in the room's slot. Each user's list is derived from those sets: `ns:{u:USER}:reminder-index`,
 * a hash of the rooms the user may have a reminder for (room id → Redis time in ms it was last
 * set), in the user's slot.
 *
 * The index is never trusted alone: `roomsOf` checks each of its rooms against the room's set
 * and answers only those that hold the user, so the user's list and the room's count always
 * agree. The index only has to hold every room whose set holds the user (it may hold more):
 * - On one Redis, `add` and `remove` write the room's set and the index in one script.
 * - On Redis Cluster the two keys live in different slots, and no script may touch both. `add`
 *   marks the index first, then adds to the room's set; `remove` takes the user out of the set,
 *   then unmarks. A node dying in between, or a remove racing an add, leaves the index holding
 *   a room the set does not: the read leaves it out.
 * Entries that name no reminder are dropped when a read (or a remove) finds them older than
 * `indexSettleMs`, compared with Redis's own clock inside the script: an add under way has
 * marked its entry just now, so an entry that old is no add's that is still to reach the set.
 */
const addAndIndexScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  if KEYS[2] then redis.call('HSET', KEYS[2], ARGV[3], now) end
  return { 'exists', redis.call('SCARD', KEYS[1]) }
end
local count = redis.call('SCARD', KEYS[1])
if count >= tonumber(ARGV[2]) then return { 'full', count } end
redis.call('SADD', KEYS[1], ARGV[1])
if KEYS[2] then redis.call('HSET', KEYS[2], ARGV[3], now) end
return { 'added', count + 1 }
`;

// Removes from the room's set (and from the index, on one Redis); returns { removed, count }.
const removeScript = `
local removed = redis.call('SREM', KEYS[1], ARGV[1])
if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[2]) end
return { removed, redis.call('SCARD', KEYS[1]) }
`;

// Marks rooms in the user's index with Redis's time; returns it.
const markScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], now) end
return now
`;

// Unmarks the rooms named (ARGV[3..]) whose mark is older than ARGV[2] ms ('older'), or is exactly ARGV[2] ('equal').
const unmarkScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dropped = 0
for i = 3, #ARGV do
  local mark = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if mark ~= nil and ((ARGV[1] == 'older' and mark <= now - tonumber(ARGV[2])) or (ARGV[1] == 'equal' and mark == tonumber(ARGV[2]))) then
    dropped = dropped + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return dropped
`;

type ReminderCommands = {
  lcRemind(room: string, userId: string, max: number, roomId: string): Promise<[string, number]>;
  lcRemindIndexed(room: string, index: string, userId: string, max: number, roomId: string): Promise<[string, number]>;
  lcUnremind(room: string, userId: string, roomId: string): Promise<[number, number]>;
  lcUnremindIndexed(room: string, index: string, userId: string, roomId: string): Promise<[number, number]>;
  lcReminderMark(index: string, ...roomIds: string[]): Promise<number>;
  lcReminderUnmark(index: string, mode: 'older' | 'equal', value: number, ...roomIds: string[]): Promise<number>;
};

export interface RedisReminderOptions {
  /** Redis Cluster: the room's set and the user's index are written apart (see above). */
  cluster: boolean;
  retryAfterMs: number;
  /** How old an index entry the sets do not back must be before it is dropped: far longer than an add's two writes can take. */
  indexSettleMs?: number;
}

const DEFAULT_INDEX_SETTLE_MS = 60_000;

export class RedisReminderDirectory implements ReminderDirectory {
  readonly #redis: RedisConnection & ReminderCommands;
  readonly #ns: string;
  readonly #cluster: boolean;
  readonly #retryAfterMs: number;
  readonly #settleMs: number;

  /** Shares the node's connection for room state. */
  constructor(redis: RedisConnection, prefix: string, options: RedisReminderOptions) {
    redis.defineCommand('lcRemind', { numberOfKeys: 1, lua: addAndIndexScript });
    redis.defineCommand('lcRemindIndexed', { numberOfKeys: 2, lua: addAndIndexScript });
    redis.defineCommand('lcUnremind', { numberOfKeys: 1, lua: removeScript });
    redis.defineCommand('lcUnremindIndexed', { numberOfKeys: 2, lua: removeScript });
    redis.defineCommand('lcReminderMark', { numberOfKeys: 1, lua: markScript });
    redis.defineCommand('lcReminderUnmark', { numberOfKeys: 1, lua: unmarkScript });
    this.#redis = redis as RedisConnection & ReminderCommands;
    this.#ns = prefix;
    this.#cluster = options.cluster;
    this.#retryAfterMs = options.retryAfterMs;
    this.#settleMs = options.indexSettleMs ?? DEFAULT_INDEX_SETTLE_MS;
  }

  async add(roomId: string, userId: string, max: number): Promise<{ result: ReminderAdd; count: number }> {
    if (!this.#cluster) {
      const [result, count] = await this.#call(() => this.#redis.lcRemindIndexed(this.#key(roomId), this.#index(userId), userId, max, roomId));
      return { result: result as ReminderAdd, count: Number(count) };
    }
    // The index first: whatever happens next, it holds every room whose set holds the user.
    const mark = await this.#call(() => this.#redis.lcReminderMark(this.#index(userId), roomId));
    const [result, count] = await this.#call(() => this.#redis.lcRemind(this.#key(roomId), userId, max, roomId));
    if (result === 'full') await this.#call(() => this.#redis.lcReminderUnmark(this.#index(userId), 'equal', Number(mark), roomId));
    return { result: result as ReminderAdd, count: Number(count) };
  }

  async remove(roomId: string, userId: string): Promise<{ removed: boolean; count: number }> {
    if (!this.#cluster) {
      const [removed, count] = await this.#call(() => this.#redis.lcUnremindIndexed(this.#key(roomId), this.#index(userId), userId, roomId));
      return { removed: Number(removed) === 1, count: Number(count) };
    }
    const [removed, count] = await this.#call(() => this.#redis.lcUnremind(this.#key(roomId), userId, roomId));
    // An add of the same user racing this one has marked the entry just now: it stays, and the read checks it.
    await this.#call(() => this.#redis.lcReminderUnmark(this.#index(userId), 'older', this.#settleMs, roomId));
    return { removed: Number(removed) === 1, count: Number(count) };
  }

  async status(roomId: string, userId: string): Promise<{ reminded: boolean; count: number }> {
    const results = await this.#call(() => this.#redis.multi().sismember(this.#key(roomId), userId).scard(this.#key(roomId)).exec());
    return { reminded: Number(results?.[0]?.[1] ?? 0) === 1, count: Number(results?.[1]?.[1] ?? 0) };
  }

  async counts(roomIds: readonly string[]): Promise<number[]> {
    return this.#call(() => Promise.all(roomIds.map((roomId) => this.#redis.scard(this.#key(roomId)))));
  }

  async remindedOf(roomIds: readonly string[], userId: string): Promise<boolean[]> {
    const answers = await this.#call(() => Promise.all(roomIds.map((roomId) => this.#redis.sismember(this.#key(roomId), userId))));
    return answers.map((answer) => Number(answer) === 1);
  }

  /** The index's rooms that the rooms' sets confirm; the others, once settled, are dropped from the index. */
  async roomsOf(userId: string): Promise<string[]> {
    const candidates = await this.#call(() => this.#redis.hkeys(this.#index(userId)));
    if (candidates.length === 0) return [];
    const held = await this.remindedOf(candidates, userId);
    const stale = candidates.filter((_, i) => !held[i]);
    if (stale.length > 0) await this.#call(() => this.#redis.lcReminderUnmark(this.#index(userId), 'older', this.#settleMs, ...stale));
    return candidates.filter((_, i) => held[i]);
  }

  async claimNotice(roomId: string): Promise<boolean> {
    return (await this.#call(() => this.#redis.set(roomKey(this.#ns, roomId, 'reminders-sent'), '1', 'NX'))) === 'OK';
  }

  async users(roomId: string): Promise<string[]> {
    return this.#call(() => this.#redis.smembers(this.#key(roomId)));
  }

  /** The room's set goes; users' index entries of it are no longer backed, and their next read drops them. */
  async release(roomId: string): Promise<void> {
    await this.#call(() => this.#redis.del(this.#key(roomId)));
  }

  async close(): Promise<void> {}

  #key(roomId: string): string {
    return roomKey(this.#ns, roomId, 'reminders');
  }

  #index(userId: string): string {
    return userKey(this.#ns, userId, 'reminder-index');
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'reminders');
  }
}
