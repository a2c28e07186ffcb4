import { z } from 'zod';
import type { Order } from './messages.ts';

/**
 * An order's life after checkout. A checkout places it; the shop's backend confirms its payment
 * (the payment hook, the only way to `paid`), ships it and sees it delivered; it may be cancelled
 * until it ships. Statuses and their legal steps live here, once, for the server (both stores),
 * the SDK and the pages.
 */
export const orderStatusSchema = z.enum(['placed', 'paid', 'shipped', 'delivered', 'cancelled']);
export type OrderStatus = z.infer<typeof orderStatusSchema>;

/** The statuses an order may go to from each status. `delivered` and `cancelled` are final. */
export const orderTransitions: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  placed: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** Statuses after which nothing more happens to an order. */
export function isFinalOrderStatus(status: OrderStatus): boolean {
  return orderTransitions[status].length === 0;
}

/** A note the shop adds to a step (a tracking number, a reason to cancel), in characters. */
export const ORDER_NOTE_MAX_LENGTH = 200;
/** A payment reference the shop's backend gives (its payment provider's id), in characters. */
export const PAYMENT_REFERENCE_MAX_LENGTH = 128;

/** One step of an order's history: the status it reached, when (epoch ms), and the shop's note. */
export const orderStepSchema = z.object({
  status: orderStatusSchema,
  at: z.number().int().nonnegative(),
  note: z.string().optional(),
});
export type OrderStep = z.infer<typeof orderStepSchema>;

/**
 * How the order was paid, set by the payment step only: `demo` true when the server's demo mode
 * marked it paid (no money moved), else the shop's backend confirmed it, with its `reference`.
 */
export const orderPaymentSchema = z.object({
  demo: z.boolean(),
  reference: z.string().optional(),
});
export type OrderPayment = z.infer<typeof orderPaymentSchema>;

// ---------------------------------------------------------------------------------------------
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
