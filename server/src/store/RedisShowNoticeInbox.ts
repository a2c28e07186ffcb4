import type { ShowLive } from '../../../protocol/src/index.ts';
import type { RedisConnection } from '../redis/client.ts';
import { userKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { ShowNoticeInbox } from './ShowNoticeInbox.ts';

/**
 * Notices shared by every node through Redis: per user, `ns:{u:USER}:show-notices`, a hash of
 * notice id → `EXPIRES_AT|notice JSON`, in the user's slot (one single-key script per user). The
 * key expires with its last notice, so a user who never comes back leaves nothing behind.
 */
// Keeps ARGV[2] under id ARGV[1]; past ARGV[4] entries, drops the expired (by ARGV[5]) then those expiring first.
const putScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local keep = tonumber(ARGV[4])
if redis.call('HLEN', KEYS[1]) > keep then
  local all = redis.call('HGETALL', KEYS[1])
  local live = {}
  for i = 1, #all, 2 do
    local at = tonumber(string.match(all[i + 1], '^(%d+)|'))
    if at == nil or at <= tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], all[i]) else live[#live + 1] = { all[i], at } end
  end
  table.sort(live, function(a, b) return a[2] < b[2] end)
  for i = 1, #live - keep do redis.call('HDEL', KEYS[1], live[i][1]) end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'NX')
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'GT')
return 1
`;

// Reads and deletes the user's inbox in one step: of two sockets joining at once, one gets the notices.
const takeScript = `
local all = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1])
return all
`;

type InboxCommands = {
  lcNoticePut(key: string, id: string, entry: string, expiresAt: number, keep: number, now: number): Promise<number>;
  lcNoticeTake(key: string): Promise<string[]>;
};

export class RedisShowNoticeInbox implements ShowNoticeInbox {
  readonly #redis: RedisConnection & InboxCommands;
  readonly #ns: string;
  readonly #retryAfterMs: number;
  readonly #now: () => number;

  /** Shares the node's connection for room state. */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number, now: () => number = Date.now) {
    redis.defineCommand('lcNoticePut', { numberOfKeys: 1, lua: putScript });
    redis.defineCommand('lcNoticeTake', { numberOfKeys: 1, lua: takeScript });
    this.#redis = redis as RedisConnection & InboxCommands;
    this.#ns = prefix;
    this.#retryAfterMs = retryAfterMs;
    this.#now = now;
  }

  async put(userIds: readonly string[], notice: ShowLive, expiresAt: number, keep: number): Promise<void> {
    const entry = `${expiresAt}|${JSON.stringify(notice)}`;
    const now = this.#now();
    await this.#call(() => Promise.all(userIds.map((userId) => this.#redis.lcNoticePut(this.#key(userId), notice.id, entry, expiresAt, keep, now))));
  }

  async take(userId: string, now: number): Promise<ShowLive[]> {
    const entries = await this.#call(() => this.#redis.lcNoticeTake(this.#key(userId)));
    const notices: Array<{ at: number; notice: ShowLive }> = [];
    for (const entry of entries) {
      const bar = entry.indexOf('|');
      const at = Number(entry.slice(0, bar));
      if (bar < 0 || !(at > now)) continue;
      try {
        notices.push({ at, notice: JSON.parse(entry.slice(bar + 1)) as ShowLive });
      } catch {
        // Not one of ours: skipped.
      }
    }
    return notices.sort((a, b) => a.at - b.at).map((kept) => kept.notice);
  }

  async delivered(userIds: readonly string[], noticeId: string): Promise<void> {
    await this.#call(() => Promise.all(userIds.map((userId) => this.#redis.hdel(this.#key(userId), noticeId))));
  }

  async close(): Promise<void> {}

  #key(userId: string): string {
    return userKey(this.#ns, userId, 'show-notices');
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'show notices');
  }
}
