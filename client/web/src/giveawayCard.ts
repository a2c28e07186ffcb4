/**
 * The viewer page's giveaway card: the prize, how many win, a countdown to the end of entries, the
 * live entrants count, Enter (one tap, no purchase) with its answer, the choice to show one's name
 * on winning; then the result ("You won!" with a link to My orders, where the prize is an order of
 * total 0, or the winners) and Verify: the published draw.json and a check of it right here
 * (giveawayVerify.ts). A giveaway already open when the page joins is read with `getGiveaway`.
 */
import { isLivecartError, type EnterGiveawayAnswer, type GiveawayCard, type LivecartClient } from '../../src/index.ts';
import { countdown, errorText, h, say, setText, show, type ServerClock } from './common.ts';
import { entrantIdOf, verifyDraw, type DrawCheck } from './giveawayVerify.ts';
import { formatNumber, t, tn } from './i18n.ts';
import { recallStanding, rememberStanding } from './standingMemory.ts';
import './giveawayCard.css';

/** Mounts the card after `anchor` (the coupon card, which it sits under at phone width); `clock` runs its countdown (the page's ticker updates it). */
export function mountGiveawayCard(client: LivecartClient, parts: { anchor: HTMLElement; clock: ServerClock }): void {
  /** Giveaways this user entered here (the answer was entered or already entered). */
  const entered = new Set<string>();
  /** Prize orders this user was told about (`giveawayWon`), by giveaway. */
  const wonOrders = new Map<string, string | undefined>();
  /** This user's published entrant id per giveaway (from its salt). */
  const myIds = new Map<string, string>();
  /** Giveaways the viewer closed the finished card of. */
  const dismissed = new Set<string>();
  let entering = false;

  const eyebrow = h('p', { class: 'eyebrow', 'data-testid': 'giveaway-eyebrow' });
  const prize = h('h2', { id: 'giveaway-title', 'data-testid': 'giveaway-prize' });
  const timer = h('span', { 'data-testid': 'giveaway-countdown' });
  const count = h('span', { class: 'giveaway-count', 'data-testid': 'giveaway-entrants' });
  const live = h('p', { class: 'giveaway-live' }, timer, ' · ', count);
  const showName = h('input', { type: 'checkbox', id: 'giveaway-show-name', 'data-testid': 'giveaway-show-name' });
  const nameRow = h('label', { class: 'giveaway-name small', for: 'giveaway-show-name' }, showName, ' ', t('giveaway.showName'));
  const enter = h('button', { type: 'button', class: 'primary', 'data-testid': 'giveaway-enter' }, t('giveaway.enter'));
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'giveaway-status' });
  const result = h('div', { class: 'giveaway-result', 'data-testid': 'giveaway-result', hidden: true });
  const verify = h('div', { class: 'giveaway-verify', hidden: true });
  const close = h('button', { type: 'button', class: 'link giveaway-close', 'aria-label': t('giveaway.close'), 'data-testid': 'giveaway-close', hidden: true }, '×');
  const section = h('section', { class: 'giveaway-card', 'aria-labelledby': 'giveaway-title', 'data-testid': 'giveaway-card', hidden: true },
    close, eyebrow, prize, live, nameRow, enter, status, result);
  parts.anchor.after(section);
  // At phone width the card sits under the coupon card (giveawayCard.css): --coupon-h is its height and a gap, 0 when hidden.
  const couponHeight = () => {
    const height = parts.anchor.getBoundingClientRect().height;
    document.body.style.setProperty('--coupon-h', height > 0 ? `${Math.ceil(height) + 6}px` : '0px');
  };
  new ResizeObserver(couponHeight).observe(parts.anchor);
  couponHeight();

  const prizeTitle = (card: GiveawayCard) => client.state.products.find((p) => p.sku === card.sku)?.title ?? card.sku;
  const ordersHref = () => document.querySelector<HTMLAnchorElement>('#orders-link')?.href ?? '/orders';

  /** Computes this user's entrant id for `card` once, then renders again (the result names winners by it). */
  function myId(card: GiveawayCard): string | undefined {
    const known = myIds.get(card.id);
    const userId = client.state.you?.userId;
    if (known === undefined && userId !== undefined) {
      myIds.set(card.id, ''); // '' while it is computed: asked once
      void entrantIdOf(card.salt, userId).then((id) => {
        myIds.set(card.id, id);
        render();
      }, () => myIds.delete(card.id));
    }
    return known === '' ? undefined : known;
  }

  /** This identity's entry, as an earlier load of the page heard it answered (the card is everyone's). */
  function recallEntry(card: GiveawayCard): void {
    const roomId = client.state.room?.id;
    const userId = client.state.you?.userId;
    if (roomId === undefined || userId === undefined || entered.has(card.id)) return;
    if (recallStanding('giveaway', roomId, userId, (v): v is string => typeof v === 'string') === card.id) entered.add(card.id);
  }

  function keepEntry(giveawayId: string): void {
    entered.add(giveawayId);
    const roomId = client.state.room?.id;
    const userId = client.state.you?.userId;
    if (roomId !== undefined && userId !== undefined) rememberStanding('giveaway', roomId, userId, giveawayId);
  }

  let shownId: string | undefined;
  function render(): void {
    const card = client.state.giveaway;
    show(section, card !== null && !dismissed.has(card.id));
    if (card === null) return;
    recallEntry(card);
    if (shownId !== card.id) {
      shownId = card.id;
      say(status, '');
      verify.replaceChildren();
      show(verify, false);
    }
    setText(eyebrow, `🎁 ${t('giveaway.eyebrow')} · ${tn('giveaway.winners', card.winnersWanted)}`);
    setText(prize, prizeTitle(card));
    setText(count, tn('giveaway.entrants', card.entrants));
    section.dataset.entrants = String(card.entrants);
    const open = card.status === 'open';
    show(live, open);
    show(nameRow, open && !entered.has(card.id));
    show(enter, open);
    show(status, open);
    show(close, !open);
    // The result replaces the entry controls: show it from its top.
    if (section.dataset.status !== card.status) section.scrollTop = 0;
    if (open && timer.dataset.closes !== String(card.closesAt)) {
      timer.replaceChildren(countdown(card.closesAt, parts.clock, { prefix: t('giveaway.endsIn'), done: t('giveaway.drawing') }));
      timer.dataset.closes = String(card.closesAt);
    }
    const mine = entered.has(card.id);
    enter.disabled = entering || mine;
    setText(enter, t(mine ? 'giveaway.in' : entering ? 'giveaway.entering' : 'giveaway.enter'));
    renderResult(card);
    section.dataset.status = card.status;
  }

  function renderResult(card: GiveawayCard): void {
    if (card.status === 'open') {
      show(result, false);
      return;
    }
    show(result, true);
    if (card.status === 'cancelled' || card.result === undefined) {
      result.replaceChildren(h('p', { class: 'muted' }, t('giveaway.cancelled')));
      return;
    }
    const me = myId(card);
    const { winners, prizeShort, entrantsCount } = card.result;
    const iWon = wonOrders.has(card.id) || (me !== undefined && winners.some((w) => w.entrantId === me));
    const short = me !== undefined && prizeShort?.includes(me) === true;
    const rows: HTMLElement[] = [];
    if (iWon) {
      section.dataset.won = 'true';
      rows.push(h('p', { class: 'giveaway-won', 'data-testid': 'giveaway-won' }, `🎉 ${t('giveaway.youWon')} `,
        short ? t('giveaway.prizeShort') : h('a', { href: ordersHref(), 'data-testid': 'giveaway-orders-link' }, t('giveaway.seeOrders'))));
    } else {
      delete section.dataset.won;
      if (entered.has(card.id)) rows.push(h('p', { class: 'muted small', 'data-testid': 'giveaway-lost' }, t('giveaway.notThisTime')));
    }
    rows.push(h('p', { class: 'small' }, winners.length === 0 ? t('giveaway.noEntrants') : tn('giveaway.drawnAmong', entrantsCount, { winners: formatNumber(winners.length) })));
    rows.push(verify);
    if (winners.length > 0) {
      rows.push(h('ol', { class: 'giveaway-winners', 'data-testid': 'giveaway-winners' }, ...winners.map((w) =>
        h('li', { class: w.entrantId === me ? 'me' : undefined, title: w.entrantId }, w.name ?? t('giveaway.anonymous', { id: w.entrantId.slice(0, 8) }), w.entrantId === me ? ` (${t('giveaway.you')})` : ''))));
    }
    if (verify.hidden) {
      verify.replaceChildren(...verifyControls(card.result.drawUrl, () => myIds.get(card.id) || undefined));
      show(verify, true);
    }
    result.replaceChildren(...rows);
  }

  function answered(answer: EnterGiveawayAnswer): void {
    switch (answer.status) {
      case 'entered':
        keepEntry(answer.giveawayId);
        say(status, t('giveaway.entered', { n: formatNumber(answer.entrants) }), 'ok');
        break;
      case 'already_entered':
        keepEntry(answer.giveawayId);
        say(status, t('giveaway.alreadyEntered'), 'ok');
        break;
      case 'not_eligible':
        say(status, t(answer.eligibility === 'buyers' ? 'giveaway.notEligibleBuyers' : answer.eligibility === 'followers' ? 'giveaway.notEligibleFollowers' : 'giveaway.notEligiblePresent'), 'error');
        break;
      case 'giveaway_closed':
        say(status, t('giveaway.closed'), 'error');
        break;
      case 'no_giveaway':
        say(status, t('giveaway.gone'), 'error');
        break;
      case 'giveaway_full':
        say(status, t('giveaway.answerFull'), 'error');
        break;
      default: {
        const unhandled: never = answer;
        return unhandled;
      }
    }
  }

  async function enterNow(): Promise<void> {
    const card = client.state.giveaway;
    if (card === null || card.status !== 'open' || entering) return;
    entering = true;
    say(status, t('giveaway.entering'));
    render();
    try {
      answered(await client.enterGiveaway(card.id, { showName: showName.checked }));
    } catch (error) {
      say(status, isLivecartError(error) && error.name === 'GIVEAWAY_NOT_FOUND' ? t('giveaway.gone') : errorText(error), 'error');
    } finally {
      entering = false;
      render();
    }
  }
  enter.addEventListener('click', () => void enterNow());
  close.addEventListener('click', () => {
    const card = client.state.giveaway;
    if (card !== null) dismissed.add(card.id);
    render();
  });

  /** The card after joining: from the room state when the welcome brought it, else read (`read`: read even if the state holds one). */
  async function load(read: boolean): Promise<void> {
    if (read || client.state.giveaway === null) {
      try {
        await client.getGiveaway();
      } catch {
        // The next `giveaway` update brings it.
      }
    }
    render();
  }

  client.on('giveaway', render);
  client.on('giveawayEntrants', render);
  client.on('giveawayWon', (won) => {
    wonOrders.set(won.giveawayId, won.orderId);
    render();
  });
  client.on('product', render);
  // A welcome that carries the room's giveaway has put it in the state; one that does not leaves it to a read (updates missed meanwhile are not replayed).
  client.on('welcome', (welcome) => void load(!('giveaway' in welcome)));
  if (client.state.room !== undefined) void load(false);
}

