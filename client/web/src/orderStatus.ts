/**
 * What the pages say about an order's status. "Paid" only when the payment step said so: the
 * shop's backend confirmed it, or the server's demo mode marked it, which the text then says.
 */
import type { Order, OrderStatus } from '../../src/index.ts';
import { t } from './i18n.ts';

const headlines: Readonly<Record<OrderStatus, string>> = {
  placed: t('status.placedAwaiting'),
  paid: t('status.paid'),
  shipped: t('status.shipped'),
  delivered: t('status.delivered'),
  cancelled: t('status.cancelled'),
};

/** The status in a few words ("Paid", "Order placed — awaiting payment"). */
export function statusHeadline(order: Order): string {
  return headlines[order.status];
}

/** The demo label an order carries when a demo payment marked it paid, else undefined. */
export function demoNote(order: Order): string | undefined {
  return order.payment?.demo === true ? t('status.demo') : undefined;
}

/** One line for a status element: the headline, with the demo label when there is one. */
export function statusLine(order: Order): string {
  const demo = demoNote(order);
  return demo === undefined ? statusHeadline(order) : `${statusHeadline(order)} · ${demo}`;
}

/** The steps of an order's progress bar, in order (a cancelled order shows its own). */
export const PROGRESS_STEPS: readonly OrderStatus[] = ['placed', 'paid', 'shipped', 'delivered'];

export const stepNames: Readonly<Record<OrderStatus, string>> = {
  placed: t('status.placed'),
  paid: t('status.paid'),
  shipped: t('status.shipped'),
  delivered: t('status.delivered'),
  cancelled: t('status.cancelled'),
};
