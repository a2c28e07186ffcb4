/**
 * A scheduled show's room page before the start: the show's title, a countdown to `startsAt`, the
 * products it will sell (shown, not yet on sale: the server answers adds `not_on_sale` until the
 * streamer starts), and "Remind me" (POST / DELETE /api/rooms/:id/reminder), which has the user
 * told on any livecart page they have open when the show goes live. When the streamer starts the
 * show, the room's `roomState` event hides the preview and the page goes on as a live room,
 * without a reload. Past `startsAt` with no start yet, the countdown gives way to "waiting for the
 * streamer"; a show the server ended as missed (never started within its grace) says it will not
 * take place. Below, on every room page, the streamer's other live and upcoming shows (read when
 * the page joins and when the room's state changes).
 */
import type { LivecartClient, Product, ReminderState, Show } from '../../src/index.ts';
import { api, countdown, errorText, formatPrice, h, placeholderImage, say, type ServerClock, setText, show } from './common.ts';
import { formatNumber, formatShowTime, t, tn } from './i18n.ts';
import './shows.css';

/** How often the reminder count is read again while the show is still to come. */
const REFRESH_MS = 30_000;

export function mountShowPreview(client: LivecartClient, options: { token: string; roomId: string; clock: ServerClock }): void {
  const { token, roomId, clock } = options;
  const title = h('h2', { class: 'show-title', 'data-testid': 'show-title' });
  const when = h('p', { class: 'show-when muted' });
  const timer = h('p', { class: 'show-countdown', 'data-testid': 'show-countdown' });
  const remindButton = h('button', { type: 'button', class: 'primary remind', 'aria-pressed': 'false', 'data-testid': 'remind-me' }, t('show.remindMe'));
  const remindStatus = h('p', { class: 'status small', role: 'status', 'aria-live': 'polite', 'data-testid': 'remind-status' });
  const products = h('ul', { class: 'show-products', 'data-testid': 'show-products' });
  const eyebrow = h('p', { class: 'eyebrow', id: 'show-preview-title', 'data-testid': 'show-eyebrow' }, t('show.upcoming'));
  const note = h('p', { class: 'show-note small', 'data-testid': 'show-note', hidden: true });
  const remindRow = h('div', { class: 'row wrap' }, remindButton);
  const productsTitle = h('h3', { class: 'show-products-title' }, t('show.inThisShow'));
  const panel = h('section', { class: 'panel show-preview', 'aria-labelledby': 'show-preview-title', 'data-testid': 'show-preview', hidden: true },
    eyebrow,
    title, when, timer, note,
    remindRow,
    remindStatus,
    productsTitle,
    products,
  );
  const upcomingList = h('ul', { class: 'show-list' });
  const upcoming = h('section', { class: 'panel show-upcoming', 'aria-labelledby': 'show-upcoming-title', 'data-testid': 'upcoming-shows', hidden: true },
    h('h2', { id: 'show-upcoming-title' }, t('show.more')),
    upcomingList,
  );
  const main = document.querySelector('main') ?? document.body;
  main.prepend(panel);
  main.append(upcoming);

  let reminder: ReminderState | undefined;
  let busy = false;
  /** What the timer shows now: `upcoming:STARTS_AT` (a countdown) or `late`. */
  let shownTimer: string | undefined;
  let lateTimer: ReturnType<typeof setTimeout> | undefined;

  const scheduled = () => client.state.room?.state === 'scheduled' && client.state.room.startsAt !== undefined;
  const missed = () => client.state.room?.state === 'ended' && client.state.room.missed === true;

  const render = () => {
    const room = client.state.room;
    const visible = scheduled() || missed();
    show(panel, visible);
    document.body.classList.toggle('show-scheduled', visible);
    document.body.classList.toggle('show-missed', missed());
    if (!visible || room === undefined) return;
    const phase = missed() ? 'missed' : room.startsAt !== undefined && clock.now() >= room.startsAt ? 'late' : 'upcoming';
    panel.dataset.phase = phase;
    setText(eyebrow, t(phase === 'missed' ? 'show.missed' : phase === 'late' ? 'show.late' : 'show.upcoming'));
    setText(title, room.title);
    setText(when, room.startsAt === undefined ? '' : formatShowTime(room.startsAt, true));
    show(note, phase !== 'upcoming');
    if (phase === 'missed') setText(note, t('show.missedNote'));
    if (phase === 'late' && room.startsAt !== undefined) setText(note, t('show.lateNote', { time: formatShowTime(room.startsAt) }));
    const timerKey = phase === 'upcoming' ? `upcoming:${room.startsAt}` : phase;
    if (shownTimer !== timerKey) {
      shownTimer = timerKey;
      clearTimeout(lateTimer);
      if (phase === 'upcoming' && room.startsAt !== undefined) {
        timer.replaceChildren(countdown(room.startsAt, clock, { prefix: t('show.startsIn'), done: t('show.waitingForStreamer') }));
        // At the start time the page turns to "waiting for the streamer" by itself.
        lateTimer = setTimeout(render, Math.max(0, room.startsAt - clock.now()) + 100);
      } else {
        timer.replaceChildren(phase === 'late' ? t('show.waitingForStreamer') : '');
      }
    }
    show(timer, phase !== 'missed');
    for (const part of [remindRow, remindStatus, productsTitle, products]) show(part, phase !== 'missed');
    if (phase === 'missed') return;
    products.replaceChildren(...client.state.products.map((product) => productItem(client, product)));
    renderReminder();
  };

  const renderReminder = () => {
    remindButton.disabled = busy || reminder === undefined;
    const on = reminder?.reminded === true;
    remindButton.setAttribute('aria-pressed', String(on));
    setText(remindButton, t(on ? 'show.reminderSet' : 'show.remindMe'));
    if (reminder !== undefined && remindStatus.dataset.kind !== 'error') {
      say(remindStatus, on ? t('show.remindedNote', { waiting: waiting(reminder.reminders) }) : waiting(reminder.reminders));
    }
  };

  const readReminder = async () => {
    if (!scheduled()) return;
    try {
      reminder = await api<ReminderState>(`/api/rooms/${encodeURIComponent(roomId)}/reminder`, { token });
      renderReminder();
    } catch {
      // The button stays as it was; the next refresh tries again.
    }
  };

  remindButton.addEventListener('click', () => {
    if (reminder === undefined || busy) return;
    busy = true;
    remindStatus.dataset.kind = '';
    renderReminder();
    api<ReminderState>(`/api/rooms/${encodeURIComponent(roomId)}/reminder`, { method: reminder.reminded ? 'DELETE' : 'POST', token }).then(
      (answer) => {
        reminder = answer;
      },
      (error: unknown) => say(remindStatus, t('show.reminderFailed', { why: errorText(error) }), 'error'),
    ).finally(() => {
      busy = false;
      renderReminder();
    });
  });

  const renderUpcoming = async () => {
    const streamerId = client.state.room?.streamerId;
    if (streamerId === undefined) return;
    try {
      const { shows } = await api<{ shows: Show[] }>(`/api/streamers/${encodeURIComponent(streamerId)}/shows`, { token });
      const others = shows.filter((s) => s.id !== roomId);
      upcomingList.replaceChildren(...others.map((s) => showItem(s, token)));
      show(upcoming, others.length > 0);
    } catch {
      // Kept as it was.
    }
  };

  client.on('welcome', () => {
    render();
    void readReminder();
    void renderUpcoming();
  });
  client.on('roomState', () => {
    render();
    void renderUpcoming();
  });
  for (const event of ['product', 'stock', 'soldOut'] as const) client.on(event, () => scheduled() && render());
  // The upcoming list is read at each welcome and room state change only: a crowd's pages do not poll it.
  setInterval(() => void readReminder(), REFRESH_MS);
}

