/**
 * The cart of the viewer page and the shop window: a bottom sheet on phones, a side panel on wide
 * screens (sheet.ts), opened by the top bar's cart button. Its lines (picture, price each, the hold's
 * countdown, − / + / Remove), the total, checkout and the order placed, all from the SDK's cart
 * state; the page adds what it has of its own through the hooks (the viewer's coupon lines, a
 * removed user's empty cart, an ended show's frozen quantities).
 *
 * Built here (ids and test ids: cart, cart-title, cart-lines, cart-total, checkout, cart-status,
 * order, order-id, order-lines, order-total, order-status), so both pages have the same one.
 */
import type { LivecartClient, Order } from '../../src/index.ts';
import { countdown, errorText, formatPrice, h, say, type ServerClock, setText, show } from './common.ts';
import { t, tn } from './i18n.ts';
import { statusLine } from './orderStatus.ts';
import { productImage } from './productImage.ts';
import { skuTitle } from './productSheet.ts';
import { Sheet } from './sheet.ts';

type Cart = LivecartClient['state']['cart'];

export interface CartDrawerOptions {
  /** The top bar's button that opens it. */
  button: HTMLButtonElement;
  /** Where the button shows the units in the cart. */
  count: HTMLElement;
  /** The clock the holds count down on (server epoch ms). */
  clock: ServerClock;
  /** A moderator removed this user: the cart shows no lines and offers nothing to press. */
  removed?: () => boolean;
  /** Quantities may not be raised or lowered (an ended show whose shop closed); Remove and checkout still work. */
  frozen?: () => boolean;
  /** After each render, with the cart shown. */
  onRender?: (cart: Cart) => void;
  /** After an order was placed and shown. */
  onOrder?: (order: Order) => void;
}

export class CartDrawer {
  /** The parts a page may add to (the viewer's coupon lines go before the total row). */
  readonly summary: HTMLElement;
  readonly total: HTMLElement;
  readonly orderTotalRow: HTMLElement;
  readonly #client: LivecartClient;
  readonly #options: CartDrawerOptions;
  readonly #sheet: Sheet;
  readonly #empty = h('p', { id: 'cart-empty', class: 'muted' }, t('cart.empty'));
  readonly #lines = h('ul', { id: 'cart-lines', class: 'cart-lines', 'data-testid': 'cart-lines' });
  readonly #checkout = h('button', { id: 'checkout', class: 'primary', type: 'button', 'data-testid': 'checkout' }, t('cart.checkout'));
  readonly #status = h('p', { id: 'cart-status', class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'cart-status' });
  readonly #order: HTMLElement;
  readonly #orderTitle = h('h3', { id: 'order-title', tabindex: -1 }, t('order.placedTitle'));
  readonly #orderId = h('p', { id: 'order-id', 'data-testid': 'order-id' });
  readonly #orderLines = h('ul', { id: 'order-lines', 'data-testid': 'order-lines' });
  readonly #orderTotal = h('strong', { id: 'order-total', 'data-testid': 'order-total' });
  readonly #orderStatus = h('p', { id: 'order-status', class: 'order-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'order-status' });
  /** Quantity changes in flight, by sku. */
  readonly #busy = new Set<string>();
  #checkingOut = false;

