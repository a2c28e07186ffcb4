import type { WebhookLogEntry } from '../../../protocol/src/index.ts';
import { logEntryOf, type WebhookDelivery, type WebhookOutbox, type WebhookOutcome } from './WebhookOutbox.ts';

interface Pending {
  readonly delivery: Omit<WebhookDelivery, 'attempt'>;
  attempts: number;
  dueAt: number;
}

/** The outbox of the in-memory store: the store appends to it in the step that made the event; it dies with the process, as the orders do. */
export class MemoryWebhookOutbox implements WebhookOutbox {
  readonly #pending = new Map<string, Pending>();
  /** No pending delivery is due before this: a claim before it scans nothing (a receiver down for long leaves many waiting). */
  #earliestDue = Number.POSITIVE_INFINITY;
  /** Latest state per delivery, in the order of their last change (oldest first). */
  readonly #log = new Map<string, WebhookLogEntry>();

  /** `logSize`: deliveries the operators' log keeps at most. */
  constructor(readonly logSize: number) {}

  /** A new event, due at `now`. */
  append(delivery: Omit<WebhookDelivery, 'attempt'>, now: number): void {
    this.#pending.set(delivery.id, { delivery, attempts: 0, dueAt: now });
    this.#earliestDue = Math.min(this.#earliestDue, now);
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    if (now < this.#earliestDue) return [];
    const out: WebhookDelivery[] = [];
    let earliest = Number.POSITIVE_INFINITY;
    for (const pending of this.#pending.values()) {
      if (pending.dueAt <= now && out.length < limit) {
        pending.attempts++;
        pending.dueAt = now + leaseMs;
        out.push({ ...pending.delivery, attempt: pending.attempts });
      }
      earliest = Math.min(earliest, pending.dueAt);
    }
    this.#earliestDue = earliest;
    return out;
  }

  async settle(delivery: WebhookDelivery, outcome: WebhookOutcome, now: number): Promise<void> {
    const pending = this.#pending.get(delivery.id);
    if (pending === undefined || pending.attempts !== delivery.attempt) return;
    if (outcome.state === 'retrying') {
      pending.dueAt = outcome.nextAttemptAt;
      this.#earliestDue = Math.min(this.#earliestDue, pending.dueAt);
    } else {
      this.#pending.delete(delivery.id);
    }
    this.#log.delete(delivery.id);
    this.#log.set(delivery.id, logEntryOf(delivery, outcome, now));
    if (this.#log.size > this.logSize) this.#log.delete(this.#log.keys().next().value!);
  }

  async recent(limit: number): Promise<WebhookLogEntry[]> {
    return [...this.#log.values()].reverse().slice(0, limit);
  }
}
