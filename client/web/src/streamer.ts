/**
 * The streamer page: /streamer?token=…[&room=…]. Creates a room (HTTP), then joins it with the SDK
 * as its streamer: go live / end, add products (with stock, flash-sale window, per-customer limit),
 * set stock, pin and unpin the card, moderate comments (delete, mute), and live numbers (viewers and
 * likes from the SDK; reserved, sold and orders polled from the room's inventory and orders).
 * Video: "Start video" takes the camera and microphone (getUserMedia) and publishes them with
 * `StreamPublisher` (client/src/media.ts, simulcast video); mute camera / microphone; end the stream.
 *
 * Test hooks (read by tests/e2e, nothing else): `window.livecart` is the LivecartClient and
 * `window.livecartPublisher` the StreamPublisher.
 */
import { connect, type HistoryComment, type LivecartClient, type Order, type ProductInput } from '../../src/index.ts';
import { StreamPublisher, type MediaStateEvent } from '../../src/media.ts';
import { api, byId, countdown, errorText, fatal, formatNumber, formatPrice, h, params, parsePriceCents, say, ServerClock, setText, show, startCountdowns, trackConnection, wsUrl } from './common.ts';
import { wireEncoderSettings } from './encoderSettings.ts';
import { mountShowScheduler } from './showScheduler.ts';

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
    say(el.status, 'Creating the room…');
    api<{ room: { id: string } }>('/api/rooms', { method: 'POST', token, body: id ? { title, id } : { title } }).then(
      ({ room }) => {
        const url = new URL(location.href);
        url.searchParams.set('room', room.id);
        history.replaceState(null, '', url);
        show(el.create, false);
        say(el.status, `Room "${room.id}" created. Add products, then go live.`, 'ok');
        void openRoom(token, room.id);
      },
      (error: unknown) => say(el.status, `Could not create the room: ${errorText(error)}`, 'error'),
    );
  };
}

async function openRoom(token: string, roomId: string): Promise<void> {
  const client = connect({ url: wsUrl(), token, room: roomId });
  (window as unknown as { livecart: LivecartClient }).livecart = client;
  trackConnection(client, el.conn, (_text, error) => {
    if (error && 'name' in (error as object) && (error as { name: string }).name === 'ROOM_NOT_FOUND') {
      for (const section of [el.controls, el.camera, el.products, el.chat]) show(section, false);
      say(el.status, `There is no room "${roomId}": create it.`, 'error');
      showCreate(token, roomId);
    }
  });
  wire(client, token, roomId);
  wireVideo(client);
  wireEncoderSettings(token, roomId);
  try {
    await client.ready;
  } catch (error) {
    if (!el.create.hidden) return;
    say(el.status, `Cannot join room "${roomId}": ${errorText(error)}`, 'error');
    return;
  }
  for (const section of [el.controls, el.camera, el.products, el.chat]) show(section, true);
  el.viewerLink.href = `/viewer?room=${encodeURIComponent(roomId)}`;
  show(el.viewerLink, true);
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
      setText(el.endShow, 'Really end the show?');
      endArmed = setTimeout(() => {
        endArmed = undefined;
        setText(el.endShow, 'End show');
      }, 4000);
      return;
    }
    clearTimeout(endArmed);
    endArmed = undefined;
    setText(el.endShow, 'End show');
    void showState(token, roomId, 'end');
  });

  el.unpin.addEventListener('click', () => {
    client.unpin().then(() => say(el.status, 'Card unpinned.', 'ok'), (error: unknown) => say(el.status, errorText(error), 'error'));
  });

  el.productForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const product = readProductForm();
    if (typeof product === 'string') {
      say(el.status, product, 'error');
      return;
    }
    client.addProduct(product).then(
      ({ product: added }) => {
        say(el.status, `Added ${added.title} (${added.sku}) with ${added.stock} units.`, 'ok');
        for (const id of ['p-sku', 'p-title', 'p-price', 'p-limit', 'p-starts', 'p-ends', 'p-image']) byId<HTMLInputElement>(id).value = '';
        byId<HTMLInputElement>('p-sku').focus();
        void poll(client, token, roomId);
      },
      (error: unknown) => say(el.status, `Could not add the product: ${errorText(error)}`, 'error'),
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
      (error: unknown) => say(el.status, `Comment not sent: ${errorText(error)}`, 'error'),
    );
  });
}

