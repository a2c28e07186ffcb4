import type { Redis } from 'ioredis';
import type { Cart, CartAnswer, CartLine, Order } from '../../../protocol/src/index.ts';
import { DomainError } from '../DomainError.ts';
import { connectWithin, createRedisClient } from '../redis/client.ts';
import { redisCall } from '../redis/redisCall.ts';
import { fingerprintOf, IDEMPOTENCY_MISMATCH_MESSAGE, recordName, replayOf } from './idempotency.ts';
import { checkoutScript, releaseUserScript, reserveScript, soldOutScript, sweepScript } from './redisScripts.ts';
import type { ExpiredReservation, InventoryItem, ReleasedLine, ReserveRequest, StockLevel, Store } from './Store.ts';

export interface RedisStoreOptions {
  readonly url: string;
  /** Key namespace, so deployments and test runs can share one Redis. */
  readonly prefix: string;
  readonly idempotencyTtlMs: number;
  /** A command that takes longer fails as UNAVAILABLE instead of hanging the request. */
  readonly commandTimeoutMs: number;
  /** Told to clients when Redis is unreachable. */
  readonly retryAfterMs: number;
}

type ScriptCommands = {
  lcReserve(...args: Array<string | number>): Promise<string[]>;
  lcSoldOut(...args: Array<string | number>): Promise<string[]>;
  lcCheckout(...args: Array<string | number>): Promise<string>;
  lcSweep(...args: Array<string | number>): Promise<string>;
  lcReleaseUser(...args: Array<string | number>): Promise<string>;
};

/** Defines the store's Lua scripts as commands of `redis`. */
function withStoreScripts(redis: Redis): Redis & ScriptCommands {
  redis.defineCommand('lcReserve', { numberOfKeys: 0, lua: reserveScript });
  redis.defineCommand('lcSoldOut', { numberOfKeys: 0, lua: soldOutScript });
  redis.defineCommand('lcCheckout', { numberOfKeys: 0, lua: checkoutScript });
  redis.defineCommand('lcSweep', { numberOfKeys: 0, lua: sweepScript });
  redis.defineCommand('lcReleaseUser', { numberOfKeys: 0, lua: releaseUserScript });
  return redis as Redis & ScriptCommands;
}

