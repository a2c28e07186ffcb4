import type { PublishedDraw } from '../giveaways/draw.ts';
import type { Giveaway } from '../giveaways/giveaway.ts';
import type { RedisConnection } from '../redis/client.ts';
import { roomBase, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { EntryAnswer, EntryRequest, GiveawayClose, GiveawayStatus, GiveawayStore } from './GiveawayStore.ts';

/*
 * Keys under the room's base `ns:{r:ROOM}` (one slot on Redis Cluster):
 *   :giveaway:ID          hash   def (the Giveaway's JSON), seed (secret until the draw), status ('open' or 'closed')
 *   :giveaway:ID:entries  set    user ids, one entry each
 *   :giveaway:ID:names    hash   user id → the name shown if they win (entrants who chose to show it)
 *   :giveaway:ID:draw     string the published draw's JSON, the first recorded
 *   :giveaway-current     string the id of the room's giveaway taking entries
 */

// ARGV: id, def JSON, seed. Returns 'created', 'exists' or 'busy'.
const createScript = `
local base, id = KEYS[1], ARGV[1]
local key = base .. ':giveaway:' .. id
if redis.call('EXISTS', key) == 1 then return 'exists' end
if redis.call('EXISTS', base .. ':giveaway-current') == 1 then return 'busy' end
redis.call('HSET', key, 'def', ARGV[2], 'seed', ARGV[3], 'status', 'open')
redis.call('SET', base .. ':giveaway-current', id)
return 'created'
`;

// ARGV: 4 per entry: giveaway id, user, at, name ('' = anonymous). One answer per entry: the status, then the count after it (or -1).
const enterScript = `
local base = KEYS[1]
local loaded = {}
local out = {}
for i = 1, #ARGV, 4 do
  local id, user, at, name = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local g = loaded[id]
  if g == nil then
    local key = base .. ':giveaway:' .. id
    local h = redis.call('HMGET', key, 'def', 'status')
    if h[1] then g = { entries = key .. ':entries', names = key .. ':names', def = cjson.decode(h[1]), status = h[2] } else g = false end
    loaded[id] = g
  end
  if not g then
    out[#out + 1] = { 'unknown_giveaway', -1 }
  elseif g.status ~= 'open' or at >= g.def.closesAt then
    out[#out + 1] = { 'closed', -1 }
  elseif at < g.def.opensAt then
    out[#out + 1] = { 'not_open', -1 }
  else
    local added = redis.call('SADD', g.entries, user)
    local status = 'already_entered'
    if added == 1 then
      status = 'entered'
      if name ~= '' then redis.call('HSET', g.names, user, name) end
    end
    out[#out + 1] = { status, redis.call('SCARD', g.entries) }
  end
end
return out
`;

// ARGV: id, now, early ('1' or '0'), cancel ('1' or '0'). Returns the result, then (once closed) the seed and the entrants.
const closeScript = `
local base, id, now, early, cancel = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4] == '1'
local key = base .. ':giveaway:' .. id
local h = redis.call('HMGET', key, 'def', 'seed', 'status')
if not h[1] then return { 'unknown' } end
if h[3] == 'cancelled' then return { 'cancelled' } end
if cancel and h[3] == 'open' then
  redis.call('HSET', key, 'status', 'cancelled')
  if redis.call('GET', base .. ':giveaway-current') == id then redis.call('DEL', base .. ':giveaway-current') end
  return { 'cancelled' }
end
local result = 'already_closed'
if h[3] == 'open' then
  if not early and now < cjson.decode(h[1]).closesAt then return { 'not_due' } end
  redis.call('HSET', key, 'status', 'closed')
  if redis.call('GET', base .. ':giveaway-current') == id then redis.call('DEL', base .. ':giveaway-current') end
  result = 'closed'
end
return { result, h[2], redis.call('SMEMBERS', key .. ':entries') }
`;

// ARGV: id, draw JSON. Keeps the first draw of an existing giveaway; returns the one kept ('' for no such giveaway).
const recordScript = `
local key = KEYS[1] .. ':giveaway:' .. ARGV[1]
if redis.call('EXISTS', key) == 0 then return '' end
redis.call('SET', key .. ':draw', ARGV[2], 'NX')
return redis.call('GET', key .. ':draw')
`;

type GiveawayCommands = {
  lcGiveawayCreate(base: string, id: string, def: string, seed: string): Promise<'created' | 'exists' | 'busy'>;
  lcGiveawayEnter(base: string, ...args: Array<string | number>): Promise<Array<[EntryAnswer['status'], number]>>;
  lcGiveawayClose(base: string, id: string, now: number, early: '1' | '0', cancel: '1' | '0'): Promise<[string, string?, string[]?]>;
  lcGiveawayRecord(base: string, id: string, draw: string): Promise<string>;
};

/** Giveaways shared by every node through Redis: entries are a set, so a user counts once across sockets and nodes. */
export class RedisGiveawayStore implements GiveawayStore {
  readonly #redis: RedisConnection & GiveawayCommands;
  readonly #ns: string;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state. */
  constructor(redis: RedisConnection, options: { prefix: string; retryAfterMs: number }) {
    redis.defineCommand('lcGiveawayCreate', { numberOfKeys: 1, lua: createScript });
    redis.defineCommand('lcGiveawayEnter', { numberOfKeys: 1, lua: enterScript });
    redis.defineCommand('lcGiveawayClose', { numberOfKeys: 1, lua: closeScript });
    redis.defineCommand('lcGiveawayRecord', { numberOfKeys: 1, lua: recordScript });
    this.#redis = redis as RedisConnection & GiveawayCommands;
    this.#ns = options.prefix;
    this.#retryAfterMs = options.retryAfterMs;
  }

  async createGiveaway(giveaway: Giveaway, seed: string): Promise<'created' | 'exists' | 'busy'> {
    return this.#call(() => this.#redis.lcGiveawayCreate(roomBase(this.#ns, giveaway.roomId), giveaway.id, JSON.stringify(giveaway), seed));
  }

  async giveaway(roomId: string, giveawayId: string): Promise<{ giveaway: Giveaway; status: GiveawayStatus; entrants: number } | undefined> {
    const key = this.#key(roomId, giveawayId);
    const results = await this.#call(() => this.#redis.multi().hmget(key, 'def', 'status').scard(`${key}:entries`).exec());
    const [def, status] = (results?.[0]?.[1] as Array<string | null> | undefined) ?? [];
    if (def == null) return undefined;
    return { giveaway: JSON.parse(def) as Giveaway, status: status as GiveawayStatus, entrants: Number(results?.[1]?.[1] ?? 0) };
  }

  async currentGiveaway(roomId: string): Promise<string | null> {
    return this.#call(() => this.#redis.get(roomKey(this.#ns, roomId, 'giveaway-current')));
  }

  async enter(requests: readonly EntryRequest[]): Promise<EntryAnswer[]> {
    const out = new Array<EntryAnswer>(requests.length);
    const byRoom = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const indexes = byRoom.get(r.roomId);
      if (indexes === undefined) byRoom.set(r.roomId, [i]);
      else indexes.push(i);
    });
    // One script per room: a script stays in its room's slot.
    await Promise.all([...byRoom].map(async ([roomId, indexes]) => {
      const args = indexes.flatMap((i) => [requests[i]!.giveawayId, requests[i]!.userId, requests[i]!.at, requests[i]!.name ?? '']);
      const answers = await this.#call(() => this.#redis.lcGiveawayEnter(roomBase(this.#ns, roomId), ...args));
      indexes.forEach((index, j) => {
        const [status, entrants] = answers[j]!;
        out[index] = status === 'entered' || status === 'already_entered' ? { status, entrants: Number(entrants) } : { status };
      });
    }));
    return out;
  }

  async closeEntries(roomId: string, giveawayId: string, now: number, early: boolean, cancel = false): Promise<GiveawayClose> {
    const [result, seed, userIds] = await this.#call(() => this.#redis.lcGiveawayClose(roomBase(this.#ns, roomId), giveawayId, now, early ? '1' : '0', cancel ? '1' : '0'));
    if (result === 'closed' || result === 'already_closed') return { result, seed: seed!, userIds: userIds ?? [] };
    return { result: result as 'not_due' | 'unknown' | 'cancelled' };
  }

  async names(roomId: string, giveawayId: string, userIds: readonly string[]): Promise<Array<string | undefined>> {
    if (userIds.length === 0) return [];
    const names = await this.#call(() => this.#redis.hmget(`${this.#key(roomId, giveawayId)}:names`, ...userIds));
    return names.map((name) => name ?? undefined);
  }

  async recordDraw(draw: PublishedDraw): Promise<PublishedDraw> {
    const kept = await this.#call(() => this.#redis.lcGiveawayRecord(roomBase(this.#ns, draw.roomId), draw.giveawayId, JSON.stringify(draw)));
    return kept === '' ? draw : (JSON.parse(kept) as PublishedDraw);
  }

  async draw(roomId: string, giveawayId: string): Promise<PublishedDraw | undefined> {
    const json = await this.#call(() => this.#redis.get(`${this.#key(roomId, giveawayId)}:draw`));
    return json === null ? undefined : (JSON.parse(json) as PublishedDraw);
  }

  async close(): Promise<void> {}

  #key(roomId: string, giveawayId: string): string {
    return roomKey(this.#ns, roomId, `giveaway:${giveawayId}`);
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'giveaways');
  }
}
