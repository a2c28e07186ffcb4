/**
 * The viewer page: /viewer?room=demo[&token=…][&name=…]. The viewer's identity (the URL's token, else
 * the one kept for this browser, else a dev token in dev mode) comes from identity.ts. Everything live comes from the SDK: room state, comments, likes, the
 * pinned card with live stock, add-to-cart progress (`cartAction`), the cart and checkout, the
 * room's busy state (`degradeLevel`) and the connection state. The video plays through
 * `StreamViewer` (client/src/media.ts) in a muted, autoplaying <video> (with an Unmute button).
 * When WebRTC is full on this server (VIDEO_FULL) the same <video> plays the room's HLS rendition
 * (`HlsPlayer`, a few seconds behind) while the viewer keeps retrying; a freed seat moves it back.
 * Once the show has ended (or for a visitor who comes later) the <video> plays its recording and
 * "Shop the show" lists its products at their moments (`ReplayShop`).
 *
 * Test hooks (read by tests/e2e, nothing else): `window.livecart` is the LivecartClient and
 * `window.livecartViewer` the StreamViewer (its `stats()` gives the inbound-rtp counters).
 */
import { connect, isLivecartError, type CartActionEvent, type HistoryComment, type LivecartClient, type Product } from '../../src/index.ts';
import { StreamViewer, type MediaState } from '../../src/media.ts';
import { HlsPlayer } from './hlsPlayer.ts';
import { ReplayShop } from './replayShop.ts';
import { ProductSheet, skuTitle, unitsLeft } from './productSheet.ts';
import {
  api,
  byId,
  countdown,
  errorText,
  fatal,
  formatNumber,
  formatPrice,
  h,
  params,
  placeholderImage,
  say,
  seconds,
  ServerClock,
  setText,
  show,
  startCountdowns,
  trackConnection,
  wsUrl,
} from './common.ts';
import { forgetIdentity, viewerIdentity } from './identity.ts';
import { mountViewerModeration } from './viewerModeration.ts';
import { locale, startI18n, t } from './i18n.ts';
import { roomStateText } from './roomStateText.ts';
import { startViewerLayout } from './viewerLayout.ts';
import { CartDrawer } from './cartDrawer.ts';
import { mountCouponCard, type CouponView } from './couponCard.ts';
import { mountAuctionCard } from './auctionCard.ts';
import { mountGiveawayCard } from './giveawayCard.ts';
import { followShowNotices } from './showNotices.ts';
import { mountShowPreview } from './showPreview.ts';

const MAX_COMMENTS_SHOWN = 100;
const roomId = params.get('room') ?? 'demo';

const el = {
  title: byId('room-title'),
  roomState: byId('room-state'),
  viewers: byId('viewers'),
  conn: byId('conn'),
  cartButton: byId<HTMLButtonElement>('cart-button'),
  cartCount: byId('cart-count'),
  busy: byId('busy'),
  removed: byId('removed'),
  video: byId('video'),
  player: byId<HTMLVideoElement>('player'),
  liveTag: byId('live-tag'),
  transport: byId('transport'),
  videoState: byId('video-state'),
  videoDetail: byId('video-detail'),
  micOff: byId('mic-off'),
  unmute: byId<HTMLButtonElement>('unmute'),
  like: byId<HTMLButtonElement>('like'),
  likes: byId('likes'),
  card: byId('card'),
  cardImage: byId<HTMLImageElement>('card-image'),
  cardTitle: byId('card-title'),
  cardPrice: byId('card-price'),
  cardListPrice: byId('card-list-price'),
  cardLimit: byId('card-limit'),
  cardStock: byId('card-stock'),
  cardTimer: byId('card-timer'),
  add: byId<HTMLButtonElement>('add'),
  addStatus: byId('add-status'),
  addTimer: byId('add-timer'),
  noCard: byId('no-card'),
  replay: byId('replay'),
  replayNote: byId('replay-note'),
  replayMoments: byId<HTMLOListElement>('replay-moments'),
  chatPaused: byId('chat-paused'),
  comments: byId<HTMLOListElement>('comments'),
  commentForm: byId<HTMLFormElement>('comment-form'),
  commentInput: byId<HTMLInputElement>('comment-input'),
  commentSend: byId<HTMLButtonElement>('comment-send'),
  commentStatus: byId('comment-status'),
};

const clock = new ServerClock();
/** Product picture URLs that failed to load here: the card shows the tile instead. */
const brokenImages = new Set<string>();

