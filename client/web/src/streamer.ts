/**
 * The streamer page: /streamer?token=…[&room=…]. Creates a room (HTTP), then joins it with the SDK
 * as its streamer: go live / end, add products (with stock, flash-sale window, per-customer limit,
 * and the product page's list price, description, images and variants: productForm.ts),
 * set stock, pin and unpin the card, moderate comments (delete, mute), and live numbers (viewers and
 * likes from the SDK; reserved, sold and orders polled from the room's inventory and orders).
 * Video: "Start video" takes the camera and microphone (getUserMedia) and publishes them with
 * `StreamPublisher` (client/src/media.ts, simulcast video); mute camera / microphone; end the stream.
 *
 * Test hooks (read by tests/e2e, nothing else): `window.livecart` is the LivecartClient and
 * `window.livecartPublisher` the StreamPublisher.
 */
import { mountCouponPanel } from './streamerCoupons.ts';
import { mountAuctionPanel } from './streamerAuctions.ts';
import { mountGiveawayPanel } from './streamerGiveaways.ts';
import { connect, type HistoryComment, type LivecartClient, type Order } from '../../src/index.ts';
import { StreamPublisher, type MediaStateEvent } from '../../src/media.ts';
import { api, ApiError, byId, countdown, errorText, fatal, formatNumber, formatPrice, h, params, say, ServerClock, setText, show, startCountdowns, trackConnection, wsUrl } from './common.ts';
import { wireEncoderSettings } from './encoderSettings.ts';
import { ProductForm } from './productForm.ts';
import { ModerationPanel, pinCommentButton } from './moderationPanel.ts';
import { formatDateTime, formatTime, startI18n, t, tn } from './i18n.ts';
import { isLate, roomStateText } from './roomStateText.ts';
import { unitsLeft } from './productSheet.ts';
import { startStreamerLayout } from './streamerLayout.ts';
import { mountShowScheduler } from './showScheduler.ts';
import { readToken } from './identity.ts';

const POLL_MS = 2000;
const MAX_COMMENTS_SHOWN = 100;

interface StockRow {
  available: number;
  reserved: number;
  sold: number;
}

const el = {
  title: byId('room-title'),
  roomState: byId('room-state'),
  conn: byId('conn'),
  viewerLink: byId<HTMLAnchorElement>('viewer-link'),
  status: byId('status'),
  create: byId('create'),
  createForm: byId<HTMLFormElement>('create-form'),
  createName: byId<HTMLInputElement>('create-name'),
  createId: byId<HTMLInputElement>('create-id'),
  controls: byId('controls'),
  goLive: byId<HTMLButtonElement>('go-live'),
  endShow: byId<HTMLButtonElement>('end-show'),
  nViewers: byId('n-viewers'),
  nLikes: byId('n-likes'),
  nReserved: byId('n-reserved'),
  nSold: byId('n-sold'),
  nOrders: byId('n-orders'),
  nRevenue: byId('n-revenue'),
  camera: byId('camera'),
  previewBox: byId('preview-box'),
  preview: byId<HTMLVideoElement>('preview'),
  previewNote: byId('preview-note'),
  mediaState: byId('media-state'),
  mediaDetail: byId('media-detail'),
  startVideo: byId<HTMLButtonElement>('start-video'),
  muteCamera: byId<HTMLButtonElement>('mute-camera'),
  muteMic: byId<HTMLButtonElement>('mute-mic'),
  endStream: byId<HTMLButtonElement>('end-stream'),
  products: byId('products'),
  pinCountdown: byId<HTMLSelectElement>('pin-countdown'),
  pinnedNow: byId('pinned-now'),
  pinnedTimer: byId('pinned-timer'),
  unpin: byId<HTMLButtonElement>('unpin'),
  productRows: byId<HTMLTableSectionElement>('product-rows'),
  noProducts: byId('no-products'),
  productForm: byId<HTMLFormElement>('product-form'),
  productStatus: byId('product-form-status'),
  chat: byId('chat'),
  comments: byId<HTMLOListElement>('comments'),
  commentForm: byId<HTMLFormElement>('comment-form'),
  commentInput: byId<HTMLInputElement>('comment-input'),
  muted: byId<HTMLUListElement>('muted'),
  noMuted: byId('no-muted'),
  bans: byId<HTMLUListElement>('bans'),
  noBans: byId('no-bans'),
};

const clock = new ServerClock();
const token = params.get('token');
let inventory: Record<string, StockRow> = {};
let orders: readonly Order[] = [];
/** The room's bans in force, as last polled (names as the users had them when removed). */
let bans: readonly Ban[] = [];

