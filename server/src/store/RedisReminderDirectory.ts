import type { RedisConnection } from '../redis/client.ts';
import { roomKey, userKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { ReminderAdd, ReminderDirectory } from './ReminderDirectory.ts';

/**
 * Reminders shared by every node through Redis: one set per room, `ns:{r:ID}:reminders` (user
 * ids), and `ns:{r:ID}:reminders-sent` once its go-live notice was claimed, in the room's slot;
 * and per user `ns:{u:USER}:reminders`, the rooms they set one for, in the user's slot: written
 * right after the room's set, one single-key command (a node dying between the two leaves the
 * index short of that room until the user sets the reminder again). Rooms live in different slots on a cluster, so reads over several
 * rooms are one command per room (ioredis sends those of one turn together).
 */
// Adds unless the set holds `max` already; returns { result, count }.
const addScript = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return { 'exists', redis.call('SCARD', KEYS[1]) } end
local count = redis.call('SCARD', KEYS[1])
if count >= tonumber(ARGV[2]) then return { 'full', count } end
redis.call('SADD', KEYS[1], ARGV[1])
return { 'added', count + 1 }
`;

type ReminderCommands = {
  lcRemind(key: string, userId: string, max: number): Promise<[string, number]>;
};

export class RedisReminderDirectory implements ReminderDirectory {
  readonly #redis: RedisConnection & ReminderCommands;
  readonly #ns: string;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state. */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number) {
    redis.defineCommand('lcRemind', { numberOfKeys: 1, lua: addScript });
    this.#redis = redis as RedisConnection & ReminderCommands;
    this.#ns = prefix;
    this.#retryAfterMs = retryAfterMs;
  }

  async add(roomId: string, userId: string, max: number): Promise<{ result: ReminderAdd; count: number }> {
    const [result, count] = await this.#call(() => this.#redis.lcRemind(this.#key(roomId), userId, max));
    if (result !== 'full') await this.#call(() => this.#redis.sadd(userKey(this.#ns, userId, 'reminders'), roomId));
    return { result: result as ReminderAdd, count: Number(count) };
  }

  async remove(roomId: string, userId: string): Promise<{ removed: boolean; count: number }> {
    const results = await this.#call(() => this.#redis.multi().srem(this.#key(roomId), userId).scard(this.#key(roomId)).exec());
    await this.#call(() => this.#redis.srem(userKey(this.#ns, userId, 'reminders'), roomId));
    return { removed: Number(results?.[0]?.[1] ?? 0) === 1, count: Number(results?.[1]?.[1] ?? 0) };
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

  async roomsOf(userId: string): Promise<string[]> {
    return this.#call(() => this.#redis.smembers(userKey(this.#ns, userId, 'reminders')));
  }

  async claimNotice(roomId: string): Promise<boolean> {
    return (await this.#call(() => this.#redis.set(roomKey(this.#ns, roomId, 'reminders-sent'), '1', 'NX'))) === 'OK';
  }

  async users(roomId: string): Promise<string[]> {
    return this.#call(() => this.#redis.smembers(this.#key(roomId)));
  }

  async close(): Promise<void> {}

  #key(roomId: string): string {
    return roomKey(this.#ns, roomId, 'reminders');
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'reminders');
  }
}
