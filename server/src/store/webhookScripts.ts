/**
 * Lua scripts of the Redis webhook outbox (RedisWebhookOutbox). The outbox of a room lives under
 * the room's key base (`:wh`, `:wh-due`, `:wh-tries`, see redisScripts.ts), so the store's order
 * scripts append to it atomically with the order change; these scripts claim and settle its
 * deliveries, one room (one slot) per call.
 */

/**
 * KEYS: room base. ARGV: now, lease ms, limit. Leases up to `limit` due deliveries until now +
 * lease and counts the attempt. Returns { next due score or '', then per delivery: its JSON, its attempt }.
 */
export const claimScript = `
local base = KEYS[1]
local now, lease, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', base .. ':wh-due', '-inf', now, 'LIMIT', 0, limit)
local out = { '' }
for _, id in ipairs(due) do
  local json = redis.call('HGET', base .. ':wh', id)
  if json then
    local attempt = redis.call('HINCRBY', base .. ':wh-tries', id, 1)
    redis.call('ZADD', base .. ':wh-due', now + lease, id)
    out[#out + 1] = json
    out[#out + 1] = tostring(attempt)
  else
    redis.call('ZREM', base .. ':wh-due', id)
  end
end
local head = redis.call('ZRANGE', base .. ':wh-due', 0, 0, 'WITHSCORES')
if head[2] then out[1] = head[2] end
return out
`;

/**
 * KEYS: room base. ARGV: delivery id, attempt, state ('delivered' | 'retrying' | 'failed'), next
 * attempt at (retrying). Nothing happens unless `attempt` is the delivery's latest. Returns
 * { 'stale' | 'ok', the room's next due score or '' }.
 */
export const settleScript = `
local base = KEYS[1]
local id, attempt, state, nextAt = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local head = function()
  local first = redis.call('ZRANGE', base .. ':wh-due', 0, 0, 'WITHSCORES')
  return first[2] or ''
end
if tonumber(redis.call('HGET', base .. ':wh-tries', id) or '-1') ~= attempt then return { 'stale', head() } end
if state == 'retrying' then
  redis.call('ZADD', base .. ':wh-due', nextAt, id)
else
  redis.call('HDEL', base .. ':wh', id)
  redis.call('HDEL', base .. ':wh-tries', id)
  redis.call('ZREM', base .. ':wh-due', id)
end
return { 'ok', head() }
`;

/**
 * KEYS: the log hash (delivery id → entry JSON), its recency zset (delivery id → last change),
 * both under one hash tag. ARGV: delivery id, entry JSON, changed at, entries kept. The newest
 * `kept` deliveries stay.
 */
export const logScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 1
`;
