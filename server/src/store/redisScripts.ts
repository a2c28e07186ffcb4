import { claimBody, couponGiveBack, couponPricing, createCouponBody } from './couponScripts.ts';
import { luaOrderTransitions } from './orderSteps.ts';

/**
 * Lua scripts of the Redis store. Each runs atomically in Redis, so one call is one consistent step
 * whatever other nodes do. Loaded once and called by SHA (ioredis `defineCommand`).
 *
 * Every script works in one room: KEYS[1] is the room's key base `ns:{r:ROOM}` (redis/keys.ts), and
 * every key it touches is that base plus a suffix, so on Redis Cluster a script stays in the room's
 * slot. Keys under the base:
 *   :inv:SKU         hash  avail res sold price cur start end limit
 *   :invs            set   skus of the room
 *   :variant-products set  skus of the room's products with variants (taken, holding no inventory)
 *   :cart:USER       hash  sku → "qty|expiresAt", or "qty|expiresAt|price" for a line held at its own price (an auction's)
 *   :bought:USER     hash  sku → units bought (per-customer limit)
 *   :exp             zset  "SKU\tUSER" scored by expiresAt
 *   :idem:N:USER:KEY string "FINGERPRINT\nANSWER": the first answer (JSON) and what it answered; N is the
 *                    user id's length, so user and key cannot run into each other (idempotency.ts)
 *   :orders          hash  order id → order JSON (durable record)
 *   :order-ids       list  order ids of the room, in order
 *   :order-stream    stream of the room's orders and their status changes (for downstream consumers)
 *   :wh              hash  delivery id → webhook delivery JSON (the outbox: an order event not yet delivered)
 *   :wh-due          zset  delivery id scored by when its next attempt is due
 *   :wh-tries        hash  delivery id → attempts claimed so far
 *   :coupon:ID       hash  def (the coupon's JSON), left (how many may still be claimed)
 *   :coupon-ids      list  the room's coupon ids, oldest first
 *   :coupon-pin      string the pinned coupon's id
 *   :coupon-pin-v    string the pin's version (INCR with every pin and unpin)
 *   :claims:USER     hash  coupon id → the user's claim JSON (its orderId once an order used it)
 * Keys outside any room, never touched by these scripts (RedisStore and RedisWebhookOutbox write
 * them one command at a time): `ns:sweep-rooms`, a zset of room ids scored by when the room's
 * reservations want sweeping next; `ns:webhook-rooms`, room ids scored by when their outbox wants
 * attention; `ns:{u:USER}:orders`, a user's order ids scored by creation.
 */

/** What every script starts with: the room's base, its arguments' common head, and the helpers. */
export const common = `
local base = KEYS[1]
local room = ARGV[1]
local now = tonumber(ARGV[2])
local idemTtl = tonumber(ARGV[3])

-- The answer recorded for an idempotency record, marked '~' (a replay), or a mismatch error when it answered another request.
local function recordedAnswer(seen, fingerprint)
  local nl = string.find(seen, '\\n', 1, true)
  if not nl then return '~' .. seen end
  if string.sub(seen, 1, nl - 1) ~= fingerprint then return '{"error":"IDEMPOTENCY_MISMATCH"}' end
  return '~' .. string.sub(seen, nl + 1)
end

-- A line's units, expiry and its own price (nil: the product's).
local function parseLine(line)
  local sep = string.find(line, '|', 1, true)
  local sep2 = string.find(line, '|', sep + 1, true)
  if not sep2 then return tonumber(string.sub(line, 1, sep - 1)), tonumber(string.sub(line, sep + 1)) end
  return tonumber(string.sub(line, 1, sep - 1)), tonumber(string.sub(line, sep + 1, sep2 - 1)), tonumber(string.sub(line, sep2 + 1))
end

-- Returns a line's units to stock; answers available after.
local function release(user, sku)
  local inv = base .. ':inv:' .. sku
  local cart = base .. ':cart:' .. user
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
  redis.call('ZREM', base .. ':exp', sku .. '\\t' .. user)
  return avail
end
`;

/** Appends an order event to the room's webhook outbox, due at `at` (see WebhookOutbox.ts's `deliveryOf`). */
export const webhookAppend = `
local function appendWebhook(order, at, deliveryId)
  local delivery = { id = deliveryId, type = 'order.' .. order.status, roomId = order.roomId, orderId = order.id, createdAt = at, order = order }
  redis.call('HSET', base .. ':wh', deliveryId, cjson.encode(delivery))
  redis.call('ZADD', base .. ':wh-due', at, deliveryId)
end
`;

