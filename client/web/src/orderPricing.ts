import type { Order } from '../../src/index.ts';
import { formatPrice, h } from './common.ts';
import { t } from './i18n.ts';
import './orderPricing.css';

/**
 * An order's money lines above its total: subtotal (at the prices paid) and the coupon's discount.
 * Nothing for an order without a discount (its total says it all) or one placed before coupons.
 */
export function pricingRows(order: Order): HTMLElement[] {
  if (order.subtotalCents === undefined || !order.discountCents) return [];
  return [
    h('p', { class: 'price-line', 'data-testid': 'order-subtotal' }, h('span', {}, t('pricing.subtotal')), ' ', h('span', {}, formatPrice(order.subtotalCents, order.currency))),
    h('p', { class: 'price-line discount', 'data-testid': 'order-discount' },
      h('span', {}, order.couponId === undefined ? t('pricing.discount') : t('coupon.line', { id: order.couponId })), ' ',
      h('span', {}, `−${formatPrice(order.discountCents, order.currency)}`)),
  ];
}