/** Per-page state the SDK does not hold. */
const ui = {
  /** The latest add-to-cart action of the pinned sku, rendered on the card. */
  action: undefined as CartActionEvent | undefined,
  /** Like taps since the last `likes` total from the server (shown at once, before the server counts them). */
  pendingLikes: 0,
  /** Comments are refused until this local time (rate limit). */
  commentBlockedUntil: 0,
  /** A moderator removed this user from the room (closed with KICKED, or refused at join). */
  removed: false,
};

/** The video area: what `StreamViewer` and the room's `stream` events said last. */
const media = {
  state: 'idle' as MediaState,
  reason: undefined as string | undefined,
  /** Local time of the viewer's next try (states full, unavailable, retrying). */
  retryAt: 0,
  /** The tracks playing, by producer id; `stream` (the <video>'s srcObject) holds exactly these. */
  tracks: new Map<string, MediaStreamTrack>(),
  stream: new MediaStream(),
  cameraOff: false,
  micOff: false,
  /** Something played here and the streamer then stopped; cleared when the stream comes back. */
  played: false,
  ended: false,
  endReason: undefined as string | undefined,
  /** Set when the page cannot join at all (the video area says why). */
  blocked: undefined as string | undefined,
  viewer: undefined as StreamViewer | undefined,
  /** The HLS rendition, played while WebRTC is full. */
  hls: undefined as HlsPlayer | undefined,
  /** The show's recording and its shop, once the show has ended. */
  replay: undefined as ReplayShop | undefined,
};


/** The room's coupon card and the coupon's lines in the cart and the order (couponCard.ts). */
let coupons: CouponView | undefined;
/** The cart (cartDrawer.ts, shared with the shop window). */
let cart: CartDrawer | undefined;

async function main(): Promise<void> {
  startI18n();
  startViewerLayout();
  const given = params.get('token');
  const identity = await viewerIdentity();
  if (identity === undefined) {
    fatal(t('viewer.noGuestTokens'), t('viewer.openWithToken', { url: `/viewer?room=${roomId}&token=…` }));
    return;
  }
  const token = identity.token;
  const client = connect({ url: wsUrl(), token, room: roomId });
  (window as unknown as { livecart: LivecartClient }).livecart = client;
  const drawer = mountCart(client);
  mountShowPreview(client, { token, roomId, clock });
  followShowNotices(client, { currentRoom: roomId, token: given ?? undefined });
  // The orders page reads this tab's token itself; one given in the URL goes along.
  if (given !== null) for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href="/orders"]'))) link.href = `/orders?token=${encodeURIComponent(given)}`;
  wire(client, identity.dev ? token : undefined);
  mountViewerModeration(client, { comments: el.comments, token, roomId, status: el.commentStatus });
  coupons = mountCouponCard(client, { anchor: el.card, cartSummary: drawer.summary, cartTotal: drawer.total, orderTotalRow: drawer.orderTotalRow });
  mountAuctionCard(client, { anchor: el.card, clock });
  mountGiveawayCard(client, { anchor: byId('coupon-card'), clock });
  mountProducts(client, drawer);
  try {
    await client.ready;
  } catch {
    return; // `closed` already explained it
  }
  await clock.calibrate(client);
  startCountdowns(clock, () => renderButton(client));
  startVideo(client);
  try {
    await client.cart(); // a reloaded page shows what this user still holds
  } catch {
    // The cart shows what the next answers bring.
  }
}

