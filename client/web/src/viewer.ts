/**
 * The viewer page: /viewer?room=demo[&token=…][&name=…]. Without a token it asks the server for a
 * dev token (dev mode only). Everything live comes from the SDK: room state, comments, likes, the
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
import {
  api,
  ApiError,
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
import { statusLine } from './orderStatus.ts';
import { followShowNotices } from './showNotices.ts';
import { mountShowPreview } from './showPreview.ts';

const TOKEN_KEY = 'livecart.viewerToken';
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
  cart: byId('cart'),
  cartTitle: byId('cart-title'),
  cartClose: byId<HTMLButtonElement>('cart-close'),
  cartEmpty: byId('cart-empty'),
  cartLines: byId<HTMLUListElement>('cart-lines'),
  cartTotal: byId('cart-total'),
  cartSummary: byId('cart-summary'),
  checkout: byId<HTMLButtonElement>('checkout'),
  cartStatus: byId('cart-status'),
  order: byId('order'),
  orderTitle: byId('order-title'),
  orderId: byId('order-id'),
  orderLines: byId<HTMLUListElement>('order-lines'),
  orderTotal: byId('order-total'),
  orderStatus: byId('order-status'),
};

const clock = new ServerClock();

/** Per-page state the SDK does not hold. */
const ui = {
  /** The latest add-to-cart action of the pinned sku, rendered on the card. */
  action: undefined as CartActionEvent | undefined,
  /** Like taps since the last `likes` total from the server (shown at once, before the server counts them). */
  pendingLikes: 0,
  /** Comments are refused until this local time (rate limit). */
  commentBlockedUntil: 0,
  /** Quantity changes in flight, by sku. */
  busySkus: new Set<string>(),
  checkingOut: false,
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


async function main(): Promise<void> {
  const given = params.get('token');
  const token = given ?? (await devToken());
  if (token === undefined) return;
  const client = connect({ url: wsUrl(), token, room: roomId });
  (window as unknown as { livecart: LivecartClient }).livecart = client;
  mountShowPreview(client, { token, roomId, clock });
  followShowNotices(client, { currentRoom: roomId, token: given ?? undefined });
  // The orders page reads this tab's token itself; one given in the URL goes along.
  if (given !== null) for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[href="/orders"]'))) link.href = `/orders?token=${encodeURIComponent(given)}`;
  wire(client, given === null);
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

/** A dev-mode viewer token, kept for this tab so a reload keeps the same user (and cart). */
async function devToken(): Promise<string | undefined> {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) return stored;
  const name = params.get('name') ?? `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
  try {
    const { token } = await api<{ token: string }>(`/api/dev/token?name=${encodeURIComponent(name)}`);
    sessionStorage.setItem(TOKEN_KEY, token);
    return token;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      fatal('This server does not hand out guest tokens (it runs with a token secret).', `Open this page with a token: /viewer?room=${roomId}&token=…`);
      return undefined;
    }
    throw error;
  }
}

function wire(client: LivecartClient, devTokenUsed: boolean): void {
  trackConnection(client, el.conn, (_text, error) => {
    if (isLivecartError(error) && error.name === 'UNAUTHORIZED' && devTokenUsed && !sessionStorage.getItem('livecart.retried')) {
      // The server restarted with a new dev secret: get a new token once.
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.setItem('livecart.retried', '1');
      location.reload();
      return;
    }
    if (isLivecartError(error) && error.name === 'ROOM_NOT_FOUND') media.blocked = `There is no room "${roomId}".`;
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
  client.on('cartChanged', () => renderCart(client));
  client.on('orderUpdated', ({ order }) => {
    if (client.state.cart.lastOrder?.id === order.id) setText(el.orderStatus, statusLine(order));
  });
  client.on('reservationExpired', (e) => {
    say(el.cartStatus, `Your hold on ${titleOf(client, e.sku)} ran out; it went back on sale.`, 'error');
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

  el.cartButton.addEventListener('click', () => toggleCart(!el.cart.hidden ? false : true));
  el.cartClose.addEventListener('click', () => toggleCart(false));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !el.cart.hidden) toggleCart(false);
  });
  el.checkout.addEventListener('click', () => void checkout(client));
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
  renderCart(client);
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
  setText(el.roomState, room.state === 'live' ? 'Live' : room.state === 'ended' ? 'Ended' : 'Starting soon');
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
      renderCart(client);
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
  setText(el.removed, 'You were removed from this room by a moderator. The video is off, and you cannot buy or comment here; what you held in your cart went back on sale.');
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
  return h('span', {}, prefix, countdown(media.retryAt, clock, { local: true, format: 'seconds', prefix: 'Retrying in ', suffix: '.', done: 'Retrying…' }));
}

/** A server reason as a sentence part ("video unavailable: video is switched off" → "Video is switched off."). */
function reasonText(reason: string | undefined): string {
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
    text = 'You were removed from this room';
  } else if (media.blocked !== undefined) {
    view = 'unavailable';
    text = media.blocked;
  } else if (media.replay?.playing) {
    view = 'replay';
    text = 'Replay of the show';
  } else if (room === 'ended' && media.tracks.size === 0) {
    view = 'ended';
    text = 'The show has ended';
    if (media.replay?.loading || media.replay?.active) detail = 'Loading its replay…';
  } else if (media.hls?.playing && media.tracks.size === 0) {
    view = 'hls';
    text = 'Playing (HLS)';
  } else if (media.state === 'unavailable') {
    view = 'unavailable';
    text = 'Video unavailable';
    detail = retryLine(reasonText(media.reason));
  } else if (media.state === 'full') {
    view = 'full';
    text = 'Video full';
    detail = retryLine(`Too many people are watching on this server. You stay in the room: comments and shopping work. ${media.hls?.active ? 'Trying the HLS stream… ' : ''}`);
  } else if (media.state === 'retrying') {
    view = 'retrying';
    text = 'Video interrupted';
    detail = retryLine(reasonText(media.reason));
  } else if (media.ended && (media.tracks.size === 0 || media.state === 'waiting')) {
    view = 'ended';
    text = 'The stream has ended';
    detail = reasonText(media.endReason);
  } else if (media.state === 'live' && media.tracks.size > 0) {
    view = !hasVideo ? 'audio-only' : media.cameraOff ? 'camera-off' : 'playing';
    text = view === 'audio-only' ? 'Audio only' : view === 'camera-off' ? 'The streamer turned the camera off' : 'Playing';
    if (view === 'camera-off') detail = 'The video comes back when they turn it on.';
  } else if (media.state === 'waiting') {
    view = 'waiting';
    text = 'Waiting for the streamer';
    detail = room === 'scheduled' ? 'The show starts soon.' : 'The video starts as soon as the streamer turns on the camera.';
  } else {
    view = 'connecting';
    text = media.state === 'connecting' && media.played ? 'Reconnecting the video…' : 'Connecting…';
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
  setText(el.transport, view === 'hls' ? `HLS${behind === undefined ? '' : `, ~${behind} s behind live`}` : 'Live (WebRTC)');
  el.transport.dataset.transport = view === 'hls' ? 'hls' : 'webrtc';
  show(el.micOff, hasAudio && media.micOff);
  show(el.unmute, hasAudio || view === 'hls');
  setText(el.unmute, el.player.muted ? 'Unmute' : 'Mute');
  el.unmute.setAttribute('aria-label', el.player.muted ? 'Unmute the stream' : 'Mute the stream');
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

const busyTexts: Record<number, string> = {
  1: 'Busy mode: the room is very busy, so you see a sample of the comments. Shopping works as usual.',
  2: 'Busy mode: comments are paused for now. Shopping works as usual.',
  3: 'Busy mode: commerce only. Comments are paused; the product card and your cart still work.',
};

function renderBusy(client: LivecartClient): void {
  const level = client.state.degradeLevel;
  el.busy.dataset.level = String(level);
  show(el.busy, level > 0);
  if (level > 0) setText(el.busy, busyTexts[level] ?? busyTexts[3]!);
  const paused = level >= 2;
  show(el.chatPaused, paused);
  if (paused) setText(el.chatPaused, 'New comments are hidden while the room is busy.');
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
  const image = product.imageUrl || placeholderImage(product.title, product.sku);
  if (el.cardImage.getAttribute('src') !== image) el.cardImage.src = image;
  el.cardImage.alt = product.title;
  setText(el.cardTitle, product.title);
  setText(el.cardPrice, formatPrice(product.priceCents, product.currency));
  setText(el.cardLimit, product.perCustomerLimit ? `· max ${product.perCustomerLimit} per customer` : '');

  const available = availableOf(client, product);
  const before = el.cardStock.dataset.available;
  el.cardStock.dataset.available = String(available);
  el.cardStock.classList.toggle('sold-out', available === 0);
  el.cardStock.classList.toggle('low', available > 0 && available <= 5);
  setText(el.cardStock, available === 0 ? 'Sold out' : `${formatNumber(available)} left`);
  if (before !== undefined && before !== String(available)) flash(el.cardStock);

  // The card's countdown (endsAt), else the flash-sale window; a sold-out card has nothing to count down to.
  const timerKey = `${popup.endsAt ?? ''}|${product.saleStartsAt ?? ''}|${product.saleEndsAt ?? ''}|${available === 0}`;
  if (el.cardTimer.dataset.key !== timerKey) {
    el.cardTimer.dataset.key = timerKey;
    const now = clock.now();
    if (available === 0) el.cardTimer.replaceChildren();
    else if (popup.endsAt !== undefined) el.cardTimer.replaceChildren(countdown(popup.endsAt, clock, { prefix: 'Offer ends in ', done: 'Offer ended' }));
    else if (product.saleStartsAt !== undefined && product.saleStartsAt > now) el.cardTimer.replaceChildren(countdown(product.saleStartsAt, clock, { prefix: 'Sale starts in ', done: 'On sale now' }));
    else if (product.saleEndsAt !== undefined) el.cardTimer.replaceChildren(countdown(product.saleEndsAt, clock, { prefix: 'Sale ends in ', done: 'Sale ended' }));
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
      say(el.addStatus, 'Adding to your cart…');
      el.addTimer.replaceChildren();
      break;
    case 'queued':
      say(el.addStatus, `You are in line: #${a.position ?? '?'}${a.etaMs ? `, about ${seconds(a.etaMs)}` : ''}.`);
      el.addTimer.replaceChildren();
      break;
    case 'retrying': {
      say(el.addStatus, 'The room is busy; trying again shortly.');
      el.addTimer.replaceChildren(countdown(Date.now() + (a.retryInMs ?? 0), clock, { prefix: 'Retry in ', local: true, format: 'seconds', done: 'Retrying…' }));
      break;
    }
    case 'reserved': {
      const answer = a.answer;
      if (answer?.status !== 'reserved') break;
      const partial = answer.granted < 1 ? ' (no more units were free)' : '';
      say(el.addStatus, `Reserved: ${answer.quantity} × ${title} in your cart${partial}.`, 'ok');
      el.addTimer.replaceChildren(countdown(answer.expiresAt, clock, { prefix: 'Held for you for ', done: 'Your hold ran out' }));
      break;
    }
    case 'sold_out':
      say(el.addStatus, 'Sold out: every unit is taken.', 'error');
      el.addTimer.replaceChildren();
      break;
    case 'limit_reached': {
      const limit = a.answer?.status === 'limit_reached' ? a.answer.limit : undefined;
      say(el.addStatus, `Limit reached: at most ${limit ?? 'a few'} per customer.`, 'error');
      el.addTimer.replaceChildren();
      break;
    }
    case 'not_on_sale': {
      const answer = a.answer?.status === 'not_on_sale' ? a.answer : undefined;
      if (answer?.startsAt !== undefined && answer.startsAt > clock.now()) {
        say(el.addStatus, 'Not on sale yet.', 'error');
        el.addTimer.replaceChildren(countdown(answer.startsAt, clock, { prefix: 'Starts in ', done: 'On sale now' }));
      } else if (answer?.endsAt !== undefined && answer.endsAt === client.state.popup?.endsAt) {
        say(el.addStatus, 'The offer has ended.', 'error');
        el.addTimer.replaceChildren();
      } else {
        say(el.addStatus, 'The sale has ended.', 'error');
        el.addTimer.replaceChildren();
      }
      break;
    }
    case 'failed':
      say(el.addStatus, `Not added: ${errorText(a.error)}`, 'error');
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
  let label = 'Add to cart';
  let disabled = false;
  let state = 'ready';
  if (ui.removed) {
    state = 'removed';
    disabled = true;
    label = 'Removed from the room';
  } else if (a && (a.state === 'adding' || a.state === 'queued' || a.state === 'retrying')) {
    state = a.state;
    disabled = true;
    label = a.state === 'adding' ? 'Adding…' : a.state === 'queued' ? `In line #${a.position ?? '?'}` : 'Retrying…';
  } else if (client.state.room?.state === 'ended') {
    state = 'ended';
    disabled = true;
    label = 'Show ended';
  } else if (availableOf(client, product) === 0) {
    state = 'sold_out';
    disabled = true;
    label = 'Sold out';
  } else if (popup.endsAt !== undefined && popup.endsAt <= now) {
    // The pop-up's countdown ended the offer: the server answers adds `not_on_sale` until it is pinned again.
    state = 'not_on_sale';
    disabled = true;
    label = 'Offer ended';
  } else if (product.saleStartsAt !== undefined && product.saleStartsAt > now) {
    state = 'not_on_sale';
    disabled = true;
    label = 'Not on sale yet';
  } else if (product.saleEndsAt !== undefined && product.saleEndsAt <= now) {
    state = 'not_on_sale';
    disabled = true;
    label = 'Sale ended';
  } else if (a?.state === 'limit_reached') {
    state = 'limit_reached';
    disabled = true;
    label = 'Limit reached';
  } else if (client.state.cart.lines.some((l) => l.sku === product.sku)) {
    label = 'Add one more';
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
    ? 'You were removed from this room.'
    : muted
      ? 'You are muted in this room.'
      : ended
        ? 'The show has ended; comments are closed.'
        : commerceOnly
          ? 'Comments are paused while the room is busy.'
          : waitMs > 0
            ? `You are commenting too fast: wait ${seconds(waitMs)}.`
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

function toggleCart(open: boolean): void {
  show(el.cart, open);
  el.cartButton.setAttribute('aria-expanded', String(open));
  document.body.classList.toggle('drawer-open', open);
  if (open) el.cartTitle.focus();
  else el.cartButton.focus();
}

function renderCart(client: LivecartClient): void {
  // A removed user's lines went back to stock on the server: show none, and offer nothing to press.
  const cart = ui.removed ? { ...client.state.cart, lines: [], totalCents: 0 } : client.state.cart;
  // An ended show whose shop closed takes no new adds (nor raised or lowered quantities); removing a line and checking out still work.
  const ended = client.state.room?.state === 'ended' && media.replay?.onSale !== true;
  // A "reserved" note on the card is stale once the line left the cart (ordered, removed, expired).
  const shown = ui.action;
  if (shown?.state === 'reserved' && !cart.lines.some((l) => l.sku === shown.sku)) {
    ui.action = undefined;
    renderAction(client);
  }
  const units = cart.lines.reduce((sum, l) => sum + l.quantity, 0);
  setText(el.cartCount, String(units));
  el.cartButton.setAttribute('aria-label', `Cart, ${units} ${units === 1 ? 'item' : 'items'}`);
  show(el.cartEmpty, cart.lines.length === 0);
  setText(el.cartEmpty, ui.removed ? 'You were removed from this room: what you held went back on sale.' : 'Your cart is empty.');
  show(el.cartSummary, cart.lines.length > 0 || ui.checkingOut);
  setText(el.cartTotal, formatPrice(cart.totalCents, cart.currency ?? client.state.products[0]?.currency ?? 'USD'));
  el.checkout.disabled = ui.removed || cart.lines.length === 0 || ui.checkingOut;
  setText(el.checkout, ui.checkingOut ? 'Checking out…' : 'Check out');
  el.cartLines.replaceChildren(
    ...cart.lines.map((line) => {
      const product = client.state.products.find((p) => p.sku === line.sku);
      const title = product?.title ?? line.sku;
      const busy = ui.busySkus.has(line.sku);
      return h(
        'li',
        { class: 'cart-line', 'data-sku': line.sku },
        h('img', { src: product?.imageUrl || placeholderImage(title, line.sku), alt: '', width: 48, height: 48 }),
        h(
          'div',
          { class: 'line-body' },
          h('p', { class: 'line-title' }, title),
          h('p', { class: 'muted small' }, line.priceCents === undefined ? '' : `${formatPrice(line.priceCents, product?.currency ?? cart.currency ?? 'USD')} each · `, countdown(line.expiresAt, clock, { prefix: 'held for ', done: 'hold ran out' })),
          h(
            'div',
            { class: 'qty' },
            h('button', { type: 'button', class: 'ghost small-button', 'aria-label': `One fewer ${title}`, disabled: busy || ended, title: ended ? 'The show has ended: remove the line or check out' : undefined, onclick: () => void changeQuantity(client, line.sku, line.quantity - 1) }, '−'),
            h('output', { 'aria-label': `Quantity of ${title}`, 'data-testid': 'quantity' }, String(line.quantity)),
            h('button', { type: 'button', class: 'ghost small-button', 'aria-label': `One more ${title}`, disabled: busy || ended, title: ended ? 'The show has ended: nothing new can be added' : undefined, onclick: () => void changeQuantity(client, line.sku, line.quantity + 1) }, '+'),
            h('button', { type: 'button', class: 'link', disabled: busy, onclick: () => void changeQuantity(client, line.sku, 0) }, 'Remove'),
          ),
        ),
      );
    }),
  );
  renderButton(client);
}

async function changeQuantity(client: LivecartClient, sku: string, quantity: number): Promise<void> {
  ui.busySkus.add(sku);
  renderCart(client);
  const title = titleOf(client, sku);
  try {
    const answer = await client.setQuantity(sku, quantity);
    switch (answer.status) {
      case 'reserved':
        say(el.cartStatus, `${title}: ${answer.quantity} held for you.`, 'ok');
        break;
      case 'released':
        say(el.cartStatus, answer.quantity === 0 ? `${title} removed.` : `${title}: ${answer.quantity} held for you.`, 'ok');
        break;
      case 'sold_out':
        say(el.cartStatus, `No more ${title} left.`, 'error');
        break;
      case 'limit_reached':
        say(el.cartStatus, `At most ${answer.limit} ${title} per customer.`, 'error');
        break;
      case 'not_on_sale':
        say(el.cartStatus, `${title} is not on sale right now.`, 'error');
        break;
      case 'cart_not_found':
        say(el.cartStatus, `${title} is no longer in your cart.`, 'error');
        break;
    }
  } catch (error) {
    say(el.cartStatus, errorText(error), 'error');
  } finally {
    ui.busySkus.delete(sku);
    renderCart(client);
  }
}

async function checkout(client: LivecartClient): Promise<void> {
  ui.checkingOut = true;
  show(el.order, false);
  say(el.cartStatus, 'Placing your order…');
  renderCart(client);
  try {
    const answer = await client.checkout();
    if (answer.status === 'ordered') {
      const order = answer.order;
      setText(el.orderId, `Order ${order.id}`);
      el.orderLines.replaceChildren(...order.lines.map((l) => h('li', {}, `${l.quantity} × ${titleOf(client, l.sku)} · ${formatPrice(l.priceCents * l.quantity, order.currency)}`)));
      setText(el.orderTotal, formatPrice(order.totalCents, order.currency));
      // Paid only once the payment step says so (orderUpdated): a demo payment says it is one.
      setText(el.orderStatus, statusLine(client.state.cart.lastOrder ?? order));
      show(el.order, true);
      say(el.cartStatus, `Thank you! Order ${order.id} is placed.`, 'ok');
      el.orderTitle.focus();
    } else if (answer.status === 'expired') {
      say(el.cartStatus, `Nothing was ordered: your hold on ${answer.skus.map((s) => titleOf(client, s)).join(', ')} ran out.`, 'error');
    } else {
      say(el.cartStatus, 'Your cart is empty.', 'error');
    }
  } catch (error) {
    say(el.cartStatus, `Checkout failed: ${errorText(error)}`, 'error');
  } finally {
    ui.checkingOut = false;
    renderCart(client);
  }
}

// ------------------------------------------------------------------ helpers

function currentProduct(client: LivecartClient): Product | undefined {
  const sku = client.state.popup?.product.sku;
  return sku === undefined ? undefined : client.state.products.find((p) => p.sku === sku);
}

function availableOf(client: LivecartClient, product: Product): number {
  return client.state.stock[product.sku] ?? product.stock;
}

function titleOf(client: LivecartClient, sku: string): string {
  return client.state.products.find((p) => p.sku === sku)?.title ?? sku;
}

function flash(target: HTMLElement): void {
  target.classList.remove('flash');
  void target.offsetWidth;
  target.classList.add('flash');
}

// Last: everything above is initialized.
void main().catch((error: unknown) => fatal(errorText(error)));