/**
 * KEYS: room base. ARGV: room, now, idemTtl, mode ('add'|'set'), then 6 per request: user, sku,
 * quantity, key, ttlMs, the line's own price ('' for the product's; see Store's ReserveRequest). Returns one JSON answer per request ('~' first: a recorded answer replayed). A product's
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

local function reserve(user, sku, qty, ttl, price)
  local inv = base .. ':inv:' .. sku
  local p = product(inv)
  if p == nil then return { error = 'PRODUCT_NOT_FOUND' } end
  local cart = base .. ':cart:' .. user
  local line = redis.call('HGET', cart, sku)
  local held, exp, linePrice = 0, 0, nil
  if line then
    held, exp, linePrice = parseLine(line)
    if exp <= now then p.avail = release(user, sku); held = 0; linePrice = nil end
  end
  local priceSuffix = ''
  if linePrice then priceSuffix = '|' .. linePrice end
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
        redis.call('ZREM', base .. ':exp', sku .. '\\t' .. user)
      else
        redis.call('HSET', cart, sku, qty .. '|' .. exp .. priceSuffix)
      end
      return { status = 'released', sku = sku, quantity = qty, available = p.avail }
    end
    want = qty - held
  end
  -- A line at its own price takes no more units, nor does a held line take a priced hold.
  if held > 0 and (linePrice or price) then return { status = 'limit_reached', sku = sku, limit = held } end
  if not price and p.start and now < p.start then return { status = 'not_on_sale', sku = sku, startsAt = p.start } end
  if not price and p.fin and now >= p.fin then return { status = 'not_on_sale', sku = sku, endsAt = p.fin } end
  if p.limit then
    local bought = tonumber(redis.call('HGET', base .. ':bought:' .. user, sku) or '0')
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
  if price then priceSuffix = '|' .. price end
  redis.call('HSET', cart, sku, (held + grant) .. '|' .. expiresAt .. priceSuffix)
  redis.call('ZADD', base .. ':exp', expiresAt, sku .. '\\t' .. user)
  return { status = 'reserved', sku = sku, quantity = held + grant, granted = grant, expiresAt = expiresAt, available = p.avail }
end

local out = {}
local i = 5
while i <= #ARGV do
  local user, sku, qtyText, key, ttl, price = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  i = i + 6
  -- The record's name and the request's fingerprint, as idempotency.ts spells them.
  local idem = base .. ':idem:' .. string.len(user) .. ':' .. user .. ':' .. key
  local fingerprint = mode .. '|' .. room .. '|' .. sku .. '|' .. qtyText
  local seen = redis.call('GET', idem)
  if seen then
    out[#out + 1] = recordedAnswer(seen, fingerprint)
  else
    local answer = reserve(user, sku, tonumber(qtyText), ttl, price)
    local encoded = cjson.encode(answer)
    if not answer.error then redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl) end
    out[#out + 1] = encoded
  end
end
return out
`;

/**
 * KEYS: room base. ARGV: room, (unused), (unused), the product's sku when it has variants ('' when
 * it is one inventory itself), then 8 per inventory: sku, stock, price, currency, list price, sale
 * start, sale end, per-customer limit ('' for an absent one). Every sku is checked before anything is
 * written: answers '' once all are registered, or the first taken sku (an inventory, a product with
 * variants, or one named twice) with nothing written.
 */
export const addProductScript = `${common}
local productSku = ARGV[4]
local named = {}
local function taken(sku)
  if named[sku] then return true end
  named[sku] = true
  return redis.call('EXISTS', base .. ':inv:' .. sku) == 1 or redis.call('SISMEMBER', base .. ':variant-products', sku) == 1
end
if productSku ~= '' and taken(productSku) then return productSku end
for i = 5, #ARGV, 8 do
  if taken(ARGV[i]) then return ARGV[i] end
end
local optional = { 'list', 'start', 'end', 'limit' }
for i = 5, #ARGV, 8 do
  local sku = ARGV[i]
  local inv = base .. ':inv:' .. sku
  redis.call('HSET', inv, 'avail', ARGV[i + 1], 'res', 0, 'sold', 0, 'price', ARGV[i + 2], 'cur', ARGV[i + 3])
  for k = 1, 4 do
    if ARGV[i + 3 + k] ~= '' then redis.call('HSET', inv, optional[k], ARGV[i + 3 + k]) end
  end
  redis.call('SADD', base .. ':invs', sku)
end
if productSku ~= '' then redis.call('SADD', base .. ':variant-products', productSku) end
return ''
`;