async function showState(token: string, roomId: string, action: 'start' | 'end'): Promise<void> {
  try {
    await api(`/api/rooms/${encodeURIComponent(roomId)}/${action}`, { method: 'POST', token });
    say(el.status, action === 'start' ? 'You are live.' : 'The show has ended.', 'ok');
  } catch (error) {
    say(el.status, errorText(error), 'error');
  }
}

function readProductForm(): ProductInput | string {
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim();
  const priceCents = parsePriceCents(value('p-price'));
  if (Number.isNaN(priceCents)) return 'Price: a number such as 25 or 25.00.';
  const stock = Number(value('p-stock'));
  if (!Number.isInteger(stock) || stock < 0) return 'Stock: a whole number of units.';
  const product: ProductInput = { sku: value('p-sku'), title: value('p-title'), priceCents, currency: value('p-currency').toUpperCase(), stock };
  const limit = value('p-limit');
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) return 'Per-customer limit: a whole number, at least 1.';
    product.perCustomerLimit = n;
  }
  const starts = value('p-starts');
  const ends = value('p-ends');
  if (starts) product.saleStartsAt = new Date(starts).getTime();
  if (ends) product.saleEndsAt = new Date(ends).getTime();
  if (product.saleStartsAt !== undefined && product.saleEndsAt !== undefined && product.saleEndsAt <= product.saleStartsAt) return 'The sale must end after it starts.';
  const image = value('p-image');
  if (image) product.imageUrl = image;
  return product;
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
    throw new Error('This browser offers no camera here: the page must be opened over HTTPS (or on localhost).');
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
      return 'Camera access was refused. Allow the camera and microphone for this site (the icon in the address bar), then start video again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect one, then start video again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera could not be opened: another app may be using it.';
    default:
      return `The camera could not be opened: ${errorText(error)}`;
  }
}

