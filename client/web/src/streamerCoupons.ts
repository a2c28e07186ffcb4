/**
 * The streamer page's coupons panel: create a coupon (amount or percent off, minimum spend, how
 * many, how long it is valid) and pin it as the room's coupon card; the room's coupons with what
 * is left of each, to pin or unpin.
 */
import { type CouponCard, type CouponInput, type LivecartClient } from '../../src/index.ts';
import { errorText, formatPrice, h, parsePriceCents, say } from './common.ts';
import { offText } from './couponCard.ts';
import { formatNumber, t } from './i18n.ts';
import './couponCard.css';

const COUPON_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Mounts the panel after `anchor` (the products panel). */
export function mountCouponPanel(client: LivecartClient, anchor: HTMLElement): void {
  const field = (id: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const code = h('input', { id: 'c-code', name: 'code', required: true, maxlength: 32, pattern: '[A-Za-z0-9_\\-]+', placeholder: 'SAVE5', 'data-testid': 'coupon-code-input' });
  const kind = h('select', { id: 'c-kind', name: 'kind' }, h('option', { value: 'amount' }, t('coupons.amountOffOption')), h('option', { value: 'percent' }, t('coupons.percentOffOption')));
  const value = h('input', { id: 'c-value', name: 'value', required: true, inputmode: 'decimal', placeholder: t('coupons.valuePlaceholder'), 'data-testid': 'coupon-value-input' });
  const minSpend = h('input', { id: 'c-min', name: 'min', inputmode: 'decimal', placeholder: '0.00', 'data-testid': 'coupon-min-input' });
  const total = h('input', { id: 'c-total', name: 'total', required: true, type: 'number', min: 1, step: 1, value: 50, 'data-testid': 'coupon-total-input' });
  const minutes = h('input', { id: 'c-minutes', name: 'minutes', type: 'number', min: 1, step: 1, value: 30, 'data-testid': 'coupon-minutes-input' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'coupon-panel-status' });
  const rows = h('ul', { class: 'coupon-list', 'data-testid': 'coupon-list' });
  const form = h('form', { class: 'product-form', 'aria-labelledby': 'coupon-add-title' },
    h('h3', { id: 'coupon-add-title' }, t('coupons.new')),
    h('div', { class: 'fields' },
      field('c-code', t('coupons.code'), code), field('c-kind', t('coupons.discount'), kind), field('c-value', t('coupons.value'), value),
      field('c-min', t('coupons.minSpend'), minSpend), field('c-total', t('coupons.total'), total), field('c-minutes', t('coupons.minutes'), minutes)),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'coupon-create' }, t('coupons.create')));
  const panel = h('section', { id: 'coupons', class: 'panel', 'aria-labelledby': 'coupons-title', 'data-testid': 'coupons-panel' },
    h('h2', { id: 'coupons-title' }, t('coupons.title')), rows, form, status);
  anchor.after(panel);

  let cards: CouponCard[] = [];
  const currency = () => client.state.products[0]?.currency ?? 'USD';

  function render(): void {
    const pinned = client.state.coupon?.coupon.id;
    rows.replaceChildren(...cards.map((card) => {
      const { coupon } = card;
      const left = pinned === coupon.id ? Math.min(card.left, client.state.coupon!.left) : card.left;
      const off = offText(coupon, currency());
      return h('li', { class: 'coupon-row', 'data-coupon': coupon.id },
        h('span', {}, h('strong', { class: 'coupon-code' }, coupon.id), ` · ${off}${coupon.minSpendCents > 0 ? t('coupons.over', { amount: formatPrice(coupon.minSpendCents, currency()) }) : ''} · `, h('span', { 'data-testid': 'coupon-row-left' }, t('coupons.rowLeft', { left: formatNumber(left), total: formatNumber(coupon.total) }))),
        pinned === coupon.id
          ? h('button', { type: 'button', onclick: () => void pin(null) }, t('coupons.unpin'))
          : h('button', { type: 'button', onclick: () => void pin(coupon.id) }, t('coupons.pin')));
    }));
  }

  async function refresh(): Promise<void> {
    try {
      cards = (await client.coupons()).coupons ?? [];
      render();
    } catch (error) {
      say(status, t('coupons.readFailed', { why: errorText(error) }), 'error');
    }
  }

  async function pin(couponId: string | null): Promise<void> {
    try {
      await client.pinCoupon(couponId);
      say(status, couponId === null ? t('coupons.takenDown') : t('coupons.pinned', { id: couponId }), 'ok');
      await refresh();
    } catch (error) {
      say(status, errorText(error), 'error');
    }
  }

  function read(): CouponInput | string {
    const id = code.value.trim();
    if (!COUPON_ID.test(id)) return t('coupons.badCode');
    const count = Number(total.value);
    if (!Number.isInteger(count) || count < 1) return t('coupons.badTotal');
    const min = minSpend.value.trim() === '' ? 0 : parsePriceCents(minSpend.value);
    if (!Number.isInteger(min) || min < 0) return t('coupons.badMin');
    const mins = Number(minutes.value || '0');
    const window = Number.isFinite(mins) && mins > 0 ? { endsAt: Date.now() + Math.round(mins * 60_000) } : {};
    if (kind.value === 'percent') {
      const percent = Number(value.value);
      if (!Number.isInteger(percent) || percent < 1 || percent > 100) return t('coupons.badPercent');
      return { id, percentOff: percent, minSpendCents: min, total: count, ...window };
    }
    const cents = parsePriceCents(value.value);
    if (!Number.isInteger(cents) || cents < 1) return t('coupons.badAmount');
    return { id, amountOffCents: cents, minSpendCents: min, total: count, ...window };
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = read();
    if (typeof input === 'string') {
      say(status, input, 'error');
      return;
    }
    void (async () => {
      try {
        await client.createCoupon(input);
        await pin(input.id);
        form.reset();
      } catch (error) {
        say(status, errorText(error), 'error');
      }
    })();
  });
  client.on('coupon', render);
  void refresh();
}
