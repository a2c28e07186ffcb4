/**
 * The shop window and product pages in real headless Chromium at phone width (390×844): a buyer
 * shops a streamer's window while no show is live (adds, checks out, finds the order in My
 * orders); a product page shows the list price struck through, the sale price and the variants
 * with the stock of each, and a variant goes into the cart; a broken product image shows as a
 * generated tile; and the viewer page of a show linked to the shop lists all of the show's
 * products in a sheet, selling from the same stock.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

/** Not an image: the page must show its generated tile. */
const BROKEN_IMAGE = 'data:image/png;base64,AAAAAAAA';
const STREAMER_ID = 'mia-makes';

let server: RunningServer;
let browser: Browser;
let streamer: string;
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ stockIntervalMs: 20 });
  browser = await launchChromium([]);
  streamer = await server.mintToken({ userId: STREAMER_ID, name: 'Mia', role: 'streamer' });
  const products = [
    { sku: 'tote', title: 'Linen tote bag', priceCents: 2450, listPriceCents: 3200, currency: 'USD', stock: 12, imageUrl: BROKEN_IMAGE, description: 'Washed linen, inside pocket.' },
    {
      sku: 'tee', title: 'Logo tee', priceCents: 2499, listPriceCents: 2999, currency: 'USD', stock: 0, description: 'Heavy cotton tee.\nPick a size and a colour.',
      variants: [
        { sku: 'tee-s-black', options: { size: 'S', colour: 'Black' }, stock: 4 },
        { sku: 'tee-m-black', options: { size: 'M', colour: 'Black' }, stock: 0 },
        { sku: 'tee-m-white', options: { size: 'M', colour: 'White' }, stock: 10 },
      ],
    },
  ];
  for (const product of products) {
    const added = await http(server, 'POST', '/api/shop/products', streamer, product);
    if (added.status !== 201) throw new Error(JSON.stringify(added.body));
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(15_000, 50);

async function shot(page: Page, name: string): Promise<void> {
  await sleep(300);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  publishShot(`${name}.png`);
}

/** Nothing on the page is wider than the phone's screen. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`));
}

describe('the shop window in Chromium at phone width', () => {
  it('a purchase with no show live: add, check out, the order shown here and in My orders', async () => {
    const ann = await viewerToken(server, 'shop-ann');
    const page = await openPage(browser, `${server.url}/shop?streamer=${STREAMER_ID}&token=${ann}`, problems, PHONE);
    await waitText('the shop title', page.locator('#shop-title'), 'Mia\'s shop');
    const rows = page.getByTestId('product-row');
    await until('two products', () => rows.count(), (n) => n === 2);
    expect(await page.getByTestId('offline-note').isVisible()).toBe(true);
    expect(await page.getByTestId('live-banner').isVisible()).toBe(false);
    const tote = page.locator('[data-testid="product-row"][data-sku="tote"]');
    await waitText('live stock', tote.getByTestId('product-stock'), '12 left');
    expect(await textOf(tote.getByTestId('list-price'))).toContain('32.00');

    // The broken image is a generated tile, never a broken picture.
    const thumb = tote.locator('img');
    await until('the tile', () => thumb.getAttribute('data-fallback'), (v) => v === 'tile');
    // It decodes: a picture, not a broken-image icon.
    expect(await thumb.evaluate((img) => (img as HTMLImageElement).decode().then(() => true, () => false))).toBe(true);
    expect(await thumb.getAttribute('src')).toMatch(/^data:image\/svg\+xml,/);

    await tote.getByTestId('product-add').click();
    await waitText('one in the cart', page.getByTestId('cart-count'), '1');
    await waitText('stock down', tote.getByTestId('product-stock'), '11 left');
    expect(await overflowing(page)).toEqual([]);
    await shot(page, 'shop-window-phone');

    await page.getByTestId('cart-button').click();
    await until('the cart drawer', () => page.getByTestId('cart').isVisible(), (v) => v);
    await waitText('the total', page.getByTestId('cart-total'), /24\.50/);
    // The viewer page's cart (cartDrawer.ts): a bottom sheet at phone width, each line with its hold's
    // countdown and − / + (the shop's own drawer had neither).
    await sleep(300); // its slide-in animation ends
    const sheet = (await page.getByTestId('cart').boundingBox())!;
    expect(sheet.x).toBe(0);
    expect(sheet.width).toBe(PHONE.width);
    expect(sheet.y + sheet.height).toBeCloseTo(PHONE.height, 0);
    expect(await page.getByTestId('cart-button').getAttribute('aria-expanded')).toBe('true');
    expect(await textOf(page.getByTestId('cart-lines'))).toMatch(/held for \d+:\d\d/);
    await page.getByRole('button', { name: 'One more Linen tote bag' }).click();
    await waitText('two held', page.getByTestId('quantity'), '2');
    await waitText('the total of two', page.getByTestId('cart-total'), /49\.00/);
    await page.getByRole('button', { name: 'One fewer Linen tote bag' }).click();
    await waitText('one held again', page.getByTestId('quantity'), '1');
    await waitText('the total of one', page.getByTestId('cart-total'), /24\.50/);
    await page.getByTestId('checkout').click();
    await until('the order', () => page.getByTestId('order').isVisible(), (v) => v);
    const orderId = /Order (\S+)/.exec(await textOf(page.getByTestId('order-id')))![1]!;
    expect(await textOf(page.getByTestId('order-total'))).toContain('24.50');
    expect(await textOf(page.getByTestId('order-status'))).toBe('Order placed — awaiting payment');
    expect((await http(server, 'GET', `/api/rooms/${(await http(server, 'GET', `/api/shops/${STREAMER_ID}`)).body.shop.id}/inventory`, streamer)).body.inventory.tote).toEqual({ available: 11, reserved: 0, sold: 1 });

    await page.getByTestId('order-orders-link').click();
    await page.waitForURL(/\/orders\?token=/);
    await until('the order in My orders', () => page.locator(`[data-order="${orderId}"]`).count(), (n) => n === 1);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('a product page: pictures, description, the list price struck through, variants with their stock; a variant into the cart', async () => {
    const bo = await viewerToken(server, 'shop-bo');
    const page = await openPage(browser, `${server.url}/shop?streamer=${STREAMER_ID}&token=${bo}`, problems, PHONE);
    const tee = page.locator('[data-testid="product-row"][data-sku="tee"]');
    await waitText('the tee\'s stock (its variants\')', tee.getByTestId('product-stock'), '14 left');
    await tee.getByTestId('product-choose').click();
    const product = page.getByTestId('product-page');
    await until('the product page', () => product.isVisible(), (v) => v);
    expect(await textOf(page.locator('#product-sheet-title'))).toBe('Logo tee');
    const list = product.getByTestId('list-price');
    expect(await textOf(list)).toContain('29.99');
    expect(await list.evaluate((e) => e.tagName + ' ' + getComputedStyle(e).textDecorationLine)).toBe('S line-through');
    expect(await textOf(product.getByTestId('sale-price'))).toContain('24.99');
    expect(await textOf(product.getByTestId('description'))).toContain('Pick a size and a colour.');
    // A product without pictures shows its tile.
    expect(await product.getByTestId('gallery').locator('img').first().getAttribute('data-fallback')).toBe('tile');

    const variants = product.getByTestId('variant');
    expect(await variants.count()).toBe(3);
    expect(await textOf(product.locator('[data-sku="tee-s-black"]').getByTestId('variant-stock'))).toBe('4 left');
    expect(await textOf(product.locator('[data-sku="tee-m-black"]').getByTestId('variant-stock'))).toBe('Sold out');
    const white = product.locator('[data-testid="variant"][data-sku="tee-m-white"]');
    await white.click();
    expect(await white.getAttribute('aria-pressed')).toBe('true');
    await product.getByTestId('product-page-add').click();
    await waitText('added', product.getByTestId('product-status'), 'Logo tee (M / White): 1 in your cart');
    await waitText('the variant\'s stock', white.getByTestId('variant-stock'), '9 left');
    await waitText('one in the cart', page.getByTestId('cart-count'), '1');
    // The sold-out variant cannot be added.
    await product.locator('[data-testid="variant"][data-sku="tee-m-black"]').click();
    expect(await product.getByTestId('product-page-add').isDisabled()).toBe(true);
    await white.click();
    expect(await overflowing(page)).toEqual([]);
    await shot(page, 'product-page-phone');

    await product.getByTestId('product-view-cart').click();
    await until('the cart drawer', () => page.getByTestId('cart').isVisible(), (v) => v);
    expect(await textOf(page.getByTestId('cart-lines'))).toContain('Logo tee (M / White)');
    await waitText('the total in cents', page.getByTestId('cart-total'), /24\.99/);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);
});

describe('the shop window\'s connection state', () => {
  it('shows nothing while connected (the state is there for screen readers), and the state once the server is gone', async () => {
    const own = await startTestServer();
    const problemsHere: string[] = [];
    try {
      const host = await own.mintToken({ userId: 'conn-shop', name: 'Ivy', role: 'streamer' });
      expect((await http(own, 'POST', '/api/shop/products', host, { sku: 'mug', title: 'Mug', priceCents: 900, currency: 'USD', stock: 3 })).status).toBe(201);
      const page = await openPage(browser, `${own.url}/shop?streamer=conn-shop&token=${await viewerToken(own, 'conn-buyer')}`, problemsHere, PHONE);
      const conn = page.locator('#conn');
      await until('connected', () => conn.getAttribute('data-state'), (s) => s === 'connected');
      expect(await textOf(conn)).toBe('Connected');
      expect(await conn.isVisible()).toBe(false);
      await own.close();
      await until('the connection state shown', () => conn.isVisible(), (v) => v, 20_000);
      expect(await textOf(conn)).toMatch(/^(Reconnecting|Disconnected)/);
      const badge = (await conn.boundingBox())!;
      expect(badge.x).toBeGreaterThanOrEqual(0);
      expect(badge.x + badge.width).toBeLessThanOrEqual(PHONE.width);
      // It covers nothing of the page below it.
      const below = (await page.getByTestId('offline-note').boundingBox())!;
      expect(badge.y + badge.height).toBeLessThanOrEqual(below.y + 1);
      await shot(page, 'shop-reconnecting-phone');
      await page.context().close();
    } finally {
      await own.close().catch(() => undefined);
    }
  }, 60_000);
});

describe('a shop that does not exist', () => {
  it('says so, and no connection state claims it is connecting', async () => {
    const problemsHere: string[] = [];
    const page = await openPage(browser, `${server.url}/shop?streamer=nobody-here`, problemsHere, PHONE);
    await waitText('the page says it cannot open', page.getByRole('alert'), /This streamer has no shop yet/);
    expect(await page.locator('#conn').isVisible()).toBe(false);
    expect(problemsHere).toEqual([`/shop: 404 /api/shops/nobody-here`]);
    await page.context().close();
  }, 30_000);
});

describe('the viewer page\'s product list', () => {
  it('a show linked to the shop lists all its products in a sheet, selling from the shop\'s stock', async () => {
    const created = await http(server, 'POST', '/api/rooms', streamer, { title: 'Friday makers live', id: 'makers-live', shop: true });
    expect(created.status).toBe(201);
    for (const sku of ['tote', 'tee']) {
      expect((await http(server, 'POST', '/api/rooms/makers-live/products', streamer, { sku, title: sku, priceCents: 1, currency: 'USD', stock: 1 })).status).toBe(201);
    }
    await http(server, 'POST', '/api/rooms/makers-live/start', streamer);
    const cy = await viewerToken(server, 'shop-cy');
    const page = await openPage(browser, `${server.url}/viewer?room=makers-live&token=${cy}`, problems, PHONE);
    const button = page.getByTestId('products-button');
    await waitText('the products button', button, 'Products (2)');
    await button.click();
    const sheet = page.getByTestId('product-sheet');
    await until('the sheet', () => sheet.isVisible(), (v) => v);
    const rows = sheet.getByTestId('product-row');
    expect(await rows.count()).toBe(2);
    const tote = sheet.locator('[data-testid="product-row"][data-sku="tote"]');
    // The shop sold one tote in the first test: the show sells from the same stock.
    await waitText('the shop\'s stock', tote.getByTestId('product-stock'), '11 left');
    await waitText('the tee\'s variants', sheet.locator('[data-sku="tee"]').getByTestId('product-stock'), '13 left');
    await tote.getByTestId('product-add').click();
    await waitText('stock down', tote.getByTestId('product-stock'), '10 left');
    await waitText('one in the cart', page.getByTestId('cart-count'), '1');
    // "More shows from this streamer" leads to the shop window, not to the shop's room as a live show.
    const shopItem = page.getByTestId('upcoming-shows').locator('li[data-kind="shop"]');
    await until('the shop among the streamer\'s shows', () => shopItem.count(), (n) => n === 1);
    expect(await shopItem.locator('a').getAttribute('href')).toBe(`/shop?streamer=${STREAMER_ID}`);
    expect(await textOf(shopItem)).toBe('Mia\'s shop Shop');
    expect(await shopItem.locator('.badge').count()).toBe(0);
    expect(await overflowing(page)).toEqual([]);
    await shot(page, 'viewer-products-phone');
    // The shop window hears the show's sale.
    expect((await http(server, 'GET', `/api/shops/${STREAMER_ID}`)).body.stock.tote).toBe(10);
    expect((await http(server, 'GET', `/api/shops/${STREAMER_ID}`)).body.live).toMatchObject({ id: 'makers-live' });

    // The pinned card: a broken picture shows the tile; a product with variants opens its page to pick one.
    await sheet.getByTestId('product-sheet-close').click();
    const host = connect({ url: server.wsUrl, token: streamer, room: 'makers-live' });
    try {
      await host.ready;
      await host.pin('tote');
      await waitText('the card', page.locator('#card-title'), 'Linen tote bag');
      await until('the card\'s tile', () => page.locator('#card-image').getAttribute('src'), (src) => src?.startsWith('data:image/svg+xml,') === true);
      await host.pin('tee');
      await waitText('the tee\'s card', page.locator('#card-title'), 'Logo tee');
      await waitText('the card counts the variants\' stock', page.getByTestId('stock'), /^13 left/);
      await page.getByTestId('add').click();
      await until('the product page from the card', () => page.getByTestId('product-page').isVisible(), (v) => v);
      expect(await page.getByTestId('product-page').getAttribute('data-sku')).toBe('tee');
      expect(await textOf(page.getByTestId('cart-count'))).toBe('1');
    } finally {
      host.close();
    }
    expect(problems).toEqual([]);
    await page.context().close();

    // The streamer page of a linked show leads to the shop window.
    const studio = await openPage(browser, `${server.url}/streamer?token=${streamer}&room=makers-live`, problems, PHONE);
    await until('the shop link', () => studio.getByTestId('shop-link').getAttribute('href'), (href) => href === `/shop?streamer=${STREAMER_ID}`);
    // Its scheduled shows list the show, not the shop (no show to start or remind of).
    await until('the scheduled shows', () => studio.getByTestId('scheduled-shows').locator('li').count(), (n) => n > 0);
    expect(await studio.getByTestId('scheduled-shows').locator('li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.room))).toEqual(['makers-live']);
    expect(problems).toEqual([]);
    await studio.context().close();
  }, 90_000);
});
