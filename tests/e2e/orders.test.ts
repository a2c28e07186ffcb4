/**
 * "My orders" in real headless Chromium at phone width (390×844), against a real server whose
 * order webhooks go to a real receiver of the test: a buyer checks out on the viewer page, which
 * says "awaiting payment" (never "paid") until the shop's backend confirms the payment, and then
 * says so live; the orders page lists the buyer's orders over two rooms, still after a reload, and
 * a status the shop's backend sets (shipped, with its tracking note) shows there live, pushed
 * through the page's follower socket. The receiver verified every webhook's signature. A second
 * server in demo mode marks the order paid and the pages say it was a demo.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient, type Order } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { WebhookReceiver } from '../helpers/webhookReceiver.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

const SECRET = 'whsec-e2e-0123456789abcdef';

let receiver: WebhookReceiver;
let server: RunningServer;
let demo: RunningServer;
let browser: Browser;
const problems: string[] = [];
const clients: LivecartClient[] = [];

beforeAll(async () => {
  receiver = await WebhookReceiver.start(SECRET);
  server = await startTestServer({ webhookUrl: receiver.url, webhookSecret: SECRET, webhookPollMs: 100, webhookRetryBaseMs: 100 });
  demo = await startTestServer({ demoPayments: true });
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await browser?.close();
  await server?.close();
  await demo?.close();
  await receiver?.stop();
});

const { until, waitText } = pollers(15_000, 50);

/** A live room with its product `hot` pinned (by the streamer's SDK connection). */
async function pinnedRoom(on: RunningServer, roomId: string): Promise<string> {
  const streamer = await saleRoom(on, roomId, 10, { title: 'Linen tote bag', priceCents: 2450 }, 'Spring market live');
  const client = connect({ url: on.wsUrl, token: streamer, room: roomId });
  clients.push(client);
  await client.ready;
  await client.pin('hot');
  return streamer;
}

/** The buyer adds the pinned product and checks out on the viewer page; answers the order shown. */
async function checkoutOnViewerPage(page: Page): Promise<string> {
  await waitText('the card', page.locator('#card-title'), 'Linen tote bag');
  await page.getByTestId('add').click();
  await until('reserved', () => page.getByTestId('add-status').getAttribute('data-state'), (s) => s === 'reserved');
  await page.locator('#cart-button').click();
  await until('the cart drawer', () => page.getByTestId('cart').isVisible(), (v) => v);
  await page.getByTestId('checkout').click();
  const status = await waitText('order placed', page.getByTestId('cart-status'), /^Thank you! Order o-\S+ is placed\.$/);
  return /Order (o-\S+) is placed/.exec(status)![1]!;
}

