/**
 * The viewer page's coupon card: the room's pinned coupon with its terms and a live "N left", a
 * Claim button and its answer; and the coupon's part of the cart (subtotal, the discount the best
 * claimed coupon gives, the total to pay) and of the order confirmation (subtotal, discount, total).
 * The server prices the order at checkout (the buyer's best claimed coupon applies by itself); the
 * cart's figures are the same rule applied here ahead of it.
 */
import { couponActive, couponDiscount, isLivecartError, type ClaimCouponAnswer, type CouponCard, type CouponClaim, type LivecartClient, type Order } from '../../src/index.ts';
import { errorText, formatPrice, h, say, setText, show } from './common.ts';
import { formatNumber, locale, t } from './i18n.ts';
import { pricingRows } from './orderPricing.ts';
import './couponCard.css';

/** What the coupon's lines need of a cart: its lines, its total at the prices held, its currency. */
export interface CartFigures {
  readonly lines: readonly unknown[];
  readonly totalCents: number;
  readonly currency?: string | undefined;
}

export interface CouponView {
  /** The cart drawer's money lines for `cart` (call after the page rendered the cart). */
  renderCart(cart: CartFigures): void;
  /** The order confirmation's subtotal and discount lines. */
  renderOrder(order: Order): void;
}

/** Mounts the card after `anchor` (the pinned product's card), the cart rows in `cartSummary` before its total row. */
export function mountCouponCard(client: LivecartClient, parts: { anchor: HTMLElement; cartSummary: HTMLElement; cartTotal: HTMLElement; orderTotalRow: HTMLElement }): CouponView {
  const claims = new Map<string, CouponClaim>();
  /** Coupons this buyer holds, with their terms (from the card or the claim's answer). */
  const known = new Map<string, CouponCard['coupon']>();
  let claiming = false;
  let lastCart: CartFigures | undefined;

  const title = h('h2', { id: 'coupon-title' });
  const subtitle = h('p', { class: 'coupon-subtitle', 'data-testid': 'coupon-title' });
  const terms = h('p', { class: 'muted small', 'data-testid': 'coupon-terms' });
  const left = h('p', { class: 'coupon-left', 'data-testid': 'coupon-left' });
  const button = h('button', { type: 'button', class: 'primary', 'data-testid': 'coupon-claim' }, t('coupon.claim'));
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'coupon-status' });
  const code = h('span', { class: 'coupon-code', 'data-testid': 'coupon-code' });
  const section = h('section', { id: 'coupon-card', class: 'coupon-card', 'aria-labelledby': 'coupon-title', 'data-testid': 'coupon-card', hidden: true },
    h('div', { class: 'coupon-stub', 'aria-hidden': 'true' }, t('coupon.stub')),
    h('div', { class: 'coupon-body' }, h('p', { class: 'eyebrow' }, t('coupon.eyebrow'), code), title, subtitle, terms, left, button, status));
  parts.anchor.after(section);

  const cartRows = h('div', { class: 'coupon-rows', 'data-testid': 'cart-pricing' });
  parts.cartSummary.insertBefore(cartRows, parts.cartSummary.firstChild);
  const orderRows = h('div', { class: 'coupon-rows' });
  parts.orderTotalRow.before(orderRows);

  const currency = () => client.state.cart.currency ?? client.state.products[0]?.currency ?? 'USD';

  function render(): void {
    const card = client.state.coupon;
    show(section, card !== null);
    if (card === null) return;
    const { coupon } = card;
    setText(code, coupon.id);
    setText(title, offText(coupon, currency()));
    setText(subtitle, coupon.title ?? '');
    show(subtitle, coupon.title !== undefined);
    setText(terms, coupon.minSpendCents > 0 ? t('coupon.minSpendTerms', { amount: formatPrice(coupon.minSpendCents, currency()) }) : t('coupon.anyOrderTerms'));
    const mine = claims.get(coupon.id);
    setText(left, card.left === 0 ? t('coupon.allClaimed') : t('coupon.left', { n: formatNumber(card.left) }));
    section.dataset.left = String(card.left);
    const active = couponActive(coupon, Date.now());
    button.disabled = claiming || mine !== undefined || card.left === 0 || !active;
    setText(button, t(mine !== undefined ? (mine.orderId === undefined ? 'coupon.claimed' : 'coupon.used') : claiming ? 'coupon.claiming' : card.left === 0 ? 'coupon.allClaimed' : active ? 'coupon.claim' : 'coupon.notActive'));
  }

  function took(answer: ClaimCouponAnswer): void {
    known.set(answer.coupon.id, answer.coupon);
    const minSpend = answer.coupon.minSpendCents > 0 ? t('coupon.appliesFrom', { amount: formatPrice(answer.coupon.minSpendCents, currency()) }) : '';
    switch (answer.status) {
      case 'coupon_claimed':
        claims.set(answer.coupon.id, answer.claim);
        say(status, t('coupon.claimedOk', { id: answer.coupon.id, min: minSpend }), 'ok');
        break;
      case 'coupon_already_claimed':
        claims.set(answer.coupon.id, answer.claim);
        say(status, answer.claim.orderId === undefined ? t('coupon.alreadyClaimed', { id: answer.coupon.id, min: minSpend }) : t('coupon.alreadyUsed', { id: answer.coupon.id }), 'ok');
        break;
      case 'coupons_gone':
        say(status, t('coupon.gone'), 'error');
        break;
      case 'coupon_not_active':
        say(status, t('coupon.inactive'), 'error');
        break;
    }
  }

  async function claim(): Promise<void> {
    const card = client.state.coupon;
    if (card === null || claiming) return;
    claiming = true;
    say(status, t('coupon.claiming'));
    render();
    try {
      took(await client.claimCoupon(card.coupon.id));
    } catch (error) {
      say(status, isLivecartError(error) && error.name === 'COUPON_NOT_FOUND' ? t('coupon.notFound') : errorText(error), 'error');
    } finally {
      claiming = false;
      render();
      if (lastCart !== undefined) renderCart(lastCart);
    }
  }
  button.addEventListener('click', () => void claim());

  /** The buyer's claims (the card itself comes with `welcome` and `coupon` events). */
  async function load(): Promise<void> {
    try {
      const read = await client.coupons();
      if (read.pinned !== null) known.set(read.pinned.coupon.id, read.pinned.coupon);
      for (const c of read.claims) claims.set(c.couponId, c);
    } catch {
      // The card comes with the next `coupon` event.
    }
    render();
    if (lastCart !== undefined) renderCart(lastCart);
  }

  function renderCart(cart: CartFigures): void {
    lastCart = cart;
    const cur = cart.currency ?? currency();
    const subtotal = cart.totalCents;
    let best: { id: string; discount: number } | undefined;
    let short: { id: string; missing: number } | undefined;
    const now = Date.now();
    for (const [id, c] of claims) {
      const coupon = known.get(id) ?? (client.state.coupon?.coupon.id === id ? client.state.coupon.coupon : undefined);
      if (c.orderId !== undefined || coupon === undefined || !couponActive(coupon, now)) continue;
      if (subtotal < coupon.minSpendCents) {
        if (short === undefined || coupon.minSpendCents - subtotal < short.missing) short = { id, missing: coupon.minSpendCents - subtotal };
        continue;
      }
      const discount = couponDiscount(coupon, subtotal);
      if (discount > 0 && (best === undefined || discount > best.discount || (discount === best.discount && id < best.id))) best = { id, discount };
    }
    const rows: HTMLElement[] = [];
    if (cart.lines.length > 0 && best !== undefined) {
      rows.push(h('p', { class: 'price-line' }, h('span', {}, t('pricing.subtotal')), ' ', h('span', { 'data-testid': 'cart-subtotal' }, formatPrice(subtotal, cur))));
      rows.push(h('p', { class: 'price-line discount' }, h('span', {}, t('coupon.line', { id: best.id })), ' ', h('span', { 'data-testid': 'cart-discount' }, `−${formatPrice(best.discount, cur)}`)));
      setText(parts.cartTotal, formatPrice(subtotal - best.discount, cur));
    } else if (cart.lines.length > 0 && short !== undefined) {
      rows.push(h('p', { class: 'muted small', 'data-testid': 'cart-coupon-hint' }, t('coupon.addMore', { amount: formatPrice(short.missing, cur), id: short.id })));
    }
    cartRows.replaceChildren(...rows);
  }

  const cardChanged = () => {
    const card = client.state.coupon;
    if (card !== null) known.set(card.coupon.id, card.coupon);
    render();
  };
  client.on('coupon', cardChanged);
  // Every welcome carries the pinned card (shown at once); a fresh one (a first join, or a resume that failed) also has the buyer's claims read.
  client.on('welcome', (welcome) => {
    cardChanged();
    if (!welcome.resumed) void load();
  });
  client.on('orderUpdated', ({ order }) => {
    if (order.couponId === undefined) return;
    const claim = claims.get(order.couponId);
    if (claim === undefined) return;
    // A cancelled order gives its coupon back; a placed one uses it.
    claims.set(order.couponId, order.status === 'cancelled' ? { couponId: claim.couponId, userId: claim.userId, claimedAt: claim.claimedAt } : { ...claim, orderId: order.id });
    render();
  });
  if (client.state.room !== undefined) void load();

  return {
    renderCart,
    renderOrder(order) {
      orderRows.replaceChildren(...pricingRows(order));
      if (order.couponId !== undefined) {
        const claim = claims.get(order.couponId);
        if (claim !== undefined) claims.set(order.couponId, { ...claim, orderId: order.id });
        render();
      }
    },
  };
}

/** "10% off" / "9折", "$5.00 off" / "立减US$5.00": a coupon's discount in the page's language. */
export function offText(coupon: CouponCard['coupon'], currency: string): string {
  if (coupon.percentOff === 100) return t('coupon.free');
  // Chinese names the share still paid, in tenths (10% off is 9折); English the share taken off.
  if (coupon.percentOff !== undefined) return t('coupon.percentOff', { n: locale() === 'zh-CN' ? formatNumber((100 - coupon.percentOff) / 10, 1) : formatNumber(coupon.percentOff) });
  return t('coupon.amountOff', { amount: formatPrice(coupon.amountOffCents ?? 0, currency) });
}