function wire(client: LivecartClient, devToken: string | undefined): void {
  trackConnection(client, el.conn, (_text, error) => {
    if (isLivecartError(error) && error.name === 'UNAUTHORIZED' && devToken !== undefined && !sessionStorage.getItem('livecart.retried')) {
      // The server restarted with a new dev secret: get a new token once (a shop's token is never replaced here).
      forgetIdentity(devToken);
      sessionStorage.setItem('livecart.retried', '1');
      location.reload();
      return;
    }
    if (isLivecartError(error) && error.name === 'ROOM_NOT_FOUND') noRoom();
    if (isLivecartError(error) && error.name === 'KICKED') removed();
    renderAll(client);
  });

  client.on('welcome', (welcome) => {
    sessionStorage.removeItem('livecart.retried');
    if (!welcome.resumed) rebuildComments(client);
    renderAll(client);
  });
  client.on('roomState', () => renderAll(client));
  client.on('reconnecting', () => renderCommentForm(client));
  client.on('viewers', () => renderViewers(client));
  client.on('likes', () => {
    ui.pendingLikes = 0;
    renderLikes(client);
  });
  client.on('comment', (c) => appendComment(client, c));
  client.on('commentDeleted', (e) => el.comments.querySelector(`[data-seq="${e.commentSeq}"]`)?.remove());
  client.on('userMuted', (e) => {
    if (e.muted) for (const li of Array.from(el.comments.querySelectorAll<HTMLElement>(`[data-user="${CSS.escape(e.userId)}"]`))) li.remove();
    renderCommentForm(client);
  });
  client.on('popup', () => {
    if (client.state.popup?.product.sku !== ui.action?.sku) ui.action = undefined;
    renderCard(client);
  });
  client.on('product', () => renderCard(client));
  client.on('stock', () => renderCard(client));
  client.on('soldOut', () => renderCard(client));
  for (const event of ['stock', 'soldOut', 'product', 'cartChanged'] as const) client.on(event, () => media.replay?.render());
  client.on('degrade', () => renderAll(client));
  client.on('cartAction', (a) => {
    if (a.sku !== client.state.popup?.product.sku) return;
    ui.action = a;
    renderCard(client);
  });
  client.on('reservationExpired', (e) => {
    if (ui.action?.sku === e.sku && ui.action.state === 'reserved') ui.action = undefined;
    renderCard(client);
  });
  client.on('error', (error) => console.warn('livecart:', error));

  el.like.addEventListener('click', () => {
    client.like();
    ui.pendingLikes++;
    renderLikes(client);
    el.like.classList.remove('pop');
    void el.like.offsetWidth; // restart the animation
    el.like.classList.add('pop');
  });

  el.add.addEventListener('click', () => {
    const sku = client.state.popup?.product.sku;
    if (!sku) return;
    client.addToCart(sku, 1).catch(() => undefined); // the `cartAction` events render every outcome
  });

  el.commentForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.commentInput.value.trim();
    if (!text) return;
    el.commentSend.disabled = true;
    client.comment(text).then(
      () => {
        el.commentInput.value = '';
        el.commentStatus.dataset.source = '';
        say(el.commentStatus, '');
        renderCommentForm(client);
      },
      (error: unknown) => {
        if (isLivecartError(error) && error.name === 'RATE_LIMITED') {
          ui.commentBlockedUntil = Date.now() + (error.retryAfterMs ?? 1000);
          setTimeout(() => renderCommentForm(client), (error.retryAfterMs ?? 1000) + 50);
        } else {
          el.commentStatus.dataset.source = 'once';
          say(el.commentStatus, errorText(error), 'error');
        }
        renderCommentForm(client);
      },
    );
  });

}

// ------------------------------------------------------------------ rendering

function renderAll(client: LivecartClient): void {
  el.like.disabled = ui.removed;
  renderRoom(client);
  renderViewers(client);
  renderLikes(client);
  renderBusy(client);
  renderCard(client);
  renderCommentForm(client);
  cart?.render();
}

function renderRoom(client: LivecartClient): void {
  const room = client.state.room;
  if (!room) {
    renderVideo(client);
    return;
  }
  setText(el.title, room.title);
  document.title = `${room.title} · livecart`;
  el.roomState.dataset.state = room.state;
  setText(el.roomState, roomStateText(room, clock.now(), { waiting: t('room.soon'), late: t('show.late') }));
  if (room.state === 'ended') startReplay(client);
  renderVideo(client);
}

/** The show is over: the live video lets go, its recording plays instead, and its products stay on sale. */
function startReplay(client: LivecartClient): void {
  if (media.replay !== undefined || ui.removed) return;
  media.viewer?.stop();
  media.replay = new ReplayShop({
    client, roomId, video: el.player, now: () => clock.now(),
    elements: { section: el.replay, note: el.replayNote, list: el.replayMoments },
    onChange: () => {
      renderVideo(client);
      renderCard(client);
      cart?.render();
    },
  });
  media.replay.start();
}

// ------------------------------------------------------------------ video