/** Nothing on the page is wider than the phone's screen. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`));
}

describe('"My orders" in Chromium at phone width', () => {
  it('follows an order from checkout to shipped, live and after a reload; the shop backend got every event signed', async () => {
    const streamer = await pinnedRoom(server, 'orders-show');
    const otherShop = await saleRoom(server, 'orders-other', 5, { title: 'Stoneware mug' }, 'Ceramics night');
    const ann = await viewerToken(server, 'orders-ann');
    // An earlier order in another shop, placed over HTTP.
    await http(server, 'POST', '/api/rooms/orders-other/cart/items', ann, { sku: 'hot', quantity: 2, key: 'e2e-add' });
    const earlier = (await http(server, 'POST', '/api/rooms/orders-other/checkout', ann, { key: 'e2e-pay' })).body.order as Order;

    const viewer = await openPage(browser, `${server.url}/viewer?room=orders-show&token=${ann}`, problems, PHONE);
    const orderId = await checkoutOnViewerPage(viewer);
    expect(await textOf(viewer.getByTestId('order-status'))).toBe('Order placed — awaiting payment');
    expect(await viewer.getByTestId('order').textContent()).not.toMatch(/paid/i);
    await shot(viewer, 'viewer-awaiting-payment-phone');

    // The shop's backend confirms the payment: the viewer page says so, live.
    const paid = await http(server, 'POST', `/api/orders/${orderId}/payment`, streamer, { reference: 'pi_e2e' });
    expect(paid.body.order.status).toBe('paid');
    await waitText('paid on the viewer page', viewer.getByTestId('order-status'), 'Paid');

    // "My orders", from the confirmation's link.
    await viewer.getByTestId('order-orders-link').click();
    await viewer.waitForURL(/\/orders\?token=/);
    const orders = viewer;
    await until('two orders listed', () => orders.getByTestId('order-card').count(), (n) => n === 2);
    await orders.reload();
    const cards = orders.getByTestId('order-card');
    await until('two orders after the reload', () => cards.count(), (n) => n === 2);
    expect(await cards.nth(0).getAttribute('data-order')).toBe(orderId);
    expect(await cards.nth(1).getAttribute('data-order')).toBe(earlier.id);
    const mine = orders.locator(`[data-order="${orderId}"]`);
    expect(await textOf(mine.getByTestId('order-badge'))).toBe('Paid');
    expect(await textOf(orders.locator(`[data-order="${earlier.id}"]`).getByTestId('order-status'))).toBe('Order placed — awaiting payment');
    expect(await textOf(orders.locator(`[data-order="${earlier.id}"]`).getByTestId('order-total'))).toContain('39.98');
    expect(await mine.getByTestId('demo-note').count()).toBe(0);

    // The page follows both rooms live: the next step is pushed, not polled (the page reads the list every 30 s).
    await until('the page follows the rooms', async () => [server.rooms.hosted('orders-show')?.followerCount, server.rooms.hosted('orders-other')?.followerCount], ([a, b]) => a === 1 && b === 1);
    await waitText('live', orders.getByTestId('live'), '● Live');
    await shot(orders, 'orders-phone');
    const shipped = await http(server, 'POST', `/api/orders/${orderId}/status`, streamer, { status: 'shipped', note: 'DHL 0042' });
    expect(shipped.body.changed).toBe(true);
    await until('shipped, live', () => textOf(mine.getByTestId('order-badge')), (t) => t === 'Shipped', 5000);
    await waitText('announced', orders.getByTestId('status'), /: Shipped\.$/);
    await mine.locator('summary').click();
    expect(await textOf(mine.locator('.history'))).toMatch(/Placed.*Paid.*Shipped · DHL 0042/);
    const cancelled = await http(server, 'POST', `/api/orders/${earlier.id}/status`, otherShop, { status: 'cancelled' });
    expect(cancelled.body.order.status).toBe('cancelled');
    await until('cancelled, live', () => textOf(orders.locator(`[data-order="${earlier.id}"]`).getByTestId('order-badge')), (t) => t === 'Cancelled', 5000);
    expect(await overflowing(orders)).toEqual([]);
    await shot(orders, 'orders-shipped-phone');

    // The shop's backend got each event once, every request signed with the secret.
    const events = await receiver.waitForHandled(5);
    expect(events.filter((e) => e.data.order.id === orderId).map((e) => e.type)).toEqual(['order.placed', 'order.paid', 'order.shipped']);
    expect(events.filter((e) => e.data.order.id === earlier.id).map((e) => e.type)).toEqual(['order.placed', 'order.cancelled']);
    expect(receiver.requests.every((r) => r.verified && r.status === 200)).toBe(true);
    expect(problems).toEqual([]);
    await orders.context().close();
  }, 90_000);

  it('in demo mode the order is paid as a demo, and both pages say so', async () => {
    await pinnedRoom(demo, 'demo-show');
    const bo = await viewerToken(demo, 'demo-bo');
    const viewer = await openPage(browser, `${demo.url}/viewer?room=demo-show&token=${bo}`, problems, PHONE);
    await checkoutOnViewerPage(viewer);
    await waitText('demo payment on the viewer page', viewer.getByTestId('order-status'), 'Paid · Demo: no payment taken');
    await viewer.goto(`${demo.url}/orders?token=${bo}`);
    const card = viewer.getByTestId('order-card');
    await until('the order listed', () => card.count(), (n) => n === 1);
    expect(await textOf(card.getByTestId('order-badge'))).toBe('Paid');
    expect(await textOf(card.getByTestId('demo-note'))).toBe('Demo: no payment taken');
    expect(await overflowing(viewer)).toEqual([]);
    expect(problems).toEqual([]);
    await viewer.context().close();
  }, 60_000);

  it('a line with a long title keeps its price on one line at 360 px', async () => {
    const title = 'Extra-soft hand-knitted merino wool scarf with tassels, limited edition 限量版 真丝羊毛围巾 🧣';
    await saleRoom(server, 'orders-long', 5, { title, priceCents: 123456 }, 'Winter knits live');
    const cy = await viewerToken(server, 'orders-cy');
    const buyer = connect({ url: server.wsUrl, token: cy, room: 'orders-long' });
    clients.push(buyer);
    await buyer.ready;
    expect((await buyer.addToCart('hot')).status).toBe('reserved');
    expect((await buyer.checkout()).status).toBe('ordered');
    const page = await openPage(browser, `${server.url}/orders?token=${cy}`, problems, { width: 360, height: 740 });
    const price = page.getByTestId('order-card').locator('.order-lines li > span:last-child');
    await waitText('the line', price, '$1,234.56');
    // One line box per price: before, the long title squeezed it to "$1,23 / 4.56".
    expect(await price.evaluate((span) => { const range = document.createRange(); range.selectNodeContents(span); return range.getClientRects().length; })).toBe(1);
    expect(await overflowing(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a buyer with no orders is told so', async () => {
    const page = await openPage(browser, `${server.url}/orders?token=${await viewerToken(server, 'orders-nobody')}`, problems, PHONE);
    await until('the empty state', () => page.getByTestId('empty').isVisible(), (v) => v);
    expect(await page.getByTestId('order-card').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(900); // let a card's flash end
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  publishShot(`${name}.png`);
}
