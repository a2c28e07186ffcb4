import type { Cart, CartAnswer, CartLine, Coupon, CouponCard, CouponClaim, Order, PinnedCoupon } from '../../../protocol/src/index.ts';
import type { ClaimRequest } from './CouponStore.ts';
import { DomainError } from '../DomainError.ts';
import { connectWithin, createRedisClient, type RedisConnection, type RedisTarget } from '../redis/client.ts';
import { globalKey, roomBase, roomKey, userKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import { checkoutFingerprint, IDEMPOTENCY_MISMATCH_MESSAGE, prizeFingerprint, recordName, replayOf } from './idempotency.ts';
import { newOrderId, roomOfOrder } from './orderIds.ts';
import { statusConflict, withStatus } from './orderSteps.ts';
import { addProductScript, advanceOrderScript, checkoutScript, claimCouponScript, createCouponScript, releaseUserScript, reserveScript, soldOutScript, sweepScript } from './redisScripts.ts';
import { prizeScript } from './prizeScript.ts';
import { BACK_IN_STOCK, type ExpiredReservation, type InventoryItem, type OrderAdvance, type OrderChange, type ReleasedLine, type ReserveRequest, type StockLevel, type Store, type VariantInventories } from './Store.ts';
import { newDeliveryId } from './WebhookOutbox.ts';

export interface RedisStoreOptions {
  /** A redis:// URL (one server) or a target (one server or a cluster's seeds). */
  readonly url: string | RedisTarget;
  /** Key namespace, so deployments and test runs can share one Redis. */
  readonly prefix: string;
  readonly idempotencyTtlMs: number;
  /** A command that takes longer fails as UNAVAILABLE instead of hanging the request. */
  readonly commandTimeoutMs: number;
  /** Told to clients when Redis is unreachable. */
  readonly retryAfterMs: number;
  /**
   * Replicas that must hold an order before its buyer hears `ordered` (Redis `WAIT`); 0 = the
   * master's word is enough. Replication is asynchronous: without this, a master that dies right
   * after a checkout can take the order with it when its replica takes over.
   */
  readonly orderReplicas?: number;
  /** How long a checkout waits for those replicas; past it the buyer hears UNAVAILABLE and retries (the retry answers the same order). */
  readonly orderReplicaTimeoutMs?: number;
  /** A room with products is looked at by the sweep at least this often, reservations or not (at most the longest reservation TTL is sensible). */
  readonly sweepHorizonMs?: number;
  /** Every order event goes into its room's webhook outbox (RedisWebhookOutbox delivers it). */
  readonly webhooks?: boolean;
  /** A user's newest orders their list keeps, at most. */
  readonly ordersPerUser?: number;
}

/** The room index of webhook outboxes (see RedisWebhookOutbox). */
export const WEBHOOK_ROOMS_KIND = 'webhook-rooms';

/** How many rooms one sweep looks at, at most. */
const ROOMS_PER_SWEEP = 64;

type ScriptCommands = {
  lcAddProduct(...args: Array<string | number>): Promise<string>;
  lcReserve(...args: Array<string | number>): Promise<string[]>;
  lcSoldOut(...args: Array<string | number>): Promise<string[]>;
  lcCheckout(...args: Array<string | number>): Promise<string>;
  lcSweep(...args: Array<string | number>): Promise<string>;
  lcReleaseUser(...args: Array<string | number>): Promise<string>;
  lcAdvanceOrder(...args: Array<string | number>): Promise<string>;
  lcClaimCoupon(...args: Array<string | number>): Promise<string[]>;
  lcCreateCoupon(...args: Array<string | number>): Promise<string>;
  lcGrantPrize(...args: Array<string | number>): Promise<string>;
};

/** Defines the store's Lua scripts as commands of `redis`; each takes its room's key base as its one key (it routes the call to the room's slot). */
function withStoreScripts(redis: RedisConnection): RedisConnection & ScriptCommands {
  redis.defineCommand('lcAddProduct', { numberOfKeys: 1, lua: addProductScript });
  redis.defineCommand('lcReserve', { numberOfKeys: 1, lua: reserveScript });
  redis.defineCommand('lcSoldOut', { numberOfKeys: 1, lua: soldOutScript });
  redis.defineCommand('lcCheckout', { numberOfKeys: 1, lua: checkoutScript });
  redis.defineCommand('lcSweep', { numberOfKeys: 1, lua: sweepScript });
  redis.defineCommand('lcReleaseUser', { numberOfKeys: 1, lua: releaseUserScript });
  redis.defineCommand('lcAdvanceOrder', { numberOfKeys: 1, lua: advanceOrderScript });
  redis.defineCommand('lcClaimCoupon', { numberOfKeys: 1, lua: claimCouponScript });
  redis.defineCommand('lcCreateCoupon', { numberOfKeys: 1, lua: createCouponScript });
  redis.defineCommand('lcGrantPrize', { numberOfKeys: 1, lua: prizeScript });
  return redis as RedisConnection & ScriptCommands;
}

export class RedisStore implements Store {
  readonly redis: RedisConnection & ScriptCommands;
  readonly #ns: string;
  readonly #options: RedisStoreOptions;

  private constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#ns = options.prefix;
    this.redis = withStoreScripts(createRedisClient(options.url, options.commandTimeoutMs));
  }

  /** Connects (retrying for up to `waitMs`) so a misconfigured URL fails at start, not at the first sale. */
  static async connect(options: RedisStoreOptions, waitMs = 5000): Promise<RedisStore> {
    const store = new RedisStore(options);
    await connectWithin(store.redis, typeof options.url === 'string' ? options.url : options.url.seeds.join(','), waitMs);
    return store;
  }

  async addProduct(roomId: string, product: InventoryItem | VariantInventories): Promise<void> {
    const items = 'variants' in product ? product.variants : [product];
    const args: Array<string | number> = [roomBase(this.#ns, roomId), roomId, 0, 0, 'variants' in product ? product.sku : ''];
    const optional = (value: number | undefined) => (value === undefined ? '' : value);
    for (const item of items) {
      args.push(item.sku, item.stock, item.priceCents, item.currency, optional(item.listPriceCents), optional(item.saleStartsAt), optional(item.saleEndsAt), optional(item.perCustomerLimit));
    }
    // The sweep's list first: a room never has reservations the sweep does not know of.
    await this.#call(() => this.redis.zadd(globalKey(this.#ns, 'sweep-rooms'), 'NX', 0, roomId));
    const taken = await this.#call(() => this.redis.lcAddProduct(...args));
    if (taken !== '') throw new DomainError('PRODUCT_EXISTS', `product ${taken} already has inventory`);
  }

  async setAvailable(roomId: string, sku: string, available: number): Promise<StockLevel> {
    const key = this.#inv(roomId, sku);
    // Products are never deleted, so existence checked first stays true.
    if ((await this.#call(() => this.redis.hexists(key, 'avail'))) === 0) throw new DomainError('PRODUCT_NOT_FOUND', `no product ${sku} in room ${roomId}`);
    const result = await this.#call(() => this.redis.multi().hset(key, 'avail', available).hmget(key, 'avail', 'res', 'sold').exec());
    return toLevel(result?.[1]?.[1] as Array<string | null>);
  }

  async stock(roomId: string, sku: string): Promise<StockLevel | undefined> {
    const values = await this.#call(() => this.redis.hmget(this.#inv(roomId, sku), 'avail', 'res', 'sold'));
    return values[0] === null ? undefined : toLevel(values);
  }

  async roomStock(roomId: string): Promise<Record<string, number>> {
    const skus = await this.#call(() => this.redis.smembers(roomKey(this.#ns, roomId, 'invs')));
    if (skus.length === 0) return {};
    const pipeline = this.redis.pipeline();
    for (const sku of skus) pipeline.hget(this.#inv(roomId, sku), 'avail');
    const results = await this.#call(() => pipeline.exec());
    const out: Record<string, number> = {};
    skus.forEach((sku, i) => {
      out[sku] = Number(results?.[i]?.[1] ?? 0);
    });
    return out;
  }

  async reserve(request: ReserveRequest): Promise<CartAnswer> {
    return orThrow((await this.#reserveMany([request], 'add'))[0]!);
  }

  async reserveBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError>> {
    return this.#reserveMany(requests, 'add');
  }

  async soldOutBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError | typeof BACK_IN_STOCK>> {
    return this.#perRoom(requests, async (roomId, inRoom) => {
      const args: Array<string | number> = [roomBase(this.#ns, roomId), roomId, 0, this.#options.idempotencyTtlMs];
      for (const r of inRoom) args.push(r.userId, r.sku, r.quantity, r.key);
      const raw = await this.#call(() => this.redis.lcSoldOut(...args));
      return raw.map((json, i) => (json === '' ? { status: 'sold_out', sku: inRoom[i]!.sku } as const : json === '+' ? BACK_IN_STOCK : parseAnswer(json, '')));
    });
  }

  async setQuantity(request: ReserveRequest): Promise<CartAnswer> {
    return orThrow((await this.#reserveMany([request], 'set'))[0]!);
  }

  async cart(roomId: string, userId: string, now: number): Promise<Cart> {
    const all = await this.#call(() => this.redis.hgetall(roomKey(this.#ns, roomId, `cart:${userId}`)));
    const entries = Object.entries(all)
      .map(([sku, line]) => ({ sku, ...parseLine(line) }))
      .filter((l) => l.expiresAt > now);
    if (entries.length === 0) return { roomId, lines: [], totalCents: 0 };
    const pipeline = this.redis.pipeline();
    for (const { sku } of entries) pipeline.hmget(this.#inv(roomId, sku), 'price', 'cur');
    const prices = await this.#call(() => pipeline.exec());
    let currency = '';
    let totalCents = 0;
    const lines: CartLine[] = entries.map((entry, i) => {
      const [price, cur] = (prices?.[i]?.[1] as Array<string | null>) ?? [];
      const priceCents = entry.priceCents ?? Number(price ?? 0);
      currency = cur ?? currency;
      totalCents += priceCents * entry.quantity;
      return { sku: entry.sku, quantity: entry.quantity, priceCents, expiresAt: entry.expiresAt };
    });
    return { roomId, lines, currency, totalCents };
  }

  async checkout(roomId: string, userId: string, key: string, now: number, couponId?: string): Promise<CartAnswer> {
    const base = roomBase(this.#ns, roomId);
    const raw = await this.#call(() => this.redis.lcCheckout(
      base, roomId, now, this.#options.idempotencyTtlMs, userId, recordName(userId, key), checkoutFingerprint(roomId, couponId), newOrderId(roomId), this.#webhookFlag, newDeliveryId(), couponId ?? '',
    ));
    const answer = orThrow(parseAnswer(raw, ''));
    if (answer.status === 'ordered') await Promise.all([this.#replicated(roomId, answer.order.id), this.#indexOrder(answer.order, now)]);
    return answer;
  }

  async grantPrize(roomId: string, userId: string, sku: string, key: string, now: number): Promise<CartAnswer> {
    const raw = await this.#call(() => this.redis.lcGrantPrize(
      roomBase(this.#ns, roomId), roomId, now, this.#options.idempotencyTtlMs, userId, recordName(userId, key), prizeFingerprint(roomId, sku), sku, newOrderId(roomId), this.#webhookFlag, newDeliveryId(),
    ));
    const answer = orThrow(parseAnswer(raw, `no product ${sku} in this room`));
    if (answer.status === 'ordered') await Promise.all([this.#replicated(roomId, answer.order.id), this.#indexOrder(answer.order, now)]);
    return answer;
  }

  async advanceOrder(orderId: string, change: OrderChange): Promise<OrderAdvance> {
    const roomId = roomOfOrder(orderId);
    if (roomId === undefined) throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId}`);
    const raw = await this.#call(() => this.redis.lcAdvanceOrder(
      roomBase(this.#ns, roomId), roomId, change.at, 0, orderId, change.status, change.note ?? '',
      change.status === 'paid' ? JSON.stringify(change.payment ?? { demo: false }) : '', this.#webhookFlag, newDeliveryId(),
    ));
    const result = JSON.parse(raw) as { changed: boolean; order: Order; restocked?: ReleasedLine[] | Record<string, never> } | { error: 'ORDER_NOT_FOUND' | 'ORDER_STATUS_CONFLICT'; status?: Order['status'] };
    if ('error' in result) {
      if (result.error === 'ORDER_NOT_FOUND') throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId}`);
      throw statusConflict(orderId, result.status!, change.status);
    }
    // Indexed again even when unchanged: a caller retrying after a lost answer re-does what its first call could not finish.
    await Promise.all([result.changed ? this.#replicated(roomId, orderId) : undefined, this.#indexWebhooks(roomId, change.at)]);
    // cjson writes an empty array as {}.
    return { order: result.order, changed: result.changed, restocked: Array.isArray(result.restocked) ? result.restocked : [] };
  }

  async userOrders(userId: string, limit: number): Promise<Order[]> {
    if (limit <= 0) return [];
    const ids = await this.#call(() => this.redis.zrevrange(userKey(this.#ns, userId, 'orders'), 0, limit - 1));
    const byRoom = new Map<string, string[]>();
    for (const id of ids) {
      const roomId = roomOfOrder(id);
      if (roomId === undefined) continue;
      const inRoom = byRoom.get(roomId);
      if (inRoom === undefined) byRoom.set(roomId, [id]);
      else inRoom.push(id);
    }
    const found = new Map<string, Order>();
    await Promise.all([...byRoom].map(async ([roomId, inRoom]) => {
      const jsons = await this.#call(() => this.redis.hmget(roomKey(this.#ns, roomId, 'orders'), ...inRoom));
      jsons.forEach((json, i) => {
        if (json !== null) found.set(inRoom[i]!, withStatus(JSON.parse(json) as Order));
      });
    }));
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /**
   * The user's list and the webhook room index, each one single-key command after the order's
   * script (they live in other slots than the room's). Done for a replayed checkout too, so a
   * buyer's retry after a node died between the script and these writes completes them: an order
   * whose checkout was answered is in its buyer's list and its room in the webhook index.
   */
  async #indexOrder(order: Order, now: number): Promise<void> {
    const key = userKey(this.#ns, order.userId, 'orders');
    const kept = this.#options.ordersPerUser ?? 1000;
    await Promise.all([
      this.#call(() => this.redis.multi().zadd(key, order.createdAt, order.id).zremrangebyrank(key, 0, -(kept + 1)).exec()),
      this.#indexWebhooks(order.roomId, now),
    ]);
  }

  /** The room's outbox wants attention by `at` (ZADD LT: an earlier time a dispatcher set stays). */
  async #indexWebhooks(roomId: string, at: number): Promise<void> {
    if (this.#options.webhooks !== true) return;
    await this.#call(() => this.redis.zadd(globalKey(this.#ns, WEBHOOK_ROOMS_KIND), 'LT', at, roomId));
  }

  get #webhookFlag(): string {
    return this.#options.webhooks === true ? '1' : '0';
  }

  /**
   * Resolves once `orderReplicas` replicas of the room's master hold everything written there so
   * far, the order too (written by this call or, for a replayed answer, by any node before). WAIT
   * counts this connection's writes, so a small write of its own goes first; both ride a pipeline
   * to the room's master. Past the timeout the buyer hears UNAVAILABLE and retries with its key.
   */
  async #replicated(roomId: string, orderId: string): Promise<void> {
    const replicas = this.#options.orderReplicas ?? 0;
    if (replicas === 0) return;
    const results = await this.#call(() => this.redis.pipeline().set(roomKey(this.#ns, roomId, 'replicated'), orderId, 'PX', 60_000).wait(replicas, this.#options.orderReplicaTimeoutMs ?? 500).exec());
    const [writeError] = results?.[0] ?? [null];
    const [waitError, acked] = results?.[1] ?? [null, 0];
    if (writeError || waitError || Number(acked) < replicas) {
      // A slot that moved (a failover) answers MOVED inside a pipeline without ioredis following it.
      if (/MOVED|ASK/.test(String(writeError?.message)) && 'refreshSlotsCache' in this.redis) this.redis.refreshSlotsCache();
      throw new DomainError('UNAVAILABLE', `order ${orderId} not yet on ${replicas} replica(s)${writeError ? `: ${writeError.message.slice(0, 80)}` : ''}`, { retryAfterMs: this.#options.retryAfterMs });
    }
  }

  async recorded(roomId: string, userId: string, key: string, fingerprint: string): Promise<CartAnswer | undefined> {
    const seen = await this.#call(() => this.redis.get(roomKey(this.#ns, roomId, `idem:${recordName(userId, key)}`)));
    if (seen === null) return undefined;
    const newline = seen.indexOf('\n');
    if (newline >= 0 && seen.slice(0, newline) !== fingerprint) throw new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE);
    return orThrow(parseAnswer(`~${seen.slice(newline + 1)}`, ''));
  }

  async releaseUser(roomId: string, userId: string): Promise<ReleasedLine[]> {
    const raw = await this.#call(() => this.redis.lcReleaseUser(roomBase(this.#ns, roomId), roomId, 0, 0, userId));
    return JSON.parse(raw) as ReleasedLine[];
  }

  /**
   * Rooms are swept when `ns:sweep-rooms` says they are due; each room's sweep says when it is due
   * next (its earliest reservation expiry, at most a horizon away). Every room with products stays
   * in the list, so no reservation escapes the sweep whatever node made it or died since.
   */
  async sweepExpired(now: number, limit: number): Promise<ExpiredReservation[]> {
    const due = await this.#call(() => this.redis.zrangebyscore(globalKey(this.#ns, 'sweep-rooms'), '-inf', now, 'LIMIT', 0, ROOMS_PER_SWEEP));
    const swept = await Promise.all(due.map(async (roomId) => {
      const raw = await this.#call(() => this.redis.lcSweep(roomBase(this.#ns, roomId), roomId, now, 0, limit, this.#sweepHorizonMs));
      const { released, next } = JSON.parse(raw) as { released: ExpiredReservation[]; next: number };
      await this.#call(() => this.redis.zadd(globalKey(this.#ns, 'sweep-rooms'), next, roomId));
      return released;
    }));
    return swept.flat();
  }

  async order(orderId: string): Promise<Order | undefined> {
    const roomId = roomOfOrder(orderId);
    if (roomId === undefined) return undefined;
    const json = await this.#call(() => this.redis.hget(roomKey(this.#ns, roomId, 'orders'), orderId));
    return json === null ? undefined : withStatus(JSON.parse(json) as Order);
  }

  async orders(roomId: string): Promise<Order[]> {
    const ids = await this.#call(() => this.redis.lrange(roomKey(this.#ns, roomId, 'order-ids'), 0, -1));
    if (ids.length === 0) return [];
    const jsons = await this.#call(() => this.redis.hmget(roomKey(this.#ns, roomId, 'orders'), ...ids));
    return jsons.filter((j): j is string => j !== null).map((j) => withStatus(JSON.parse(j) as Order));
  }

  async createCoupon(roomId: string, coupon: Coupon, maxPerRoom: number): Promise<void> {
    const result = await this.#call(() => this.redis.lcCreateCoupon(roomBase(this.#ns, roomId), roomId, 0, 0, coupon.id, JSON.stringify(coupon), coupon.total, maxPerRoom));
    if (result === 'exists') throw new DomainError('COUPON_EXISTS', `coupon ${coupon.id} already exists in this room`);
    if (result === 'full') throw new DomainError('LIMIT_EXCEEDED', `a room holds at most ${maxPerRoom} coupons`);
  }

  async coupon(roomId: string, couponId: string): Promise<CouponCard | undefined> {
    const [def, left] = await this.#call(() => this.redis.hmget(roomKey(this.#ns, roomId, `coupon:${couponId}`), 'def', 'left'));
    return def === null || def === undefined ? undefined : { coupon: JSON.parse(def) as Coupon, left: Number(left ?? 0) };
  }

  async roomCoupons(roomId: string): Promise<CouponCard[]> {
    const ids = await this.#call(() => this.redis.lrange(roomKey(this.#ns, roomId, 'coupon-ids'), 0, -1));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(roomKey(this.#ns, roomId, `coupon:${id}`), 'def', 'left');
    const results = await this.#call(() => pipeline.exec());
    return (results ?? []).flatMap(([, value]) => {
      const [def, left] = (value as Array<string | null>) ?? [];
      return def === null || def === undefined ? [] : [{ coupon: JSON.parse(def) as Coupon, left: Number(left ?? 0) }];
    });
  }

  async claimCoupons(requests: readonly ClaimRequest[]): Promise<Array<CartAnswer | DomainError>> {
    if (requests.length === 0) return [];
    const byRoom = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const indexes = byRoom.get(r.roomId);
      if (indexes === undefined) byRoom.set(r.roomId, [i]);
      else indexes.push(i);
    });
    const out = new Array<CartAnswer | DomainError>(requests.length);
    await Promise.all([...byRoom].map(async ([roomId, indexes]) => {
      const args: Array<string | number> = [roomBase(this.#ns, roomId), roomId, requests[indexes[0]!]!.now, this.#options.idempotencyTtlMs];
      for (const i of indexes) args.push(requests[i]!.userId, requests[i]!.couponId, requests[i]!.key);
      const raw = await this.#call(() => this.redis.lcClaimCoupon(...args));
      indexes.forEach((index, j) => (out[index] = parseClaimAnswer(raw[j]!, requests[index]!.couponId)));
    }));
    return out;
  }

  async userClaims(roomId: string, userId: string): Promise<CouponClaim[]> {
    const all = await this.#call(() => this.redis.hgetall(roomKey(this.#ns, roomId, `claims:${userId}`)));
    return Object.values(all).map((json) => JSON.parse(json) as CouponClaim);
  }

  async pinCoupon(roomId: string, couponId: string | null): Promise<number> {
    const key = roomKey(this.#ns, roomId, 'coupon-pin');
    const versionKey = roomKey(this.#ns, roomId, 'coupon-pin-v');
    // Coupons are never deleted: one that exists now stays.
    if (couponId !== null && (await this.#call(() => this.redis.exists(roomKey(this.#ns, roomId, `coupon:${couponId}`)))) === 0) throw new DomainError('COUPON_NOT_FOUND', `no coupon ${couponId} in this room`);
    // One transaction in the room's slot: the pin and its version change together.
    const transaction = this.redis.multi().incr(versionKey);
    const results = await this.#call(() => (couponId === null ? transaction.del(key) : transaction.set(key, couponId)).exec());
    const [error, version] = results?.[0] ?? [new Error('the pin transaction was not run'), 0];
    if (error) throw new DomainError('UNAVAILABLE', `the coupon could not be pinned: ${error.message.slice(0, 80)}`, { retryAfterMs: this.#options.retryAfterMs });
    return Number(version);
  }

  async pinnedCoupon(roomId: string): Promise<PinnedCoupon> {
    const [id, version] = await this.#call(() => this.redis.mget(roomKey(this.#ns, roomId, 'coupon-pin'), roomKey(this.#ns, roomId, 'coupon-pin-v')));
    return { card: (id === null || id === undefined ? undefined : await this.coupon(roomId, id)) ?? null, version: Number(version ?? 0) };
  }

  async ping(): Promise<void> {
    await this.#call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  async #reserveMany(requests: readonly ReserveRequest[], mode: 'add' | 'set'): Promise<Array<CartAnswer | DomainError>> {
    return this.#perRoom(requests, async (roomId, inRoom) => {
      // The script spells each request's record name and fingerprint itself (as idempotency.ts does): fewer arguments to encode here.
      const args: Array<string | number> = [roomBase(this.#ns, roomId), roomId, inRoom[0]!.now, this.#options.idempotencyTtlMs, mode];
      for (const r of inRoom) args.push(r.userId, r.sku, r.quantity, r.key, r.ttlMs, r.priceCents ?? '');
      const raw = await this.#call(() => this.redis.lcReserve(...args));
      return raw.map((json, i) => parseAnswer(json, `no product ${inRoom[i]!.sku} in room ${roomId}`));
    });
  }

  /** One script call per room (a script stays in its room's slot), answers in the requests' order. A batch is almost always one room. */
  async #perRoom<A>(requests: readonly ReserveRequest[], run: (roomId: string, inRoom: readonly ReserveRequest[]) => Promise<A[]>): Promise<A[]> {
    if (requests.length === 0) return [];
    const roomId = requests[0]!.roomId;
    if (requests.every((r) => r.roomId === roomId)) return run(roomId, requests);
    const byRoom = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const indexes = byRoom.get(r.roomId);
      if (indexes === undefined) byRoom.set(r.roomId, [i]);
      else indexes.push(i);
    });
    const out = new Array<A>(requests.length);
    await Promise.all([...byRoom].map(async ([room, indexes]) => {
      const answers = await run(room, indexes.map((i) => requests[i]!));
      indexes.forEach((index, j) => (out[index] = answers[j]!));
    }));
    return out;
  }

  get #sweepHorizonMs(): number {
    return this.#options.sweepHorizonMs ?? 600_000;
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#options.retryAfterMs);
  }

  #inv(roomId: string, sku: string): string {
    return roomKey(this.#ns, roomId, `inv:${sku}`);
  }
}

/** A script's JSON answer, or the error it stands for. */
function parseAnswer(json: string, notFound: string): CartAnswer | DomainError {
  const replay = json.startsWith('~');
  const answer = JSON.parse(replay ? json.slice(1) : json) as CartAnswer | { error: 'PRODUCT_NOT_FOUND' | 'IDEMPOTENCY_MISMATCH' };
  if (!('error' in answer)) return replay ? replayOf(answer) : answer;
  return answer.error === 'IDEMPOTENCY_MISMATCH' ? new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE) : new DomainError('PRODUCT_NOT_FOUND', notFound);
}

/** A claim script's answer, or the error it stands for. */
function parseClaimAnswer(json: string, couponId: string): CartAnswer | DomainError {
  const replay = json.startsWith('~');
  const answer = JSON.parse(replay ? json.slice(1) : json) as CartAnswer | { error: 'COUPON_NOT_FOUND' | 'IDEMPOTENCY_MISMATCH' };
  if (!('error' in answer)) return replay ? replayOf(answer) : answer;
  return answer.error === 'IDEMPOTENCY_MISMATCH' ? new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE) : new DomainError('COUPON_NOT_FOUND', `no coupon ${couponId} in this room`);
}

function orThrow(answer: CartAnswer | DomainError): CartAnswer {
  if (answer instanceof DomainError) throw answer;
  return answer;
}

function parseLine(line: string): { quantity: number; expiresAt: number; priceCents: number | undefined } {
  const [quantity, expiresAt, price] = line.split('|');
  return { quantity: Number(quantity), expiresAt: Number(expiresAt), priceCents: price === undefined ? undefined : Number(price) };
}

function toLevel(values: ReadonlyArray<string | null>): StockLevel {
  return { available: Number(values[0] ?? 0), reserved: Number(values[1] ?? 0), sold: Number(values[2] ?? 0) };
}