async function toggleMute(publisher: StreamPublisher, kind: 'video' | 'audio'): Promise<void> {
  const muted = kind === 'video' ? (video.cameraMuted = !video.cameraMuted) : (video.micMuted = !video.micMuted);
  for (const track of (kind === 'video' ? video.camera?.getVideoTracks() : video.camera?.getAudioTracks()) ?? []) track.enabled = !muted;
  renderVideo(publisher);
  try {
    await publisher.setMuted(kind, muted);
  } catch (error) {
    say(el.status, `Could not ${muted ? 'mute' : 'unmute'} the ${kind === 'video' ? 'camera' : 'microphone'}: ${errorText(error)}`, 'error');
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
    say(el.status, `The stream may not have ended for everyone: ${errorText(error)}`, 'error');
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
  return h('span', {}, prefix, countdown(video.retryAt, clock, { local: true, format: 'seconds', prefix: 'Trying again in ', suffix: '.', done: 'Trying again…' }));
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
    text = 'The show has ended: it cannot go back on air.';
  } else if (video.asking) {
    state = 'asking';
    text = 'Asking for your camera and microphone…';
  } else if (video.problem !== undefined) {
    state = 'camera-error';
    text = video.problem;
  } else {
    switch (e.state) {
      case 'idle':
        state = video.ended || video.stoppedBy !== undefined ? 'ended' : 'idle';
        text = video.stoppedBy !== undefined
          ? `Stream ended: ${video.stoppedBy}. Viewers see that it ended.`
          : video.ended ? 'Stream ended. Viewers see that it ended.' : 'Camera off. Start video to go on air.';
        break;
      case 'connecting':
        text = e.reason ? `Reconnecting the video (${e.reason})…` : 'Connecting the video…';
        break;
      case 'live': {
        const off = [video.cameraMuted ? 'camera' : '', video.micMuted ? 'microphone' : ''].filter(Boolean).join(' and ');
        text = off ? `On air, ${off} muted: viewers are told your ${off} ${video.cameraMuted && video.micMuted ? 'are' : 'is'} off.` : 'On air: viewers see and hear you.';
        break;
      }
      case 'unavailable': {
        const reason = reasonOf(e);
        text = `Video unavailable${reason ? `: ${reason}` : ''}.`;
        detail = retryLine('Comments and the shop keep working. ');
        break;
      }
      case 'full':
        text = 'Video full on this server.';
        detail = retryLine('');
        break;
      case 'waiting':
      case 'retrying':
      default: {
        const reason = reasonOf(e);
        text = `Video interrupted${reason ? `: ${reason}` : ''}.`;
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
  setText(el.previewNote, !hasCamera ? 'Camera off' : video.cameraMuted ? 'Camera muted' : '');
  el.startVideo.disabled = showEnded || video.asking || hasCamera || running;
  el.endStream.disabled = !(hasCamera || running);
  el.muteCamera.disabled = !hasCamera || (video.camera?.getVideoTracks().length ?? 0) === 0;
  el.muteMic.disabled = !hasCamera || (video.camera?.getAudioTracks().length ?? 0) === 0;
  setText(el.muteCamera, video.cameraMuted ? 'Unmute camera' : 'Mute camera');
  setText(el.muteMic, video.micMuted ? 'Unmute microphone' : 'Mute microphone');
}

// ------------------------------------------------------------------ polling

let polling = false;
/** Polls now (set once the room is open). */
let refresh: (() => void) | undefined;
async function poll(client: LivecartClient, token: string, roomId: string): Promise<void> {
  if (polling) return;
  polling = true;
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
    el.roomState.dataset.state = room.state;
    setText(el.roomState, room.state === 'live' ? 'Live' : room.state === 'ended' ? 'Ended' : 'Not live yet');
    el.goLive.disabled = room.state !== 'scheduled';
    el.endShow.disabled = room.state === 'ended';
  }
  if (video.publisher !== undefined) renderVideo(video.publisher);
  renderNumbers(client);
  renderProducts(client, token, roomId);
  renderMuted(client);
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
  setText(el.pinnedNow, pinned ? `Pinned: ${popup?.product.title}` : 'Nothing pinned');
  show(el.unpin, pinned !== undefined);
  // The card's countdown as viewers see it; a sold-out card has nothing left to count down to.
  const soldOut = pinned !== undefined && (client.state.stock[pinned] ?? inventory[pinned]?.available ?? popup!.product.stock) === 0;
  const timerKey = `${popup?.pinnedAt ?? ''}|${popup?.endsAt ?? ''}|${soldOut}`;
  if (el.pinnedTimer.dataset.key !== timerKey) {
    el.pinnedTimer.dataset.key = timerKey;
    el.pinnedTimer.replaceChildren(popup?.endsAt !== undefined && !soldOut ? countdown(popup.endsAt, clock, { prefix: 'Offer ends in ', done: 'Offer ended' }) : '');
  }
  for (const product of products) {
    let found = el.productRows.querySelector<HTMLTableRowElement>(`tr[data-sku="${CSS.escape(product.sku)}"]`);
    if (!found) {
      found = buildRow(client, token, roomId, product.sku);
      el.productRows.append(found);
    }
    const row = found;
    const cell = (name: string) => row.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
    const available = client.state.stock[product.sku] ?? inventory[product.sku]?.available ?? product.stock;
    const saleWindow = product.saleStartsAt || product.saleEndsAt ? ` · sale ${product.saleStartsAt ? new Date(product.saleStartsAt).toLocaleString() : ''}–${product.saleEndsAt ? new Date(product.saleEndsAt).toLocaleString() : ''}` : '';
    setText(cell('title'), product.title);
    setText(cell('meta'), `${product.sku}${product.perCustomerLimit ? ` · max ${product.perCustomerLimit} each` : ''}${saleWindow}`);
    setText(cell('price'), formatPrice(product.priceCents, product.currency));
    setText(cell('available'), available === 0 ? '0 (sold out)' : formatNumber(available));
    cell('available').dataset.available = String(available);
    setText(cell('reserved'), formatNumber(inventory[product.sku]?.reserved ?? 0));
    setText(cell('sold'), formatNumber(inventory[product.sku]?.sold ?? 0));
    const pin = cell('pin') as HTMLButtonElement;
    const isPinned = product.sku === pinned;
    row.classList.toggle('pinned', isPinned);
    setText(pin, isPinned ? 'Pinned' : 'Pin');
    pin.disabled = isPinned;
  }
}

function buildRow(client: LivecartClient, token: string, roomId: string, sku: string): HTMLTableRowElement {
  const stockInput = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', 'aria-label': `New stock for ${sku}`, 'data-testid': `stock-input-${sku}` });
  const setStock = () => {
    const available = Number(stockInput.value);
    if (stockInput.value === '' || !Number.isInteger(available) || available < 0) {
      say(el.status, 'Stock: a whole number of units.', 'error');
      return;
    }
    api<{ stock: StockRow }>(`/api/rooms/${encodeURIComponent(roomId)}/products/${encodeURIComponent(sku)}/stock`, { method: 'PUT', token, body: { available } }).then(
      ({ stock }) => {
        inventory = { ...inventory, [sku]: stock };
        stockInput.value = '';
        say(el.status, `Stock of ${sku} set to ${stock.available}.`, 'ok');
        renderProducts(client, token, roomId);
        renderNumbers(client);
      },
      (error: unknown) => say(el.status, `Could not set the stock: ${errorText(error)}`, 'error'),
    );
  };
  stockInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') setStock();
  });
  const pin = () => {
    const ms = Number(el.pinCountdown.value);
    client.pin(sku, ms > 0 ? Math.round(clock.now() + ms) : undefined).then(
      () => say(el.status, `Pinned ${sku}.`, 'ok'),
      (error: unknown) => say(el.status, `Could not pin: ${errorText(error)}`, 'error'),
    );
  };
  return h(
    'tr',
    { 'data-sku': sku },
    h('th', { scope: 'row', 'data-label': 'Product' }, h('span', { 'data-cell': 'title' }), h('span', { class: 'muted small block', 'data-cell': 'meta' })),
    h('td', { 'data-label': 'Price', 'data-cell': 'price' }),
    h('td', { 'data-label': 'Available', 'data-cell': 'available', 'data-testid': `available-${sku}` }),
    h('td', { 'data-label': 'Reserved', 'data-cell': 'reserved', 'data-testid': `reserved-${sku}` }),
    h('td', { 'data-label': 'Sold', 'data-cell': 'sold', 'data-testid': `sold-${sku}` }),
    h('td', { 'data-label': 'Set stock' }, h('div', { class: 'row' }, stockInput, h('button', { type: 'button', 'aria-label': `Set stock of ${sku}`, 'data-testid': `set-stock-${sku}`, onclick: setStock }, 'Set'))),
    h('td', { 'data-label': 'Card' }, h('button', { type: 'button', class: 'primary', 'data-cell': 'pin', 'aria-label': `Pin ${sku}`, 'data-testid': `pin-${sku}`, onclick: pin }, 'Pin')),
  );
}

