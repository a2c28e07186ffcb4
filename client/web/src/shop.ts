/**
 * The shop window: /shop?streamer=ID[&token=…]. The streamer's products with their pictures,
 * prices and live stock, open whether or not a show is live; add to cart, check out, and the order
 * shows here and in My orders. The shop is a room of its own (`GET /api/shops/:streamerId` names
 * it), joined through the SDK like a show: its welcome, stock news, cart and checkout are a room's.
 * A show linked to the shop sells from the same inventory, so what sells here is gone there too.
 *
 * Test hook: `window.livecart` is the LivecartClient.
 */
import { connect, type LivecartClient, type ShopWindow } from '../../src/index.ts';
import { api, ApiError, byId, errorText, fatal, formatPrice, h, params, say, setText, show, trackConnection, wsUrl } from './common.ts';
import { viewerIdentity } from './identity.ts';
import { startI18n, t, tn } from './i18n.ts';
import { statusLine } from './orderStatus.ts';
import { productImage } from './productImage.ts';
import { ProductSheet, skuTitle } from './productSheet.ts';

const el = {
  title: byId('shop-title'),
  conn: byId('conn'),
  live: byId<HTMLAnchorElement>('live'),
  offline: byId('offline'),
  products: byId('products'),
  cartButton: byId<HTMLButtonElement>('cart-button'),
  cartCount: byId('cart-count'),
  cart: byId('cart'),
  cartTitle: byId('cart-title'),
  cartClose: byId<HTMLButtonElement>('cart-close'),
  cartEmpty: byId('cart-empty'),
  cartLines: byId<HTMLUListElement>('cart-lines'),
  cartSummary: byId('cart-summary'),
  cartTotal: byId('cart-total'),
  checkout: byId<HTMLButtonElement>('checkout'),
  cartStatus: byId('cart-status'),
  order: byId('order'),
  orderTitle: byId('order-title'),
  orderId: byId('order-id'),
  orderLines: byId<HTMLUListElement>('order-lines'),
  orderTotal: byId('order-total'),
  orderStatus: byId('order-status'),
};

let checkingOut = false;

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
  setText(el.title, shopWindow.shop.title);
  document.title = t('shop.docTitle', { title: shopWindow.shop.title });
  renderLive(shopWindow);
  const given = params.get('token');
  // The viewer page's identity (identity.ts): the same buyer, and so the same cart, in a show and its shop.
  const identity = await viewerIdentity();
  if (identity === undefined) {
    fatal(t('viewer.noGuestTokens'), t('viewer.openWithToken', { url: '/shop?streamer=ID&token=…' }));
    return;
  }
  const token = identity.token;
  if (given !== null) for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href="/orders"]'))) link.href = `/orders?token=${encodeURIComponent(given)}`;
  const client = connect({ url: wsUrl(), token, room: shopWindow.shop.id });
  (globalThis as unknown as { livecart: LivecartClient }).livecart = client;
  trackConnection(client, el.conn);
  const sheet = new ProductSheet(client, { title: shopWindow.shop.title, openCart: () => {
    sheet.close();
    toggleCart(true);
  } });
  sheet.renderInto(el.products);
  client.on('cartChanged', () => renderCart(client));
  client.on('welcome', () => renderCart(client));
  client.on('orderUpdated', ({ order }) => {
    if (client.state.cart.lastOrder?.id === order.id) setText(el.orderStatus, statusLine(order));
  });
  el.cartButton.addEventListener('click', () => toggleCart(el.cart.hidden));
  el.cartClose.addEventListener('click', () => toggleCart(false));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !el.cart.hidden) toggleCart(false);
  });
  el.checkout.addEventListener('click', () => void checkout(client));
  renderCart(client);
  await client.ready;
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

function toggleCart(open: boolean): void {
  show(el.cart, open);
  el.cartButton.setAttribute('aria-expanded', String(open));
  if (open) el.cartTitle.focus();
  else el.cartButton.focus();
}

function renderCart(client: LivecartClient): void {
  const cart = client.state.cart;
  const products = client.state.products;
  const units = cart.lines.reduce((sum, l) => sum + l.quantity, 0);
  setText(el.cartCount, String(units));
  el.cartButton.setAttribute('aria-label', tn('cart.buttonLabel', units));
  show(el.cartEmpty, cart.lines.length === 0);
  show(el.cartSummary, cart.lines.length > 0 || checkingOut);
  const currency = cart.currency ?? products[0]?.currency ?? 'USD';
  setText(el.cartTotal, formatPrice(cart.totalCents, currency));
  el.checkout.disabled = cart.lines.length === 0 || checkingOut;
  setText(el.checkout, t(checkingOut ? 'cart.checkingOut' : 'cart.checkout'));
  el.cartLines.replaceChildren(...cart.lines.map((line) => {
    const title = skuTitle(products, line.sku);
    const product = products.find((p) => p.sku === line.sku || p.variants?.some((v) => v.sku === line.sku));
    return h(
      'li',
      { class: 'cart-line', 'data-sku': line.sku },
      productImage(product?.imageUrl, product?.title ?? title, product?.sku ?? line.sku, { size: 48 }),
      h('div', { class: 'line-body' },
        h('p', { class: 'line-title' }, title),
        h('p', { class: 'muted small' }, `${line.quantity} × ${line.priceCents === undefined ? '…' : formatPrice(line.priceCents, currency)}`),
        h('button', { type: 'button', class: 'link', onclick: () => void client.removeFromCart(line.sku).catch((error: unknown) => say(el.cartStatus, errorText(error), 'error')) }, t('cart.remove'))),
    );
  }));
}

async function checkout(client: LivecartClient): Promise<void> {
  checkingOut = true;
  show(el.order, false);
  say(el.cartStatus, t('cart.placing'));
  renderCart(client);
  try {
    const answer = await client.checkout();
    if (answer.status === 'ordered') {
      const order = answer.order;
      setText(el.orderId, t('order.id', { id: order.id }));
      el.orderLines.replaceChildren(...order.lines.map((l) => h('li', {}, `${l.quantity} × ${skuTitle(client.state.products, l.sku)} · ${formatPrice(l.priceCents * l.quantity, order.currency)}`)));
      setText(el.orderTotal, formatPrice(order.totalCents, order.currency));
      setText(el.orderStatus, statusLine(client.state.cart.lastOrder ?? order));
      show(el.order, true);
      say(el.cartStatus, t('order.thanks', { id: order.id }), 'ok');
      el.orderTitle.focus();
    } else if (answer.status === 'expired') {
      say(el.cartStatus, t('order.expired', { titles: answer.skus.map((s) => skuTitle(client.state.products, s)).join(', ') }), 'error');
    } else {
      say(el.cartStatus, t('cart.empty'), 'error');
    }
  } catch (error) {
    say(el.cartStatus, t('order.failed', { why: errorText(error) }), 'error');
  } finally {
    checkingOut = false;
    renderCart(client);
  }
}

void main().catch((error: unknown) => fatal(errorText(error)));
