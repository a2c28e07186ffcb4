import { z } from 'zod';
import { couponIdSchema, inventorySkusOf, productInputSchema, roomIdSchema, skuSchema, textSchema, truncateCharacters, WireLimits } from '../../../protocol/src/index.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { CartAnswering } from './HttpCartPacer.ts';
import { ProtocolError } from '../errors.ts';
import type { CommerceService } from '../commerce/CommerceService.ts';
import type { RoomCommands } from '../rooms/RoomCommands.ts';
import { type JsonRouter, parse, type RequestContext } from './JsonRouter.ts';

/** `shop: true` links the show to the streamer's shop; `startsAt` (epoch ms, in the future) makes the room a scheduled show. */
const createRoomSchema = z.object({ title: textSchema(WireLimits.titleLength), id: roomIdSchema.optional(), shop: z.boolean().optional(), startsAt: z.number().int().positive().optional() });
const idempotencyKeySchema = textSchema(64, 1, 'an Idempotency-Key header (or "key" in the body) is required');
const addItemSchema = z.object({ sku: skuSchema, quantity: z.number().int().min(1).max(10_000), key: idempotencyKeySchema.optional() });
const setItemSchema = z.object({ quantity: z.number().int().min(0).max(10_000), key: idempotencyKeySchema.optional() });
const keyOnlySchema = z.object({ key: idempotencyKeySchema.optional() }).optional();
const checkoutSchema = z.object({ key: idempotencyKeySchema.optional(), couponId: couponIdSchema.optional() }).optional();
const stockSchema = z.object({ available: z.number().int().min(0).max(1_000_000_000) });

/** The rooms, catalog and cart API (JSON over HTTP, same port as the WebSocket). */
export function registerHttpApi(router: JsonRouter, deps: { tokens: TokenService; rooms: RoomCommands; commerce: CommerceService; desk: CartAnswering }): void {
  const { tokens, rooms, commerce, desk } = deps;
  router.route('get', '/healthz', async () => ({ status: 200, body: { ok: true } }));
  if (tokens.devMode) {
    // Dev mode only: lets anyone open the pages without setup. Never exists with a configured secret.
    router.route('get', '/api/dev/token', async (ctx) => {
      const name = truncateCharacters((ctx.query.get('name') ?? '').trim(), 40) || `viewer-${Math.floor(Math.random() * 1e6)}`;
      const userId = `v-${crypto.randomUUID().slice(0, 8)}`;
      const token = await tokens.mint({ userId, name, role: 'viewer' });
      return { status: 200, body: { token, userId, name, role: 'viewer' } };
    });
  }
  router.route('get', '/api/rooms', async () => ({ status: 200, body: { rooms: await rooms.listRooms() } }));
  router.route('post', '/api/rooms', async (ctx) => {
    const principal = await router.principal(ctx);
    const input = parse(createRoomSchema, await ctx.body());
    return { status: 201, body: { room: await rooms.createRoom(principal, input) } };
  });
  router.route('get', '/api/rooms/:id', async (ctx) => ({ status: 200, body: await rooms.snapshot(ctx.params[0]!) }));
  router.route('post', '/api/rooms/:id/start', async (ctx) => ({
    status: 200, body: { room: await rooms.setShowState(await router.principal(ctx), ctx.params[0]!, 'live') },
  }));
  router.route('post', '/api/rooms/:id/end', async (ctx) => ({
    status: 200, body: { room: await rooms.setShowState(await router.principal(ctx), ctx.params[0]!, 'ended') },
  }));
  router.route('post', '/api/rooms/:id/products', async (ctx) => {
    const principal = await router.principal(ctx);
    const product = parse(productInputSchema, await ctx.body());
    return { status: 201, body: { product: await commerce.addProduct(principal, ctx.params[0]!, product) } };
  });
  router.route('get', '/api/rooms/:id/bans', async (ctx) => ({
    status: 200, body: { bans: await rooms.bans(await router.principal(ctx), ctx.params[0]!) },
  }));
  router.route('del', '/api/rooms/:id/bans/:userId', async (ctx) => ({
    status: 200, body: { lifted: await rooms.liftBan(await router.principal(ctx), ctx.params[0]!, pathPart(ctx.params[1]!)) },
  }));

  // Carts: the same requests as over the WebSocket, through the same desk, for HTTP-only clients and load tools.
  router.route('post', '/api/rooms/:id/cart/items', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(addItemSchema, await ctx.body());
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, { t: 'addToCart', id: 0, sku: body.sku, quantity: body.quantity, key: keyOf(ctx, body.key) }) };
  });
  router.route('put', '/api/rooms/:id/cart/items/:sku', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(setItemSchema, await ctx.body());
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, { t: 'setQuantity', id: 0, sku: parse(skuSchema, ctx.params[1]), quantity: body.quantity, key: keyOf(ctx, body.key) }) };
  });
  router.route('del', '/api/rooms/:id/cart/items/:sku', async (ctx) => {
    const principal = await router.principal(ctx);
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, { t: 'removeFromCart', id: 0, sku: parse(skuSchema, ctx.params[1]), key: keyOf(ctx, ctx.query.get('key') ?? undefined) }) };
  });
  router.route('get', '/api/rooms/:id/cart', async (ctx) => ({
    status: 200, body: await desk.answer(await router.principal(ctx), ctx.params[0]!, { t: 'getCart', id: 0 }),
  }));
  router.route('post', '/api/rooms/:id/checkout', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(checkoutSchema, await ctx.body());
    const couponId = body?.couponId;
    return { status: 200, body: await desk.answer(principal, ctx.params[0]!, couponId === undefined ? { t: 'checkout', id: 0, key: keyOf(ctx, body?.key) } : { t: 'checkout', id: 0, key: keyOf(ctx, body?.key), couponId }) };
  });
  router.route('get', '/api/orders/:id', async (ctx) => ({
    status: 200, body: { order: await commerce.order(await router.principal(ctx), ctx.params[0]!) },
  }));
  router.route('get', '/api/rooms/:id/orders', async (ctx) => ({
    status: 200, body: { orders: await commerce.roomOrders(await router.principal(ctx), ctx.params[0]!) },
  }));
  router.route('get', '/api/rooms/:id/inventory', async (ctx) => {
    const principal = await router.principal(ctx);
    const skus = (await rooms.snapshot(ctx.params[0]!)).products.flatMap((p) => inventorySkusOf(p));
    return { status: 200, body: { inventory: await commerce.inventory(principal, ctx.params[0]!, skus) } };
  });
  router.route('put', '/api/rooms/:id/products/:sku/stock', async (ctx) => {
    const principal = await router.principal(ctx);
    const body = parse(stockSchema, await ctx.body());
    return { status: 200, body: { stock: await commerce.setAvailable(principal, ctx.params[0]!, ctx.params[1]!, body.available) } };
  });
}

/** A percent-encoded path segment (user ids may hold any character). */
function pathPart(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ProtocolError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

/** Every mutating cart request needs an idempotency key: the header, or `key` in the body. */
function keyOf(ctx: RequestContext, fromBody: string | undefined): string {
  return parse(idempotencyKeySchema, ctx.idempotencyKey || fromBody || '');
}