interface Ban {
  userId: string;
  name: string;
  until: number;
}

/** The streamer's video: the camera stream, what is muted, and the publisher's last state. */
const video = {
  camera: undefined as MediaStream | undefined,
  /** getUserMedia is pending (the browser may be asking for permission). */
  asking: false,
  cameraMuted: false,
  micMuted: false,
  /** The streamer ended the stream (until they start again). */
  ended: false,
  /** A camera problem to show (permission refused, no camera…); cleared by the next start. */
  problem: undefined as string | undefined,
  /** Why the server ended the stream (an operator stopped it, the show ended), until the next start. */
  stoppedBy: undefined as string | undefined,
  last: { state: 'idle' } as MediaStateEvent,
  retryAt: 0,
  /** The room's client and the publisher on it (the room's state renders the panel too: an ended show stays off air). */
  client: undefined as LivecartClient | undefined,
  publisher: undefined as StreamPublisher | undefined,
};


function showCreate(token: string, id = ''): void {
  show(el.create, true);
  el.createId.value = id;
  el.createName.focus();
  el.createForm.onsubmit = (event) => {
    event.preventDefault();
    const title = el.createName.value.trim();
    const id = el.createId.value.trim();
    say(el.status, t('studio.creating'));
    api<{ room: { id: string } }>('/api/rooms', { method: 'POST', token, body: id ? { title, id, shop: true } : { title, shop: true } }).then(
      ({ room }) => {
        const url = new URL(location.href);
        url.searchParams.set('room', room.id);
        history.replaceState(null, '', url);
        show(el.create, false);
        say(el.status, t('studio.created', { room: room.id }), 'ok');
        void openRoom(token, room.id);
      },
      (error: unknown) => say(el.status, t('studio.createFailed', { why: errorText(error) }), 'error'),
    );
  };
}

async function openRoom(token: string, roomId: string): Promise<void> {
  const client = connect({ url: wsUrl(), token, room: roomId });
  (window as unknown as { livecart: LivecartClient }).livecart = client;
  trackConnection(client, el.conn, (_text, error) => {
    if (error && 'name' in (error as object) && (error as { name: string }).name === 'ROOM_NOT_FOUND') {
      for (const section of [el.controls, el.camera, el.products, el.chat]) show(section, false);
      say(el.status, t('studio.noRoom', { room: roomId }), 'error');
      showCreate(token, roomId);
    }
  });
  wire(client, token, roomId);
  el.chat.append(new ModerationPanel(client, { owner: true, token, roomId, status: el.status }).element);
  wireVideo(client);
  wireEncoderSettings(token, roomId);
  try {
    await client.ready;
  } catch (error) {
    if (!el.create.hidden) return;
    say(el.status, t('studio.joinFailed', { room: roomId, why: errorText(error) }), 'error');
    return;
  }
  for (const section of [el.controls, el.camera, el.products, el.chat]) show(section, true);
  mountCouponPanel(client, el.products);
  mountAuctionPanel(client, { anchor: el.products, clock });
  mountGiveawayPanel(client, byId('coupons'), clock);
  el.viewerLink.href = `/viewer?room=${encodeURIComponent(roomId)}`;
  show(el.viewerLink, true);
  const room = client.state.room;
  // A show linked to the streamer's shop sells from it: its window is one click away.
  if (room?.shopId !== undefined) el.viewerLink.after(' ', h('a', { class: 'toplink', href: `/shop?streamer=${encodeURIComponent(room.streamerId)}`, target: '_blank', rel: 'noopener', 'data-testid': 'shop-link' }, t('studio.openShop')));
  await clock.calibrate(client);
  startCountdowns(clock);
  refresh = () => void poll(client, token, roomId);
  void poll(client, token, roomId);
  setInterval(() => void poll(client, token, roomId), POLL_MS);
}

