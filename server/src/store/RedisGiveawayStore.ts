import type { GiveawayResult } from '../../../protocol/src/index.ts';
import type { PublishedDraw } from '../giveaways/draw.ts';
import type { Giveaway } from '../giveaways/giveaway.ts';
import type { RedisConnection } from '../redis/client.ts';
import { roomBase, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { EntryAnswer, EntryRequest, GiveawayClose, GiveawayCreation, GiveawayStatus, GiveawayStore, HeldGiveaway } from './GiveawayStore.ts';

/** Entrants read per SSCAN call at the draw. */
const ENTRANTS_PER_SCAN = 1000;

/*
 * Keys under the room's base `ns:{r:ROOM}` (one slot on Redis Cluster):
 *   :giveaway:ID                 hash   def (the Giveaway's JSON), seed (secret until the draw), status ('open', 'closed' or 'cancelled'), serial,
 *                                       result (the drawn result's JSON, the first kept)
 *   :giveaway:ID:entries         set    user ids, one entry each
 *   :giveaway:ID:names           hash   user id → the name shown if they win (entrants who chose to show it)
 *   :giveaway:ID:answer:RECORD   string an entry's first answer ('entered|N' or 'already_entered|N'), for the record TTL
 *   :giveaway:ID:draw            string the published draw's JSON, the first recorded
 *   :giveaway-current            string the id of the room's giveaway taking entries
 *   :giveaway-latest             string the id of the room's latest opened giveaway
 *   :giveaway-serial             string the room's last giveaway serial
 */

// ARGV: id, def JSON, seed. Returns { 'created', serial }, { 'exists' } or { 'busy' }.
const createScript = `
local base, id = KEYS[1], ARGV[1]
local key = base .. ':giveaway:' .. id
if redis.call('EXISTS', key) == 1 then return { 'exists' } end
if redis.call('EXISTS', base .. ':giveaway-current') == 1 then return { 'busy' } end
local serial = redis.call('INCR', base .. ':giveaway-serial')
redis.call('HSET', key, 'def', ARGV[2], 'seed', ARGV[3], 'status', 'open', 'serial', serial)
redis.call('SET', base .. ':giveaway-current', id)
redis.call('SET', base .. ':giveaway-latest', id)
return { 'created', serial }
`;

// ARGV: the record TTL (ms), then 5 per entry: giveaway id, user, at, name ('' = anonymous), record name.
// One answer per entry: the status, then the count after it (or -1). An entered user's answer stands
// after the close: their key's first answer, else already_entered; the cap and the window refuse others only.
const enterScript = `
local base, ttl = KEYS[1], tonumber(ARGV[1])
local loaded = {}
local out = {}
for i = 2, #ARGV, 5 do
  local id, user, at, name, record = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local g = loaded[id]
  if g == nil then
    local key = base .. ':giveaway:' .. id
    local h = redis.call('HMGET', key, 'def', 'status')
    if h[1] then g = { key = key, entries = key .. ':entries', names = key .. ':names', def = cjson.decode(h[1]), status = h[2] } else g = false end
    loaded[id] = g
  end
  if not g then
    out[#out + 1] = { 'unknown_giveaway', -1 }
  else
    local answerKey = g.key .. ':answer:' .. record
    local seen = redis.call('GET', answerKey)
    if seen then
      local bar = string.find(seen, '|', 1, true)
      out[#out + 1] = { string.sub(seen, 1, bar - 1), tonumber(string.sub(seen, bar + 1)) }
    elseif redis.call('SISMEMBER', g.entries, user) == 1 then
      local count = redis.call('SCARD', g.entries)
      redis.call('SET', answerKey, 'already_entered|' .. count, 'PX', ttl)
      out[#out + 1] = { 'already_entered', count }
    elseif g.status ~= 'open' or at >= g.def.closesAt then
      out[#out + 1] = { 'closed', -1 }
    elseif at < g.def.opensAt then
      out[#out + 1] = { 'not_open', -1 }
    else
      local count = redis.call('SCARD', g.entries)
      if g.def.maxEntrants and count >= g.def.maxEntrants then
        out[#out + 1] = { 'full', count }
      else
        redis.call('SADD', g.entries, user)
        if name ~= '' then redis.call('HSET', g.names, user, name) end
        redis.call('SET', answerKey, 'entered|' .. (count + 1), 'PX', ttl)
        out[#out + 1] = { 'entered', count + 1 }
      end
    end
  end
end
return out
`;

// ARGV: id, now, early ('1' or '0'), cancel ('1' or '0'). Returns the result, then (once closed) the
// seed: the entrants are read after it in chunks (the set no longer changes once closed).
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
return { result, h[2] }
`;

// ARGV: id, draw JSON. Keeps the first draw of an existing giveaway; returns the one kept ('' for no such giveaway).
const recordScript = `
local key = KEYS[1] .. ':giveaway:' .. ARGV[1]
if redis.call('EXISTS', key) == 0 then return '' end
redis.call('SET', key .. ':draw', ARGV[2], 'NX')
return redis.call('GET', key .. ':draw')
`;

// KEYS: the giveaway's hash; ARGV: the result's JSON. Only an existing giveaway takes it (HSETNX alone would create one); the first kept stays.
const resultScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSETNX', KEYS[1], 'result', ARGV[1]) end
return 1
`;

type GiveawayCommands = {
  lcGiveawayResult(key: string, result: string): Promise<number>;
  lcGiveawayCreate(base: string, id: string, def: string, seed: string): Promise<['created', number] | ['exists' | 'busy']>;
  lcGiveawayEnter(base: string, ...args: Array<string | number>): Promise<Array<[EntryAnswer['status'], number]>>;
  lcGiveawayClose(base: string, id: string, now: number, early: '1' | '0', cancel: '1' | '0'): Promise<[string, string?]>;
  lcGiveawayRecord(base: string, id: string, draw: string): Promise<string>;
};

/** Giveaways shared by every node through Redis: entries are a set, so a user counts once across sockets and nodes. */
export class RedisGiveawayStore implements GiveawayStore {
  readonly #redis: RedisConnection & GiveawayCommands;
  readonly #ns: string;
  readonly #retryAfterMs: number;
  readonly #recordTtlMs: number;
  readonly #scanCount: number;

  /**
   * Shares the node's connection for room state. `recordTtlMs`: how long an entry's first answer is
   * kept for its key (`--idempotency-ttl-ms`); `scanCount`: entrants read per call at the draw.
   */
  constructor(redis: RedisConnection, options: { prefix: string; retryAfterMs: number; recordTtlMs?: number; scanCount?: number }) {
    redis.defineCommand('lcGiveawayCreate', { numberOfKeys: 1, lua: createScript });
    redis.defineCommand('lcGiveawayEnter', { numberOfKeys: 1, lua: enterScript });
    redis.defineCommand('lcGiveawayClose', { numberOfKeys: 1, lua: closeScript });
    redis.defineCommand('lcGiveawayRecord', { numberOfKeys: 1, lua: recordScript });
    redis.defineCommand('lcGiveawayResult', { numberOfKeys: 1, lua: resultScript });
    this.#redis = redis as RedisConnection & GiveawayCommands;
    this.#ns = options.prefix;
    this.#retryAfterMs = options.retryAfterMs;
    this.#recordTtlMs = options.recordTtlMs ?? 86_400_000;
    this.#scanCount = options.scanCount ?? ENTRANTS_PER_SCAN;
  }

  async createGiveaway(giveaway: Giveaway, seed: string): Promise<GiveawayCreation> {
    const { serial: _given, ...def } = giveaway;
    const [result, serial] = await this.#call(() => this.#redis.lcGiveawayCreate(roomBase(this.#ns, giveaway.roomId), giveaway.id, JSON.stringify(def), seed));
    return result === 'created' ? { result, serial: Number(serial) } : { result };
  }

  async giveaway(roomId: string, giveawayId: string): Promise<HeldGiveaway | undefined> {
    const key = this.#key(roomId, giveawayId);
    const results = await this.#call(() => this.#redis.multi().hmget(key, 'def', 'status', 'serial', 'result').scard(`${key}:entries`).exec());
    const [def, status, serial, result] = (results?.[0]?.[1] as Array<string | null> | undefined) ?? [];
    if (def == null) return undefined;
    const parsed = JSON.parse(def) as Giveaway;
    const giveaway = serial == null ? parsed : { ...parsed, serial: Number(serial) };
    const found = { giveaway, status: status as GiveawayStatus, entrants: Number(results?.[1]?.[1] ?? 0) };
    return result == null ? found : { ...found, result: JSON.parse(result) as GiveawayResult };
  }

  async currentGiveaway(roomId: string): Promise<string | null> {
    return this.#call(() => this.#redis.get(roomKey(this.#ns, roomId, 'giveaway-current')));
  }

  async latestGiveaway(roomId: string): Promise<string | null> {
    return this.#call(() => this.#redis.get(roomKey(this.#ns, roomId, 'giveaway-latest')));
  }

  async recorded(roomId: string, giveawayId: string, record: string): Promise<EntryAnswer | undefined> {
    const seen = await this.#call(() => this.#redis.get(`${this.#key(roomId, giveawayId)}:answer:${record}`));
    if (seen === null) return undefined;
    const bar = seen.indexOf('|');
    return { status: seen.slice(0, bar) as 'entered' | 'already_entered', entrants: Number(seen.slice(bar + 1)) };
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
      const args = indexes.flatMap((i) => [requests[i]!.giveawayId, requests[i]!.userId, requests[i]!.at, requests[i]!.name ?? '', requests[i]!.record]);
      const answers = await this.#call(() => this.#redis.lcGiveawayEnter(roomBase(this.#ns, roomId), this.#recordTtlMs, ...args));
      indexes.forEach((index, j) => {
        const [status, entrants] = answers[j]!;
        out[index] = status === 'entered' || status === 'already_entered' || status === 'full' ? { status, entrants: Number(entrants) } : { status };
      });
    }));
    return out;
  }

  async closeEntries(roomId: string, giveawayId: string, now: number, early: boolean, cancel = false): Promise<GiveawayClose> {
    const [result, seed] = await this.#call(() => this.#redis.lcGiveawayClose(roomBase(this.#ns, roomId), giveawayId, now, early ? '1' : '0', cancel ? '1' : '0'));
    if (result === 'closed' || result === 'already_closed') return { result, seed: seed!, userIds: await this.#entrants(roomId, giveawayId) };
    return { result: result as 'not_due' | 'unknown' | 'cancelled' };
  }

  /**
   * A closed giveaway's entrants, read in chunks (SSCAN): one call for a million entrants would hold
   * Redis for its whole length. The set no longer changes once closed, so the scan sees each entrant
   * (maybe twice: kept once).
   */
  async #entrants(roomId: string, giveawayId: string): Promise<string[]> {
    const key = `${this.#key(roomId, giveawayId)}:entries`;
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, members] = await this.#call(() => this.#redis.sscan(key, cursor, 'COUNT', this.#scanCount));
      for (const member of members) seen.add(member);
      cursor = next;
    } while (cursor !== '0');
    return [...seen];
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

  async recordResult(roomId: string, giveawayId: string, result: GiveawayResult): Promise<void> {
    const key = this.#key(roomId, giveawayId);
    await this.#call(() => this.#redis.lcGiveawayResult(key, JSON.stringify(result)));
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