/** Watches the room's stream (the viewer retries and rebuilds by itself; the page only renders). */
function startVideo(client: LivecartClient): void {
  const viewer = new StreamViewer(client);
  media.viewer = viewer;
  if (HlsPlayer.supported) media.hls = new HlsPlayer(el.player, `/hls/${encodeURIComponent(roomId)}/index.m3u8`, { onChange: () => renderVideo(client) });
  (window as unknown as { livecartViewer: StreamViewer }).livecartViewer = viewer;
  viewer.on('state', (e) => {
    media.state = e.state;
    media.reason = e.reason;
    media.retryAt = e.retryAfterMs === undefined ? 0 : Date.now() + e.retryAfterMs;
    renderVideo(client);
  });
  viewer.on('track', ({ track, kind, producerId }) => {
    for (const [id, old] of media.tracks) {
      if (old.kind !== kind) continue;
      media.stream.removeTrack(old);
      media.tracks.delete(id);
    }
    media.tracks.set(producerId, track);
    media.stream.addTrack(track);
    media.played = true;
    media.ended = false;
    attachStream();
    renderVideo(client);
  });
  viewer.on('trackEnded', ({ kind, producerId }) => {
    const track = media.tracks.get(producerId);
    if (track !== undefined) {
      media.stream.removeTrack(track);
      media.tracks.delete(producerId);
      attachStream();
    }
    if (kind === 'video') media.cameraOff = false;
    else media.micOff = false;
    renderVideo(client);
  });
  viewer.on('muted', ({ kind, muted }) => {
    if (kind === 'video') media.cameraOff = muted;
    else media.micOff = muted;
    renderVideo(client);
  });
  // The room's stream as the server lists it: mute flags and the end of the stream are read here
  // too (the viewer's `muted` event only reports changes it saw the previous state of).
  client.on('stream', (stream) => {
    media.cameraOff = stream.producers.some((p) => p.kind === 'video' && p.paused);
    media.micOff = stream.producers.some((p) => p.kind === 'audio' && p.paused);
    if (stream.live) media.ended = false;
    else if (media.played) {
      media.ended = true;
      media.endReason = stream.reason;
    }
    renderVideo(client);
  });
  el.unmute.addEventListener('click', () => {
    el.player.muted = !el.player.muted;
    if (!el.player.muted) el.player.play().catch(() => undefined);
    renderVideo(client);
  });
  // A visitor after the show gets its replay, not a live stream.
  if (client.state.room?.state !== 'ended') void viewer.start();
}

/**
 * A moderator removed this user: the video stops, and the cart, like and comment controls go off
 * (the server gave what they held back to stock and closes the room's cart to them until the ban ends).
 */
function removed(): void {
  ui.removed = true;
  media.viewer?.stop();
  media.replay?.stop();
  for (const track of media.tracks.values()) {
    media.stream.removeTrack(track);
    track.stop();
  }
  media.tracks.clear();
  attachStream();
  show(el.removed, true);
  setText(el.removed, t('viewer.removedBanner'));
}

/** The room does not exist: the video area says so, and there is nothing to like, browse or comment on. */
function noRoom(): void {
  media.blocked = t('viewer.noRoom', { room: roomId });
  show(el.like.parentElement!, false);
  show(el.commentForm, false);
  const products = document.querySelector<HTMLElement>('[data-testid="products-button"]');
  if (products !== null) show(products, false);
}

/** Points the <video> at the current tracks (set again so the element picks up added or removed tracks). */
function attachStream(): void {
  if (media.tracks.size === 0) {
    if (media.hls?.active || media.replay?.active) return; // the <video> plays HLS meanwhile
    el.player.srcObject = null;
    return;
  }
  el.player.srcObject = media.stream;
  el.player.play().catch(() => undefined); // muted autoplay; a refusal leaves the poster state
}

function retryLine(prefix = ''): HTMLElement | string {
  if (media.retryAt <= Date.now()) return prefix;
  return h('span', {}, prefix, countdown(media.retryAt, clock, { local: true, format: 'seconds', prefix: t('video.retryingIn'), suffix: '.', done: t('video.retrying') }));
}

/**
 * A server reason as a sentence part ("video unavailable: video is switched off" → "Video is switched off.").
 * The server words its reasons in English for its operators: another language's page keeps to its own headline.
 */
function reasonText(reason: string | undefined): string {
  if (locale() !== 'en') return '';
  const text = (reason ?? '').replace(/^video unavailable:\s*/i, '').trim();
  if (!text) return '';
  return `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'} `;
}

/**
 * The video area from the room's state and the viewer's: `data-media` is one of connecting,
 * waiting, playing, camera-off, audio-only, full, unavailable, retrying, ended, replay (tests read it).
 */
