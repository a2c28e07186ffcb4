/**
 * The streamer page's auction panel: start an auction of one of the room's products (starting bid,
 * duration, an increment schedule, anti-sniping or sudden death, the leader shown by name or as a
 * pseudonym); the live card with End now and Cancel; after the end, the result and the bid history
 * (the `auction()` read gives moderators `history`).
 */
import { type AuctionCard, type AuctionInput, type IncrementSchedule, type LivecartClient } from '../../src/index.ts';
import { countdown, errorText, formatPrice, h, parsePriceCents, say, setText, show, type ServerClock } from './common.ts';
import { formatTime, t, tn, type MessageKey } from './i18n.ts';
import { skuTitle } from './productSheet.ts';
import './auctionCard.css';

/** The increment schedules offered, the first the default. */
const SCHEDULES: readonly { id: string; label: MessageKey; tiers: IncrementSchedule }[] = [
  { id: 'standard', label: 'auctions.incStandard', tiers: [{ belowCents: 5000, stepCents: 100 }, { belowCents: 20000, stepCents: 500 }, { stepCents: 1000 }] },
  { id: 'small', label: 'auctions.incSmall', tiers: [{ belowCents: 2000, stepCents: 50 }, { stepCents: 100 }] },
  { id: 'large', label: 'auctions.incLarge', tiers: [{ belowCents: 50000, stepCents: 500 }, { stepCents: 2500 }] },
];

