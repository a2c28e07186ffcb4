/**
 * The viewer page's auction card: the product, the current price, the leader ("You" when it is this
 * viewer), a countdown to the end that jumps (with an "Extended!" hint) when a late bid pushes it,
 * one-tap bids at the next increments, a "my maximum" field (proxy bidding), every bid's answer,
 * and at the end the result: sold to whom for how much, "You won!" with how long the cart holds it,
 * or no bids. On a phone it takes the pinned product card's place while it shows (auctionCard.css).
 */
import { isLivecartError, nextBids, type AuctionCard, type AuctionWonEvent, type BidAnswer, type LivecartClient } from '../../src/index.ts';
import { countdown, errorText, formatPrice, h, parsePriceCents, say, setText, show, type ServerClock } from './common.ts';
import { formatTime, t, tn } from './i18n.ts';
import { skuTitle } from './productSheet.ts';
import { recallStanding, rememberStanding } from './standingMemory.ts';
import './auctionCard.css';

/** How long the "Extended!" hint stays after the end moved. */
const EXTENDED_HINT_MS = 4000;

/** Mounts the card after `anchor` (the pinned product's card). */
export function mountAuctionCard(client: LivecartClient, parts: { anchor: HTMLElement; clock: ServerClock }): void {
  /** This viewer's standing in the card's auction: their maximum while an answer said they lead. */
  let mine: { auctionId: string; maxCents: number } | undefined;
  let won: AuctionWonEvent | undefined;
  let closedId: string | undefined;
  let shownEnd: { id: string; endsAt: number } | undefined;
  let hintTimer: ReturnType<typeof setTimeout> | undefined;
  let bidding = false;

  const title = h('h2', { id: 'auction-title', 'data-testid': 'auction-title' });
  const timer = countdown(0, parts.clock, { prefix: t('auction.endsIn'), done: t('auction.over') });
  timer.dataset.testid = 'auction-countdown';
  const extended = h('span', { class: 'auction-extended', 'data-testid': 'auction-extended', hidden: true }, t('auction.extended'));
  const price = h('p', { class: 'auction-price', 'data-testid': 'auction-price' });
  const leader = h('p', { class: 'auction-leader', 'data-testid': 'auction-leader' });
  const bids = h('div', { class: 'auction-bids', 'data-testid': 'auction-bids' });
  const maxInput = h('input', { id: 'auction-max', name: 'max', inputmode: 'decimal', autocomplete: 'off', placeholder: t('auction.maxPlaceholder'), 'data-testid': 'auction-max-input' });
  const maxButton = h('button', { type: 'submit', 'data-testid': 'auction-max-submit' }, t('auction.setMax'));
  const maxForm = h('form', { class: 'auction-max', 'data-testid': 'auction-max' },
    h('label', { for: 'auction-max', class: 'sr-only' }, t('auction.maxLabel')), maxInput, maxButton);
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'auction-status' });
  const result = h('p', { class: 'auction-result', role: 'status', 'aria-live': 'polite', 'data-testid': 'auction-result', hidden: true });
  const close = h('button', { type: 'button', class: 'link auction-close', 'data-testid': 'auction-close', hidden: true }, t('auction.close'));
  const section = h('section', { class: 'auction-card', 'aria-labelledby': 'auction-title', 'data-testid': 'auction-card', hidden: true },
    h('p', { class: 'eyebrow' }, h('span', {}, t('auction.eyebrow')), ' ', timer, ' ', extended),
    title, price, leader, bids, maxForm, status, result, close);
  parts.anchor.after(section);
  // The like button rises above the card on a phone (auctionCard.css reads --auction-h).
  new ResizeObserver(() => document.body.style.setProperty('--auction-h', `${Math.ceil(section.getBoundingClientRect().height)}px`)).observe(section);

  const currency = (card: AuctionCard) => client.state.products.find((p) => p.sku === card.sku)?.currency ?? client.state.products[0]?.currency ?? 'USD';
  /** The viewer leads while their maximum still covers the price (a higher bid always lifts the price above it). */
  const leads = (card: AuctionCard) => mine !== undefined && mine.auctionId === card.id && card.leader !== null && card.priceCents <= mine.maxCents;

  /** The viewer's standing kept by an earlier load of the page (the card is everyone's: only the viewer's own answers say they lead). */
  function recallMine(card: AuctionCard): void {
    const roomId = client.state.room?.id;
    const userId = client.state.you?.userId;
    if (mine !== undefined || roomId === undefined || userId === undefined) return;
    const kept = recallStanding('auction', roomId, userId, (v): v is { auctionId: string; maxCents: number } =>
      typeof v === 'object' && v !== null && typeof (v as { auctionId?: unknown }).auctionId === 'string' && typeof (v as { maxCents?: unknown }).maxCents === 'number');
    if (kept?.auctionId === card.id) mine = kept;
  }

  function keepMine(next: { auctionId: string; maxCents: number } | undefined): void {
    mine = next;
    const roomId = client.state.room?.id;
    const userId = client.state.you?.userId;
    if (roomId !== undefined && userId !== undefined) rememberStanding('auction', roomId, userId, next ?? null);
  }

  function render(): void {
    const card = client.state.auction;
    show(section, card !== null && card.id !== closedId);
    if (card === null) return;
    recallMine(card);
    const cur = currency(card);
    const open = card.status === 'open';
    section.dataset.status = card.status;
    section.dataset.auction = card.id;
    setText(title, skuTitle(client.state.products, card.sku));
    const priceKey = card.bids === 0 ? 'auction.startPrice' : card.status === 'ended' ? 'auction.winningBid' : 'auction.price';
    setText(price, t(priceKey, { amount: formatPrice(card.bids === 0 ? card.startPriceCents : card.priceCents, cur) }));
    const leaderKey = card.status === 'ended' ? 'auction.wonBy' : 'auction.leader';
    setText(leader, card.leader === null ? t(open ? 'auction.noBidsYet' : 'auction.noBidsShort') : `${t(leaderKey, { name: leads(card) ? t('auction.you') : card.leader })} · ${tn('auction.bids', card.bids)}`);
    section.dataset.leading = String(leads(card));

    if (shownEnd !== undefined && shownEnd.id === card.id && open && card.endsAt > shownEnd.endsAt) {
      show(extended, true);
      clearTimeout(hintTimer);
      hintTimer = setTimeout(() => show(extended, false), EXTENDED_HINT_MS);
    }
    if (shownEnd === undefined || shownEnd.id !== card.id || card.endsAt > shownEnd.endsAt || !open) shownEnd = { id: card.id, endsAt: card.endsAt };
    timer.dataset.deadline = String(open ? card.endsAt : 0);
    timer.dataset.endsAt = String(card.endsAt);
    if (!open) setText(timer, t('auction.over'));

    const amounts = open ? nextBids(card.increments, card.minNextCents, 3) : [];
    const labels = amounts.map((a) => formatPrice(a, cur));
    if (bids.dataset.amounts !== amounts.join(',')) {
      bids.dataset.amounts = amounts.join(',');
      bids.replaceChildren(...amounts.map((amount, i) => h('button', { type: 'button', class: i === 0 ? 'primary' : '', 'data-testid': 'auction-bid', 'data-amount': amount, 'aria-label': t('auction.bidAria', { amount: labels[i]! }), onclick: () => void bid(amount, false) }, labels[i]!)));
    }
    for (const button of Array.from(bids.querySelectorAll('button'))) button.disabled = bidding || !open;
    maxButton.disabled = bidding || !open;
    show(bids, open);
    show(maxForm, open);

    // Once settled the result says it all; the last answer goes.
    show(status, open);
    show(result, !open);
    show(close, !open);
    if (open) return;
    if (won !== undefined && won.auctionId === card.id) {
      setText(result, !won.held ? t('auction.youWonNoUnit', { price: formatPrice(won.priceCents, cur) }) : won.expiresAt !== undefined ? t('auction.youWon', { time: formatTime(won.expiresAt) }) : t('auction.youWonAt', { price: formatPrice(won.priceCents, cur) }));
      result.dataset.outcome = 'won';
    } else if (card.status === 'cancelled') {
      setText(result, t('auction.cancelled'));
      result.dataset.outcome = 'cancelled';
    } else if (card.leader === null) {
      setText(result, t('auction.noBids'));
      result.dataset.outcome = 'no_bids';
    } else if (leads(card)) {
      setText(result, t('auction.youWonAt', { price: formatPrice(card.priceCents, cur) }));
      result.dataset.outcome = 'won';
    } else {
      setText(result, t('auction.soldTo', { name: card.leader, price: formatPrice(card.priceCents, cur) }));
      result.dataset.outcome = 'sold';
    }
  }

  function answered(answer: BidAnswer, card: AuctionCard): void {
    const cur = currency(card);
    switch (answer.status) {
      case 'leading':
        keepMine({ auctionId: answer.auctionId, maxCents: answer.maxCents });
        say(status, answer.maxCents > answer.priceCents
          ? t('auction.leadingMax', { price: formatPrice(answer.priceCents, cur), max: formatPrice(answer.maxCents, cur) })
          : t('auction.leading', { price: formatPrice(answer.priceCents, cur) }), 'ok');
        break;
      case 'outbid':
        say(status, t('auction.outbid', { price: formatPrice(answer.priceCents, cur), min: formatPrice(answer.minNextCents, cur) }), 'error');
        break;
      case 'too_low':
        say(status, t('auction.tooLow', { min: formatPrice(answer.minNextCents, cur) }), 'error');
        break;
      case 'ended':
        say(status, t('auction.ended'), 'error');
        break;
      case 'not_allowed':
        say(status, t(`auction.notAllowed.${answer.reason}`), 'error');
        break;
    }
    status.dataset.answer = answer.status;
  }

  async function bid(amountCents: number, max: boolean): Promise<void> {
    const card = client.state.auction;
    if (card === null || card.status !== 'open' || bidding) return;
    bidding = true;
    say(status, t('auction.bidding'));
    delete status.dataset.answer;
    render();
    try {
      const answer = await client.bid(card.id, amountCents, max ? { max: true } : {});
      answered(answer, card);
    } catch (error) {
      say(status, isLivecartError(error) && error.name === 'AUCTION_NOT_FOUND' ? t('auction.notAllowed.unknown_auction') : errorText(error), 'error');
    } finally {
      bidding = false;
      render();
    }
  }

  maxForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const card = client.state.auction;
    if (card === null) return;
    const cents = parsePriceCents(maxInput.value, currency(card));
    if (!Number.isInteger(cents) || cents < card.minNextCents) {
      say(status, t('auction.badMax', { amount: formatPrice(card.minNextCents, currency(card)) }), 'error');
      return;
    }
    void bid(cents, true);
  });
  close.addEventListener('click', () => {
    closedId = client.state.auction?.id;
    render();
  });

  client.on('auction', (card) => {
    // Someone's bid lifted the price past this viewer's maximum: they hear it without bidding.
    if (mine !== undefined && mine.auctionId === card.id && card.status === 'open' && card.priceCents > mine.maxCents) {
      say(status, t('auction.outbidLater', { price: formatPrice(card.priceCents, currency(card)) }), 'error');
      status.dataset.answer = 'outbid';
      keepMine(undefined);
    }
    render();
  });
  client.on('auctionEnded', () => render());
  client.on('auctionWon', (event) => {
    won = event;
    render();
  });
  client.on('welcome', () => render());
  client.on('product', () => render());
  render();
}