function waiting(count: number): string {
  return count === 0 ? '' : tn('show.waiting', count);
}

function productItem(client: LivecartClient, product: Product): HTMLElement {
  const stock = client.state.stock[product.sku] ?? product.stock;
  const image = h('img', { class: 'show-product-image', src: product.imageUrl ?? placeholderImage(product.title, product.sku), alt: '', width: 64, height: 64 });
  image.addEventListener('error', () => {
    image.src = placeholderImage(product.title, product.sku);
  }, { once: true });
  return h('li', { class: 'show-product', 'data-sku': product.sku },
    image,
    h('div', { class: 'show-product-body' },
      h('p', { class: 'show-product-title' }, product.title),
      h('p', { class: 'muted small' }, t('show.priceStock', { price: formatPrice(product.priceCents, product.currency), n: formatNumber(stock) })),
      h('button', { type: 'button', class: 'preview-add', disabled: true, 'data-testid': 'preview-add' }, t('show.onSaleAtStart')),
    ),
  );
}

function showItem(s: Show, token: string): HTMLElement {
  // The server lists the streamer's shop among the live shows (its room is always open): it leads
  // to the shop window, named in the page's language, with no "Live" badge.
  if (s.kind === 'shop') {
    return h('li', { class: 'show-item', 'data-room': s.id, 'data-kind': 'shop' },
      h('a', { href: `/shop?streamer=${encodeURIComponent(s.streamerId)}` }, s.streamerName === undefined ? s.title : t('shop.nameOf', { name: s.streamerName })),
      ' ',
      h('span', { class: 'muted small' }, t('shop.heading')),
    );
  }
  const live = s.state === 'live';
  const remind = h('button', { type: 'button', class: 'link', 'aria-pressed': String(s.reminded === true) }, t(s.reminded === true ? 'show.reminderSet' : 'show.remindMe'));
  remind.addEventListener('click', () => {
    remind.disabled = true;
    api<ReminderState>(`/api/rooms/${encodeURIComponent(s.id)}/reminder`, { method: s.reminded === true ? 'DELETE' : 'POST', token }).then(
      (answer) => {
        s.reminded = answer.reminded;
        remind.setAttribute('aria-pressed', String(answer.reminded));
        setText(remind, t(answer.reminded ? 'show.reminderSet' : 'show.remindMe'));
      },
      () => undefined,
    ).finally(() => {
      remind.disabled = false;
    });
  });
  return h('li', { class: 'show-item', 'data-room': s.id },
    h('a', { href: `/viewer?room=${encodeURIComponent(s.id)}` }, s.title),
    ' ',
    live ? h('span', { class: 'badge', 'data-state': 'live' }, t('room.live')) : h('span', { class: 'muted small' }, formatShowTime(s.startsAt ?? s.createdAt)),
    live ? null : remind,
  );
}