function wire(client: LivecartClient, token: string, roomId: string): void {
  const all = () => renderAll(client, token, roomId);
  client.on('welcome', (welcome) => {
    if (!welcome.resumed) rebuildComments(client);
    all();
  });
  for (const event of ['roomState', 'popup', 'product', 'stock', 'soldOut'] as const) client.on(event, all);
  client.on('viewers', () => renderNumbers(client));
  client.on('likes', () => renderNumbers(client));
  client.on('comment', (c) => appendComment(client, c));
  client.on('commentDeleted', (e) => el.comments.querySelector(`[data-seq="${e.commentSeq}"]`)?.remove());
  client.on('userMuted', () => {
    renderMuted(client);
    for (const li of Array.from(el.comments.querySelectorAll<HTMLElement>('li[data-user]'))) updateMuteButton(client, li);
  });
  client.on('error', (error) => console.warn('livecart:', error));

  el.goLive.addEventListener('click', () => void showState(token, roomId, 'start'));
  let endArmed: ReturnType<typeof setTimeout> | undefined;
  el.endShow.addEventListener('click', () => {
    if (endArmed === undefined) {
      setText(el.endShow, t('studio.reallyEnd'));
      endArmed = setTimeout(() => {
        endArmed = undefined;
        setText(el.endShow, t('studio.endShow'));
      }, 4000);
      return;
    }
    clearTimeout(endArmed);
    endArmed = undefined;
    setText(el.endShow, t('studio.endShow'));
    void showState(token, roomId, 'end');
  });

  el.unpin.addEventListener('click', () => {
    client.unpin().then(() => say(el.status, t('studio.unpinned'), 'ok'), (error: unknown) => say(el.status, errorText(error), 'error'));
  });

  const form = new ProductForm();
  // A field marked wrong is unmarked as soon as it is edited.
  el.productForm.addEventListener('input', (event) => (event.target as HTMLElement).removeAttribute('aria-invalid'));
  el.productForm.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const field of Array.from(el.productForm.querySelectorAll('[aria-invalid]'))) field.removeAttribute('aria-invalid');
    const read = form.read();
    if ('problem' in read) {
      say(el.productStatus, read.problem, 'error');
      read.field.setAttribute('aria-invalid', 'true');
      read.field.focus();
      return;
    }
    say(el.productStatus, t('studio.adding'));
    client.addProduct(read.product).then(
      ({ product: added }) => {
        const text = t('studio.added', { title: added.title, sku: added.sku, n: added.stock });
        say(el.productStatus, text, 'ok');
        say(el.status, text, 'ok');
        form.reset();
        byId<HTMLInputElement>('p-sku').focus();
        void poll(client, token, roomId);
      },
      (error: unknown) => say(el.productStatus, t('studio.addFailed', { why: errorText(error) }), 'error'),
    );
  });

  el.commentForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.commentInput.value.trim();
    if (!text) return;
    client.comment(text).then(
      () => {
        el.commentInput.value = '';
      },
      (error: unknown) => say(el.status, t('studio.commentFailed', { why: errorText(error) }), 'error'),
    );
  });
}

async function showState(token: string, roomId: string, action: 'start' | 'end'): Promise<void> {
  try {
    await api(`/api/rooms/${encodeURIComponent(roomId)}/${action}`, { method: 'POST', token });
    say(el.status, action === 'start' ? t('studio.youAreLive') : t('error.roomEnded'), 'ok');
  } catch (error) {
    say(el.status, errorText(error), 'error');
  }
}

// ------------------------------------------------------------------ video

function wireVideo(client: LivecartClient): void {
  const publisher = new StreamPublisher(client);
  video.client = client;
  video.publisher = publisher;
  (window as unknown as { livecartPublisher: StreamPublisher }).livecartPublisher = publisher;
  publisher.on('state', (e) => {
    video.last = e;
    video.retryAt = e.retryAfterMs === undefined ? 0 : Date.now() + e.retryAfterMs;
    // Idle with a reason: the server ended the stream (or refused it); the camera is let go.
    if (e.state === 'idle' && e.reason !== undefined) {
      video.stoppedBy = e.reason;
      releaseCamera();
    }
    renderVideo(publisher);
  });
  // The show ended: it cannot go back on air, so the camera is let go as well.
  client.on('roomState', (e) => {
    if (e.state === 'ended') releaseCamera();
  });
  el.startVideo.addEventListener('click', () => void startVideo(publisher));
  el.muteCamera.addEventListener('click', () => void toggleMute(publisher, 'video'));
  el.muteMic.addEventListener('click', () => void toggleMute(publisher, 'audio'));
  el.endStream.addEventListener('click', () => void endStream(publisher));
  renderVideo(publisher);
}

async function startVideo(publisher: StreamPublisher): Promise<void> {
  const keyboard = document.activeElement === el.startVideo; // it gets disabled: hand focus on
  video.asking = true;
  video.ended = false;
  video.problem = undefined;
  video.stoppedBy = undefined;
  renderVideo(publisher);
  let camera: MediaStream;
  try {
    camera = await takeCamera();
  } catch (error) {
    video.problem = cameraErrorText(error);
    return;
  } finally {
    video.asking = false;
    renderVideo(publisher);
    if (keyboard && video.problem !== undefined) el.startVideo.focus();
  }
  video.camera = camera;
  for (const track of camera.getVideoTracks()) track.enabled = !video.cameraMuted;
  for (const track of camera.getAudioTracks()) track.enabled = !video.micMuted;
  el.preview.srcObject = camera;
  el.preview.play().catch(() => undefined);
  renderVideo(publisher);
  if (keyboard) (el.muteCamera.disabled ? el.endStream : el.muteCamera).focus();
  try {
    await publisher.publish({ video: camera.getVideoTracks()[0], audio: camera.getAudioTracks()[0], simulcast: true });
  } catch {
    // The `state` events already show why (video unavailable, retrying…); the publisher tries again by itself.
  }
  renderVideo(publisher);
}

