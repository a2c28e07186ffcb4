/**
 * The streamer page's giveaway panel: open a giveaway (a prize from the room's products, how many
 * win, how long entries stay open, who may enter), follow the live entrants count and the countdown,
 * end it early (draw now) or cancel it (no draw), and see the result with the published draw and
 * its check (giveawayCard.ts's Verify).
 */
import { GIVEAWAY_WINNERS_MAX } from '../../../protocol/src/giveaways.ts';
import { type GiveawayCard, type GiveawayEligibility, type LivecartClient } from '../../src/index.ts';
import { countdown, errorText, h, say, show, type ServerClock } from './common.ts';
import { verifyControls } from './giveawayCard.ts';
import { formatNumber, t, tn } from './i18n.ts';
import './giveawayCard.css';

const MIN_MS = 5000;
const MAX_MS = 86_400_000;

/** Mounts the panel after `anchor`. */
export function mountGiveawayPanel(client: LivecartClient, anchor: HTMLElement, clock: ServerClock): void {
  const field = (id: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const prize = h('select', { id: 'g-prize', name: 'prize', required: true, 'data-testid': 'giveaway-prize-input' });
  const winners = h('input', { id: 'g-winners', name: 'winners', type: 'number', min: 1, max: GIVEAWAY_WINNERS_MAX, step: 1, value: 1, required: true, 'data-testid': 'giveaway-winners-input' });
  const duration = h('input', { id: 'g-duration', name: 'duration', type: 'number', min: 1, step: 1, value: 60, required: true, 'data-testid': 'giveaway-duration-input' });
  const unit = h('select', { id: 'g-unit', name: 'unit', 'data-testid': 'giveaway-unit-input' }, h('option', { value: '1000' }, t('giveaways.seconds')), h('option', { value: '60000' }, t('giveaways.minutes')));
  const eligibility = h('select', { id: 'g-eligibility', name: 'eligibility', 'data-testid': 'giveaway-eligibility-input' },
    h('option', { value: 'present' }, t('giveaways.present')), h('option', { value: 'buyers' }, t('giveaways.buyers')));
  const openButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'giveaway-open' }, t('giveaways.open'));
  const form = h('form', { class: 'product-form', 'aria-labelledby': 'giveaway-new-title' },
    h('h3', { id: 'giveaway-new-title' }, t('giveaways.new')),
    h('div', { class: 'fields' },
      field('g-prize', t('giveaways.prize'), prize), field('g-winners', t('giveaways.winners'), winners),
      field('g-duration', t('giveaways.duration'), duration), field('g-unit', t('giveaways.unit'), unit),
      field('g-eligibility', t('giveaways.eligibility'), eligibility)),
    openButton);
  const state = h('p', { class: 'giveaway-panel-state', 'data-testid': 'giveaway-panel-state' });
  const endButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'giveaway-end' }, t('giveaways.end'));
  const cancelButton = h('button', { type: 'button', 'data-testid': 'giveaway-cancel' }, t('giveaways.cancel'));
  const actions = h('div', { class: 'giveaway-panel-actions' }, endButton, cancelButton);
  const result = h('div', { class: 'giveaway-result', 'data-testid': 'giveaway-panel-result' });
  const current = h('div', { class: 'giveaway-current', 'data-testid': 'giveaway-current', hidden: true }, state, actions, result);
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'giveaway-panel-status' });
  const panel = h('section', { id: 'giveaways', class: 'panel', 'aria-labelledby': 'giveaways-title', 'data-testid': 'giveaways-panel' },
    h('h2', { id: 'giveaways-title' }, `🎁 ${t('giveaways.title')}`), current, form, status);
  anchor.after(panel);

  let busy = false;
  let resultOf: string | undefined;

  function renderPrizes(): void {
    const products = client.state.products;
    const chosen = prize.value;
    prize.replaceChildren(...products.map((p) => h('option', { value: p.sku, selected: p.sku === chosen }, `${p.title} (${p.sku})`)));
    openButton.disabled = busy || products.length === 0 || client.state.giveaway?.status === 'open';
  }

  function render(): void {
    renderPrizes();
    const card = client.state.giveaway;
    show(current, card !== null);
    if (card === null) {
      show(form, true);
      return;
    }
    const title = client.state.products.find((p) => p.sku === card.sku)?.title ?? card.sku;
    const open = card.status === 'open';
    current.dataset.status = card.status;
    state.replaceChildren(
      h('strong', {}, title),
      h('span', { class: 'badge' }, t(`giveaways.state.${card.status}`)),
      h('span', {}, tn('giveaway.winners', card.winnersWanted)),
      h('span', { class: 'giveaway-count', 'data-testid': 'giveaway-panel-entrants' }, tn('giveaway.entrants', card.entrants)),
      open ? countdown(card.closesAt, clock, { prefix: t('giveaway.endsIn'), done: t('giveaway.drawing') }) : '');
    show(actions, open);
    // One giveaway takes entries at a time: the form comes back once it is over.
    show(form, !open);
    endButton.disabled = busy;
    cancelButton.disabled = busy;
    if (open || card.result === undefined) {
      result.replaceChildren();
      resultOf = undefined;
      return;
    }
    if (resultOf === card.id) return;
    resultOf = card.id;
    const { winners, entrantsCount, prizeShort, drawUrl } = card.result;
    result.replaceChildren(
      h('p', {}, winners.length === 0 ? t('giveaway.noEntrants') : tn('giveaway.drawnAmong', entrantsCount, { winners: formatNumber(winners.length) })),
      winners.length === 0 ? '' : h('ol', { class: 'giveaway-winners', 'data-testid': 'giveaway-panel-winners' },
        ...winners.map((w) => h('li', { title: w.entrantId }, w.name ?? t('giveaway.anonymous', { id: w.entrantId.slice(0, 8) })))),
      prizeShort !== undefined && prizeShort.length > 0 ? h('p', { class: 'notice' }, tn('giveaways.prizeShort', prizeShort.length)) : '',
      ...verifyControls(drawUrl));
  }

  async function act(run: () => Promise<GiveawayCard>, done: string): Promise<void> {
    busy = true;
    render();
    try {
      await run();
      say(status, done, 'ok');
    } catch (error) {
      say(status, errorText(error), 'error');
    } finally {
      busy = false;
      render();
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const count = Number(winners.value);
    if (!Number.isInteger(count) || count < 1 || count > GIVEAWAY_WINNERS_MAX) {
      say(status, t('giveaways.badWinners', { max: formatNumber(GIVEAWAY_WINNERS_MAX) }), 'error');
      return;
    }
    const durationMs = Math.round(Number(duration.value) * Number(unit.value));
    if (!Number.isFinite(durationMs) || durationMs < MIN_MS || durationMs > MAX_MS) {
      say(status, t('giveaways.badDuration'), 'error');
      return;
    }
    if (prize.value === '') {
      say(status, t('giveaways.noProducts'), 'error');
      return;
    }
    const id = `g${Date.now().toString(36)}`;
    void act(() => client.openGiveaway({ id, sku: prize.value, winners: count, durationMs, eligibility: eligibility.value as GiveawayEligibility }), t('giveaways.opened'));
  });
  endButton.addEventListener('click', () => {
    const card = client.state.giveaway;
    if (card !== null) void act(() => client.endGiveaway(card.id), t('giveaways.drawnOk'));
  });
  cancelButton.addEventListener('click', () => {
    const card = client.state.giveaway;
    if (card !== null) void act(() => client.cancelGiveaway(card.id), t('giveaways.cancelledOk'));
  });

  async function load(read: boolean): Promise<void> {
    if (read || client.state.giveaway === null) {
      try {
        await client.getGiveaway();
      } catch (error) {
        say(status, t('giveaways.readFailed', { why: errorText(error) }), 'error');
      }
    }
    render();
  }
  client.on('giveaway', render);
  client.on('giveawayEntrants', render);
  client.on('product', renderPrizes);
  // A welcome that carries the room's giveaway has put it in the state; one that does not leaves it to a read (updates missed meanwhile are not replayed).
  client.on('welcome', (welcome) => void load(!('giveaway' in welcome)));
  if (client.state.room !== undefined) void load(false);
}