export class RedisStore implements Store {
  readonly redis: Redis & ScriptCommands;
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
    await connectWithin(store.redis, options.url, waitMs);
    return store;
  }

  async addProduct(roomId: string, item: InventoryItem): Promise<void> {
    const key = this.#inv(roomId, item.sku);
    const fields = ['avail', item.stock, 'res', 0, 'sold', 0, 'price', item.priceCents, 'cur', item.currency];
    if (item.saleStartsAt !== undefined) fields.push('start', item.saleStartsAt);
    if (item.saleEndsAt !== undefined) fields.push('end', item.saleEndsAt);
    if (item.perCustomerLimit !== undefined) fields.push('limit', item.perCustomerLimit);
    const created = await this.#call(() => this.redis.hsetnx(key, 'avail', item.stock));
    if (created === 0) throw new DomainError('PRODUCT_EXISTS', `product ${item.sku} already has inventory`);
    await this.#call(() => this.redis.multi().hset(key, ...fields).sadd(`${this.#ns}:invs:${roomId}`, item.sku).exec());
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
    const skus = await this.#call(() => this.redis.smembers(`${this.#ns}:invs:${roomId}`));
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

  async soldOutBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError>> {
    if (requests.length === 0) return [];
    const args: Array<string | number> = [this.#ns, 0, this.#options.idempotencyTtlMs];
    for (const r of requests) args.push(r.roomId, r.userId, r.sku, r.quantity, r.key);
    const raw = await this.#call(() => this.redis.lcSoldOut(...args));
    return raw.map((json, i): CartAnswer | DomainError => (json === '' ? { status: 'sold_out', sku: requests[i]!.sku } : parseAnswer(json, '')));
  }

  async setQuantity(request: ReserveRequest): Promise<CartAnswer> {
    return orThrow((await this.#reserveMany([request], 'set'))[0]!);
  }

  async cart(roomId: string, userId: string, now: number): Promise<Cart> {
    const all = await this.#call(() => this.redis.hgetall(`${this.#ns}:cart:${roomId}:${userId}`));
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
      const priceCents = Number(price ?? 0);
      currency = cur ?? currency;
      totalCents += priceCents * entry.quantity;
      return { sku: entry.sku, quantity: entry.quantity, priceCents, expiresAt: entry.expiresAt };
    });
    return { roomId, lines, currency, totalCents };
  }

  async checkout(roomId: string, userId: string, key: string, now: number): Promise<CartAnswer> {
    const raw = await this.#call(() => this.redis.lcCheckout(this.#ns, now, this.#options.idempotencyTtlMs, roomId, userId, recordName(userId, key), fingerprintOf('checkout', roomId)));
    return orThrow(parseAnswer(raw, ''));
  }

  async recorded(userId: string, key: string, fingerprint: string): Promise<CartAnswer | undefined> {
    const seen = await this.#call(() => this.redis.get(`${this.#ns}:idem:${recordName(userId, key)}`));
    if (seen === null) return undefined;
    const newline = seen.indexOf('\n');
    if (newline >= 0 && seen.slice(0, newline) !== fingerprint) throw new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE);
    return orThrow(parseAnswer(`~${seen.slice(newline + 1)}`, ''));
  }

  async releaseUser(roomId: string, userId: string): Promise<ReleasedLine[]> {
    const raw = await this.#call(() => this.redis.lcReleaseUser(this.#ns, 0, 0, roomId, userId));
    return JSON.parse(raw) as ReleasedLine[];
  }

  async sweepExpired(now: number, limit: number): Promise<ExpiredReservation[]> {
    const raw = await this.#call(() => this.redis.lcSweep(this.#ns, now, 0, limit));
    return JSON.parse(raw) as ExpiredReservation[];
  }

  async order(orderId: string): Promise<Order | undefined> {
    const json = await this.#call(() => this.redis.hget(`${this.#ns}:orders`, orderId));
    return json === null ? undefined : (JSON.parse(json) as Order);
  }

  async orders(roomId: string): Promise<Order[]> {
    const ids = await this.#call(() => this.redis.lrange(`${this.#ns}:room-orders:${roomId}`, 0, -1));
    if (ids.length === 0) return [];
    const jsons = await this.#call(() => this.redis.hmget(`${this.#ns}:orders`, ...ids));
    return jsons.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as Order);
  }

  async ping(): Promise<void> {
    await this.#call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  async #reserveMany(requests: readonly ReserveRequest[], mode: 'add' | 'set'): Promise<Array<CartAnswer | DomainError>> {
    if (requests.length === 0) return [];
    // The script spells each request's record name and fingerprint itself (as idempotency.ts does): fewer arguments to encode here.
    const args: Array<string | number> = [this.#ns, requests[0]!.now, this.#options.idempotencyTtlMs, mode];
    for (const r of requests) args.push(r.roomId, r.userId, r.sku, r.quantity, r.key, r.ttlMs);
    const raw = await this.#call(() => this.redis.lcReserve(...args));
    return raw.map((json, i) => parseAnswer(json, `no product ${requests[i]!.sku} in room ${requests[i]!.roomId}`));
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#options.retryAfterMs);
  }

  #inv(roomId: string, sku: string): string {
    return `${this.#ns}:inv:${roomId}:${sku}`;
  }
}

/** A script's JSON answer, or the error it stands for. */
function parseAnswer(json: string, notFound: string): CartAnswer | DomainError {
  const replay = json.startsWith('~');
  const answer = JSON.parse(replay ? json.slice(1) : json) as CartAnswer | { error: 'PRODUCT_NOT_FOUND' | 'IDEMPOTENCY_MISMATCH' };
  if (!('error' in answer)) return replay ? replayOf(answer) : answer;
  return answer.error === 'IDEMPOTENCY_MISMATCH' ? new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE) : new DomainError('PRODUCT_NOT_FOUND', notFound);
}

function orThrow(answer: CartAnswer | DomainError): CartAnswer {
  if (answer instanceof DomainError) throw answer;
  return answer;
}

function parseLine(line: string): { quantity: number; expiresAt: number } {
  const [quantity, expiresAt] = line.split('|');
  return { quantity: Number(quantity), expiresAt: Number(expiresAt) };
}

function toLevel(values: ReadonlyArray<string | null>): StockLevel {
  return { available: Number(values[0] ?? 0), reserved: Number(values[1] ?? 0), sold: Number(values[2] ?? 0) };
}