/** Camera and microphone; the camera alone when there is no microphone. */
async function takeCamera(): Promise<MediaStream> {
  if (typeof navigator.mediaDevices?.getUserMedia !== 'function') {
    throw new Error(t('camera.noApi'));
  }
  const camera: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  try {
    return await navigator.mediaDevices.getUserMedia({ video: camera, audio: true });
  } catch (error) {
    if ((error as DOMException).name !== 'NotFoundError') throw error;
    return navigator.mediaDevices.getUserMedia({ video: camera });
  }
}

function cameraErrorText(error: unknown): string {
  switch ((error as DOMException | undefined)?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return t('camera.refused');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return t('camera.none');
    case 'NotReadableError':
    case 'AbortError':
      return t('camera.busy');
    default:
      return t('camera.failed', { why: errorText(error) });
  }
}

async function toggleMute(publisher: StreamPublisher, kind: 'video' | 'audio'): Promise<void> {
  const muted = kind === 'video' ? (video.cameraMuted = !video.cameraMuted) : (video.micMuted = !video.micMuted);
  for (const track of (kind === 'video' ? video.camera?.getVideoTracks() : video.camera?.getAudioTracks()) ?? []) track.enabled = !muted;
  renderVideo(publisher);
  try {
    await publisher.setMuted(kind, muted);
  } catch (error) {
    say(el.status, t(kind === 'video' ? (muted ? 'camera.muteFailed' : 'camera.unmuteFailed') : muted ? 'mic.muteFailed' : 'mic.unmuteFailed', { why: errorText(error) }), 'error');
  }
}

/** Stops the camera and the preview (the stream itself is already gone or going). */
function releaseCamera(): void {
  for (const track of video.camera?.getTracks() ?? []) track.stop();
  video.camera = undefined;
  el.preview.srcObject = null;
}

async function endStream(publisher: StreamPublisher): Promise<void> {
  const keyboard = document.activeElement === el.endStream;
  el.endStream.disabled = true;
  try {
    await publisher.stop();
  } catch (error) {
    say(el.status, t('studio.endStreamFailed', { why: errorText(error) }), 'error');
  }
  for (const track of video.camera?.getTracks() ?? []) track.stop();
  video.camera = undefined;
  el.preview.srcObject = null;
  video.ended = true;
  // The next start begins unmuted.
  if (video.cameraMuted) await publisher.setMuted('video', false).catch(() => undefined);
  if (video.micMuted) await publisher.setMuted('audio', false).catch(() => undefined);
  video.cameraMuted = false;
  video.micMuted = false;
  renderVideo(publisher);
  if (keyboard) el.startVideo.focus();
}

function retryLine(prefix: string): HTMLElement | string {
  if (video.retryAt <= Date.now()) return prefix;
  return h('span', {}, prefix, countdown(video.retryAt, clock, { local: true, format: 'seconds', prefix: t('studio.tryingAgainIn'), suffix: '.', done: t('studio.tryingAgain') }));
}

/** "video unavailable: video is switched off (--media false)" → "video is switched off (--media false)". */
function reasonOf(e: MediaStateEvent): string {
  return (e.reason ?? '').replace(/^video unavailable:\s*/i, '').trim();
}

/**
 * The video panel. `#media-state[data-state]` is the publisher's state (idle, connecting, live,
 * full, unavailable, retrying), or `asking` / `camera-error` / `ended` for the page's own steps.
 */
