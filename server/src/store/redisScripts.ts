/**
 * Lua scripts of the Redis store. Each runs atomically in Redis, so one call is one consistent step
 * whatever other nodes do. Loaded once and called by SHA (ioredis `defineCommand`).
 *
 * Keys, under the namespace `ns`:
 *   ns:inv:ROOM:SKU      hash  avail res sold price cur start end limit
 *   ns:invs:ROOM         set   skus of the room
 *   ns:cart:ROOM:USER    hash  sku → "qty|expiresAt"
 *   ns:bought:ROOM:USER  hash  sku → units bought (per-customer limit)
 *   ns:exp               zset  "ROOM\tSKU\tUSER" scored by expiresAt (swept by the servers)
 *   ns:idem:N:USER:KEY   string "FINGERPRINT\nANSWER": the first answer (JSON) and what it answered; N is the
 *                        user id's length, so user and key cannot run into each other (idempotency.ts)
 *   ns:orderseq          counter for order ids
 *   ns:orders            hash  order id → order JSON (durable record)
 *   ns:order-stream      stream of orders (for downstream consumers)
 *   ns:room-orders:ROOM  list  order ids of the room
 * Single-instance Redis (not Cluster): scripts compute keys of several rooms and users.
 */

const common = `
local ns = ARGV[1]
local now = tonumber(ARGV[2])
local idemTtl = tonumber(ARGV[3])

-- The answer recorded for an idempotency record, marked '~' (a replay), or a mismatch error when it answered another request.
local function recordedAnswer(seen, fingerprint)
  local nl = string.find(seen, '\\n', 1, true)
  if not nl then return '~' .. seen end
  if string.sub(seen, 1, nl - 1) ~= fingerprint then return '{"error":"IDEMPOTENCY_MISMATCH"}' end
  return '~' .. string.sub(seen, nl + 1)
end

local function parseLine(line)
  local sep = string.find(line, '|', 1, true)
  return tonumber(string.sub(line, 1, sep - 1)), tonumber(string.sub(line, sep + 1))
end

-- Returns a line's units to stock; answers available after.
local function release(room, user, sku)
  local inv = ns .. ':inv:' .. room .. ':' .. sku
  local cart = ns .. ':cart:' .. room .. ':' .. user
  local line = redis.call('HGET', cart, sku)
  local avail
  if line then
    local q = parseLine(line)
    avail = redis.call('HINCRBY', inv, 'avail', q)
    redis.call('HINCRBY', inv, 'res', -q)
    redis.call('HDEL', cart, sku)
  else
    avail = tonumber(redis.call('HGET', inv, 'avail') or '0')
  end
  redis.call('ZREM', ns .. ':exp', room .. '\\t' .. sku .. '\\t' .. user)
  return avail
end
`;

/**
 * ARGV: ns, now, idemTtl, mode ('add'|'set'), then 6 per request: room, user, sku, quantity, key,
 * ttlMs. Returns one JSON answer per request ('~' first: a recorded answer replayed). A product's
 * inventory fields are read once per call and its available count followed from the writes'
 * replies: a batch's adds are mostly for one product.
 */
export const reserveScript = `${common}
local mode = ARGV[4]
local products = {}

local function product(inv)
  local p = products[inv]
  if p == nil then
    local h = redis.call('HMGET', inv, 'avail', 'start', 'end', 'limit')
    if not h[1] then return nil end
    p = { avail = tonumber(h[1]), start = tonumber(h[2]), fin = tonumber(h[3]), limit = tonumber(h[4]) }
    products[inv] = p
  end
  return p
end

local function reserve(room, user, sku, qty, ttl)
  local inv = ns .. ':inv:' .. room .. ':' .. sku
  local p = product(inv)
  if p == nil then return { error = 'PRODUCT_NOT_FOUND' } end
  local cart = ns .. ':cart:' .. room .. ':' .. user
  local line = redis.call('HGET', cart, sku)
  local held, exp = 0, 0
  if line then
    held, exp = parseLine(line)
    if exp <= now then p.avail = release(room, user, sku); held = 0 end
  end
  local want = qty
  if mode == 'set' then
    if held == 0 then return { status = 'cart_not_found' } end
    if qty <= held then
      local d = held - qty
      if d > 0 then
        p.avail = redis.call('HINCRBY', inv, 'avail', d)
        redis.call('HINCRBY', inv, 'res', -d)
      end
      if qty == 0 then
        redis.call('HDEL', cart, sku)
        redis.call('ZREM', ns .. ':exp', room .. '\\t' .. sku .. '\\t' .. user)
      else
        redis.call('HSET', cart, sku, qty .. '|' .. exp)
      end
      return { status = 'released', sku = sku, quantity = qty, available = p.avail }
    end
    want = qty - held
  end
  if p.start and now < p.start then return { status = 'not_on_sale', sku = sku, startsAt = p.start } end
  if p.fin and now >= p.fin then return { status = 'not_on_sale', sku = sku, endsAt = p.fin } end
  if p.limit then
    local bought = tonumber(redis.call('HGET', ns .. ':bought:' .. room .. ':' .. user, sku) or '0')
    local allowed = p.limit - held - bought
    if allowed <= 0 then return { status = 'limit_reached', sku = sku, limit = p.limit } end
    if want > allowed then want = allowed end
  end
  if p.avail <= 0 then return { status = 'sold_out', sku = sku } end
  local grant = want
  if grant > p.avail then grant = p.avail end
  p.avail = redis.call('HINCRBY', inv, 'avail', -grant)
  redis.call('HINCRBY', inv, 'res', grant)
  local expiresAt = now + ttl
  redis.call('HSET', cart, sku, (held + grant) .. '|' .. expiresAt)
  redis.call('ZADD', ns .. ':exp', expiresAt, room .. '\\t' .. sku .. '\\t' .. user)
  return { status = 'reserved', sku = sku, quantity = held + grant, granted = grant, expiresAt = expiresAt, available = p.avail }
end

local out = {}
local i = 5
while i <= #ARGV do
  local room, user, sku, qtyText, key, ttl = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5])
  i = i + 6
  -- The record's name and the request's fingerprint, as idempotency.ts spells them.
  local idem = ns .. ':idem:' .. string.len(user) .. ':' .. user .. ':' .. key
  local fingerprint = mode .. '|' .. room .. '|' .. sku .. '|' .. qtyText
  local seen = redis.call('GET', idem)
  if seen then
    out[#out + 1] = recordedAnswer(seen, fingerprint)
  else
    local answer = reserve(room, user, sku, tonumber(qtyText), ttl)
    local encoded = cjson.encode(answer)
    if not answer.error then redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl) end
    out[#out + 1] = encoded
  end
end
return out
`;

