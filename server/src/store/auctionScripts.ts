/**
 * The Redis auction store's Lua. KEYS[1] is the room's key base `ns:{r:ROOM}` (redis/keys.ts), so
 * every script stays in the room's slot on Redis Cluster. Keys under the base:
 *   :auction:ID       hash   def (the Auction's JSON), status, price, leader ('' before the first
 *                            bid), lmax (the leader's maximum), ends, bids, seq: see AuctionState;
 *                            lname, the leader's display name ('' when their bid gave none)
 *   :auction:ID:hist  list   the newest price moves (BidRecord JSON), oldest first
 *   :auction:ID:keys  hash   "N:USER:KEY" (N: the user id's length) → "KIND|AMOUNT\nANSWER": what the bid sent with that
 *                            idempotency key asked, and its answer (JSON)
 *                            from its settle on, its follow-up: fstep ('pending', 'announced',
 *                            'done'), fowner (its claimant, '' for none), funtil (the claim's end)
 *   :auction-current  string the id of the room's auction not yet settled
 * The bid script mirrors auctions/bidding.ts's `applyBid` line for line; the auction contract
 * test runs random bid sequences through both and compares every answer and the final state.
 */

/** The state fields of an auction's hash, in the order the scripts return them after `def`. */
export const AUCTION_FIELDS = ['def', 'status', 'price', 'leader', 'lmax', 'ends', 'bids', 'seq'] as const;

/** ARGV: auction id, the Auction's JSON, its first end. Returns 'created', 'exists' or 'busy'. */
export const createAuctionScript = `
local base, id = KEYS[1], ARGV[1]
local key = base .. ':auction:' .. id
if redis.call('EXISTS', key) == 1 then return 'exists' end
if redis.call('EXISTS', base .. ':auction-current') == 1 then return 'busy' end
local def = cjson.decode(ARGV[2])
redis.call('HSET', key, 'def', ARGV[2], 'status', 'open', 'price', def.startPriceCents, 'leader', '', 'lmax', 0, 'ends', ARGV[3], 'bids', 0, 'seq', 0)
redis.call('SET', base .. ':auction-current', id)
return 'created'
`;

/**
 * ARGV: history kept, then 7 per bid: auction id, user, kind ('price' or 'max'), amount, at, the
 * bidder's name ('' for none), the idempotency key ('' for none: a key answered already replays its
 * answer, or answers {"error":"IDEMPOTENCY_MISMATCH"} when it asked another kind or amount).
 * One JSON answer per bid, in order.
 */
export const bidScript = `
local base = KEYS[1]
local kept = tonumber(ARGV[1])
local loaded = {}

local function stepAt(tiers, price)
  for _, tier in ipairs(tiers) do
    if tier.belowCents == nil or price < tier.belowCents then return tier.stepCents end
  end
  return tiers[#tiers].stepCents
end

local function load(id)
  local a = loaded[id]
  if a ~= nil then return a end
  local key = base .. ':auction:' .. id
  local h = redis.call('HMGET', key, 'def', 'status', 'price', 'leader', 'lmax', 'ends', 'bids', 'seq')
  if not h[1] then
    loaded[id] = false
    return false
  end
  a = { key = key, def = cjson.decode(h[1]), status = h[2], price = tonumber(h[3]), leader = h[4], lmax = tonumber(h[5]),
        ends = tonumber(h[6]), bids = tonumber(h[7]), seq = tonumber(h[8]), hist = {}, lname = false }
  loaded[id] = a
  return a
end

local function minNext(a)
  if a.leader == '' then return a.def.startPriceCents end
  return a.price + stepAt(a.def.increments, a.price)
end

local out = {}
local i = 2
while i <= #ARGV do
  local id, user, kind, amount, at, name, idem = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6]
  i = i + 7
  local a = load(id)
  local field = string.len(user) .. ':' .. user .. ':' .. idem
  local asked = kind .. '|' .. ARGV[i - 4]
  local recorded = false
  if a and idem ~= '' then recorded = redis.call('HGET', a.key .. ':keys', field) end
  if not a then
    out[#out + 1] = '{"status":"not_allowed","reason":"unknown_auction"}'
  elseif recorded then
    local nl = string.find(recorded, '\\n', 1, true)
    if string.sub(recorded, 1, nl - 1) == asked then out[#out + 1] = string.sub(recorded, nl + 1)
    else out[#out + 1] = '{"error":"IDEMPOTENCY_MISMATCH"}' end
  else
    a.seq = a.seq + 1
    local seq = a.seq
    local answer
    if a.status ~= 'open' or at >= a.ends then
      answer = { status = 'ended', priceCents = a.price, seq = seq }
    elseif user == a.def.sellerId then
      answer = { status = 'not_allowed', reason = 'seller', seq = seq }
    elseif at < a.def.startsAt then
      answer = { status = 'not_allowed', reason = 'not_started', seq = seq }
    else
      local mn = minNext(a)
      if amount < mn then
        answer = { status = 'too_low', priceCents = a.price, minNextCents = mn, endsAt = a.ends, seq = seq }
      elseif a.leader == user then
        if amount > a.lmax then a.lmax = amount end
        answer = { status = 'leading', priceCents = a.price, maxCents = a.lmax, endsAt = a.ends, seq = seq }
      else
        local tiers = a.def.increments
        local before = a.leader
        if a.leader == '' then
          a.leader, a.lmax = user, amount
          if kind == 'price' then a.price = amount else a.price = mn end
        elseif amount > a.lmax then
          local proxied = math.min(a.lmax + stepAt(tiers, a.lmax), amount)
          a.leader, a.lmax = user, amount
          if kind == 'price' then a.price = amount else a.price = proxied end
        else
          a.price = math.min(amount + stepAt(tiers, amount), a.lmax)
        end
        local window = 0
        if a.def.ending.kind == 'extend' then window = a.def.ending.windowMs end
        a.ends = math.max(a.ends, at + window)
        a.bids = a.bids + 1
        if a.leader == user and before ~= user then a.lname = name end
        a.hist[#a.hist + 1] = cjson.encode({ seq = seq, at = at, userId = user, priceCents = a.price, leaderId = a.leader })
        if a.leader == user then
          answer = { status = 'leading', priceCents = a.price, maxCents = a.lmax, endsAt = a.ends, seq = seq }
        else
          answer = { status = 'outbid', priceCents = a.price, minNextCents = minNext(a), endsAt = a.ends, seq = seq }
        end
      end
    end
    local encoded = cjson.encode(answer)
    if idem ~= '' then redis.call('HSET', a.key .. ':keys', field, asked .. '\\n' .. encoded) end
    out[#out + 1] = encoded
  end
end

for _, a in pairs(loaded) do
  if a then
    redis.call('HSET', a.key, 'price', a.price, 'leader', a.leader, 'lmax', a.lmax, 'ends', a.ends, 'bids', a.bids, 'seq', a.seq)
    if a.lname then redis.call('HSET', a.key, 'lname', a.lname) end
    if #a.hist > 0 then
      local hist = a.key .. ':hist'
      for from = 1, #a.hist, 1000 do
        redis.call('RPUSH', hist, unpack(a.hist, from, math.min(from + 999, #a.hist)))
      end
      redis.call('LTRIM', hist, -kept, -1)
    end
  end
end
return out
`;