function renderVideo(publisher: StreamPublisher): void {
  const e = video.last;
  const running = publisher.running;
  const showEnded = video.client?.state.room?.state === 'ended';
  let state: string = e.state;
  let text: string;
  let detail: HTMLElement | string = '';
  if (showEnded) {
    state = 'show-ended';
    text = t('studio.showEnded');
  } else if (video.asking) {
    state = 'asking';
    text = t('studio.asking');
  } else if (video.problem !== undefined) {
    state = 'camera-error';
    text = video.problem;
  } else {
    switch (e.state) {
      case 'idle':
        state = video.ended || video.stoppedBy !== undefined ? 'ended' : 'idle';
        text = video.stoppedBy !== undefined
          ? t('studio.streamEndedBy', { why: video.stoppedBy })
          : video.ended ? t('studio.streamEnded') : t('studio.cameraOffHint');
        break;
      case 'connecting':
        text = e.reason ? t('studio.reconnectingWhy', { why: e.reason }) : t('studio.connectingVideo');
        break;
      case 'live': {
        text = t(video.cameraMuted && video.micMuted ? 'studio.onAirBothMuted' : video.cameraMuted ? 'studio.onAirCameraMuted' : video.micMuted ? 'studio.onAirMicMuted' : 'studio.onAir');
        break;
      }
      case 'unavailable': {
        const reason = reasonOf(e);
        text = reason ? t('studio.unavailableWhy', { why: reason }) : t('studio.unavailable');
        detail = retryLine(`${t('studio.shopKeepsWorking')} `);
        break;
      }
      case 'full':
        text = t('studio.full');
        detail = retryLine('');
        break;
      case 'waiting':
      case 'retrying':
      default: {
        const reason = reasonOf(e);
        text = reason ? t('studio.interruptedWhy', { why: reason }) : t('studio.interrupted');
        detail = retryLine('');
        break;
      }
    }
  }
  el.mediaState.dataset.state = state;
  el.mediaState.dataset.kind = state === 'unavailable' || state === 'camera-error' || state === 'retrying' || state === 'full' ? 'error' : state === 'live' ? 'ok' : 'info';
  setText(el.mediaState, text);
  const key = `${state}|${video.retryAt}|${typeof detail === 'string' ? detail : ''}`;
  if (el.mediaDetail.dataset.for !== key) {
    el.mediaDetail.dataset.for = key;
    el.mediaDetail.replaceChildren(detail);
  }

  const hasCamera = video.camera !== undefined;
  el.previewBox.dataset.state = !hasCamera ? 'off' : video.cameraMuted ? 'muted' : e.state === 'live' ? 'live' : 'preview';
  setText(el.previewNote, !hasCamera ? t('studio.cameraOff') : video.cameraMuted ? t('studio.cameraMuted') : '');
  el.startVideo.disabled = showEnded || video.asking || hasCamera || running;
  el.endStream.disabled = !(hasCamera || running);
  el.muteCamera.disabled = !hasCamera || (video.camera?.getVideoTracks().length ?? 0) === 0;
  el.muteMic.disabled = !hasCamera || (video.camera?.getAudioTracks().length ?? 0) === 0;
  setText(el.muteCamera, video.cameraMuted ? t('studio.unmuteCamera') : t('studio.muteCamera'));
  setText(el.muteMic, video.micMuted ? t('studio.unmuteMic') : t('studio.muteMic'));
}

// ------------------------------------------------------------------ polling

let polling = false;
/** Polls now (set once the room is open). */
let refresh: (() => void) | undefined;
async function poll(client: LivecartClient, token: string, roomId: string): Promise<void> {
  if (polling) return;
  polling = true;
  renderRoomState(client);
  try {
    const base = `/api/rooms/${encodeURIComponent(roomId)}`;
    const [inv, ord, banned] = await Promise.all([
      api<{ inventory: Record<string, StockRow> }>(`${base}/inventory`, { token }),
      api<{ orders: Order[] }>(`${base}/orders`, { token }),
      api<{ bans: Ban[] }>(`${base}/bans`, { token }),
    ]);
    inventory = inv.inventory;
    orders = ord.orders;
    bans = banned.bans;
    renderNumbers(client);
    renderProducts(client, token, roomId);
    renderBans(client, token, roomId);
  } catch (error) {
    console.warn('livecart: poll failed', error);
  } finally {
    polling = false;
  }
}

// ------------------------------------------------------------------ rendering

function renderAll(client: LivecartClient, token: string, roomId: string): void {
  const room = client.state.room;
  if (room) {
    setText(el.title, room.title);
    document.title = `${room.title} · streamer · livecart`;
    renderRoomState(client);
    el.endShow.disabled = room.state === 'ended';
  }
  if (video.publisher !== undefined) renderVideo(video.publisher);
  renderNumbers(client);
  renderProducts(client, token, roomId);
  renderMuted(client);
}

/** The state badge and Go live: past its announced start the show is late, and Go live says so and stands out. */
function renderRoomState(client: LivecartClient): void {
  const room = client.state.room;
  if (!room) return;
  const now = clock.now();
  el.roomState.dataset.state = room.state;
  setText(el.roomState, roomStateText(room, now, { waiting: t('studio.notLiveYet'), late: t('studio.late') }));
  el.goLive.disabled = room.state !== 'scheduled';
  const late = isLate(room, now);
  el.goLive.classList.toggle('late', late);
  setText(el.goLive, late ? t('studio.goLiveLate') : t('studio.goLive'));
}

