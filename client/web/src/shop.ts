/**
 * The shop window: /shop?streamer=ID[&token=…]. The streamer's products with their pictures,
 * prices and live stock, open whether or not a show is live; add to cart, check out, and the order
 * shows here and in My orders. The shop is a room of its own (`GET /api/shops/:streamerId` names
 * it), joined through the SDK like a show: its welcome, stock news, cart and checkout are a room's.
 * A show linked to the shop sells from the same inventory, so what sells here is gone there too.
 *
 * Test hook: `window.livecart` is the LivecartClient.
 */
import { connect, type LivecartClient, type RoomInfo, type ShopWindow } from '../../src/index.ts';
import { CartDrawer } from './cartDrawer.ts';
import { api, ApiError, byId, errorText, fatal, params, ServerClock, setText, show, startCountdowns, trackConnection, wsUrl } from './common.ts';
import { viewerIdentity } from './identity.ts';
import { startI18n, t } from './i18n.ts';
import { ProductSheet } from './productSheet.ts';

const el = {
  title: byId('shop-title'),
  conn: byId('conn'),
  live: byId<HTMLAnchorElement>('live'),
  offline: byId('offline'),
  products: byId('products'),
  cartButton: byId<HTMLButtonElement>('cart-button'),
  cartCount: byId('cart-count'),
};

const clock = new ServerClock();

async function main(): Promise<void> {
  startI18n();
  const streamer = params.get('streamer');
  if (streamer === null || streamer === '') {
    fatal(t('shop.which'));
    return;
  }
  let shopWindow: ShopWindow;
  try {
    shopWindow = await api<ShopWindow>(`/api/shops/${encodeURIComponent(streamer)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fatal(t('shop.noShop'));
      return;
    }
    throw error;
  }
  const title = shopName(shopWindow.shop);
  setText(el.title, title);
  document.title = t('shop.docTitle', { title });
  renderLive(shopWindow);
  const given = params.get('token');
  // The viewer page's identity (identity.ts): the same buyer, and so the same cart, in a show and its shop.
  const identity = await viewerIdentity();
  if (identity === undefined) {
    fatal(t('viewer.noGuestTokens'), t('viewer.openWithToken', { url: '/shop?streamer=ID&token=…' }));
    return;
  }
  const token = identity.token;
  const client = connect({ url: wsUrl(), token, room: shopWindow.shop.id });
  (globalThis as unknown as { livecart: LivecartClient }).livecart = client;
  const cart = new CartDrawer(client, { button: el.cartButton, count: el.cartCount, clock });
  if (given !== null) for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href="/orders"]'))) link.href = `/orders?token=${encodeURIComponent(given)}`;
  trackConnection(client, el.conn);
  const sheet = new ProductSheet(client, { title, openCart: () => {
    sheet.close();
    cart.toggle(true);
  } });
  sheet.renderInto(el.products);
  cart.render();
  await client.ready;
  await clock.calibrate(client);
  startCountdowns(clock);
  await client.cart().catch(() => undefined); // what this buyer still holds, from the shop or a show
}

/** The streamer's show, when one is live: a way in; otherwise the note that the shop is open anyway. */
function renderLive(shopWindow: ShopWindow): void {
  show(el.live, shopWindow.live !== null);
  show(el.offline, shopWindow.live === null);
  if (shopWindow.live !== null) {
    el.live.href = `/viewer?room=${encodeURIComponent(shopWindow.live.id)}`;
    setText(el.live, t('shop.liveNow', { title: shopWindow.live.title }));
  }
}

/** The shop's name in the page's language, from its streamer's name (the server's English title when the shop predates it). */
function shopName(shop: RoomInfo): string {
  return shop.streamerName === undefined ? shop.title : t('shop.nameOf', { name: shop.streamerName });
}

void main().catch((error: unknown) => fatal(errorText(error)));