/**
 * ARGV: auction id, what to do ('settle' or 'cancel'), now, the follow-up's claimant ('' for none)
 * and the claim's end. Returns the result ('ended',
 * 'cancelled', 'settled', 'not_due'; or only 'unknown') and the auction's fields after it.
 */
export const settleAuctionScript = `
local base, id, action, now, owner, untilAt = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local key = base .. ':auction:' .. id
local function fields() return redis.call('HMGET', key, 'def', 'status', 'price', 'leader', 'lmax', 'ends', 'bids', 'seq') end
local h = fields()
if not h[1] then return { 'unknown' } end
local result
if h[2] ~= 'open' then
  result = 'settled'
elseif action == 'cancel' then
  result = 'cancelled'
elseif now >= tonumber(h[6]) then
  result = 'ended'
else
  result = 'not_due'
end
if result == 'ended' or result == 'cancelled' then
  redis.call('HSET', key, 'status', result, 'fstep', 'pending', 'fowner', owner, 'funtil', untilAt)
  if redis.call('GET', base .. ':auction-current') == id then redis.call('DEL', base .. ':auction-current') end
  h = fields()
end
local out = { result }
for j = 1, 8 do out[j + 1] = h[j] end
return out
`;

/**
 * ARGV: auction id, claimant, the claim's end, now. Takes a pending follow-up when its claim ran
 * out (or it has none). Returns { 'claimed', step } | { 'leased', until } | { 'done' } | { 'none' }.
 * A settled auction without a follow-up record was followed up before records were kept: done.
 */
export const claimFollowUpScript = `
local key = KEYS[1] .. ':auction:' .. ARGV[1]
local h = redis.call('HMGET', key, 'status', 'fstep', 'fowner', 'funtil')
if not h[1] or h[1] == 'open' then return { 'none' } end
if not h[2] or h[2] == 'done' then return { 'done' } end
if tonumber(h[4]) > tonumber(ARGV[4]) then return { 'leased', h[4] } end
redis.call('HSET', key, 'fowner', ARGV[2], 'funtil', ARGV[3])
return { 'claimed', h[2] }
`;

/** ARGV: auction id, claimant, the step ('announced' or 'done'). Records it only while the claimant holds the claim: 1, else 0. */
export const markFollowUpScript = `
local key = KEYS[1] .. ':auction:' .. ARGV[1]
local h = redis.call('HMGET', key, 'fstep', 'fowner')
if not h[1] or h[1] == 'done' or ARGV[2] == '' or h[2] ~= ARGV[2] then return 0 end
redis.call('HSET', key, 'fstep', ARGV[3])
return 1
`;