function rebuildComments(client: LivecartClient): void {
  el.comments.replaceChildren();
  for (const c of client.state.comments.slice(-MAX_COMMENTS_SHOWN)) appendComment(client, c);
}

function appendComment(client: LivecartClient, c: HistoryComment): void {
  const mine = c.userId === client.state.you?.userId;
  const remove = h('button', { type: 'button', class: 'link', 'aria-label': `Delete comment by ${c.name}: ${c.text}`, onclick: () => {
    client.deleteComment(c.seq).then(() => say(el.status, 'Comment deleted.', 'ok'), (error: unknown) => say(el.status, `Could not delete: ${errorText(error)}`, 'error'));
  } }, 'Delete');
  const li = h(
    'li',
    { 'data-seq': c.seq, 'data-user': c.userId, 'data-name': c.name, class: mine ? 'mine' : undefined },
    h('span', { class: 'who' }, c.name),
    ' ',
    h('span', { class: 'text' }, c.text),
    h('span', { class: 'actions' }, remove, mine ? null : h('button', { type: 'button', class: 'link', 'data-role': 'mute' }), mine ? null : h('button', {
      type: 'button', class: 'link danger-link', 'aria-label': `Remove ${c.name} from the room`, onclick: () => kick(client, c.userId, c.name),
    }, 'Remove')),
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
  setText(button, muted ? 'Unmute' : 'Mute');
  button.setAttribute('aria-label', `${muted ? 'Unmute' : 'Mute'} ${li.dataset.name ?? userId}`);
  button.onclick = () => moderate(client, muted ? 'unmute' : 'mute', userId, li.dataset.name ?? userId);
}

function moderate(client: LivecartClient, action: 'mute' | 'unmute', userId: string, name: string): void {
  (action === 'mute' ? client.mute(userId) : client.unmute(userId)).then(
    () => say(el.status, `${name} ${action === 'mute' ? 'is muted' : 'may comment again'}.`, 'ok'),
    (error: unknown) => say(el.status, `Could not ${action} ${name}: ${errorText(error)}`, 'error'),
  );
}

/** Removes a user (kick): their sockets close, what they held goes back on sale, and they stay out until the ban ends or is lifted. */
function kick(client: LivecartClient, userId: string, name: string): void {
  client.kick(userId).then(
    ({ released }) => {
      say(el.status, `${name} was removed from the room${released > 0 ? `; ${released} held ${released === 1 ? 'unit is' : 'units are'} back on sale` : ''}.`, 'ok');
      refresh?.();
    },
    (error: unknown) => say(el.status, `Could not remove ${name}: ${errorText(error)}`, 'error'),
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
      h('span', { class: 'muted small' }, `until ${new Date(ban.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`),
      ' ',
      h('button', {
        type: 'button', class: 'link', 'aria-label': `Let ${ban.name} back in`, onclick: () => {
          client.unban(ban.userId).then(
            () => {
              say(el.status, `${ban.name} may come back.`, 'ok');
              bans = bans.filter((b) => b.userId !== ban.userId);
              renderBans(client, token, roomId);
              void poll(client, token, roomId);
            },
            (error: unknown) => say(el.status, `Could not let ${ban.name} back in: ${errorText(error)}`, 'error'),
          );
        },
      }, 'Let back in'),
    )),
  );
}

function renderMuted(client: LivecartClient): void {
  const ids = [...client.state.muted];
  show(el.noMuted, ids.length === 0);
  el.muted.replaceChildren(
    ...ids.map((userId) => {
      const name = client.state.comments.find((c) => c.userId === userId)?.name ?? userId;
      return h('li', {}, h('span', {}, name), ' ', h('button', { type: 'button', class: 'link', 'aria-label': `Unmute ${name}`, onclick: () => moderate(client, 'unmute', userId, name) }, 'Unmute'));
    }),
  );
}

// ------------------------------------------------------------------ start (last: everything above is initialized)

if (!token) {
  fatal('This page needs a streamer token.', 'Open it as /streamer?token=… (in dev mode the server prints one when it starts).');
} else {
  mountShowScheduler(token);
  const room = params.get('room');
  if (room) void openRoom(token, room);
  else showCreate(token);
}
