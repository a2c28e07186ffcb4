import { randomBytes } from 'node:crypto';
import type { Order, WebhookEventType, WebhookLogEntry } from '../../../protocol/src/index.ts';

/**
 * The webhook outbox: every order event, written by the store in the same atomic step as the order
 * change it reports (a transactional outbox), waits here until the shop's backend took it. The
 * dispatcher claims what is due, POSTs it and settles it. Delivery is at least once: a claim is a
 * lease, and a node that dies mid-attempt leaves the delivery to be claimed again when its lease
 * ends (the receiver tells repeats apart by the delivery id).
 */
export interface WebhookDelivery {
  /** The delivery id: the same on every attempt. */
  readonly id: string;
  readonly type: WebhookEventType;
  readonly roomId: string;
  readonly orderId: string;
  /** When the event happened, epoch ms. */
  readonly createdAt: number;
  /** The order as the event left it. */
  readonly order: Order;
  /** This attempt's number, 1 for the first. A settle names it: one for an attempt another node has taken over since does nothing. */
  readonly attempt: number;
}

/** How one attempt went. */
export type WebhookOutcome =
  | { readonly state: 'delivered'; readonly responseStatus: number }
  | { readonly state: 'retrying'; readonly nextAttemptAt: number; readonly responseStatus?: number | undefined; readonly error: string }
  | { readonly state: 'failed'; readonly responseStatus?: number | undefined; readonly error: string };

export interface WebhookOutbox {
  /**
   * Deliveries due at `now`, at most `limit`, oldest due first as far as the store can tell; each is
   * leased to the caller until `now + leaseMs` (then it is due again, for any node) and its attempt
   * count goes up by one.
   */
  claim(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Records how an attempt went, in the outbox (delivered and failed leave it; retrying comes due
   * again at `nextAttemptAt`) and in the operators' log. Does nothing for an attempt that is no
   * longer the delivery's latest.
   */
  settle(delivery: WebhookDelivery, outcome: WebhookOutcome, now: number): Promise<void>;
  /** The operators' log: the latest state of the most recently attempted deliveries, newest change first. */
  recent(limit: number): Promise<WebhookLogEntry[]>;
}

/** A delivery id: random, so it tells nothing and two nodes never make the same one. */
export function newDeliveryId(): string {
  return `whd_${randomBytes(12).toString('base64url')}`;
}

/** The outbox's record of a new event (before its first attempt). */
export function deliveryOf(id: string, order: Order, at: number): Omit<WebhookDelivery, 'attempt'> {
  return { id, type: `order.${order.status}`, roomId: order.roomId, orderId: order.id, createdAt: at, order };
}

/** The log line for an attempt's outcome. */
export function logEntryOf(delivery: WebhookDelivery, outcome: WebhookOutcome, now: number): WebhookLogEntry {
  const entry: WebhookLogEntry = {
    id: delivery.id, type: delivery.type, orderId: delivery.orderId, roomId: delivery.roomId, createdAt: delivery.createdAt,
    attempts: delivery.attempt, state: outcome.state, lastAttemptAt: now,
  };
  if (outcome.responseStatus !== undefined) entry.responseStatus = outcome.responseStatus;
  if (outcome.state !== 'delivered') entry.error = outcome.error;
  if (outcome.state === 'retrying') entry.nextAttemptAt = outcome.nextAttemptAt;
  return entry;
}
