import { z } from 'zod';
import { ORDER_NOTE_MAX_LENGTH, orderStatusSchema, PAYMENT_REFERENCE_MAX_LENGTH, textSchema } from '../../../protocol/src/index.ts';
import type { OrderService, ShopStep } from '../commerce/OrderService.ts';
import { ProtocolError } from '../errors.ts';
import type { WebhookOutbox } from '../store/WebhookOutbox.ts';
import { type JsonRouter, parse, type RequestContext } from './JsonRouter.ts';

const noteSchema = textSchema(ORDER_NOTE_MAX_LENGTH);
const statusBodySchema = z.object({ status: orderStatusSchema, note: noteSchema.optional() });
const paymentBodySchema = z.object({ reference: textSchema(PAYMENT_REFERENCE_MAX_LENGTH).optional(), note: noteSchema.optional() }).optional();

/**
 * Orders after checkout over HTTP: a buyer's own list, the shop backend's steps (the payment hook,
 * then shipped, delivered or cancelled) and the operators' webhook log. The answers of a step are
 * `{ order, changed }`; a step the order already took answers `changed: false`, so a backend may
 * retry any call.
 */
export function registerOrdersHttpApi(router: JsonRouter, deps: { orders: OrderService; outbox: WebhookOutbox | undefined; limits: { ordersPerUser: number; webhookLogSize: number }; webhookUrl: string | undefined }): void {
  const { orders, outbox, limits } = deps;

  router.route('get', '/api/me/orders', async (ctx) => {
    const principal = await router.principal(ctx);
    return { status: 200, body: { orders: await orders.myOrders(principal, limitOf(ctx, Math.min(50, limits.ordersPerUser), limits.ordersPerUser)) } };
  });

  router.route('post', '/api/orders/:id/payment', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(paymentBodySchema, await ctx.body());
    const { order, changed } = await orders.confirmPayment(principal, ctx.params[0]!, { reference: body?.reference, note: body?.note });
    return { status: 200, body: { order, changed } };
  });

  router.route('post', '/api/orders/:id/status', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(statusBodySchema, await ctx.body());
    if (body.status === 'paid') throw new ProtocolError('BAD_REQUEST', 'status: paid is the payment step\'s: POST /api/orders/:id/payment');
    if (body.status === 'placed') throw new ProtocolError('BAD_REQUEST', 'status: placed is what checkout makes; an order never goes back to it');
    const { order, changed } = await orders.advance(principal, ctx.params[0]!, body.status satisfies ShopStep, body.note);
    return { status: 200, body: { order, changed } };
  });

  router.route('get', '/api/ops/webhooks', async (ctx) => {
    await router.operator(ctx);
    const deliveries = outbox === undefined ? [] : await outbox.recent(limitOf(ctx, Math.min(100, limits.webhookLogSize), limits.webhookLogSize));
    return { status: 200, body: { endpoint: endpointOf(deps.webhookUrl), deliveries } };
  });
}

/** `?limit=` between 1 and `max`, `fallback` when absent. */
function limitOf(ctx: RequestContext, fallback: number, max: number): number {
  const raw = ctx.query.get('limit');
  if (raw === null) return fallback;
  return parse(z.object({ limit: z.coerce.number().int().min(1).max(max) }), { limit: raw }).limit;
}

/** The endpoint without its query or credentials (they may carry a secret of the shop's). */
function endpointOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