/** Mounts the panel after `anchor` (the products panel). */
export function mountAuctionPanel(client: LivecartClient, parts: { anchor: HTMLElement; clock: ServerClock }): void {
  const field = (id: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const product = h('select', { id: 'a-sku', name: 'sku', 'data-testid': 'auction-sku' });
  const startPrice = h('input', { id: 'a-price', name: 'price', required: true, inputmode: 'decimal', value: '1.00', 'data-testid': 'auction-start-price' });
  const duration = h('input', { id: 'a-duration', name: 'duration', type: 'number', min: 5, max: 86400, step: 1, value: 60, 'data-testid': 'auction-duration' });
  const increments = h('select', { id: 'a-inc', name: 'increments', 'data-testid': 'auction-increments' }, ...SCHEDULES.map((s) => h('option', { value: s.id }, t(s.label))));
  const ending = h('select', { id: 'a-ending', name: 'ending', 'data-testid': 'auction-ending' },
    h('option', { value: 'extend' }, t('auctions.extend')), h('option', { value: 'sudden_death' }, t('auctions.suddenDeath')));
  const windowSeconds = h('input', { id: 'a-window', name: 'window', type: 'number', min: 1, max: 600, step: 1, value: 15, 'data-testid': 'auction-window' });
  const windowField = field('a-window', t('auctions.window'), windowSeconds);
  const leaderShown = h('select', { id: 'a-leader', name: 'leader', 'data-testid': 'auction-leader-shown' },
    h('option', { value: 'name' }, t('auctions.byName')), h('option', { value: 'anonymous' }, t('auctions.anonymous')));
  const form = h('form', { class: 'product-form', 'aria-labelledby': 'auction-new-title', 'data-testid': 'auction-form' },
    h('h3', { id: 'auction-new-title' }, t('auctions.new')),
    h('div', { class: 'fields' },
      field('a-sku', t('auctions.product'), product), field('a-price', t('auctions.startPrice'), startPrice), field('a-duration', t('auctions.duration'), duration),
      field('a-inc', t('auctions.increments'), increments), field('a-ending', t('auctions.ending'), ending), windowField,
      field('a-leader', t('auctions.leaderShown'), leaderShown)),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'auction-start' }, t('auctions.start')));

  const live = h('p', { class: 'auction-live', 'data-testid': 'auction-live' });
  const endNow = h('button', { type: 'button', 'data-testid': 'auction-end' }, t('auctions.endNow'));
  const cancel = h('button', { type: 'button', class: 'danger', 'data-testid': 'auction-cancel' }, t('auctions.cancel'));
  const actions = h('div', { class: 'auction-panel-actions' }, endNow, cancel);
  const result = h('p', { class: 'auction-result', 'data-testid': 'auction-panel-result' });
  const history = h('div', { 'data-testid': 'auction-history' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'auction-panel-status' });
  const panel = h('section', { id: 'auctions', class: 'panel', 'aria-labelledby': 'auctions-title', 'data-testid': 'auctions-panel' },
    h('h2', { id: 'auctions-title' }, t('auctions.title')), live, actions, result, history, form, status);
  parts.anchor.after(panel);

  /** The auction whose history is shown (read once it was settled). */
  let historyOf: string | undefined;
  const currency = (sku: string) => client.state.products.find((p) => p.sku === sku)?.currency ?? client.state.products[0]?.currency ?? 'USD';

  function renderProducts(): void {
    const skus = client.state.products.map((p) => p.sku);
    if (product.dataset.skus === skus.join(',')) return;
    product.dataset.skus = skus.join(',');
    const chosen = product.value;
    product.replaceChildren(...client.state.products.map((p) => h('option', { value: p.sku }, p.title)));
    if (skus.includes(chosen)) product.value = chosen;
  }

  function render(): void {
    renderProducts();
    show(windowField, ending.value === 'extend');
    const card = client.state.auction;
    const open = card !== null && card.status === 'open';
    show(form, !open);
    show(live, card !== null);
    show(actions, open);
    show(result, card !== null && !open);
    show(history, card !== null && !open && historyOf === card.id);
    if (card === null) return;
    const cur = currency(card.sku);
    panel.dataset.status = card.status;
    live.replaceChildren(
      t('auctions.live', { title: skuTitle(client.state.products, card.sku), price: formatPrice(card.bids === 0 ? card.startPriceCents : card.priceCents, cur), bids: tn('auction.bids', card.bids), leader: card.leader ?? t('auctions.noLeader') }),
      open ? countdown(card.endsAt, parts.clock, { prefix: t('auction.endsIn'), done: t('auction.over') }) : t('auction.over'));
    if (!open) setText(result, outcome(card));
  }

  function outcome(card: AuctionCard): string {
    if (card.status === 'cancelled') return t('auction.cancelled');
    if (card.leader === null) return t('auction.noBids');
    return t('auction.soldTo', { name: card.leader, price: formatPrice(card.priceCents, currency(card.sku)) });
  }

  async function readHistory(auctionId: string): Promise<void> {
    try {
      const read = await client.auction(auctionId);
      const moves = [...(read.history ?? [])].sort((a, b) => a.seq - b.seq);
      const cur = read.auction === null ? 'USD' : currency(read.auction.sku);
      history.replaceChildren(h('h3', {}, t('auctions.history')), moves.length === 0
        ? h('p', { class: 'muted' }, t('auctions.noHistory'))
        : h('table', { class: 'auction-history', 'data-testid': 'auction-history-table' },
          h('thead', {}, h('tr', {}, ...(['auctions.historyTime', 'auctions.historyBidder', 'auctions.historyPrice', 'auctions.historyLeader'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, ...moves.map((m) => h('tr', { 'data-testid': 'auction-history-row' }, h('td', {}, formatTime(m.at)), h('td', {}, m.userId), h('td', {}, formatPrice(m.priceCents, cur)), h('td', {}, m.leaderId))))));
      historyOf = auctionId;
      render();
    } catch (error) {
      say(status, t('auctions.readFailed', { why: errorText(error) }), 'error');
    }
  }

  function read(): AuctionInput | string {
    const sku = product.value;
    if (sku === '') return t('auctions.noProducts');
    const cents = parsePriceCents(startPrice.value, currency(sku));
    if (!Number.isInteger(cents) || cents < 1) return t('auctions.badPrice');
    const secs = Number(duration.value);
    if (!Number.isInteger(secs) || secs < 5 || secs > 86_400) return t('auctions.badDuration');
    const win = Number(windowSeconds.value);
    if (ending.value === 'extend' && (!Number.isInteger(win) || win < 1 || win > 600)) return t('auctions.badWindow');
    const schedule = SCHEDULES.find((s) => s.id === increments.value) ?? SCHEDULES[0]!;
    return {
      id: `a${Date.now().toString(36)}`,
      sku,
      startPriceCents: cents,
      increments: schedule.tiers,
      durationMs: secs * 1000,
      ending: ending.value === 'extend' ? { kind: 'extend', windowMs: win * 1000 } : { kind: 'sudden_death' },
      leaderShown: leaderShown.value === 'anonymous' ? 'anonymous' : 'name',
    };
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
        await client.startAuction(input);
        say(status, t('auctions.started', { id: input.id }), 'ok');
      } catch (error) {
        say(status, errorText(error), 'error');
      }
      render();
    })();
  });

  async function settle(how: 'end' | 'cancel'): Promise<void> {
    const card = client.state.auction;
    if (card === null || card.status !== 'open') return;
    try {
      await (how === 'end' ? client.endAuction(card.id) : client.cancelAuction(card.id));
      say(status, t(how === 'end' ? 'auctions.endedOk' : 'auctions.cancelledOk'), 'ok');
    } catch (error) {
      say(status, errorText(error), 'error');
    }
    render();
  }
  endNow.addEventListener('click', () => void settle('end'));
  cancel.addEventListener('click', () => void settle('cancel'));
  ending.addEventListener('change', render);

  client.on('auction', render);
  client.on('auctionEnded', (event) => {
    render();
    void readHistory(event.auction.id);
  });
  client.on('product', render);
  client.on('welcome', render);
  render();
  // A reloaded page shows the room's open auction, or the last one's history.
  const held = client.state.auction;
  if (held !== null && held.status !== 'open') void readHistory(held.id);
  else void client.auction().then(render, () => undefined);
}