/**
 * KEYS: room base. ARGV: room, (unused), idemTtl, then 4 per request: user, sku, quantity, key. For each, the
 * key's recorded answer ('~' first) or a mismatch error; else, while the product's available stock
 * is 0, an empty string: `sold_out` was recorded as the key's answer; else '+': back in stock, nothing
 * recorded (the caller reserves it). Reads the product's level only.
 */
export const soldOutScript = `${common}
local levels = {}
local function inStock(sku)
  if levels[sku] == nil then levels[sku] = tonumber(redis.call('HGET', base .. ':inv:' .. sku, 'avail') or '0') end
  return levels[sku] > 0
end
local out = {}
local i = 4
while i <= #ARGV do
  local user, sku, qtyText, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local idem = base .. ':idem:' .. string.len(user) .. ':' .. user .. ':' .. key
  local fingerprint = 'add|' .. room .. '|' .. sku .. '|' .. qtyText
  local seen = redis.call('GET', idem)
  if seen then
    out[#out + 1] = recordedAnswer(seen, fingerprint)
  elseif inStock(sku) then
    out[#out + 1] = '+'
  else
    redis.call('SET', idem, fingerprint .. '\\n' .. cjson.encode({ status = 'sold_out', sku = sku }), 'PX', idemTtl)
    out[#out + 1] = ''
  end
end
return out
`;

/**
 * KEYS: room base. ARGV: room, now, idemTtl, user, record (idempotency key's name), fingerprint,
 * order id (made by the caller: not guessable, names its room), webhooks ('1': append the event to
 * the outbox), delivery id, coupon id ('' = the buyer's best claimed coupon). Prices the order with
 * the coupon as protocol/src/coupons.ts says and marks the coupon used, in the same step. Returns
 * one JSON answer ('~' first: replayed).
 */
export const checkoutScript = `${common}${webhookAppend}
local user, record, fingerprint, id, webhooks, deliveryId, wanted = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local idem = base .. ':idem:' .. record
local seen = redis.call('GET', idem)
if seen then return recordedAnswer(seen, fingerprint) end
local function answer(a)
  local encoded = cjson.encode(a)
  redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl)
  return encoded
end
local cart = base .. ':cart:' .. user
local all = redis.call('HGETALL', cart)
if #all == 0 then return answer({ status = 'cart_not_found' }) end
local expired = {}
for i = 1, #all, 2 do
  local q, e = parseLine(all[i + 1])
  if e <= now then expired[#expired + 1] = all[i] end
end
if #expired > 0 then
  for _, sku in ipairs(expired) do release(user, sku) end
  return answer({ status = 'expired', skus = expired })
end
local rows, subtotal, currency = {}, 0, ''
for i = 1, #all, 2 do
  local sku = all[i]
  local q, _, linePrice = parseLine(all[i + 1])
  local h = redis.call('HMGET', base .. ':inv:' .. sku, 'price', 'cur', 'list')
  local price = linePrice or tonumber(h[1])
  currency = h[2]
  rows[#rows + 1] = { sku = sku, q = q, price = price, list = tonumber(h[3]) }
  subtotal = subtotal + q * price
end
${couponPricing}
for _, row in ipairs(rows) do
  local inv = base .. ':inv:' .. row.sku
  redis.call('HINCRBY', inv, 'res', -row.q)
  redis.call('HINCRBY', inv, 'sold', row.q)
  redis.call('HINCRBY', base .. ':bought:' .. user, row.sku, row.q)
  redis.call('ZREM', base .. ':exp', row.sku .. '\\t' .. user)
end
local lines = {}
for _, row in ipairs(rows) do lines[#lines + 1] = { sku = row.sku, quantity = row.q, priceCents = row.price, listPriceCents = row.list } end
redis.call('DEL', cart)
if chosen then
  claim.orderId = id
  redis.call('HSET', claims, chosen, cjson.encode(claim))
end
local order = { id = id, roomId = room, userId = user, lines = lines, totalCents = subtotal - discount, subtotalCents = subtotal, discountCents = discount, couponId = chosen, currency = currency, createdAt = now, status = 'placed', history = { { status = 'placed', at = now } } }
local json = cjson.encode(order)
redis.call('HSET', base .. ':orders', id, json)
redis.call('RPUSH', base .. ':order-ids', id)
redis.call('XADD', base .. ':order-stream', '*', 'id', id, 'status', 'placed', 'order', json)
if webhooks == '1' then appendWebhook(order, now, deliveryId) end
return answer({ status = 'ordered', order = order })
`;