function renderVideo(client: LivecartClient): void {
  const room = client.state.room?.state;
  followCapacity(room);
  const hasVideo = [...media.tracks.values()].some((t) => t.kind === 'video');
  const hasAudio = [...media.tracks.values()].some((t) => t.kind === 'audio');
  let view: string;
  let text: string;
  let detail: HTMLElement | string = '';
  if (ui.removed) {
    view = 'removed';
    text = t('video.removed');
  } else if (media.blocked !== undefined) {
    view = 'unavailable';
    text = media.blocked;
  } else if (media.replay?.playing) {
    view = 'replay';
    text = t('video.replay');
  } else if (room === 'ended' && media.tracks.size === 0) {
    view = 'ended';
    text = t('video.showEnded');
    if (media.replay?.loading || media.replay?.active) detail = t('video.loadingReplay');
  } else if (media.hls?.playing && media.tracks.size === 0) {
    view = 'hls';
    text = t('video.playingHls');
  } else if (media.state === 'unavailable') {
    view = 'unavailable';
    text = t('video.unavailable');
    detail = retryLine(reasonText(media.reason));
  } else if (media.state === 'full') {
    view = 'full';
    text = t('video.full');
    detail = retryLine(`${t('video.fullDetail')} ${media.hls?.active ? `${t('video.tryingHls')} ` : ''}`);
  } else if (media.state === 'retrying') {
    view = 'retrying';
    text = t('video.interrupted');
    detail = retryLine(reasonText(media.reason));
  } else if (media.ended && (media.tracks.size === 0 || media.state === 'waiting')) {
    view = 'ended';
    text = t('video.streamEnded');
    detail = reasonText(media.endReason);
  } else if (media.state === 'live' && media.tracks.size > 0) {
    view = !hasVideo ? 'audio-only' : media.cameraOff ? 'camera-off' : 'playing';
    text = view === 'audio-only' ? t('video.audioOnly') : view === 'camera-off' ? t('video.cameraOff') : t('video.playing');
    if (view === 'camera-off') detail = t('video.cameraOffDetail');
  } else if (media.state === 'waiting') {
    view = 'waiting';
    text = t('video.waiting');
    detail = room === 'scheduled' ? t('video.startsSoon') : t('video.waitingDetail');
  } else {
    view = 'connecting';
    text = media.state === 'connecting' && media.played ? t('video.reconnecting') : t('conn.connecting');
  }
  el.video.dataset.state = room ?? 'connecting';
  el.video.dataset.media = view;
  setText(el.videoState, text);
  const detailText = typeof detail === 'string' ? detail : detail.textContent ?? '';
  if (el.videoDetail.dataset.for !== `${view}|${media.retryAt}|${detailText}`) {
    el.videoDetail.dataset.for = `${view}|${media.retryAt}|${detailText}`;
    el.videoDetail.replaceChildren(detail);
  }
  // The recording is for scrubbing: the browser's own controls (seek bar, sound) replace the chips.
  el.player.controls = view === 'replay';
  const webrtc = view === 'playing' || view === 'camera-off' || view === 'audio-only';
  show(el.liveTag, room === 'live' && (webrtc || view === 'hls'));
  show(el.transport, webrtc || view === 'hls');
  const behind = media.hls?.behindSeconds;
  setText(el.transport, view === 'hls' ? (behind === undefined ? 'HLS' : t('video.hlsBehind', { n: behind })) : t('video.webrtc'));
  el.transport.dataset.transport = view === 'hls' ? 'hls' : 'webrtc';
  show(el.micOff, hasAudio && media.micOff);
  show(el.unmute, hasAudio || view === 'hls');
  setText(el.unmute, el.player.muted ? t('viewer.unmute') : t('viewer.mute'));
  el.unmute.setAttribute('aria-label', el.player.muted ? t('viewer.unmuteLabel') : t('viewer.muteLabel'));
}

/**
 * WebRTC full: the HLS rendition plays meanwhile (the viewer keeps retrying for a seat). Tracks
 * arriving over WebRTC, the stream or the show ending, or a removal stop it.
 */
function followCapacity(room: string | undefined): void {
  const hls = media.hls;
  if (hls === undefined) return;
  const webrtcPlaying = media.tracks.size > 0;
  const over = ui.removed || room === 'ended' || media.ended || media.state === 'idle' || media.state === 'waiting';
  if (!webrtcPlaying && !over && media.state === 'full') hls.start();
  else if (hls.active && (webrtcPlaying || over)) {
    hls.stop();
    attachStream();
  }
}

function renderViewers(client: LivecartClient): void {
  setText(el.viewers, formatNumber(client.state.viewers));
}

function renderLikes(client: LivecartClient): void {
  setText(el.likes, formatNumber(client.state.likes + ui.pendingLikes));
}

const busyTexts = { 1: 'busy.level1', 2: 'busy.level2', 3: 'busy.level3' } as const;

function renderBusy(client: LivecartClient): void {
  const level = client.state.degradeLevel;
  el.busy.dataset.level = String(level);
  show(el.busy, level > 0);
  if (level > 0) setText(el.busy, t(busyTexts[level as 1 | 2 | 3] ?? busyTexts[3]));
  const paused = level >= 2;
  show(el.chatPaused, paused);
  if (paused) setText(el.chatPaused, t('busy.commentsHidden'));
  el.comments.classList.toggle('paused', paused);
}

