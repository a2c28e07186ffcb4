import { z } from 'zod';

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