function renderNumbers(client: LivecartClient): void {
  let reserved = 0;
  let sold = 0;
  for (const row of Object.values(inventory)) {
    reserved += row.reserved;
    sold += row.sold;
  }
  // A cancelled order's units went back to stock: it is neither sold nor revenue.
  const revenue = orders.reduce((sum, o) => sum + (o.status === 'cancelled' ? 0 : o.totalCents), 0);
  setText(el.nViewers, formatNumber(client.state.viewers));
  setText(el.nLikes, formatNumber(client.state.likes));
  setText(el.nReserved, formatNumber(reserved));
  setText(el.nSold, formatNumber(sold));
  setText(el.nOrders, formatNumber(orders.length));
  setText(el.nRevenue, formatPrice(revenue, orders[0]?.currency ?? client.state.products[0]?.currency ?? 'USD'));
}

/** One row per product, built once and updated in place (a stock being typed is not wiped by a poll). */
function renderProducts(client: LivecartClient, token: string, roomId: string): void {
  const products = client.state.products;
  const popup = client.state.popup;
  const pinned = popup?.product.sku;
  show(el.noProducts, products.length === 0);
  setText(el.pinnedNow, pinned ? t('studio.pinnedNow', { title: popup?.product.title ?? '' }) : t('studio.nothingPinned'));
  show(el.unpin, pinned !== undefined);
  // The card's countdown as viewers see it; a sold-out card has nothing left to count down to.
  const soldOut = pinned !== undefined && (client.state.stock[pinned] ?? inventory[pinned]?.available ?? popup!.product.stock) === 0;
  const timerKey = `${popup?.pinnedAt ?? ''}|${popup?.endsAt ?? ''}|${soldOut}`;
  if (el.pinnedTimer.dataset.key !== timerKey) {
    el.pinnedTimer.dataset.key = timerKey;
    el.pinnedTimer.replaceChildren(popup?.endsAt !== undefined && !soldOut ? countdown(popup.endsAt, clock, { prefix: t('card.offerEndsIn'), done: t('card.offerEnded') }) : '');
  }
  for (const product of products) {
    let found = el.productRows.querySelector<HTMLTableRowElement>(`tr[data-sku="${CSS.escape(product.sku)}"]`);
    if (!found) {
      found = buildRow(client, token, roomId, product.sku);
      el.productRows.append(found);
    }
    const row = found;
    const cell = (name: string) => row.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
    // A product with variants has their stock together.
    const available = product.variants !== undefined ? unitsLeft(product, client.state.stock) ?? product.stock : client.state.stock[product.sku] ?? inventory[product.sku]?.available ?? product.stock;
    const saleWindow = product.saleStartsAt || product.saleEndsAt ? ` · ${t('studio.sale')} ${product.saleStartsAt ? formatDateTime(product.saleStartsAt) : ''}–${product.saleEndsAt ? formatDateTime(product.saleEndsAt) : ''}` : '';
    setText(cell('title'), product.title);
    setText(cell('meta'), `${product.sku}${product.variants ? ` · ${tn('studio.variantCount', product.variants.length)}` : ''}${product.perCustomerLimit ? ` · ${t('studio.maxEach', { n: product.perCustomerLimit })}` : ''}${saleWindow}`);
    const listed = product.listPriceCents !== undefined && product.listPriceCents > product.priceCents;
    setText(cell('price'), `${formatPrice(product.priceCents, product.currency)}${listed ? ` (${t('studio.listShort', { price: formatPrice(product.listPriceCents!, product.currency) })})` : ''}`);
    setText(cell('available'), available === 0 ? t('studio.zeroSoldOut') : formatNumber(available));
    cell('available').dataset.available = String(available);
    setText(cell('reserved'), formatNumber(inventory[product.sku]?.reserved ?? 0));
    setText(cell('sold'), formatNumber(inventory[product.sku]?.sold ?? 0));
    const pin = cell('pin') as HTMLButtonElement;
    const isPinned = product.sku === pinned;
    row.classList.toggle('pinned', isPinned);
    setText(pin, isPinned ? t('studio.pinned') : t('studio.pin'));
    pin.disabled = isPinned;
  }
}