function renderCard(client: LivecartClient): void {
  const popup = client.state.popup;
  // After the show its products are listed with the replay, the live card no more.
  const replaying = media.replay !== undefined;
  show(el.card, popup !== null && !replaying);
  show(el.noCard, popup === null && !replaying);
  if (!popup || replaying) return;
  const product = currentProduct(client) ?? popup.product;
  el.card.dataset.sku = product.sku;
  const image = product.imageUrl && !brokenImages.has(product.imageUrl) ? product.imageUrl : placeholderImage(product.title, product.sku);
  if (el.cardImage.getAttribute('src') !== image) el.cardImage.src = image;
  el.cardImage.alt = product.title;
  setText(el.cardTitle, product.title);
  setText(el.cardPrice, formatPrice(product.priceCents, product.currency));
  // The regular price, struck through, when the card's price is below it.
  const listed = product.listPriceCents !== undefined && product.listPriceCents > product.priceCents;
  show(el.cardListPrice, listed);
  const listText = listed ? formatPrice(product.listPriceCents!, product.currency) : '';
  if (el.cardListPrice.dataset.price !== listText) {
    el.cardListPrice.dataset.price = listText;
    el.cardListPrice.replaceChildren(...(listed ? [h('span', { class: 'sr-only' }, t('sheet.was')), listText] : []));
  }
  setText(el.cardLimit, product.perCustomerLimit ? t('card.maxPer', { n: product.perCustomerLimit }) : '');

  const available = availableOf(client, product);
  const before = el.cardStock.dataset.available;
  el.cardStock.dataset.available = String(available);
  el.cardStock.classList.toggle('sold-out', available === 0);
  el.cardStock.classList.toggle('low', available > 0 && available <= 5);
  setText(el.cardStock, available === 0 ? t('card.soldOut') : t('card.left', { n: formatNumber(available) }));
  if (before !== undefined && before !== String(available)) flash(el.cardStock);

  // The card's countdown (endsAt), else the flash-sale window; a sold-out card has nothing to count down to.
  const timerKey = `${popup.endsAt ?? ''}|${product.saleStartsAt ?? ''}|${product.saleEndsAt ?? ''}|${available === 0}`;
  if (el.cardTimer.dataset.key !== timerKey) {
    el.cardTimer.dataset.key = timerKey;
    const now = clock.now();
    if (available === 0) el.cardTimer.replaceChildren();
    else if (popup.endsAt !== undefined) el.cardTimer.replaceChildren(countdown(popup.endsAt, clock, { prefix: t('card.offerEndsIn'), done: t('card.offerEnded') }));
    else if (product.saleStartsAt !== undefined && product.saleStartsAt > now) el.cardTimer.replaceChildren(countdown(product.saleStartsAt, clock, { prefix: t('card.saleStartsIn'), done: t('card.onSaleNow') }));
    else if (product.saleEndsAt !== undefined) el.cardTimer.replaceChildren(countdown(product.saleEndsAt, clock, { prefix: t('card.saleEndsIn'), done: t('card.saleEnded') }));
    else el.cardTimer.replaceChildren();
  }
  renderAction(client);
  renderButton(client);
}

