import type { WebhookEvent } from '../../../protocol/src/index.ts';
import { WebhookHeaders } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { WebhookDelivery, WebhookOutbox, WebhookOutcome } from '../store/WebhookOutbox.ts';
import { webhookSignature } from './webhookSignature.ts';

export interface WebhookDispatcherOptions {
  /** The shop backend's endpoint. */
  readonly url: string;
  /** The HMAC key of the signature header. */
  readonly secret: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** POSTs under way at once, at most. */
  readonly concurrency: number;
  /** How often the outbox is looked at when nothing woke the dispatcher. */
  readonly pollMs: number;
}

/** What this node's dispatcher did since it started (read by /metrics). */
export interface WebhookStats {
  /** Attempts answered 2xx. */
  delivered: number;
  /** Attempts that failed with another attempt to follow. */
  retrying: number;
  /** Attempts that failed the last allowed time: the delivery was dropped. */
  failed: number;
  /** POSTs under way now. */
  inFlight: number;
}

/** A delivery claimed is leased for its attempt's timeout and this much more (the settle that follows); past it any node may try again. */
const LEASE_MARGIN_MS = 5000;
/** Claim failures (the store unreachable) are logged at most this often. */
const CLAIM_WARNING_EVERY_MS = 10_000;

/**
 * Delivers the webhook outbox to the shop's backend: claims due deliveries (every `pollMs`, and at
 * once when woken by a local order event), POSTs each with its signature and delivery id, and
 * settles it: delivered on a 2xx; on anything else (a status, a timeout, no connection) tried
 * again after an exponential backoff with jitter, until `maxAttempts`. At least once: an attempt
 * cut short by a shutdown is not settled, and its lease running out puts it back for any node.
 */
export class WebhookDispatcher {
  readonly stats: WebhookStats = { delivered: 0, retrying: 0, failed: 0, inFlight: 0 };
  readonly #outbox: WebhookOutbox;
  readonly #options: WebhookDispatcherOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #lifetime = new AbortController();
  readonly #sending = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #claiming = false;
  /** Woken while claiming: claim again once this claim is done. */
  #again = false;
  #closed = false;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: { outbox: WebhookOutbox; options: WebhookDispatcherOptions; log: Logger; now?: () => number; random?: () => number }) {
    this.#outbox = deps.outbox;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
  }

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs).unref();
    this.wake();
  }

  /** Looks for due deliveries now (an order event was just written here). */
  wake(): void {
    if (this.#closed) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    void this.#claim();
  }

  /** Stops claiming and cuts the POSTs under way short (their leases run out: they are tried again later, here or on another node). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#lifetime.abort();
    await Promise.all(this.#sending);
  }

  /** The wait before attempt `attempt + 1`: base × 2^(attempt − 1), at most the maximum, between half and all of it. */
  retryDelayMs(attempt: number): number {
    const full = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** Math.min(attempt - 1, 40));
    return Math.round(full / 2 + (this.#random() * full) / 2);
  }

  async #claim(): Promise<void> {
    this.#claiming = true;
    try {
      do {
        this.#again = false;
        const room = this.#options.concurrency - this.stats.inFlight;
        if (room <= 0) break;
        const due = await this.#outbox.claim(this.#now(), this.#options.timeoutMs + LEASE_MARGIN_MS, room);
        for (const delivery of due) this.#send(delivery);
        // A full batch: more may be waiting (the loop stops once every slot is busy; a finished POST wakes it).
        if (due.length === room) this.#again = true;
      } while (this.#again && !this.#closed);
    } catch (error) {
      const now = this.#now();
      if (now - this.#warnedAt >= CLAIM_WARNING_EVERY_MS) {
        this.#warnedAt = now;
        this.#log.warn({ err: error }, 'webhook outbox unreachable; will retry');
      }
    } finally {
      this.#claiming = false;
    }
  }

  #send(delivery: WebhookDelivery): void {
    this.stats.inFlight++;
    const sending = this.#attempt(delivery).finally(() => {
      this.stats.inFlight--;
      this.#sending.delete(sending);
      this.wake();
    });
    this.#sending.add(sending);
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const event: WebhookEvent = { id: delivery.id, type: delivery.type, createdAt: delivery.createdAt, data: { order: delivery.order } };
    const body = JSON.stringify(event);
    let outcome: WebhookOutcome;
    try {
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'livecart-webhooks/1',
          [WebhookHeaders.signature]: webhookSignature(this.#options.secret, body, Math.floor(this.#now() / 1000)),
          [WebhookHeaders.delivery]: delivery.id,
          [WebhookHeaders.event]: delivery.type,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.#options.timeoutMs), this.#lifetime.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      outcome = response.ok ? { state: 'delivered', responseStatus: response.status } : this.#failed(delivery, `HTTP ${response.status}`, response.status);
    } catch (error) {
      if (this.#closed) return;
      outcome = this.#failed(delivery, reasonOf(error, this.#options.timeoutMs));
    }
    this.stats[outcome.state]++;
    if (outcome.state === 'failed') this.#log.warn({ deliveryId: delivery.id, orderId: delivery.orderId, attempts: delivery.attempt, error: outcome.error }, 'webhook delivery failed for good');
    else if (outcome.state === 'retrying') this.#log.debug({ deliveryId: delivery.id, attempt: delivery.attempt, error: outcome.error }, 'webhook attempt failed');
    try {
      await this.#outbox.settle(delivery, outcome, this.#now());
    } catch (error) {
      this.#log.warn({ err: error, deliveryId: delivery.id }, 'webhook outcome not recorded; the delivery is tried again when its lease ends');
    }
  }

  #failed(delivery: WebhookDelivery, error: string, responseStatus?: number): WebhookOutcome {
    if (delivery.attempt >= this.#options.maxAttempts) return { state: 'failed', responseStatus, error };
    return { state: 'retrying', nextAttemptAt: this.#now() + this.retryDelayMs(delivery.attempt), responseStatus, error };
  }
}

/** Why a POST got no answer, in a few words: a timeout, or the network error's code. */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (cause?.code ?? cause?.message ?? (error as Error).message ?? String(error)).slice(0, 200);
}