/** "draw.json" (the published data) and a Verify button that checks it here (and whether `myEntrantId()` is listed); shared with the streamer page. */
export function verifyControls(drawUrl: string, myEntrantId: () => string | undefined = () => undefined): HTMLElement[] {
  const out = h('p', { class: 'status small', role: 'status', 'aria-live': 'polite', 'data-testid': 'giveaway-verify-status' });
  const button = h('button', { type: 'button', 'data-testid': 'giveaway-verify' }, t('giveaway.verify'));
  button.addEventListener('click', () => {
    button.disabled = true;
    say(out, t('giveaway.verifying'));
    void checkDraw(drawUrl, myEntrantId()).then((text) => say(out, text.text, text.ok ? 'ok' : 'error'), (error: unknown) => say(out, t('giveaway.verifyFailed', { why: errorText(error) }), 'error')).finally(() => {
      button.disabled = false;
      // In the phone's small card the answer may sit below its fold.
      out.scrollIntoView({ block: 'nearest' });
    });
  });
  return [h('p', { class: 'giveaway-verify-row' }, button, ' ', h('a', { href: drawUrl, target: '_blank', rel: 'noopener', 'data-testid': 'giveaway-draw-link' }, 'draw.json')), out];
}

async function checkDraw(drawUrl: string, myEntrantId: string | undefined): Promise<{ ok: boolean; text: string }> {
  const response = await fetch(drawUrl);
  if (!response.ok) return { ok: false, text: t('giveaway.verifyFailed', { why: `HTTP ${response.status}` }) };
  const draw: unknown = await response.json();
  const check: DrawCheck = await verifyDraw(draw);
  if (!check.ok) return { ok: false, text: t(`giveaway.bad.${check.reason}`) };
  const listed = myEntrantId !== undefined && Array.isArray((draw as { entrants?: unknown }).entrants) && ((draw as { entrants: unknown[] }).entrants).includes(myEntrantId);
  const text = tn('giveaway.verified', check.entrantsCount, { winners: formatNumber(check.winners.length) });
  return { ok: true, text: listed ? `${text} ${t('giveaway.youAreListed')}` : text };
}
