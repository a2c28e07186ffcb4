import type { DegradeLevelValue, Moderator, PinnedComment, Popup, Product, RoomInfo, RoomState } from '../../../protocol/src/index.ts';
import type { RedisConnection } from '../redis/client.ts';
import { globalKey, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { Ban, KeywordFilterRecord, PinRecord, RoomDirectory, RoomModeration, RoomRecord, RoomSettings, RoomSettingsChange } from './RoomDirectory.ts';

/**
 * Rooms shared by every node through Redis. Keys of a room (redis/keys.ts, in the room's slot):
 *   ns:{r:ID}:room       hash info (JSON), state, missed ("1": a show the server ended, never started),
 *                        epoch, popup (JSON or ""), likes, and the operators'
 *                        settings: settingsVersion, degradeOverride and queueLimit ("" or absent: none);
 *                        streamKeyGeneration (absent: 0)
 *   ns:{r:ID}:catalog    hash sku → product JSON
 *   ns:{r:ID}:muted      set of user ids
 *   ns:{r:ID}:bans       hash user id → banned until (epoch ms)
 *   ns:{r:ID}:ban-names  hash user id → the name moderators see in the ban list
 *   ns:{r:ID}:offers     hash sku → when its pop-up offer ends (epoch ms)
 *   ns:{r:ID}:pins       list of "AT|SKU", the pin log (oldest first, the latest kept)
 *   ns:{r:ID}:viewers    hash node id → "count|reportedAt"
 *   ns:{r:ID}:moderators hash user id → JSON { name, at } (at: the order of appointment)
 *   ns:{r:ID}:moderation hash filter (JSON list of words), filterVersion, pinned (JSON pinned comment, absent: none)
 *   ns:{r:ID}:shows      list of the show ids linked to the shop ID, newest first (shops only)
 * and one key of its own: ns:room-ids, the set of room ids.
 */
const createScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], 'info', ARGV[1], 'state', ARGV[2], 'epoch', ARGV[3], 'popup', '', 'likes', 0)
return 'created'
`;

// Moves the room to ARGV[1] unless it is gone or has ended; returns 1 if it moved.
const setStateScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'ended' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
return 1
`;

// Ends the room as missed if it is still scheduled; returns 1 if it did.
const missScript = `
if redis.call('HGET', KEYS[1], 'state') ~= 'scheduled' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ended', 'missed', '1')
return 1
`;

const viewersScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
local now, fresh = tonumber(ARGV[3]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, '|', 1, true)
  local count, at = tonumber(string.sub(v, 1, sep - 1)), tonumber(string.sub(v, sep + 1))
  if now - at > fresh then redis.call('HDEL', KEYS[1], all[i]) else total = total + count end
end
return total
`;

// Sets a ban, and drops the bans that ended by now (and their names): a room's hash holds only bans in force.
const banScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local now = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
  end
end
return 1
`;

// An operator's change to a room's settings: only for a room that exists, and the version grows with it.
// ARGV: field, value pairs. Returns { version, degradeOverride, queueLimit }, or nil.
const settingsScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local version = redis.call('HINCRBY', KEYS[1], 'settingsVersion', 1)
local values = redis.call('HMGET', KEYS[1], 'degradeOverride', 'queueLimit')
return { version, values[1] or '', values[2] or '' }
`;

// Appoints (ARGV[3] "1") or removes a moderator; the cap counts those appointed. Returns the hash, or 'full'.
const moderatorScript = `
if ARGV[3] == '1' then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
    if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 'full' end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  end
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
`;

// A new stream key generation, only for a room that exists.
const rotateKeyScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
return redis.call('HINCRBY', KEYS[1], 'streamKeyGeneration', 1)
`;

type DirectoryCommands = {
  lcRotateStreamKey(room: string): Promise<number | null>;
  lcRoomSettings(room: string, ...fieldValues: string[]): Promise<[number, string, string] | null>;
  lcRoomCreate(room: string, info: string, state: string, epoch: string): Promise<string>;
  lcRoomState(room: string, state: string): Promise<number>;
  lcRoomMiss(room: string): Promise<number>;
  lcRoomViewers(k1: string, node: string, count: number, now: number, fresh: number): Promise<number>;
  lcSetModerator(moderators: string, userId: string, json: string, appointed: string, max: number): Promise<string[] | 'full'>;
  lcSetBan(bans: string, names: string, userId: string, until: number, name: string, now: number): Promise<number>;
};