function buildRow(client: LivecartClient, token: string, roomId: string, sku: string): HTMLTableRowElement {
  const stockInput = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', 'aria-label': t('studio.newStockFor', { sku }), 'data-testid': `stock-input-${sku}` });
  const setStock = () => {
    const available = Number(stockInput.value);
    if (stockInput.value === '' || !Number.isInteger(available) || available < 0) {
      say(el.status, t('studio.badStock'), 'error');
      return;
    }
    api<{ stock: StockRow }>(`/api/rooms/${encodeURIComponent(roomId)}/products/${encodeURIComponent(sku)}/stock`, { method: 'PUT', token, body: { available } }).then(
      ({ stock }) => {
        inventory = { ...inventory, [sku]: stock };
        stockInput.value = '';
        say(el.status, t('studio.stockSet', { sku, n: stock.available }), 'ok');
        renderProducts(client, token, roomId);
        renderNumbers(client);
      },
      (error: unknown) => say(el.status, t('studio.stockFailed', { why: errorText(error) }), 'error'),
    );
  };
  stockInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') setStock();
  });
  const pin = () => {
    const ms = Number(el.pinCountdown.value);
    client.pin(sku, ms > 0 ? Math.round(clock.now() + ms) : undefined).then(
      // Said with the title, as on the card (the SKU is an internal name).
      () => say(el.status, t('studio.pinnedProduct', { title: client.state.products.find((p) => p.sku === sku)?.title ?? sku }), 'ok'),
      (error: unknown) => say(el.status, t('studio.pinFailed', { why: errorText(error) }), 'error'),
    );
  };
  return h(
    'tr',
    { 'data-sku': sku },
    h('th', { scope: 'row', 'data-label': t('studio.colProduct') }, h('span', { 'data-cell': 'title' }), h('span', { class: 'muted small block', 'data-cell': 'meta' })),
    h('td', { 'data-label': t('studio.colPrice'), 'data-cell': 'price' }),
    h('td', { 'data-label': t('studio.colAvailable'), 'data-cell': 'available', 'data-testid': `available-${sku}` }),
    h('td', { 'data-label': t('studio.colReserved'), 'data-cell': 'reserved', 'data-testid': `reserved-${sku}` }),
    h('td', { 'data-label': t('studio.colSold'), 'data-cell': 'sold', 'data-testid': `sold-${sku}` }),
    h('td', { 'data-label': t('studio.colSetStock') }, h('div', { class: 'row' }, stockInput, h('button', { type: 'button', 'aria-label': t('studio.setStockOf', { sku }), 'data-testid': `set-stock-${sku}`, onclick: setStock }, t('studio.set')))),
    h('td', { 'data-label': t('studio.colCard') }, h('button', { type: 'button', class: 'primary', 'data-cell': 'pin', 'aria-label': t('studio.pinSku', { sku }), 'data-testid': `pin-${sku}`, onclick: pin }, t('studio.pin'))),
  );
}

function rebuildComments(client: LivecartClient): void {
  el.comments.replaceChildren();
  for (const c of client.state.comments.slice(-MAX_COMMENTS_SHOWN)) appendComment(client, c);
}

function appendComment(client: LivecartClient, c: HistoryComment): void {
  const mine = c.userId === client.state.you?.userId;
  const remove = h('button', { type: 'button', class: 'link', 'aria-label': t('mod.deleteLabel', { name: c.name, text: c.text }), onclick: () => {
    client.deleteComment(c.seq).then(() => say(el.status, t('mod.deleted'), 'ok'), (error: unknown) => say(el.status, t('mod.deleteFailed', { why: errorText(error) }), 'error'));
  } }, t('mod.delete'));
  const li = h(
    'li',
    { 'data-seq': c.seq, 'data-user': c.userId, 'data-name': c.name, class: mine ? 'mine' : undefined },
    h('span', { class: 'who' }, c.name),
    ' ',
    h('span', { class: 'text' }, c.text),
    h('span', { class: 'actions' }, pinCommentButton(client, c, el.status), remove, mine ? null : h('button', { type: 'button', class: 'link', 'data-role': 'mute' }), mine ? null : h('button', {
      type: 'button', class: 'link danger-link', 'aria-label': t('mod.removeLabel', { name: c.name }), onclick: () => kick(client, c.userId, c.name),
    }, t('cart.remove'))),
  );
  updateMuteButton(client, li);
  const stick = el.comments.scrollHeight - el.comments.scrollTop - el.comments.clientHeight < 40;
  el.comments.append(li);
  while (el.comments.childElementCount > MAX_COMMENTS_SHOWN) el.comments.firstElementChild?.remove();
  if (stick) el.comments.scrollTop = el.comments.scrollHeight;
}