/** The add-to-cart status line for the latest action on the pinned product. */
function renderAction(client: LivecartClient): void {
  const a = ui.action;
  el.addStatus.dataset.state = a?.state ?? '';
  if (!a) {
    say(el.addStatus, '');
    el.addTimer.replaceChildren();
    return;
  }
  const title = titleOf(client, a.sku);
  switch (a.state) {
    case 'adding':
      say(el.addStatus, t('add.adding'));
      el.addTimer.replaceChildren();
      break;
    case 'queued':
      say(el.addStatus, a.etaMs ? t('add.queuedEta', { n: a.position ?? '?', eta: seconds(a.etaMs) }) : t('add.queued', { n: a.position ?? '?' }));
      el.addTimer.replaceChildren();
      break;
    case 'retrying': {
      say(el.addStatus, t('add.retrying'));
      el.addTimer.replaceChildren(countdown(Date.now() + (a.retryInMs ?? 0), clock, { prefix: t('add.retryIn'), local: true, format: 'seconds', done: t('video.retrying') }));
      break;
    }
    case 'reserved': {
      const answer = a.answer;
      if (answer?.status !== 'reserved') break;
      say(el.addStatus, t(answer.granted < 1 ? 'add.reservedPartial' : 'add.reserved', { n: answer.quantity, title }), 'ok');
      el.addTimer.replaceChildren(countdown(answer.expiresAt, clock, { prefix: t('add.heldFor'), done: t('add.holdRanOut') }));
      break;
    }
    case 'sold_out':
      say(el.addStatus, t('add.soldOut'), 'error');
      el.addTimer.replaceChildren();
      break;
    case 'limit_reached': {
      const limit = a.answer?.status === 'limit_reached' ? a.answer.limit : undefined;
      say(el.addStatus, limit === undefined ? t('add.limitReachedFew') : t('add.limitReached', { n: limit }), 'error');
      el.addTimer.replaceChildren();
      break;
    }
    case 'not_on_sale': {
      const answer = a.answer?.status === 'not_on_sale' ? a.answer : undefined;
      if (answer?.startsAt !== undefined && answer.startsAt > clock.now()) {
        say(el.addStatus, t('add.notYet'), 'error');
        el.addTimer.replaceChildren(countdown(answer.startsAt, clock, { prefix: t('add.startsIn'), done: t('card.onSaleNow') }));
      } else if (answer?.endsAt !== undefined && answer.endsAt === client.state.popup?.endsAt) {
        say(el.addStatus, t('add.offerEnded'), 'error');
        el.addTimer.replaceChildren();
      } else {
        say(el.addStatus, t('add.saleEnded'), 'error');
        el.addTimer.replaceChildren();
      }
      break;
    }
    case 'failed':
      say(el.addStatus, t('add.failed', { why: errorText(a.error) }), 'error');
      el.addTimer.replaceChildren();
      break;
  }
}

/** The add button: what a tap would do now. Called on every change and on the countdown tick. */
function renderButton(client: LivecartClient): void {
  const popup = client.state.popup;
  if (!popup) return;
  const product = currentProduct(client) ?? popup.product;
  const a = ui.action;
  const now = clock.now();
  let label = t('viewer.add');
  let disabled = false;
  let state = 'ready';
  if (ui.removed) {
    state = 'removed';
    disabled = true;
    label = t('button.removed');
  } else if (a && (a.state === 'adding' || a.state === 'queued' || a.state === 'retrying')) {
    state = a.state;
    disabled = true;
    label = a.state === 'adding' ? t('button.adding') : a.state === 'queued' ? t('button.inLine', { n: a.position ?? '?' }) : t('video.retrying');
  } else if (client.state.room?.state === 'ended') {
    state = 'ended';
    disabled = true;
    label = t('button.showEnded');
  } else if (availableOf(client, product) === 0) {
    state = 'sold_out';
    disabled = true;
    label = t('card.soldOut');
  } else if (popup.endsAt !== undefined && popup.endsAt <= now) {
    // The pop-up's countdown ended the offer: the server answers adds `not_on_sale` until it is pinned again.
    state = 'not_on_sale';
    disabled = true;
    label = t('card.offerEnded');
  } else if (product.saleStartsAt !== undefined && product.saleStartsAt > now) {
    state = 'not_on_sale';
    disabled = true;
    label = t('button.notYet');
  } else if (product.saleEndsAt !== undefined && product.saleEndsAt <= now) {
    state = 'not_on_sale';
    disabled = true;
    label = t('card.saleEnded');
  } else if (a?.state === 'limit_reached') {
    state = 'limit_reached';
    disabled = true;
    label = t('button.limitReached');
  } else if (client.state.cart.lines.some((l) => l.sku === product.sku)) {
    label = t('button.addOneMore');
  }
  el.add.dataset.state = state;
  if (el.add.disabled !== disabled) el.add.disabled = disabled;
  setText(el.add, label);
}

function renderCommentForm(client: LivecartClient): void {
  const you = client.state.you;
  const muted = you !== undefined && client.state.muted.has(you.userId);
  const ended = client.state.room?.state === 'ended';
  const commerceOnly = client.state.degradeLevel >= 3 && you?.role === 'viewer';
  const waitMs = ui.commentBlockedUntil - Date.now();
  const blocked = muted || ended || commerceOnly || !client.connected;
  el.commentInput.disabled = blocked;
  el.commentSend.disabled = blocked || waitMs > 0;
  // Messages that describe a state are replaced when the state changes; a one-off refusal stays until the next send.
  const state = ui.removed
    ? t('error.kicked')
    : muted
      ? t('error.muted')
      : ended
        ? t('comments.closed')
        : commerceOnly
          ? t('comments.paused')
          : waitMs > 0
            ? t('comments.tooFast', { wait: seconds(waitMs) })
            : '';
  if (state) {
    el.commentStatus.dataset.source = 'state';
    say(el.commentStatus, state, ui.removed || muted || waitMs > 0 ? 'error' : 'info');
  } else if (el.commentStatus.dataset.source === 'state') {
    el.commentStatus.dataset.source = '';
    say(el.commentStatus, '');
  }
}