  constructor(client: LivecartClient, options: CartDrawerOptions) {
    this.#client = client;
    this.#options = options;
    const title = h('h2', { id: 'cart-title', tabindex: -1 }, t('cart.title'));
    this.total = h('strong', { id: 'cart-total', 'data-testid': 'cart-total' });
    this.summary = h('div', { id: 'cart-summary', class: 'cart-summary' },
      h('p', { class: 'total-row' }, h('span', {}, t('cart.total')), ' ', this.total),
      this.#checkout);
    this.orderTotalRow = h('p', {}, h('span', {}, t('cart.total')), ' ', this.#orderTotal);
    this.#order = h('section', { id: 'order', class: 'order', 'aria-labelledby': 'order-title', 'data-testid': 'order', hidden: true },
      this.#orderTitle, this.#orderId, this.#orderLines, this.orderTotalRow, this.#orderStatus,
      h('p', { class: 'small' }, h('span', {}, t('order.followIn')), ' ', h('a', { href: '/orders', 'data-testid': 'order-orders-link' }, t('nav.myOrders'))));
    const element = h('aside', { id: 'cart', class: 'cart-sheet', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'cart-title', 'data-testid': 'cart', hidden: true },
      h('div', { class: 'drawer-head' }, title, h('button', { id: 'cart-close', type: 'button', class: 'ghost', 'aria-label': t('cart.close'), onclick: () => this.toggle(false) }, '✕')),
      this.#empty, this.#lines, this.summary, this.#status, this.#order);
    document.body.append(element);
    this.#sheet = new Sheet(element, { opener: options.button, focus: title });
    options.button.setAttribute('aria-controls', 'cart');
    options.button.addEventListener('click', () => this.toggle());
    this.#checkout.addEventListener('click', () => void this.#placeOrder());

    for (const event of ['welcome', 'cartChanged'] as const) client.on(event, () => this.render());
    client.on('orderUpdated', ({ order }) => {
      if (client.state.cart.lastOrder?.id === order.id) setText(this.#orderStatus, statusLine(order));
    });
    client.on('reservationExpired', (e) => this.say(t('cart.holdExpired', { title: skuTitle(client.state.products, e.sku) }), 'error'));
  }

  toggle(open = !this.#sheet.isOpen): void {
    this.#sheet.toggle(open);
  }

  /** A line in the cart's status (a live region). */
  say(text: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
    say(this.#status, text, kind);
  }

  render(): void {
    const client = this.#client;
    const removed = this.#options.removed?.() ?? false;
    const frozen = this.#options.frozen?.() ?? false;
    const cart: Cart = removed ? { ...client.state.cart, lines: [], totalCents: 0 } : client.state.cart;
    const products = client.state.products;
    const units = cart.lines.reduce((sum, l) => sum + l.quantity, 0);
    setText(this.#options.count, String(units));
    this.#options.button.setAttribute('aria-label', tn('cart.buttonLabel', units));
    show(this.#empty, cart.lines.length === 0);
    setText(this.#empty, removed ? t('cart.removed') : t('cart.empty'));
    show(this.summary, cart.lines.length > 0 || this.#checkingOut);
    setText(this.total, formatPrice(cart.totalCents, cart.currency ?? products[0]?.currency ?? 'USD'));
    this.#checkout.disabled = removed || cart.lines.length === 0 || this.#checkingOut;
    setText(this.#checkout, this.#checkingOut ? t('cart.checkingOut') : t('cart.checkout'));
    this.#lines.replaceChildren(...cart.lines.map((line) => {
      const product = products.find((p) => p.sku === line.sku || p.variants?.some((v) => v.sku === line.sku));
      const title = skuTitle(products, line.sku);
      const busy = this.#busy.has(line.sku);
      const currency = product?.currency ?? cart.currency ?? 'USD';
      const change = (quantity: number) => () => void this.#setQuantity(line.sku, quantity);
      return h('li', { class: 'cart-line', 'data-sku': line.sku },
        productImage(product?.imageUrl, product?.title ?? title, product?.sku ?? line.sku, { size: 48 }),
        h('div', { class: 'line-body' },
          h('p', { class: 'line-title' }, title),
          h('p', { class: 'muted small' },
            line.priceCents === undefined ? '' : `${t('cart.each', { price: formatPrice(line.priceCents, currency) })} · `,
            countdown(line.expiresAt, this.#options.clock, { prefix: t('cart.heldFor'), done: t('cart.holdRanOut') })),
          h('div', { class: 'qty' },
            h('button', { type: 'button', class: 'ghost small-button', 'aria-label': t('cart.fewer', { title }), disabled: busy || frozen, title: frozen ? t('cart.endedFewer') : undefined, onclick: change(line.quantity - 1) }, '−'),
            h('output', { 'aria-label': t('cart.quantityOf', { title }), 'data-testid': 'quantity' }, String(line.quantity)),
            h('button', { type: 'button', class: 'ghost small-button', 'aria-label': t('cart.more', { title }), disabled: busy || frozen, title: frozen ? t('cart.endedMore') : undefined, onclick: change(line.quantity + 1) }, '+'),
            h('button', { type: 'button', class: 'link', disabled: busy, onclick: change(0) }, t('cart.remove')))));
    }));
    this.#options.onRender?.(cart);
  }

  async #setQuantity(sku: string, quantity: number): Promise<void> {
    this.#busy.add(sku);
    this.render();
    const title = skuTitle(this.#client.state.products, sku);
    try {
      const answer = await this.#client.setQuantity(sku, quantity);
      switch (answer.status) {
        case 'reserved':
          this.say(t('cart.held', { title, n: answer.quantity }), 'ok');
          break;
        case 'released':
          this.say(answer.quantity === 0 ? t('cart.lineRemoved', { title }) : t('cart.held', { title, n: answer.quantity }), 'ok');
          break;
        case 'sold_out':
          this.say(t('cart.noMore', { title }), 'error');
          break;
        case 'limit_reached':
          this.say(t('cart.atMost', { n: answer.limit, title }), 'error');
          break;
        case 'not_on_sale':
          this.say(t('cart.notOnSale', { title }), 'error');
          break;
        case 'cart_not_found':
          this.say(t('cart.notInCart', { title }), 'error');
          break;
      }
    } catch (error) {
      this.say(errorText(error), 'error');
    } finally {
      this.#busy.delete(sku);
      this.render();
    }
  }

  async #placeOrder(): Promise<void> {
    const client = this.#client;
    const titleOf = (sku: string) => skuTitle(client.state.products, sku);
    this.#checkingOut = true;
    show(this.#order, false);
    this.say(t('cart.placing'));
    this.render();
    try {
      const answer = await client.checkout();
      if (answer.status === 'ordered') {
        const order = answer.order;
        setText(this.#orderId, t('order.id', { id: order.id }));
        this.#orderLines.replaceChildren(...order.lines.map((l) => h('li', {}, `${l.quantity} × ${titleOf(l.sku)} · ${formatPrice(l.priceCents * l.quantity, order.currency)}`)));
        setText(this.#orderTotal, formatPrice(order.totalCents, order.currency));
        this.#options.onOrder?.(order);
        // Paid only once the payment step says so (orderUpdated): a demo payment says it is one.
        setText(this.#orderStatus, statusLine(client.state.cart.lastOrder ?? order));
        show(this.#order, true);
        this.say(t('order.thanks', { id: order.id }), 'ok');
        this.#orderTitle.focus();
      } else if (answer.status === 'expired') {
        this.say(t('order.expired', { titles: answer.skus.map(titleOf).join(', ') }), 'error');
      } else {
        this.say(t('cart.empty'), 'error');
      }
    } catch (error) {
      this.say(t('order.failed', { why: errorText(error) }), 'error');
    } finally {
      this.#checkingOut = false;
      this.render();
    }
  }
}
