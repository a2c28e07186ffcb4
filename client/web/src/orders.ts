/**
 * The orders page: /orders[?token=…]. The buyer's orders over every room and shop, newest first
 * (`GET /api/me/orders`), each with where it stands (placed and awaiting payment, paid, shipped,
 * delivered, cancelled; a demo payment says it is one), its lines, total and history.
 *
 * Live: for the rooms of the newest orders still under way (at most `MAX_FOLLOWED_ROOMS`) the page
 * opens an SDK connection that follows the user's orders there (`follow: 'orders'`: no room
 * broadcasts, not counted as a viewer) and applies each `orderUpdated` as it comes. After a
 * reconnect (news sent meanwhile is not replayed), every `POLL_MS`, and when the tab comes back
 * into view, it reads the list again: that covers orders in rooms it does not follow.
 *
 * Shows the buyer set a reminder for and that are still to come are followed the same way (within
 * the same limit, after the orders' rooms): the page hears when one goes live and says so.
 *
 * The token is the URL's, else the one the viewer page keeps for this browser (identity.ts).
 */
import { pricingRows } from './orderPricing.ts';
import { connect, isFinalOrderStatus, isLivecartError, type LivecartClient, type Order, type Product } from '../../src/index.ts';
import { api, ApiError, byId, errorText, formatPrice, h, params, say, setText, show, wsUrl } from './common.ts';
import { demoNote, PROGRESS_STEPS, statusHeadline, stepNames } from './orderStatus.ts';
import { keptIdentity } from './identity.ts';
import { formatDateTime, formatTime, startI18n, t } from './i18n.ts';
import { followShowNotices, remindedShowIds } from './showNotices.ts';

/** Rooms followed live at once, at most (one socket each). */
const MAX_FOLLOWED_ROOMS = 5;
/** How often the list is read again. */
const POLL_MS = 30_000;
const LIST_LIMIT = 50;

const el = {
  live: byId('live'),
  status: byId('status'),
  empty: byId('empty'),
  shopLink: byId<HTMLAnchorElement>('shop-link'),
  orders: byId<HTMLOListElement>('orders'),
  updated: byId('updated'),
};

interface RoomView {
  title: string;
  products: ReadonlyMap<string, Product>;
}

const givenToken = params.get('token');
const token = givenToken ?? keptIdentity()?.token ?? null;
/** Every order known, by id, each as last heard. */
const orders = new Map<string, Order>();
/** Room titles and products, read once per room. */
const rooms = new Map<string, RoomView | Promise<RoomView>>();
/** The followers, by room. */
const followers = new Map<string, LivecartClient>();
/** Scheduled shows the buyer set a reminder for, soonest first, as last read. */
let remindedRooms: string[] = [];
/** Orders whose history the buyer opened: a re-render keeps it open. */
const openHistories = new Set<string>();
let loaded = false;

async function main(): Promise<void> {
  startI18n();
  (window as unknown as { livecartOrders: { followedRooms(): string[] } }).livecartOrders = { followedRooms: () => [...followers.keys()] };
  el.shopLink.href = withToken('/viewer?room=demo');
  if (token === null) {
    show(el.empty, true);
    el.live.dataset.state = 'idle';
    setText(el.live, '');
    return;
  }
  await load();
  setInterval(() => void load(), POLL_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void load();
  });
}

/** Reads the list again and takes what is newer than what the page holds. */
async function load(): Promise<void> {
  try {
    const [{ orders: list }, reminded] = await Promise.all([api<{ orders: Order[] }>(`/api/me/orders?limit=${LIST_LIMIT}`, { token: token! }), remindedShowIds(token!)]);
    remindedRooms = reminded;
    for (const order of list) take(order);
    loaded = true;
    setText(el.updated, t('orders.updated', { at: formatTime(Date.now()) }));
    await Promise.all(list.map((order) => roomOf(order.roomId)));
    render();
    follow();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      say(el.status, t('orders.badToken'), 'error');
      stopFollowing();
      return;
    }
    say(el.status, t('orders.loadFailed', { why: errorText(error) }), 'error');
  }
}

/** Keeps the newer of what is known and `order` (an order only moves forward: the longer history is the newer); true when it changed. */
function take(order: Order): boolean {
  const known = orders.get(order.id);
  if (known !== undefined && known.history.length >= order.history.length) return false;
  orders.set(order.id, order);
  return true;
}

function roomOf(roomId: string): Promise<RoomView> | RoomView {
  let room = rooms.get(roomId);
  if (room === undefined) {
    room = api<{ title: string; products: Product[] }>(`/api/rooms/${encodeURIComponent(roomId)}`).then(
      (snapshot) => ({ title: snapshot.title, products: new Map(snapshot.products.map((p) => [p.sku, p])) }),
      () => ({ title: roomId, products: new Map() }),
    );
    rooms.set(roomId, room);
    void room.then((view) => rooms.set(roomId, view));
  }
  return room;
}

/** Follows the rooms of the newest orders still under way; lets go of the rest. */
function follow(): void {
  const wanted: string[] = [];
  for (const order of newestFirst()) {
    if (isFinalOrderStatus(order.status) || wanted.includes(order.roomId)) continue;
    if (wanted.length >= MAX_FOLLOWED_ROOMS) break;
    wanted.push(order.roomId);
  }
  for (const roomId of remindedRooms) if (wanted.length < MAX_FOLLOWED_ROOMS && !wanted.includes(roomId)) wanted.push(roomId);
  for (const [roomId, client] of followers) {
    if (wanted.includes(roomId)) continue;
    client.close();
    followers.delete(roomId);
  }
  for (const roomId of wanted) if (!followers.has(roomId)) followers.set(roomId, openFollower(roomId));
  renderLive();
}