function rebuildComments(client: LivecartClient): void {
  el.comments.replaceChildren();
  for (const c of client.state.comments.slice(-MAX_COMMENTS_SHOWN)) appendComment(client, c, false);
  el.comments.scrollTop = el.comments.scrollHeight;
}

function appendComment(client: LivecartClient, c: HistoryComment, scroll = true): void {
  if (client.state.muted.has(c.userId)) return;
  const mine = c.userId === client.state.you?.userId;
  const li = h('li', { 'data-seq': c.seq, 'data-user': c.userId, class: mine ? 'mine' : undefined }, h('span', { class: 'who' }, c.name), ' ', h('span', { class: 'text' }, c.text));
  const stick = el.comments.scrollHeight - el.comments.scrollTop - el.comments.clientHeight < 40;
  el.comments.append(li);
  while (el.comments.childElementCount > MAX_COMMENTS_SHOWN) el.comments.firstElementChild?.remove();
  if (scroll && (stick || mine)) el.comments.scrollTop = el.comments.scrollHeight;
}

// ------------------------------------------------------------------ cart

/** The cart drawer, with what the viewer page adds: a removed user's empty cart, an ended show's frozen quantities, the coupon's lines. */
function mountCart(client: LivecartClient): CartDrawer {
  cart = new CartDrawer(client, {
    button: el.cartButton,
    count: el.cartCount,
    clock,
    // A removed user's lines went back to stock on the server.
    removed: () => ui.removed,
    // An ended show whose shop closed takes no new adds (nor raised or lowered quantities).
    frozen: () => client.state.room?.state === 'ended' && media.replay?.onSale !== true,
    onRender: (shown) => {
      // A "reserved" note on the card is stale once the line left the cart (ordered, removed, expired).
      const action = ui.action;
      if (action?.state === 'reserved' && !shown.lines.some((l) => l.sku === action.sku)) {
        ui.action = undefined;
        renderAction(client);
      }
      coupons?.renderCart(shown);
      renderButton(client);
    },
    onOrder: (order) => coupons?.renderOrder(order),
  });
  return cart;
}

// ------------------------------------------------------------------ helpers

function currentProduct(client: LivecartClient): Product | undefined {
  const sku = client.state.popup?.product.sku;
  return sku === undefined ? undefined : client.state.products.find((p) => p.sku === sku);
}

function availableOf(client: LivecartClient, product: Product): number {
  // A product with variants has the stock of its variants.
  if (product.variants !== undefined) return unitsLeft(product, client.state.stock) ?? product.stock;
  return client.state.stock[product.sku] ?? product.stock;
}

function titleOf(client: LivecartClient, sku: string): string {
  return skuTitle(client.state.products, sku);
}

/** The room's products as a sheet (a "Products" button by the cart), and the pinned card's title opens its product page. */
function mountProducts(client: LivecartClient, drawer: CartDrawer): void {
  const sheet = new ProductSheet(client, { title: t('sheet.showProducts'), openCart: () => {
    sheet.close();
    drawer.toggle(true);
  } });
  sheet.mountButton(el.cartButton.parentElement!, el.cartButton);
  el.cardTitle.addEventListener('click', () => {
    const sku = client.state.popup?.product.sku;
    if (sku !== undefined) sheet.openProduct(sku);
  });
  // A pinned product with variants is bought by one of them: its card opens its page to pick one.
  el.add.addEventListener('click', (event) => {
    const product = client.state.popup?.product;
    if (product?.variants === undefined) return;
    event.stopImmediatePropagation();
    sheet.openProduct(product.sku);
  }, { capture: true });
  // A picture that fails to load shows the product's tile (and is not tried again).
  el.cardImage.addEventListener('error', () => {
    const product = client.state.popup?.product;
    if (product === undefined) return;
    brokenImages.add(el.cardImage.getAttribute('src') ?? '');
    el.cardImage.src = placeholderImage(product.title, product.sku);
  });
}

function flash(target: HTMLElement): void {
  target.classList.remove('flash');
  void target.offsetWidth;
  target.classList.add('flash');
}

// Last: everything above is initialized.
void main().catch((error: unknown) => fatal(errorText(error)));
