import type { Order } from './messages.ts';
import type { OrderStatus } from './orders.ts';

// Webhooks: every order event, POSTed to the shop's backend (see PROTOCOL.md, "Order webhooks").

/** The event types: `order.` and the status the order reached. */
export type WebhookEventType = `order.${OrderStatus}`;

/** The JSON body of a webhook POST. `id` is the delivery id: the same on every retry of this event. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** When the event happened, epoch ms. */
  createdAt: number;
  data: { order: Order };
}

/** Request headers of a webhook POST (lower case, as HTTP/2 and Node show them). */
export const WebhookHeaders = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook secret>`. */
  signature: 'livecart-signature',
  /** The delivery id (the body's `id`): a receiver that saw it before answers 2xx and does nothing. */
  delivery: 'livecart-delivery',
  /** The event type (the body's `type`). */
  event: 'livecart-event',
} as const;

/** One delivery as the operators' log shows it (`GET /api/ops/webhooks`), newest change first. */
export interface WebhookLogEntry {
  id: string;
  type: WebhookEventType;
  orderId: string;
  roomId: string;
  /** When the event happened. */
  createdAt: number;
  /** Attempts made so far. */
  attempts: number;
  /** `delivered` (a 2xx came back), `retrying` (the last attempt failed; another follows at `nextAttemptAt`) or `failed` (attempts ran out). */
  state: 'delivered' | 'retrying' | 'failed';
  lastAttemptAt: number;
  nextAttemptAt?: number;
  /** The receiver's HTTP status of the last attempt, when it answered. */
  responseStatus?: number;
  /** Why the last attempt failed (timeout, connection refused, a non-2xx status). */
  error?: string;
}