/**
 * KEYS: room base. ARGV: room, now, (unused), order id, status, note ('' = none), payment JSON
 * (with 'paid'), webhooks ('1': append the event to the outbox), delivery id. The step
 * `orderTransitions` allows, atomically with the outbox and, for a cancel, the units going back to
 * stock. Returns JSON { changed, order, restocked } or { error, status }.
 */
export const advanceOrderScript = `${common}${webhookAppend}
local transitions = ${luaOrderTransitions()}
local id, target, note, payment, webhooks, deliveryId = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local json = redis.call('HGET', base .. ':orders', id)
if not json then return '{"error":"ORDER_NOT_FOUND"}' end
local order = cjson.decode(json)
if not order.status then
  -- stored before orders had a status: placed, never changed since
  order.status = 'placed'
  order.history = { { status = 'placed', at = order.createdAt } }
end
local unchanged = cjson.encode({ changed = false, order = order })
if order.status == target then return unchanged end
for _, step in ipairs(order.history) do
  if step.status == target then return unchanged end
end
if not transitions[order.status][target] then return cjson.encode({ error = 'ORDER_STATUS_CONFLICT', status = order.status }) end
order.status = target
local step = { status = target, at = now }
if note ~= '' then step.note = note end
order.history[#order.history + 1] = step
if target == 'paid' then order.payment = cjson.decode(payment) end
local restocked = {}
if target == 'cancelled' then
  for _, line in ipairs(order.lines) do
    local inv = base .. ':inv:' .. line.sku
    local avail = redis.call('HINCRBY', inv, 'avail', line.quantity)
    redis.call('HINCRBY', inv, 'sold', -line.quantity)
    redis.call('HINCRBY', base .. ':bought:' .. order.userId, line.sku, -line.quantity)
    restocked[#restocked + 1] = { sku = line.sku, quantity = line.quantity, available = avail }
  end
  ${couponGiveBack}
end
json = cjson.encode(order)
redis.call('HSET', base .. ':orders', id, json)
redis.call('XADD', base .. ':order-stream', '*', 'id', id, 'status', target, 'order', json)
if webhooks == '1' then appendWebhook(order, now, deliveryId) end
return cjson.encode({ changed = true, order = order, restocked = restocked })
`;

/** KEYS: room base. ARGV: room, (unused), (unused), user. Returns a JSON array of the user's lines in the room, each released. */
export const releaseUserScript = `${common}
local user = ARGV[4]
local all = redis.call('HGETALL', base .. ':cart:' .. user)
local out = {}
for i = 1, #all, 2 do
  local q = parseLine(all[i + 1])
  out[#out + 1] = { sku = all[i], quantity = q, available = release(user, all[i]) }
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;

/**
 * KEYS: room base. ARGV: room, now, (unused), limit, horizon ms. Releases the room's expired
 * reservations (up to `limit`) and answers JSON { released: [...], next }: when the room wants
 * sweeping again (now when more are due, else its earliest expiry, at most `horizon` from now).
 */
export const sweepScript = `${common}
local limit, horizon = tonumber(ARGV[4]), tonumber(ARGV[5])
local members = redis.call('ZRANGEBYSCORE', base .. ':exp', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, m in ipairs(members) do
  local a = string.find(m, '\\t', 1, true)
  local sku, user = string.sub(m, 1, a - 1), string.sub(m, a + 1)
  local line = redis.call('HGET', base .. ':cart:' .. user, sku)
  if line then
    local q, e = parseLine(line)
    if e <= now then
      local avail = release(user, sku)
      out[#out + 1] = { roomId = room, userId = user, sku = sku, quantity = q, available = avail }
    else
      redis.call('ZADD', base .. ':exp', e, m)
    end
  else
    redis.call('ZREM', base .. ':exp', m)
  end
end
local next = now + horizon
if #members >= limit then
  next = now
else
  local first = redis.call('ZRANGE', base .. ':exp', 0, 0, 'WITHSCORES')
  if first[2] and tonumber(first[2]) < next then next = tonumber(first[2]) end
end
if #out == 0 then return '{"released":[],"next":' .. string.format('%d', next) .. '}' end
return cjson.encode({ released = out, next = next })
`;

/** KEYS: room base. ARGV: room, now, idemTtl, then 3 per claim: user, coupon id, key (see couponScripts.ts). */
export const claimCouponScript = `${common}${claimBody}`;

/** KEYS: room base. ARGV: room, (unused), (unused), coupon id, definition JSON, total, most per room. */
export const createCouponScript = `${common}${createCouponBody}`;
