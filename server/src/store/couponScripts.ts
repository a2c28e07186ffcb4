/**
 * The Redis store's coupon Lua, as pieces redisScripts.ts puts into its scripts (after their common
 * head: `base`, `room`, `now`, `idemTtl`, `recordedAnswer`). Keys: see redisScripts.ts. Pricing
 * follows protocol/src/coupons.ts (`couponDiscount`, `couponActive`) and MemoryCoupons exactly.
 */

/** Coupon helpers: a coupon's definition, its window, its discount on `subtotal`. */
const couponHelpers = `
local function couponOf(cid)
  local def = redis.call('HGET', base .. ':coupon:' .. cid, 'def')
  if def then return cjson.decode(def) end
  return nil
end
local function couponActive(c)
  return not ((c.startsAt and now < c.startsAt) or (c.endsAt and now >= c.endsAt))
end
local function couponDiscount(c, subtotal)
  if subtotal < c.minSpendCents then return 0 end
  if c.amountOffCents then return math.min(c.amountOffCents, subtotal) end
  return math.floor(subtotal * c.percentOff / 100)
end
`;

/**
 * Inside the checkout, once `subtotal`, `user`, `wanted` and `answer` are known and before anything
 * changed: sets `claims` (the user's claims key), `chosen` (coupon id or nil), `claim` (its claim)
 * and `discount`; or returns the `coupon_not_applicable` answer for a named coupon that does not apply.
 */
export const couponPricing = `${couponHelpers}
local claims = base .. ':claims:' .. user
local chosen, claim, discount = nil, nil, 0
if wanted ~= '' then
  local raw = redis.call('HGET', claims, wanted)
  local c = couponOf(wanted)
  if not raw or not c then return answer({ status = 'coupon_not_applicable', couponId = wanted, reason = 'not_claimed' }) end
  claim = cjson.decode(raw)
  if claim.orderId then return answer({ status = 'coupon_not_applicable', couponId = wanted, reason = 'used' }) end
  if not couponActive(c) then return answer({ status = 'coupon_not_applicable', couponId = wanted, reason = 'not_active' }) end
  if subtotal < c.minSpendCents then return answer({ status = 'coupon_not_applicable', couponId = wanted, reason = 'min_spend', minSpendCents = c.minSpendCents, subtotalCents = subtotal }) end
  chosen, discount = wanted, couponDiscount(c, subtotal)
else
  local mine = redis.call('HGETALL', claims)
  for i = 1, #mine, 2 do
    local cl = cjson.decode(mine[i + 1])
    local c = nil
    if not cl.orderId then c = couponOf(mine[i]) end
    if c and couponActive(c) then
      local d = couponDiscount(c, subtotal)
      if d > discount or (d > 0 and d == discount and mine[i] < chosen) then chosen, claim, discount = mine[i], cl, d end
    end
  end
end
`;

/** Inside a cancel, with `order` and `id`: the order's coupon goes back to its buyer, unused. */
export const couponGiveBack = `
  if order.couponId then
    local claimsKey = base .. ':claims:' .. order.userId
    local raw = redis.call('HGET', claimsKey, order.couponId)
    if raw then
      local cl = cjson.decode(raw)
      if cl.orderId == id then
        cl.orderId = nil
        redis.call('HSET', claimsKey, order.couponId, cjson.encode(cl))
      end
    end
  end
`;

/**
 * ARGV after the common head (room, now, idemTtl): 3 per request: user, coupon id, key. One JSON
 * answer per request ('~' first: replayed; `{"error":...}` for COUPON_NOT_FOUND or IDEMPOTENCY_MISMATCH).
 */
export const claimBody = `
local out = {}
local i = 4
while i <= #ARGV do
  local user, cid, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local idem = base .. ':idem:' .. string.len(user) .. ':' .. user .. ':' .. key
  local fingerprint = 'claim|' .. room .. '|' .. cid
  local seen = redis.call('GET', idem)
  if seen then
    out[#out + 1] = recordedAnswer(seen, fingerprint)
  else
    local ck = base .. ':coupon:' .. cid
    local h = redis.call('HMGET', ck, 'def', 'left')
    if not h[1] then
      out[#out + 1] = '{"error":"COUPON_NOT_FOUND"}'
    else
      local coupon = cjson.decode(h[1])
      local claims = base .. ':claims:' .. user
      local mine = redis.call('HGET', claims, cid)
      local answer
      if mine then
        answer = { status = 'coupon_already_claimed', coupon = coupon, claim = cjson.decode(mine) }
      elseif (coupon.startsAt and now < coupon.startsAt) or (coupon.endsAt and now >= coupon.endsAt) then
        answer = { status = 'coupon_not_active', coupon = coupon }
      elseif tonumber(h[2]) <= 0 then
        answer = { status = 'coupons_gone', coupon = coupon }
      else
        local left = redis.call('HINCRBY', ck, 'left', -1)
        local claim = { couponId = cid, userId = user, claimedAt = now }
        redis.call('HSET', claims, cid, cjson.encode(claim))
        answer = { status = 'coupon_claimed', coupon = coupon, claim = claim, left = left }
      end
      local encoded = cjson.encode(answer)
      redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl)
      out[#out + 1] = encoded
    end
  end
end
return out
`;

/** ARGV after the common head: coupon id, definition JSON, total, most coupons per room. Returns 'ok', 'exists' or 'full'. */
export const createCouponBody = `
local cid, def, total, maxPerRoom = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local ck = base .. ':coupon:' .. cid
if redis.call('EXISTS', ck) == 1 then return 'exists' end
if redis.call('LLEN', base .. ':coupon-ids') >= maxPerRoom then return 'full' end
redis.call('HSET', ck, 'def', def, 'left', total)
redis.call('RPUSH', base .. ':coupon-ids', cid)
return 'ok'
`;