function updateMuteButton(client: LivecartClient, li: HTMLElement): void {
  const button = li.querySelector<HTMLButtonElement>('[data-role="mute"]');
  const userId = li.dataset.user;
  if (!button || !userId) return;
  const muted = client.state.muted.has(userId);
  li.classList.toggle('from-muted', muted);
  setText(button, muted ? t('mod.unmute') : t('mod.mute'));
  button.setAttribute('aria-label', t(muted ? 'mod.unmuteLabel' : 'mod.muteLabel', { name: li.dataset.name ?? userId }));
  button.onclick = () => moderate(client, muted ? 'unmute' : 'mute', userId, li.dataset.name ?? userId);
}

function moderate(client: LivecartClient, action: 'mute' | 'unmute', userId: string, name: string): void {
  (action === 'mute' ? client.mute(userId) : client.unmute(userId)).then(
    () => say(el.status, t(action === 'mute' ? 'mod.muted' : 'mod.unmuted', { name }), 'ok'),
    (error: unknown) => say(el.status, t(action === 'mute' ? 'mod.muteFailed' : 'mod.unmuteFailed', { name, why: errorText(error) }), 'error'),
  );
}

/** Removes a user (kick): their sockets close, what they held goes back on sale, and they stay out until the ban ends or is lifted. */
function kick(client: LivecartClient, userId: string, name: string): void {
  client.kick(userId).then(
    ({ released }) => {
      say(el.status, released > 0 ? tn('mod.removedReleased', released, { name }) : t('mod.removed', { name }), 'ok');
      refresh?.();
    },
    (error: unknown) => say(el.status, t('mod.removeFailed', { name, why: errorText(error) }), 'error'),
  );
}

/** The users kept out of the room, by name, each with a button to let them back in. */
function renderBans(client: LivecartClient, token: string, roomId: string): void {
  show(el.noBans, bans.length === 0);
  const key = bans.map((b) => `${b.userId}|${b.until}`).join(',');
  if (el.bans.dataset.key === key) return;
  el.bans.dataset.key = key;
  el.bans.replaceChildren(
    ...bans.map((ban) => h(
      'li',
      { 'data-user': ban.userId },
      h('span', { class: 'who' }, ban.name),
      ' ',
      h('span', { class: 'muted small' }, t('mod.until', { at: formatTime(ban.until) })),
      ' ',
      h('button', {
        type: 'button', class: 'link', 'aria-label': t('mod.letBackInLabel', { name: ban.name }), onclick: () => {
          client.unban(ban.userId).then(
            () => {
              say(el.status, t('mod.mayComeBack', { name: ban.name }), 'ok');
              bans = bans.filter((b) => b.userId !== ban.userId);
              renderBans(client, token, roomId);
              void poll(client, token, roomId);
            },
            (error: unknown) => say(el.status, t('mod.letBackInFailed', { name: ban.name, why: errorText(error) }), 'error'),
          );
        },
      }, t('mod.letBackIn')),
    )),
  );
}

function renderMuted(client: LivecartClient): void {
  const ids = [...client.state.muted];
  show(el.noMuted, ids.length === 0);
  el.muted.replaceChildren(
    ...ids.map((userId) => {
      const name = client.state.comments.find((c) => c.userId === userId)?.name ?? userId;
      return h('li', {}, h('span', {}, name), ' ', h('button', { type: 'button', class: 'link', 'aria-label': t('mod.unmuteLabel', { name }), onclick: () => moderate(client, 'unmute', userId, name) }, t('mod.unmute')));
    }),
  );
}

// ------------------------------------------------------------------ start (last: everything above is initialized)

startI18n();
startStreamerLayout();
if (!token) {
  fatal(t('studio.needsToken'), t('studio.needsTokenDetail'));
} else {
  void tokenRefusal(token).then((refusal) => {
    if (refusal !== undefined) {
      fatal(refusal, t('studio.needsTokenDetail'));
      return;
    }
    mountShowScheduler(token);
    const room = params.get('room');
    if (room) void openRoom(token, room);
    else showCreate(token);
  });
}

/**
 * Why this token cannot open the page, asked before the page offers anything (else a bad token
 * met its refusal only on submit): the server checks it with a cheap authenticated read, and a
 * token it accepts says its role (only a streamer or an operator creates and runs rooms).
 */
async function tokenRefusal(token: string): Promise<string | undefined> {
  try {
    await api('/api/me/reminders', { token });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return t('studio.tokenRefused', { why: errorText(error) });
    return undefined; // the server could not answer: the page says so as it connects
  }
  const role = readToken(token)?.role;
  return role === 'streamer' || role === 'operator' ? undefined : t('studio.notStreamerToken');
}