/**
 * ARGV: ns, (unused), idemTtl, then 5 per request: room, user, sku, quantity, key. For each, the
 * key's recorded answer ('~' first) or a mismatch error, else an empty string: `sold_out` was
 * recorded as the key's answer. Reads no stock (the caller knows the product is sold out).
 */
export const soldOutScript = `${common}
local out = {}
local i = 4
while i <= #ARGV do
  local room, user, sku, qtyText, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  i = i + 5
  local idem = ns .. ':idem:' .. string.len(user) .. ':' .. user .. ':' .. key
  local fingerprint = 'add|' .. room .. '|' .. sku .. '|' .. qtyText
  local seen = redis.call('GET', idem)
  if seen then
    out[#out + 1] = recordedAnswer(seen, fingerprint)
  else
    redis.call('SET', idem, fingerprint .. '\\n' .. cjson.encode({ status = 'sold_out', sku = sku }), 'PX', idemTtl)
    out[#out + 1] = ''
  end
end
return out
`;

/** ARGV: ns, now, idemTtl, room, user, record (idempotency key's name), fingerprint. Returns one JSON answer ('~' first: replayed). */
export const checkoutScript = `${common}
local room, user, record, fingerprint = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local idem = ns .. ':idem:' .. record
local seen = redis.call('GET', idem)
if seen then return recordedAnswer(seen, fingerprint) end
local function answer(a)
  local encoded = cjson.encode(a)
  redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl)
  return encoded
end
local cart = ns .. ':cart:' .. room .. ':' .. user
local all = redis.call('HGETALL', cart)
if #all == 0 then return answer({ status = 'cart_not_found' }) end
local expired = {}
for i = 1, #all, 2 do
  local q, e = parseLine(all[i + 1])
  if e <= now then expired[#expired + 1] = all[i] end
end
if #expired > 0 then
  for _, sku in ipairs(expired) do release(room, user, sku) end
  return answer({ status = 'expired', skus = expired })
end
local id = 'o-' .. redis.call('INCR', ns .. ':orderseq')
local lines, total, currency = {}, 0, ''
for i = 1, #all, 2 do
  local sku = all[i]
  local q = parseLine(all[i + 1])
  local inv = ns .. ':inv:' .. room .. ':' .. sku
  local h = redis.call('HMGET', inv, 'price', 'cur')
  local price = tonumber(h[1])
  currency = h[2]
  redis.call('HINCRBY', inv, 'res', -q)
  redis.call('HINCRBY', inv, 'sold', q)
  redis.call('HINCRBY', ns .. ':bought:' .. room .. ':' .. user, sku, q)
  redis.call('ZREM', ns .. ':exp', room .. '\\t' .. sku .. '\\t' .. user)
  lines[#lines + 1] = { sku = sku, quantity = q, priceCents = price }
  total = total + q * price
end
redis.call('DEL', cart)
local order = { id = id, roomId = room, userId = user, lines = lines, totalCents = total, currency = currency, createdAt = now }
local json = cjson.encode(order)
redis.call('HSET', ns .. ':orders', id, json)
redis.call('RPUSH', ns .. ':room-orders:' .. room, id)
redis.call('XADD', ns .. ':order-stream', '*', 'id', id, 'order', json)
return answer({ status = 'ordered', order = order })
`;

/** ARGV: ns, (unused), (unused), room, user. Returns a JSON array of the user's lines in the room, each released. */
export const releaseUserScript = `${common}
local room, user = ARGV[4], ARGV[5]
local all = redis.call('HGETALL', ns .. ':cart:' .. room .. ':' .. user)
local out = {}
for i = 1, #all, 2 do
  local q = parseLine(all[i + 1])
  out[#out + 1] = { sku = all[i], quantity = q, available = release(room, user, all[i]) }
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;

/** ARGV: ns, now, (unused), limit. Returns a JSON array of released reservations. */
export const sweepScript = `${common}
local limit = tonumber(ARGV[4])
local members = redis.call('ZRANGEBYSCORE', ns .. ':exp', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, m in ipairs(members) do
  local a = string.find(m, '\\t', 1, true)
  local b = string.find(m, '\\t', a + 1, true)
  local room, sku, user = string.sub(m, 1, a - 1), string.sub(m, a + 1, b - 1), string.sub(m, b + 1)
  local line = redis.call('HGET', ns .. ':cart:' .. room .. ':' .. user, sku)
  if line then
    local q, e = parseLine(line)
    if e <= now then
      local avail = release(room, user, sku)
      out[#out + 1] = { roomId = room, userId = user, sku = sku, quantity = q, available = avail }
    end
  else
    redis.call('ZREM', ns .. ':exp', m)
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;
