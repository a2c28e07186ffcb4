/**
 * The three web pages in real headless Chromium (Debian's, driven by playwright-core) against a real
 * server on a free port: a streamer creates a room, adds a product with 3 units and pins it; three
 * viewers see the card; two buy the 3 units, the third sees "sold out"; every page's stock matches
 * the server's; the operator switches the room to "commerce only" and the viewers show the busy
 * banner, stop getting comments, and still see the card update. Then the room's rules: a pop-up's
 * countdown ends the offer, a sold-out card stops counting, a removed viewer's page says so and its
 * holds go back on sale, the streamer lets them back in from a list of names, and an ended show
 * stays off air while its products stay on sale and its buyers check out.
 *
 * Screenshots go to tests/artifacts/ (gitignored). The key ones are copied to docs/screenshots/
 * when missing there, or always with LIVECART_UPDATE_SCREENSHOTS=1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { http, startTestServer } from '../helpers/server.ts';
import { ARTIFACTS, DESKTOP, launchChromium, openPage, PHONE, pollers, publishShot, ROOT, sleep, textOf } from './support/browser.ts';

const ROOM = 'e2e';
const SKU = 'bag-1';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const docShots: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ commentRate: 50, commentBurst: 50, likeIntervalMs: 50, viewerCountIntervalMs: 100, stockIntervalMs: 50 });
  browser = await launchChromium(['--disable-quic', '--disable-sync']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const open = (path: string, viewport = DESKTOP): Promise<Page> => openPage(browser, `${server.url}${path}`, problems, viewport);
const { until, waitText, waitAttr, endShowOnStreamerPage } = pollers(15_000, 50);
const waitVisible = (what: string, locator: Locator, visible = true) => until(what, () => locator.isVisible(), (v) => v === visible);

/** `phoneName` names the full-page phone shot when `${name}-phone.png` is another test's (a viewport shot). */
async function shot(page: Page, name: string, options: { phone?: boolean; doc?: boolean; phoneName?: string } = {}): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(150); // let animations settle
  // A full-page shot resizes the page, which restarts a sheet's slide-in: shown at its end.
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
  if (options.doc) docShots.push(`${name}.png`);
  if (options.phone) {
    const before = page.viewportSize() ?? DESKTOP;
    await page.setViewportSize(PHONE);
    await sleep(200);
    const phoneName = options.phoneName ?? `${name}-phone.png`;
    await page.screenshot({ path: join(ARTIFACTS, phoneName), fullPage: true, animations: 'disabled' });
    if (options.doc) docShots.push(phoneName);
    await page.setViewportSize(before);
  }
}

async function inventory(streamerToken: string): Promise<{ available: number; reserved: number; sold: number }> {
  const answer = await http(server, 'GET', `/api/rooms/${ROOM}/inventory`, streamerToken);
  expect(answer.status).toBe(200);
  return answer.body.inventory[SKU];
}

