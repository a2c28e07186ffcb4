import { productInputSchema } from '../../../protocol/src/index.ts';
import type { CommerceService } from '../commerce/CommerceService.ts';
import { ProtocolError } from '../errors.ts';
import type { ShopWindows } from '../rooms/ShopWindows.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

/**
 * Streamers' shops over HTTP: the shop window anyone reads, and the streamer's own shop (opened on
 * first use) and its products. Its cart and checkout are the rooms' API on the shop's id.
 */
export function registerShopHttpApi(router: JsonRouter, deps: { shops: ShopWindows; commerce: CommerceService }): void {
  const { shops, commerce } = deps;
  router.route('get', '/api/shops/:streamerId', async (ctx) => ({ status: 200, body: await shops.window(pathPart(ctx.params[0]!)) }));
  router.route('post', '/api/shop', async (ctx) => {
    const principal = await router.principal(ctx);
    await shops.open(principal);
    return { status: 200, body: await shops.window(principal.userId) };
  });
  router.route('post', '/api/shop/products', async (ctx) => {
    const principal = await router.principal(ctx);
    const product = parse(productInputSchema, await ctx.body());
    const shopId = await shops.open(principal);
    return { status: 201, body: { shopId, product: await commerce.addProduct(principal, shopId, product) } };
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