export class RedisRoomDirectory implements RoomDirectory {
  readonly #redis: RedisConnection & DirectoryCommands;
  readonly #ns: string;
  readonly #retryAfterMs: number;

  /** Shares the store's connection: one client per node for commands. */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number) {
    redis.defineCommand('lcRoomCreate', { numberOfKeys: 1, lua: createScript });
    redis.defineCommand('lcRoomState', { numberOfKeys: 1, lua: setStateScript });
    redis.defineCommand('lcRoomMiss', { numberOfKeys: 1, lua: missScript });
    redis.defineCommand('lcRoomViewers', { numberOfKeys: 1, lua: viewersScript });
    redis.defineCommand('lcSetBan', { numberOfKeys: 2, lua: banScript });
    redis.defineCommand('lcRoomSettings', { numberOfKeys: 1, lua: settingsScript });
    redis.defineCommand('lcRotateStreamKey', { numberOfKeys: 1, lua: rotateKeyScript });
    redis.defineCommand('lcSetModerator', { numberOfKeys: 1, lua: moderatorScript });
    this.#redis = redis as RedisConnection & DirectoryCommands;
    this.#ns = prefix;
    this.#retryAfterMs = retryAfterMs;
  }

  /**
   * The room's hash and the room list live in different slots on a cluster, so the cap is checked
   * before the create: rooms created at the same instant on several nodes can pass it together.
   */
  async create(info: RoomInfo, epoch: string, maxRooms: number): Promise<'created' | 'exists' | 'full'> {
    const { state, ...rest } = info;
    const ids = globalKey(this.#ns, 'room-ids');
    const [count, exists] = await this.#call(() => Promise.all([this.#redis.scard(ids), this.#redis.exists(this.#key('room', info.id))]));
    if (exists === 0 && count >= maxRooms) return 'full';
    const result = await this.#call(() => this.#redis.lcRoomCreate(this.#key('room', info.id), JSON.stringify(rest), state, epoch));
    if (result === 'created') await this.#call(() => this.#redis.sadd(ids, info.id));
    return result as 'created' | 'exists';
  }

  async get(roomId: string): Promise<RoomRecord | undefined> {
    const results = await this.#call(() =>
      this.#redis
        .multi()
        .hgetall(this.#key('room', roomId))
        .hvals(this.#key('catalog', roomId))
        .smembers(this.#key('muted', roomId))
        .hgetall(this.#key('bans', roomId))
        .hgetall(this.#key('offers', roomId))
        .hgetall(this.#key('moderators', roomId))
        .hgetall(this.#key('moderation', roomId))
        .exec(),
    );
    const room = results?.[0]?.[1] as Record<string, string> | undefined;
    if (room === undefined || room.info === undefined) return undefined;
    const bans: Record<string, number> = {};
    for (const [userId, until] of Object.entries((results?.[3]?.[1] as Record<string, string>) ?? {})) bans[userId] = Number(until);
    const offerEnds: Record<string, number> = {};
    for (const [sku, endsAt] of Object.entries((results?.[4]?.[1] as Record<string, string>) ?? {})) offerEnds[sku] = Number(endsAt);
    return {
      info: infoOf(room.info, room.state ?? null, room.missed ?? null),
      epoch: room.epoch ?? '',
      catalog: ((results?.[1]?.[1] as string[]) ?? []).map((json) => JSON.parse(json) as Product),
      popup: room.popup ? (JSON.parse(room.popup) as Popup) : null,
      muted: (results?.[2]?.[1] as string[]) ?? [],
      bans,
      likes: Number(room.likes ?? 0),
      offerEnds,
      settings: settingsOf(room.settingsVersion, room.degradeOverride, room.queueLimit),
      moderation: moderationOf((results?.[5]?.[1] as Record<string, string>) ?? {}, (results?.[6]?.[1] as Record<string, string>) ?? {}),
    };
  }

  async list(): Promise<RoomInfo[]> {
    const ids = await this.#call(() => this.#redis.smembers(globalKey(this.#ns, 'room-ids')));
    if (ids.length === 0) return [];
    // One command per room (rooms live in different slots): ioredis sends those of one turn together.
    const results = await this.#call(() => Promise.all(ids.map((id) => this.#redis.hmget(this.#key('room', id), 'info', 'state', 'missed'))));
    const out: RoomInfo[] = [];
    for (const value of results) {
      const [info, state, missed] = value as [string | null, string | null, string | null];
      if (info !== null) out.push(infoOf(info, state, missed));
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async setState(roomId: string, state: RoomState): Promise<boolean> {
    return Number(await this.#call(() => this.#redis.lcRoomState(this.#key('room', roomId), state))) === 1;
  }

  async missShow(roomId: string): Promise<boolean> {
    return Number(await this.#call(() => this.#redis.lcRoomMiss(this.#key('room', roomId)))) === 1;
  }

  async putProduct(roomId: string, product: Product): Promise<void> {
    await this.#call(() => this.#redis.hset(this.#key('catalog', roomId), product.sku, JSON.stringify(product)));
  }

  async setPopup(roomId: string, popup: Popup | null, keepPins: number): Promise<void> {
    const multi = this.#redis.multi().hset(this.#key('room', roomId), 'popup', popup === null ? '' : JSON.stringify(popup));
    if (popup !== null) {
      if (popup.endsAt !== undefined) multi.hset(this.#key('offers', roomId), popup.product.sku, popup.endsAt);
      else multi.hdel(this.#key('offers', roomId), popup.product.sku);
      multi.rpush(this.#key('pins', roomId), `${popup.pinnedAt}|${popup.product.sku}`).ltrim(this.#key('pins', roomId), -keepPins, -1);
    }
    await this.#call(() => multi.exec());
  }

  async pins(roomId: string): Promise<PinRecord[]> {
    const entries = await this.#call(() => this.#redis.lrange(this.#key('pins', roomId), 0, -1));
    return entries.flatMap((entry) => {
      const bar = entry.indexOf('|');
      const at = Number(entry.slice(0, bar));
      return bar > 0 && Number.isFinite(at) ? [{ sku: entry.slice(bar + 1), at }] : [];
    });
  }

  async setModerator(roomId: string, moderator: Moderator, appointed: boolean, max: number): Promise<readonly Moderator[] | 'full'> {
    const json = JSON.stringify({ name: moderator.name, at: Date.now() });
    const result = await this.#call(() => this.#redis.lcSetModerator(this.#key('moderators', roomId), moderator.userId, json, appointed ? '1' : '0', max));
    if (result === 'full') return 'full';
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < result.length; i += 2) hash[result[i]!] = result[i + 1]!;
    return moderatorsOf(hash);
  }

  async setFilter(roomId: string, words: readonly string[]): Promise<KeywordFilterRecord> {
    const key = this.#key('moderation', roomId);
    const results = await this.#call(() => this.#redis.multi().hset(key, 'filter', JSON.stringify(words)).hincrby(key, 'filterVersion', 1).exec());
    return { version: Number(results?.[1]?.[1] ?? 0), words: [...words] };
  }

  async setPinnedComment(roomId: string, pinned: PinnedComment | null): Promise<void> {
    const key = this.#key('moderation', roomId);
    await this.#call(() => (pinned === null ? this.#redis.hdel(key, 'pinned') : this.#redis.hset(key, 'pinned', JSON.stringify(pinned))));
  }

  async setMuted(roomId: string, userId: string, muted: boolean): Promise<void> {
    const key = this.#key('muted', roomId);
    await this.#call(() => (muted ? this.#redis.sadd(key, userId) : this.#redis.srem(key, userId)));
  }

  async setBan(roomId: string, userId: string, until: number, name: string, now: number): Promise<void> {
    await this.#call(() => this.#redis.lcSetBan(this.#key('bans', roomId), this.#key('ban-names', roomId), userId, until, name, now));
  }

  async clearBan(roomId: string, userId: string, now: number): Promise<boolean> {
    const results = await this.#call(() => this.#redis.multi().hget(this.#key('bans', roomId), userId).hdel(this.#key('bans', roomId), userId).hdel(this.#key('ban-names', roomId), userId).exec());
    const until = results?.[0]?.[1] as string | null | undefined;
    return until !== null && until !== undefined && Number(until) > now;
  }

  async bans(roomId: string, now: number): Promise<Ban[]> {
    const results = await this.#call(() => this.#redis.multi().hgetall(this.#key('bans', roomId)).hgetall(this.#key('ban-names', roomId)).exec());
    const names = (results?.[1]?.[1] as Record<string, string> | undefined) ?? {};
    const out: Ban[] = [];
    for (const [userId, until] of Object.entries((results?.[0]?.[1] as Record<string, string> | undefined) ?? {})) {
      if (Number(until) > now) out.push({ userId, name: names[userId] ?? userId, until: Number(until) });
    }
    return out.sort((a, b) => a.until - b.until);
  }

  async addLikes(roomId: string, taps: number): Promise<number> {
    return this.#call(() => this.#redis.hincrby(this.#key('room', roomId), 'likes', taps));
  }

  async streamKeyGeneration(roomId: string): Promise<number | undefined> {
    const [info, generation] = await this.#call(() => this.#redis.hmget(this.#key('room', roomId), 'info', 'streamKeyGeneration'));
    return info === null ? undefined : Number(generation ?? 0);
  }

  async rotateStreamKey(roomId: string): Promise<number | undefined> {
    const generation = await this.#call(() => this.#redis.lcRotateStreamKey(this.#key('room', roomId)));
    return generation === null ? undefined : Number(generation);
  }

  async updateSettings(roomId: string, change: RoomSettingsChange): Promise<RoomSettings | undefined> {
    const fieldValues: string[] = [];
    if (change.degradeOverride !== undefined) fieldValues.push('degradeOverride', change.degradeOverride === null ? '' : String(change.degradeOverride));
    if (change.queueLimit !== undefined) fieldValues.push('queueLimit', change.queueLimit === null ? '' : String(change.queueLimit));
    const result = await this.#call(() => this.#redis.lcRoomSettings(this.#key('room', roomId), ...fieldValues));
    return result === null ? undefined : settingsOf(result[0], result[1], result[2]);
  }

  async reportViewers(roomId: string, nodeId: string, count: number, now: number, freshMs: number): Promise<number> {
    return Number(await this.#call(() => this.#redis.lcRoomViewers(this.#key('viewers', roomId), nodeId, count, now, freshMs)));
  }

  async close(): Promise<void> {}

  async linkShow(shopId: string, roomId: string, keep: number): Promise<void> {
    const key = this.#key('shows', shopId);
    await this.#call(() => this.#redis.multi().lrem(key, 0, roomId).lpush(key, roomId).ltrim(key, 0, keep - 1).exec());
  }

  async shows(shopId: string): Promise<string[]> {
    return this.#call(() => this.#redis.lrange(this.#key('shows', shopId), 0, -1));
  }

  #key(kind: string, roomId: string): string {
    return roomKey(this.#ns, roomId, kind);
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'room directory');
  }
}

/** The settings as the room's hash holds them ("" or absent: not set). */
function settingsOf(version: string | number | undefined, degradeOverride: string | undefined, queueLimit: string | undefined): RoomSettings {
  return {
    version: Number(version ?? 0),
    degradeOverride: degradeOverride === undefined || degradeOverride === '' ? null : (Number(degradeOverride) as DegradeLevelValue),
    queueLimit: queueLimit === undefined || queueLimit === '' ? null : Number(queueLimit),
  };
}

/** Moderators as their hash holds them, in the order they were appointed. */
function moderatorsOf(hash: Record<string, string>): Moderator[] {
  return Object.entries(hash)
    .map(([userId, json]) => ({ userId, ...(JSON.parse(json) as { name: string; at: number }) }))
    .sort((a, b) => a.at - b.at || (a.userId < b.userId ? -1 : 1))
    .map(({ userId, name }) => ({ userId, name }));
}

function moderationOf(moderators: Record<string, string>, moderation: Record<string, string>): RoomModeration {
  return {
    moderators: moderatorsOf(moderators),
    filter: { version: Number(moderation.filterVersion ?? 0), words: moderation.filter ? (JSON.parse(moderation.filter) as string[]) : [] },
    pinnedComment: moderation.pinned ? (JSON.parse(moderation.pinned) as PinnedComment) : null,
  };
}

/** A room's info from its hash fields. */
function infoOf(info: string, state: string | null, missed: string | null): RoomInfo {
  return { ...(JSON.parse(info) as Omit<RoomInfo, 'state'>), state: state as RoomState, ...(missed === '1' ? { missed: true as const } : {}) };
}