describe('web pages in Chromium', () => {
  it('serves the pages and their assets with the right content types', async () => {
    for (const page of ['viewer', 'streamer', 'operator', 'orders']) {
      const response = await fetch(`${server.url}/${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get('content-type'), page).toMatch(/^text\/html/);
      const html = await response.text();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
      expect(script, `${page} script`).toBeDefined();
      expect(style, `${page} stylesheet`).toBeDefined();
      const js = await fetch(`${server.url}${script}`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      const css = await fetch(`${server.url}${style}`);
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    }
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/../package.json`)).status).toBe(404);
  });

  it('runs a flash sale: streamer, three viewers and the operator', async () => {
    const streamerToken = await server.mintToken({ userId: 'streamer-e2e', name: 'Sam the streamer', role: 'streamer' });
    const operatorToken = await server.mintToken({ userId: 'operator-e2e', name: 'Olga', role: 'operator' });
    const viewerTokens = await Promise.all(['Ann', 'Bo', 'Cy'].map((name, i) => server.mintToken({ userId: `viewer-e2e-${i + 1}`, name, role: 'viewer' })));

    // The streamer creates the room and goes live.
    const streamer = await open(`/streamer?token=${streamerToken}`);
    await streamer.getByLabel('Room title', { exact: true }).fill('Friday flash sale');
    await streamer.getByLabel(/^Room id/).fill(ROOM);
    await streamer.getByRole('button', { name: 'Create room' }).click();
    await waitText('streamer room state', streamer.locator('#room-state'), 'Not live yet');
    await streamer.getByRole('button', { name: 'Go live' }).click();
    await waitText('streamer live', streamer.locator('#room-state'), 'Live');

    // Three viewers join (one at phone width).
    const viewers = await Promise.all(viewerTokens.map((token, i) => open(`/viewer?room=${ROOM}&token=${token}`, i === 1 ? PHONE : DESKTOP)));
    for (const [i, viewer] of viewers.entries()) {
      await waitText(`viewer ${i} connected`, viewer.locator('#conn'), 'Connected');
      await waitText(`viewer ${i} room state`, viewer.locator('#room-state'), 'Live');
      await waitVisible(`viewer ${i} no card yet`, viewer.locator('#no-card'));
    }
    await waitText('streamer viewer count', streamer.getByTestId('n-viewers'), '3'); // viewers: the streamer is not counted

    // The streamer adds a product with 3 units (at most 2 per customer) and pins it.
    await streamer.getByLabel('SKU', { exact: true }).fill(SKU);
    await streamer.getByLabel('Title', { exact: true }).fill('Canvas tote bag');
    await streamer.getByLabel('Price', { exact: true }).fill('25.00');
    await streamer.getByLabel('Stock (units)', { exact: true }).fill('3');
    await streamer.getByLabel(/^Per-customer limit/).fill('2');
    await streamer.getByRole('button', { name: 'Add product' }).click();
    await waitText('streamer product row', streamer.getByTestId(`available-${SKU}`), '3');
    await streamer.getByTestId(`pin-${SKU}`).click();
    await waitText('streamer pinned', streamer.getByTestId('pinned-now'), 'Pinned: Canvas tote bag');

    for (const [i, viewer] of viewers.entries()) {
      await waitVisible(`viewer ${i} card`, viewer.getByTestId('card'));
      await waitText(`viewer ${i} card title`, viewer.locator('#card-title'), 'Canvas tote bag');
      await waitAttr(`viewer ${i} stock 3`, viewer.getByTestId('stock'), 'data-available', '3');
      expect(await textOf(viewer.locator('#card-price'))).toMatch(/25\.00/);
      expect(await textOf(viewer.locator('#card-timer'))).toMatch(/^Offer ends in [45]:\d\d$/);
    }

    // Chat and likes flow before the room gets busy.
    await viewers[0]!.getByLabel('Say something', { exact: true }).fill('Hi from Ann!');
    await viewers[0]!.getByRole('button', { name: 'Send' }).click();
    for (const [i, page] of [...viewers, streamer].entries()) {
      await waitText(`page ${i} sees Ann's comment`, page.getByTestId('comments').locator('li').last(), /Ann Hi from Ann!/);
    }
    // The room's limit counts characters (300 by default): this cheer is 225 characters but 360 UTF-16 units, and the input takes it whole.
    const cheer = '好看😍😍😍'.repeat(45);
    await viewers[1]!.getByLabel('Say something', { exact: true }).fill(cheer);
    expect(await viewers[1]!.getByLabel('Say something', { exact: true }).inputValue()).toBe(cheer);
    await viewers[1]!.getByRole('button', { name: 'Send' }).click();
    await waitText('Bo\'s emoji cheer at Ann', viewers[0]!.getByTestId('comments').locator('li').last(), new RegExp(`${cheer}$`, 'u'));
    for (let n = 0; n < 3; n++) await viewers[1]!.getByRole('button', { name: 'Like' }).click();
    await waitText('likes reach viewer 0', viewers[0]!.getByTestId('likes'), '3');

    // Ann takes two units, Bo the last one.
    const [ann, bo, cy] = viewers as [Page, Page, Page];
    await ann.getByTestId('add').click();
    await waitAttr('Ann reserved', ann.getByTestId('add-status'), 'data-state', 'reserved');
    await waitText('Ann add-one-more', ann.getByTestId('add'), 'Add one more');
    await ann.getByTestId('add').click();
    await waitText('Ann reserved two', ann.getByTestId('add-status'), /^Reserved: 2 × Canvas tote bag/);
    await bo.getByTestId('add').click();
    await waitAttr('Bo reserved', bo.getByTestId('add-status'), 'data-state', 'reserved');
    expect(await textOf(bo.locator('#add-timer'))).toMatch(/^Held for you for \d+:\d\d$/);

    // Every page shows the stock run out; Cy sees "sold out".
    for (const [i, viewer] of viewers.entries()) {
      await waitAttr(`viewer ${i} stock 0`, viewer.getByTestId('stock'), 'data-available', '0');
      expect(await textOf(viewer.getByTestId('stock'))).toBe('Sold out');
    }
    await waitText('Cy button sold out', cy.getByTestId('add'), 'Sold out');
    expect(await cy.getByTestId('add').isDisabled()).toBe(true);
    await waitText('streamer stock 0', streamer.getByTestId(`available-${SKU}`), '0 (sold out)');
    expect(await inventory(streamerToken)).toEqual({ available: 0, reserved: 3, sold: 0 });
    await shot(cy, 'viewer-sold-out', { phone: true, doc: true });

    // Ann and Bo check out.
    for (const [buyer, name, units] of [[ann, 'Ann', '2'], [bo, 'Bo', '1']] as const) {
      await buyer.locator('#cart-button').click();
      await waitVisible(`${name} cart drawer`, buyer.getByTestId('cart'));
      expect(await textOf(buyer.getByTestId('cart-count'))).toBe(units);
      expect(await textOf(buyer.getByTestId('quantity'))).toBe(units);
      if (name === 'Ann') await shot(buyer, 'viewer-cart', { phone: true, doc: true });
      await buyer.getByTestId('checkout').click();
      await waitVisible(`${name} order`, buyer.getByTestId('order'));
      await waitText(`${name} confirmation`, buyer.getByTestId('cart-status'), /^Thank you! Order \S+ is placed\.$/);
      // Nothing says paid: this server takes no demo payments and no shop confirmed one.
      expect(await textOf(buyer.getByTestId('order-status'))).toBe('Order placed — awaiting payment');
      expect(await textOf(buyer.getByTestId('cart-count'))).toBe('0');
      if (name === 'Ann') await shot(buyer, 'viewer-order', { phone: true, doc: true });
    }
    const orders = await http(server, 'GET', `/api/rooms/${ROOM}/orders`, streamerToken);
    expect(orders.body.orders.map((o: { totalCents: number }) => o.totalCents).sort()).toEqual([2500, 5000]);
    expect(await inventory(streamerToken)).toEqual({ available: 0, reserved: 0, sold: 3 });
    for (const [i, viewer] of viewers.entries()) expect(await viewer.getByTestId('stock').getAttribute('data-available'), `viewer ${i}`).toBe('0');
    await waitText('streamer sold', streamer.getByTestId('n-sold'), '3');
    await waitText('streamer orders', streamer.getByTestId('n-orders'), '2');
    await waitText('streamer reserved', streamer.getByTestId('n-reserved'), '0');
    await waitText('streamer sold column', streamer.getByTestId(`sold-${SKU}`), '3');

    // The operator sees the room and switches it to "commerce only".
    const operator = await open(`/operator?token=${operatorToken}`);
    // Three viewers (the streamer's socket is not a viewer) on the one node there is.
    await waitText('operator room row', operator.getByTestId(`members-${ROOM}`), '3');
    await waitText('operator room sockets', operator.locator(`tr[data-room="${ROOM}"] [data-cell="members-detail"]`), '4 sockets');
    await waitText('operator level 0', operator.getByTestId(`level-${ROOM}`), '0 · Normal');
    // Node health says why this node has no video (the test server runs with --media false).
    await waitText('operator video tile', operator.locator('.tile', { hasText: 'Video' }), /Unavailable: video is switched off/);
    // In memory mode every seq is issued in-process: no sequencer leases, nothing to reset.
    await waitText('operator event-order tile', operator.locator('.tile', { hasText: 'Event order kept here' }), /0 rooms · 0 events · 0 resets/);
    await operator.getByLabel(`Degrade level for ${ROOM}`, { exact: true }).selectOption('3');
    await operator.getByRole('button', { name: `Apply degrade level to ${ROOM}` }).click();
    await waitText('operator confirms', operator.getByTestId('status'), /degrade level fixed at 3 \(Commerce only\) on every node/);
    await waitText('operator level 3', operator.getByTestId(`level-${ROOM}`), '3 · Commerce only');

    for (const [i, viewer] of viewers.entries()) {
      await waitVisible(`viewer ${i} busy banner`, viewer.getByTestId('busy-banner'));
      expect(await textOf(viewer.getByTestId('busy-banner'))).toMatch(/commerce only/i);
      await waitText(`viewer ${i} comments paused`, viewer.getByTestId('comment-status'), 'Comments are paused while the room is busy.');
      expect(await viewer.getByLabel('Say something', { exact: true }).isDisabled()).toBe(true);
    }

    // The streamer still chats (and sees it); viewers do not get it, but the card keeps updating.
    await streamer.getByLabel('Comment as the streamer', { exact: true }).fill('Restocking now!');
    await streamer.getByRole('button', { name: 'Send' }).click();
    await waitText('streamer sees own comment', streamer.getByTestId('comments').locator('li').last(), /Sam the streamer Restocking now!/);
    await streamer.getByTestId(`stock-input-${SKU}`).fill('5');
    await streamer.getByTestId(`set-stock-${SKU}`).click();
    for (const [i, viewer] of viewers.entries()) {
      await waitAttr(`viewer ${i} restocked`, viewer.getByTestId('stock'), 'data-available', '5');
      expect(await textOf(viewer.getByTestId('stock'))).toBe('5 left');
    }
    await waitText('Cy can buy again', cy.getByTestId('add'), 'Add to cart');
    expect(await inventory(streamerToken)).toEqual({ available: 5, reserved: 0, sold: 3 });
    await sleep(500); // the comment was sent before the restock; give it every chance to (wrongly) arrive
    for (const [i, viewer] of viewers.entries()) {
      expect(await textOf(viewer.getByTestId('comments')), `viewer ${i}`).not.toContain('Restocking now!');
      expect(await textOf(viewer.getByTestId('comments')), `viewer ${i}`).toContain('Hi from Ann!');
    }

    await shot(cy, 'viewer-busy', { phone: true, doc: true });
    await shot(ann, 'viewer');
    // phone.test.ts publishes streamer-phone.png (the viewport the docs show); this one is the whole page.
    await shot(streamer, 'streamer', { phone: true, doc: true, phoneName: 'streamer-phone-full.png' });
    await waitText('operator sparkline has history', operator.getByTestId(`members-${ROOM}`), '3');
    await shot(operator, 'operator', { phone: true, doc: true });

    expect(problems).toEqual([]);

    // A name another e2e file also publishes would leave docs/screenshots with whichever ran last.
    const others = readdirSync(join(ROOT, 'tests', 'e2e')).filter((f) => f.endsWith('.test.ts') && f !== 'pages.test.ts');
    const published = others.flatMap((f) => [...readFileSync(join(ROOT, 'tests', 'e2e', f), 'utf8').matchAll(/'([\w-]+\.png)'/g)].map((m) => m[1]));
    expect(docShots.filter((name) => published.includes(name))).toEqual([]);
    for (const name of docShots) publishShot(name);
  }, 180_000);

  /** A live room with a 5-unit mug and a 1-unit cap, its streamer's page, and viewer pages for `names`. */
  async function rulesRoom(room: string, names: readonly string[]) {
    const streamerToken = await server.mintToken({ userId: `streamer-${room}`, name: 'Rita', role: 'streamer' });
    expect((await http(server, 'POST', '/api/rooms', streamerToken, { title: 'House rules', id: room })).status).toBe(201);
    for (const [sku, title, stock] of [['mug', 'Stoneware mug', 5], ['cap', 'Cotton cap', 1]] as const) {
      expect((await http(server, 'POST', `/api/rooms/${room}/products`, streamerToken, { sku, title, priceCents: 1500, currency: 'USD', stock })).status).toBe(201);
    }
    expect((await http(server, 'POST', `/api/rooms/${room}/start`, streamerToken)).status).toBe(200);
    const streamer = await open(`/streamer?token=${streamerToken}&room=${room}`);
    await waitText('streamer connected', streamer.locator('#conn'), 'Connected');
    const viewers = await Promise.all(names.map(async (name) => {
      const token = await server.mintToken({ userId: `viewer-${room}-${name.toLowerCase()}`, name, role: 'viewer' });
      const page = await open(`/viewer?room=${room}&token=${token}`);
      await waitText(`${name} connected`, page.locator('#conn'), 'Connected');
      return page;
    }));
    return { streamerToken, streamer, viewers };
  }

  /** Pins through the page's client (the countdown menu starts at a minute); resolves with `endsAt`. */
  const pinFor = (streamer: Page, sku: string, ms: number | undefined) => streamer.evaluate(async ([sku, ms]) => {
    const endsAt = ms === undefined ? undefined : Date.now() + ms;
    await (window as unknown as { livecart: { pin(sku: string, endsAt?: number): Promise<unknown> } }).livecart.pin(sku, endsAt);
    return endsAt;
  }, [sku, ms] as const);

  it('"watching" counts viewers, not the streamer', async () => {
    const { streamer, viewers } = await rulesRoom('rules-watch', ['Ann', 'Bo']);
    for (const [i, viewer] of viewers.entries()) await waitText(`viewer ${i} watching`, viewer.getByTestId('viewers'), '2');
    await waitText('streamer viewers', streamer.getByTestId('n-viewers'), '2');
    expect(problems).toEqual([]);
    for (const page of [streamer, ...viewers]) await page.context().close();
  }, 60_000);

  it('a pop-up countdown ends the offer on the card and the streamer page; a sold-out card stops counting', async () => {
    const { streamer, viewers } = await rulesRoom('rules-offer', ['Ann', 'Bo']);
    const [ann, bo] = viewers as [Page, Page];
    const endsAt = await pinFor(streamer, 'cap', 4000);
    await waitText('Bo cap card', bo.locator('#card-title'), 'Cotton cap');
    await waitText('Bo countdown', bo.locator('#card-timer'), /^Offer ends in 0:0\d$/);
    await waitText('streamer countdown', streamer.getByTestId('pinned-timer'), /^Offer ends in 0:0\d$/);
    await waitText('Bo offer ended', bo.locator('#card-timer'), 'Offer ended');
    await waitText('Bo button offer ended', bo.getByTestId('add'), 'Offer ended');
    expect(await bo.getByTestId('add').isDisabled()).toBe(true);
    await waitText('streamer offer ended', streamer.getByTestId('pinned-timer'), 'Offer ended');
    // The server agrees: an add now is not on sale, with the offer's end.
    const late = await bo.evaluate(() => (window as unknown as { livecart: { addToCart(sku: string): Promise<unknown> } }).livecart.addToCart('cap'));
    expect(late).toEqual({ status: 'not_on_sale', sku: 'cap', endsAt });
    await waitText('Bo told', bo.getByTestId('add-status'), 'The offer has ended.');
    await shot(bo, 'viewer-offer-ended');

    // Pinned again with a minute to go, Bo takes the last cap: the card stops counting on every page.
    await pinFor(streamer, 'cap', 60_000);
    await waitText('Bo button back on sale', bo.getByTestId('add'), 'Add to cart');
    await bo.getByTestId('add').click();
    await waitAttr('Bo reserved cap', bo.getByTestId('add-status'), 'data-state', 'reserved');
    for (const [who, page] of [['Ann', ann], ['Bo', bo]] as const) {
      await waitAttr(`${who} cap sold out`, page.getByTestId('stock'), 'data-available', '0');
      await waitText(`${who} card stops counting`, page.locator('#card-timer'), '');
    }
    await waitText('streamer stops counting', streamer.getByTestId('pinned-timer'), '');
    expect(problems).toEqual([]);
    for (const page of [streamer, ann, bo]) await page.context().close();
  }, 60_000);

  it('a removed viewer\'s page says so, what they held goes back on sale, and the streamer lets them back in from a list of names', async () => {
    const { streamerToken, streamer, viewers } = await rulesRoom('rules-kick', ['Ann', 'Bo']);
    const [ann, bo] = viewers as [Page, Page];
    await pinFor(streamer, 'mug', undefined);
    await waitText('Ann card mug', ann.locator('#card-title'), 'Stoneware mug');
    await ann.getByTestId('add').click();
    await waitAttr('Ann reserved', ann.getByTestId('add-status'), 'data-state', 'reserved');
    await waitAttr('Bo sees 4', bo.getByTestId('stock'), 'data-available', '4');
    await ann.getByLabel('Say something', { exact: true }).fill('Is it dishwasher safe?');
    await ann.getByRole('button', { name: 'Send' }).click();
    await waitText('streamer sees Ann', streamer.getByTestId('comments').locator('li').last(), /Ann Is it dishwasher safe\?/);

    await streamer.getByRole('button', { name: 'Remove Ann from the room' }).click();
    await waitText('streamer confirms', streamer.getByTestId('status'), 'Ann was removed from the room; 1 held unit is back on sale.');
    // Ann's page says so: video off, cart, like and comment controls off.
    await waitVisible('Ann removed banner', ann.getByTestId('removed-banner'));
    expect(await textOf(ann.getByTestId('removed-banner'))).toMatch(/^You were removed from this room by a moderator\./);
    await waitAttr('Ann video removed', ann.getByTestId('video'), 'data-media', 'removed');
    expect(await textOf(ann.getByTestId('video-state'))).toBe('You were removed from this room');
    expect(await ann.getByTestId('add').isDisabled()).toBe(true);
    expect(await textOf(ann.getByTestId('add'))).toBe('Removed from the room');
    expect(await textOf(ann.getByTestId('cart-count'))).toBe('0');
    expect(await ann.getByTestId('checkout').isDisabled()).toBe(true);
    expect(await ann.getByRole('button', { name: 'Like' }).isDisabled()).toBe(true);
    expect(await ann.getByLabel('Say something', { exact: true }).isDisabled()).toBe(true);
    // Her mug went back on sale.
    await waitAttr('Bo sees the mug back', bo.getByTestId('stock'), 'data-available', '5');
    expect((await http(server, 'GET', '/api/rooms/rules-kick/inventory', streamerToken)).body.inventory.mug).toEqual({ available: 5, reserved: 0, sold: 0 });
    await shot(ann, 'viewer-removed', { phone: true });

    // The streamer's list shows her name, not her id, and lets her back in.
    await waitText('ban list', streamer.getByTestId('bans'), /^Ann until .+ Let back in$/);
    expect(await textOf(streamer.getByTestId('bans'))).not.toContain('viewer-rules-kick-ann');
    await shot(streamer, 'streamer-bans');
    await streamer.getByRole('button', { name: 'Let Ann back in' }).click();
    await waitText('streamer confirms lift', streamer.getByTestId('status'), 'Ann may come back.');
    await waitVisible('nobody removed', streamer.getByText('Nobody is removed.'));
    await ann.reload();
    await waitText('Ann back', ann.locator('#conn'), 'Connected');
    await waitText('Ann may buy again', ann.getByTestId('add'), 'Add to cart');
    expect(problems).toEqual([]);
    for (const page of [streamer, ann, bo]) await page.context().close();
  }, 60_000);

  it('an ended show stays off air on the streamer page; without a recording its products stay on sale in a list, and a buyer pays for all', async () => {
    const { streamerToken, streamer, viewers } = await rulesRoom('rules-end', ['Bo']);
    const [bo] = viewers as [Page];
    await pinFor(streamer, 'cap', undefined);
    await waitText('Bo cap card', bo.locator('#card-title'), 'Cotton cap');
    await bo.getByTestId('add').click();
    await waitAttr('Bo reserved cap', bo.getByTestId('add-status'), 'data-state', 'reserved');
    expect(await streamer.getByRole('button', { name: 'Start video' }).isDisabled()).toBe(false);

    await endShowOnStreamerPage(streamer);
    // No video, so no recording: the show has ended, and its products are listed, on sale as in the show.
    await waitVisible('Bo shop', bo.getByTestId('replay'));
    await waitAttr('Bo video ended', bo.getByTestId('video'), 'data-media', 'ended');
    expect(await bo.locator('#card').isVisible()).toBe(false);
    expect(await textOf(bo.locator('#replay-note'))).toBe('The show has ended. Its products are still on sale.');
    const items = bo.getByTestId('moment');
    expect(await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-sku')))).toEqual(['mug', 'cap']);
    await waitText('Bo sees the cap sold out', items.nth(1).locator('.stock'), 'Sold out');
    expect(await bo.getByRole('button', { name: 'Add Cotton cap to cart' }).isDisabled()).toBe(true);
    await bo.getByRole('button', { name: 'Add Stoneware mug to cart' }).click();
    await waitText('Bo reserved a mug after the show', items.nth(0).getByRole('status'), 'Reserved: 1 in your cart.');
    await bo.locator('#cart-button').click();
    await waitVisible('Bo cart', bo.getByTestId('cart'));
    expect(await bo.getByRole('button', { name: 'One more Stoneware mug' }).isDisabled()).toBe(false);
    expect(await bo.getByTestId('checkout').isDisabled()).toBe(false);
    await bo.getByTestId('checkout').click();
    await waitText('Bo ordered', bo.getByTestId('cart-status'), /^Thank you! Order \S+ is placed\.$/);
    const { inventory } = (await http(server, 'GET', '/api/rooms/rules-end/inventory', streamerToken)).body;
    expect([inventory.cap, inventory.mug]).toEqual([{ available: 0, reserved: 0, sold: 1 }, { available: 4, reserved: 0, sold: 1 }]);
    expect(problems).toEqual([]);
    for (const page of [streamer, bo]) await page.context().close();
  }, 60_000);
});
