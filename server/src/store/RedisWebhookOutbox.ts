import type { WebhookLogEntry } from '../../../protocol/src/index.ts';
import type { RedisConnection } from '../redis/client.ts';
import { globalKey, roomBase, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import { WEBHOOK_ROOMS_KIND } from './RedisStore.ts';
import { claimScript, logScript, settleScript } from './webhookScripts.ts';
import { logEntryOf, type WebhookDelivery, type WebhookOutbox, type WebhookOutcome } from './WebhookOutbox.ts';

export interface RedisWebhookOutboxOptions {
  /** The store's key namespace. */
  readonly prefix: string;
  /** Deliveries the operators' log keeps at most. */
  readonly logSize: number;
  readonly retryAfterMs: number;
}

/** Rooms looked at per claim, at most. */
const ROOMS_PER_CLAIM = 32;

type Scripts = {
  lcWebhookClaim(...args: Array<string | number>): Promise<string[]>;
  lcWebhookSettle(...args: Array<string | number>): Promise<[string, string]>;
  lcWebhookLog(...args: Array<string | number>): Promise<number>;
};

/**
 * The Redis store's webhook outboxes, one per room in the room's slot (RedisStore's order scripts
 * append to them), found through `ns:webhook-rooms`: room ids scored by when their outbox wants
 * attention. A writer sets a room's score to now after its script (ZADD LT, single-key); a claim
 * moves it to the room's next due delivery (or takes it out) and then reads the room's head
 * again, so a delivery appended in between, whose writer's ZADD the claim may have overwritten, is
 * indexed again. The log is `ns:{webhooks}:log` (a hash) and `ns:{webhooks}:recent` (its order),
 * one slot, written by one script.
 */
export class RedisWebhookOutbox implements WebhookOutbox {
  readonly #redis: RedisConnection & Scripts;
  readonly #options: RedisWebhookOutboxOptions;
  readonly #index: string;
  readonly #log: string;
  readonly #recent: string;

  constructor(redis: RedisConnection, options: RedisWebhookOutboxOptions) {
    redis.defineCommand('lcWebhookClaim', { numberOfKeys: 1, lua: claimScript });
    redis.defineCommand('lcWebhookSettle', { numberOfKeys: 1, lua: settleScript });
    redis.defineCommand('lcWebhookLog', { numberOfKeys: 2, lua: logScript });
    this.#redis = redis as RedisConnection & Scripts;
    this.#options = options;
    this.#index = globalKey(options.prefix, WEBHOOK_ROOMS_KIND);
    this.#log = globalKey(options.prefix, '{webhooks}:log');
    this.#recent = globalKey(options.prefix, '{webhooks}:recent');
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    const rooms = await this.#call(() => this.#redis.zrangebyscore(this.#index, '-inf', now, 'LIMIT', 0, ROOMS_PER_CLAIM));
    const out: WebhookDelivery[] = [];
    for (const roomId of rooms) {
      if (out.length >= limit) break;
      const [next = '', ...claimed] = await this.#call(() => this.#redis.lcWebhookClaim(roomBase(this.#options.prefix, roomId), now, leaseMs, limit - out.length));
      for (let i = 0; i + 1 < claimed.length; i += 2) out.push({ ...(JSON.parse(claimed[i]!) as Omit<WebhookDelivery, 'attempt'>), attempt: Number(claimed[i + 1]) });
      await this.#reindex(roomId, next);
    }
    return out;
  }

  async settle(delivery: WebhookDelivery, outcome: WebhookOutcome, now: number): Promise<void> {
    const nextAt = outcome.state === 'retrying' ? outcome.nextAttemptAt : 0;
    const [state, next] = await this.#call(() => this.#redis.lcWebhookSettle(roomBase(this.#options.prefix, delivery.roomId), delivery.id, delivery.attempt, outcome.state, nextAt));
    if (state === 'stale') return;
    if (next !== '') await this.#call(() => this.#redis.zadd(this.#index, 'LT', next, delivery.roomId));
    const entry = logEntryOf(delivery, outcome, now);
    await this.#call(() => this.#redis.lcWebhookLog(this.#log, this.#recent, delivery.id, JSON.stringify(entry), now, this.#options.logSize));
  }

  async recent(limit: number): Promise<WebhookLogEntry[]> {
    if (limit <= 0) return [];
    const ids = await this.#call(() => this.#redis.zrevrange(this.#recent, 0, limit - 1));
    if (ids.length === 0) return [];
    const entries = await this.#call(() => this.#redis.hmget(this.#log, ...ids));
    return entries.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as WebhookLogEntry);
  }

  /** Puts the room at its next due delivery in the index (or out of it), then indexes again what was appended meanwhile. */
  async #reindex(roomId: string, next: string): Promise<void> {
    if (next === '') await this.#call(() => this.#redis.zrem(this.#index, roomId));
    else await this.#call(() => this.#redis.zadd(this.#index, next, roomId));
    const head = await this.#call(() => this.#redis.zrange(roomKey(this.#options.prefix, roomId, 'wh-due'), '0', '0', 'WITHSCORES'));
    const due = head[1];
    if (due !== undefined && (next === '' || Number(due) < Number(next))) await this.#call(() => this.#redis.zadd(this.#index, 'LT', due, roomId));
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#options.retryAfterMs, 'webhook outbox');
  }
}
