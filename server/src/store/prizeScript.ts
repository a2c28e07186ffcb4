import { common, webhookAppend } from './redisScripts.ts';

/**
 * KEYS: room base. ARGV: room, now, idemTtl, user, record (the idempotency key's name),
 * fingerprint, sku, order id, webhooks ('1': append the event to the outbox), delivery id.
 * A giveaway's prize (Store.grantPrize): one unit from available straight to sold, an order of
 * total 0, in one step. Returns one JSON answer ('~' first: replayed).
 */
export const prizeScript = `${common}${webhookAppend}
local user, record, fingerprint, sku, id, webhooks, deliveryId = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local idem = base .. ':idem:' .. record
local seen = redis.call('GET', idem)
if seen then return recordedAnswer(seen, fingerprint) end
local inv = base .. ':inv:' .. sku
local h = redis.call('HMGET', inv, 'avail', 'price', 'cur', 'list')
if not h[1] then return '{"error":"PRODUCT_NOT_FOUND"}' end
local function answer(a)
  local encoded = cjson.encode(a)
  redis.call('SET', idem, fingerprint .. '\\n' .. encoded, 'PX', idemTtl)
  return encoded
end
if tonumber(h[1]) <= 0 then return answer({ status = 'sold_out', sku = sku }) end
redis.call('HINCRBY', inv, 'avail', -1)
redis.call('HINCRBY', inv, 'sold', 1)
redis.call('HINCRBY', base .. ':bought:' .. user, sku, 1)
local list = tonumber(h[4]) or tonumber(h[2])
local order = { id = id, roomId = room, userId = user, lines = { { sku = sku, quantity = 1, priceCents = 0, listPriceCents = list } }, totalCents = 0, subtotalCents = 0, discountCents = 0, currency = h[3], createdAt = now, status = 'placed', history = { { status = 'placed', at = now } } }
local json = cjson.encode(order)
redis.call('HSET', base .. ':orders', id, json)
redis.call('RPUSH', base .. ':order-ids', id)
redis.call('XADD', base .. ':order-stream', '*', 'id', id, 'status', 'placed', 'order', json)
if webhooks == '1' then appendWebhook(order, now, deliveryId) end
return answer({ status = 'ordered', order = order })
`;
