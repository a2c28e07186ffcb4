import { z } from 'zod';
import { couponIdSchema, couponInputSchema } from '../../../protocol/src/index.ts';
import type { CartAnswering } from './HttpCartPacer.ts';
import type { CouponService } from '../commerce/CouponService.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

const idempotencyKeySchema = z.string().min(1, 'an Idempotency-Key header (or "key" in the body) is required').max(64);
const keyOnlySchema = z.object({ key: idempotencyKeySchema.optional() }).optional();
const pinSchema = z.object({ couponId: couponIdSchema.nullable() });

/** Coupons over HTTP: the same requests as over the WebSocket; claims go through the same cart desk (idempotency, admission). */
export function registerCouponsHttpApi(router: JsonRouter, deps: { coupons: CouponService; desk: CartAnswering }): void {
  const { coupons, desk } = deps;
  router.route('post', '/api/rooms/:id/coupons', async (ctx) => {
    const principal = await router.principal(ctx);
    const input = parse(couponInputSchema, await ctx.body());
    return { status: 201, body: { coupon: await coupons.create(principal, ctx.params[0]!, input) } };
  });
  router.route('get', '/api/rooms/:id/coupons', async (ctx) => ({
    status: 200, body: await coupons.read(await router.principal(ctx), ctx.params[0]!),
  }));
  router.route('put', '/api/rooms/:id/coupons/pinned', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(pinSchema, await ctx.body());
    return { status: 200, body: { seq: await coupons.pin(principal, ctx.params[0]!, body.couponId) } };
  });
  router.route('post', '/api/rooms/:id/coupons/:couponId/claim', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(keyOnlySchema, await ctx.body());
    const key = parse(idempotencyKeySchema, ctx.idempotencyKey || body?.key || '');
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, { t: 'claimCoupon', id: 0, couponId: parse(couponIdSchema, ctx.params[1]), key }) };
  });
}
