import { z } from 'zod';
import { giveawayIdSchema, giveawayInputSchema } from '../../../protocol/src/index.ts';
import type { CartAnswering } from './HttpCartPacer.ts';
import type { GiveawayService } from '../commerce/GiveawayService.ts';
import { DomainError } from '../DomainError.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

const idempotencyKeySchema = z.string().min(1, 'an Idempotency-Key header (or "key" in the body) is required').max(64);
const enterSchema = z.object({ key: idempotencyKeySchema.optional(), showName: z.boolean().optional() }).strict().optional();

/**
 * Giveaways over HTTP: the same requests as over the WebSocket; entries go through the same cart
 * desk (idempotency, admission). The draw's data is public: anyone may check it.
 */
export function registerGiveawaysHttpApi(router: JsonRouter, deps: { giveaways: GiveawayService; desk: CartAnswering }): void {
  const { giveaways, desk } = deps;
  router.route('post', '/api/rooms/:id/giveaways', async (ctx) => {
    const principal = await router.principal(ctx);
    const input = parse(giveawayInputSchema, await ctx.body());
    return { status: 201, body: { giveaway: await giveaways.open(principal, ctx.params[0]!, input) } };
  });
  router.route('get', '/api/rooms/:id/giveaways/:giveawayId', async (ctx) => {
    const principal = await router.principal(ctx);
    const giveaway = await giveaways.read(principal, ctx.params[0]!, parse(giveawayIdSchema, ctx.params[1]));
    if (giveaway === null) throw new DomainError('GIVEAWAY_NOT_FOUND', 'no such giveaway in this room');
    return { status: 200, body: { giveaway } };
  });
  router.route('post', '/api/rooms/:id/giveaways/:giveawayId/end', async (ctx) => ({
    status: 200, body: { giveaway: await giveaways.end(await router.principal(ctx), ctx.params[0]!, parse(giveawayIdSchema, ctx.params[1])) },
  }));
  router.route('post', '/api/rooms/:id/giveaways/:giveawayId/cancel', async (ctx) => ({
    status: 200, body: { giveaway: await giveaways.cancel(await router.principal(ctx), ctx.params[0]!, parse(giveawayIdSchema, ctx.params[1])) },
  }));
  router.route('post', '/api/rooms/:id/giveaways/:giveawayId/enter', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(enterSchema, await ctx.body());
    const key = parse(idempotencyKeySchema, ctx.idempotencyKey || body?.key || '');
    const request = { t: 'enterGiveaway' as const, id: 0, key, giveawayId: parse(giveawayIdSchema, ctx.params[1]), ...(body?.showName === undefined ? {} : { showName: body.showName }) };
    return { status: 200, body: await giveaways.enterFromOutside(principal, ctx.params[0]!, request, desk) };
  });
  router.route('get', '/api/rooms/:id/giveaways/:giveawayId/draw.json', async (ctx) => ({
    status: 200, body: await giveaways.drawData(ctx.params[0]!, parse(giveawayIdSchema, ctx.params[1])),
  }));
}
