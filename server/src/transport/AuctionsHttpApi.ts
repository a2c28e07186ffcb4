import { z } from 'zod';
import { AUCTION_CENTS_MAX, auctionIdSchema, auctionInputSchema } from '../../../protocol/src/index.ts';
import type { CartAnswering } from './HttpCartPacer.ts';
import type { AuctionService } from '../commerce/AuctionService.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

const idempotencyKeySchema = z.string().min(1, 'an Idempotency-Key header (or "key" in the body) is required').max(64);
const bidSchema = z.object({ amountCents: z.number().int().min(1).max(AUCTION_CENTS_MAX), max: z.boolean().optional(), key: idempotencyKeySchema.optional() });

/** Auctions over HTTP: the same requests as over the WebSocket; bids go through the same cart desk (idempotency, admission). */
export function registerAuctionsHttpApi(router: JsonRouter, deps: { auctions: AuctionService; desk: CartAnswering }): void {
  const { auctions, desk } = deps;
  router.route('post', '/api/rooms/:id/auctions', async (ctx) => {
    const principal = await router.principal(ctx);
    const input = parse(auctionInputSchema, await ctx.body());
    return { status: 201, body: { auction: await auctions.start(principal, ctx.params[0]!, input) } };
  });
  /** The auction as the room sees it; its bid history too for the room's moderators. */
  router.route('get', '/api/rooms/:id/auctions/:auctionId', async (ctx) => ({
    status: 200, body: await auctions.read(await router.principal(ctx), ctx.params[0]!, parse(auctionIdSchema, ctx.params[1])),
  }));
  router.route('post', '/api/rooms/:id/auctions/:auctionId/end', async (ctx) => ({
    status: 200, body: { auction: await auctions.end(await router.principal(ctx), ctx.params[0]!, parse(auctionIdSchema, ctx.params[1])) },
  }));
  router.route('post', '/api/rooms/:id/auctions/:auctionId/cancel', async (ctx) => ({
    status: 200, body: { auction: await auctions.cancel(await router.principal(ctx), ctx.params[0]!, parse(auctionIdSchema, ctx.params[1])) },
  }));
  router.route('post', '/api/rooms/:id/auctions/:auctionId/bids', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(bidSchema, await ctx.body());
    const key = parse(idempotencyKeySchema, ctx.idempotencyKey || body.key || '');
    const request = { t: 'bid', id: 0, key, auctionId: parse(auctionIdSchema, ctx.params[1]), amountCents: body.amountCents, ...(body.max === undefined ? {} : { max: body.max }) } as const;
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, request) };
  });
}