function openFollower(roomId: string): LivecartClient {
  const client = connect({ url: wsUrl(), token: token!, room: roomId, follow: 'orders' });
  followShowNotices(client, { token: givenToken ?? undefined });
  let welcomed = false;
  client.on('welcome', () => {
    // News sent while this socket was away is not replayed: read the list again.
    if (welcomed) void load();
    welcomed = true;
    renderLive();
  });
  client.on('reconnecting', () => renderLive());
  client.on('closed', (e) => {
    followers.delete(roomId);
    if (isLivecartError(e.error) && e.error.name === 'UNAUTHORIZED') say(el.status, t('error.unauthorized'), 'error');
    renderLive();
  });
  client.on('orderUpdated', ({ order }) => {
    if (!take(order)) return;
    void Promise.resolve(roomOf(order.roomId)).then(() => {
      render(order.id);
      say(el.status, t('orders.changed', { id: shortId(order.id), status: `${statusHeadline(order)}${demoNote(order) ? ` (${demoNote(order)})` : ''}` }), 'ok');
      if (isFinalOrderStatus(order.status)) follow();
    });
  });
  return client;
}

function stopFollowing(): void {
  for (const client of followers.values()) client.close();
  followers.clear();
  renderLive();
}

// ------------------------------------------------------------------ render

function newestFirst(): Order[] {
  return [...orders.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** Renders every card; the one named by `changed` flashes. */
function render(changed?: string): void {
  const list = newestFirst();
  show(el.empty, loaded && list.length === 0);
  el.orders.replaceChildren(...list.map((order) => card(order, order.id === changed)));
}

function card(order: Order, flash: boolean): HTMLLIElement {
  const room = rooms.get(order.roomId);
  const view = room instanceof Promise || room === undefined ? { title: order.roomId, products: new Map<string, Product>() } : room;
  const demo = demoNote(order);
  const reached = new Set(order.history.map((step) => step.status));
  const steps = order.status === 'cancelled' ? [...order.history.map((step) => step.status)] : PROGRESS_STEPS;
  return h('li', { class: `order-card${flash ? ' flash' : ''}`, 'data-order': order.id, 'data-status': order.status, 'data-testid': 'order-card' },
    h('div', { class: 'order-card-head' },
      h('div', {},
        h('h2', {}, view.title),
        h('p', { class: 'muted small' }, h('span', {}, `${when(order.createdAt)} · `), h('span', { class: 'order-ref' }, t('order.id', { id: shortId(order.id) }))),
      ),
      h('span', { class: 'order-badge', 'data-status': order.status, 'data-testid': 'order-badge' }, stepNames[order.status]),
    ),
    h('p', { class: 'order-status-line', 'data-testid': 'order-status' }, statusHeadline(order), latestNote(order)),
    demo === undefined ? null : h('p', { class: 'demo-note', 'data-testid': 'demo-note' }, demo),
    h('ol', { class: 'progress', 'aria-label': t('orders.progress') },
      ...steps.map((status) => h('li', { 'data-done': reached.has(status), 'data-current': status === order.status }, stepNames[status]))),
    h('ul', { class: 'order-lines' },
      ...order.lines.map((line) => h('li', {},
        h('span', {}, `${line.quantity} × ${view.products.get(line.sku)?.title ?? line.sku}`),
        h('span', {}, formatPrice(line.priceCents * line.quantity, order.currency))))),
    ...pricingRows(order),
    h('p', { class: 'order-total' }, h('span', {}, t('cart.total')), h('strong', { 'data-testid': 'order-total' }, formatPrice(order.totalCents, order.currency))),
    h('details', {
      class: 'history',
      open: openHistories.has(order.id),
      ontoggle: (event: Event) => {
        if ((event.currentTarget as HTMLDetailsElement).open) openHistories.add(order.id);
        else openHistories.delete(order.id);
      },
    },
      h('summary', {}, t('orders.history')),
      h('ol', {}, ...order.history.map((step) => h('li', {}, `${when(step.at)} — ${stepNames[step.status]}${step.note ? ` · ${step.note}` : ''}`)))),
    h('p', { class: 'small' }, h('a', { class: 'back-to-show', href: withToken(`/viewer?room=${encodeURIComponent(order.roomId)}`) }, t('orders.backToShow'))),
  );
}

/** "Live" while every followed room's socket is joined; otherwise what is wrong. */
function renderLive(): void {
  const clients = [...followers.values()];
  const joined = clients.filter((client) => client.connected).length;
  const state = clients.length === 0 ? 'idle' : joined === clients.length ? 'live' : 'reconnecting';
  el.live.dataset.state = state;
  setText(el.live, state === 'live' ? t('orders.live') : state === 'reconnecting' ? t('conn.reconnecting') : '');
}

/** The shop's note on the step the order is at (a tracking number), as a separate span. */
function latestNote(order: Order): HTMLSpanElement | null {
  const note = order.history.at(-1)?.note;
  return note === undefined ? null : h('span', { class: 'order-note' }, ` · ${note}`);
}

function when(at: number): string {
  return formatDateTime(at);
}

/** The order id's random part, shortened: enough for a buyer to tell orders apart. */
function shortId(orderId: string): string {
  const token = orderId.slice(orderId.indexOf('.') + 1);
  return `…${token.slice(-6)}`;
}

/** A link that keeps this page's identity when it came in the URL. */
function withToken(path: string): string {
  return givenToken === null ? path : `${path}&token=${encodeURIComponent(givenToken)}`;
}

void main().catch((error: unknown) => say(el.status, errorText(error), 'error'));
