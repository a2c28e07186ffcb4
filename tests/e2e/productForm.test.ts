/**
 * The streamer page's add-product form with the product page's fields, in real headless Chromium at
 * 390×844 against a real server:
 *
 * - the streamer adds a product with a list price, a description, two image URLs and two variants
 *   (a row added, one removed again) through the form; what the form refuses is said on the page,
 *   at the field, and a refusal from the server (the SKU is taken) is its typed error, translated;
 * - a viewer sees the pinned card's list price struck through, opens the product from the card,
 *   picks a variant and adds it to the cart;
 * - at desktop width the same form sits in the products panel;
 * - in zh-CN the streamer page's encoder hints and a refused add speak Chinese.
 *
 * Screenshots: streamer-product-form-phone.png, viewer-list-price-phone.png, streamer-product-form-desktop.png.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { http, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, DESKTOP, launchChromium, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(15_000, 50);

/** A page at `viewport` in a fresh context whose browser language is `locale`; its errors land in `problems` (the media node is off here: its notes are not the page's errors). */
async function open(path: string, problems: string[], locale = 'en-US', viewport = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${path}: uncaught ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|video|media|transport/i.test(message.text())) problems.push(`${path}: console error ${message.text()}`);
  });
  const response = await page.goto(`${server.url}${path}`);
  expect(response?.status(), path).toBe(200);
  return page;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await sleep(250);
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage });
  publishShot(name);
}

const svg = (fill: string) => `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60"><rect width="60" height="60" fill="${fill}"/></svg>`)}`;

/** A live room of a new streamer, and the streamer page on it with its products sheet open. */
async function studio(roomId: string, locale: string, problems: string[], viewport = PHONE): Promise<{ page: Page; token: string }> {
  const token = await server.mintToken({ userId: `host-${roomId}`, name: 'Mia', role: 'streamer' });
  expect((await http(server, 'POST', '/api/rooms', token, { title: 'Form drop', id: roomId })).status).toBe(201);
  expect((await http(server, 'POST', `/api/rooms/${roomId}/start`, token)).status).toBe(200);
  const page = await open(`/streamer?token=${token}&room=${roomId}`, problems, locale, viewport);
  await until('joined', () => page.getByTestId('room-state').getAttribute('data-state'), (s) => s === 'live');
  if (viewport === PHONE) {
    await page.getByTestId('products-button').click();
    await until('the products sheet', () => page.locator('#products').isVisible(), (v) => v);
  }
  return { page, token };
}

describe('adding a product with its page\'s fields from the streamer page', () => {
  it('list price, description, images and two variants through the form at 390×844; a viewer sees the list price struck through and buys a variant', async () => {
    const problems: string[] = [];
    const { page } = await studio('form-drop', 'en-US', problems);
    const status = page.getByTestId('product-form-status');
    const submit = () => page.getByRole('button', { name: 'Add product' }).click();

    await page.getByLabel('SKU', { exact: true }).fill('tee');
    await page.getByLabel('Title', { exact: true }).fill('Logo tee');
    await page.getByLabel('Price', { exact: true }).fill('24.99');
    // Refused on the page, at the field: a list price below the price.
    await page.getByLabel(/^List price/).fill('19.99');
    await submit();
    await waitText('the list price refused', status, 'The list price is the regular price: it cannot be below the price.');
    expect(await status.getAttribute('data-kind')).toBe('error');
    expect(await page.locator('#p-list-price').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('p-list-price');
    await page.getByLabel(/^List price/).fill('29.99');
    await page.getByLabel(/^Description/).fill('Heavy cotton tee.\nPick a size and a colour.');
    await page.getByLabel(/^Image URLs/).fill('not an address');
    await submit();
    await waitText('the image refused', status, 'Image URL on line 1 is not a web address (https://…).');
    await page.getByLabel(/^Image URLs/).fill(`${svg('#e0245e')}\n${svg('#3b5bdb')}`);

    // Variants: rows added and removed; the name gives a value for each option.
    await page.getByLabel('Option names').fill('size / colour');
    for (let i = 0; i < 3; i++) await page.getByTestId('add-variant').click();
    const rows = page.getByTestId('variant-row');
    expect(await rows.count()).toBe(3);
    await page.getByRole('button', { name: 'Remove variant 3' }).click();
    expect(await rows.count()).toBe(2);
    await page.getByLabel('Variant 1: SKU suffix').fill('m-white');
    await page.getByLabel('Variant 1: Name').fill('M / White');
    await page.getByLabel('Variant 1: Stock').fill('10');
    await page.getByLabel('Variant 2: SKU suffix').fill('s-black');
    await page.getByLabel('Variant 2: Name').fill('S');
    await page.getByLabel('Variant 2: Stock').fill('4');
    await page.getByLabel('Variant 2: Price (optional)').fill('22');
    await submit();
    await waitText('the variant name refused', status, 'Variant 2: the name needs a value for each option (size / colour), separated by “/”.');
    expect(await page.getByLabel('Variant 2: Name').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Variant 2: Name').fill('S / Black');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.locator('#product-form').scrollIntoViewIfNeeded();
    await shot(page, 'streamer-product-form-phone.png');
    await submit();
    await waitText('added', status, 'Added Logo tee (tee) with 14 units.');
    expect(await status.getAttribute('data-kind')).toBe('ok');
    // The form is ready for the next product.
    expect(await rows.count()).toBe(0);
    expect(await page.getByLabel('SKU', { exact: true }).inputValue()).toBe('');

    const room = await http(server, 'GET', '/api/rooms/form-drop');
    expect(room.body.products.find((p: { sku: string }) => p.sku === 'tee')).toMatchObject({
      sku: 'tee', title: 'Logo tee', priceCents: 2499, listPriceCents: 2999, currency: 'USD', description: 'Heavy cotton tee.\nPick a size and a colour.',
      imageUrl: svg('#e0245e'), images: [svg('#3b5bdb')],
      variants: [
        { sku: 'tee-m-white', options: { size: 'M', colour: 'White' }, stock: 10 },
        { sku: 'tee-s-black', options: { size: 'S', colour: 'Black' }, stock: 4, priceCents: 2200 },
      ],
    });
    await waitText('the studio lists it', page.getByTestId('available-tee'), '14');

    // The server refuses a SKU already taken: its typed error, in the page's words.
    await page.getByLabel('SKU', { exact: true }).fill('tee');
    await page.getByLabel('Title', { exact: true }).fill('Another tee');
    await page.getByLabel('Price', { exact: true }).fill('10');
    await submit();
    await waitText('the server refused', status, 'Could not add the product: A product with that SKU is already here: pick another SKU.');

    // Pinned; a viewer's card shows the list price struck through, and its page sells the variants.
    await page.getByTestId('pin-tee').click();
    await waitText('pinned', page.getByTestId('pinned-now'), 'Pinned: Logo tee');
    const viewer = await open(`/viewer?room=form-drop&token=${await viewerToken(server, 'form-ann')}`, problems);
    await waitText('the card', viewer.locator('#card-title'), 'Logo tee');
    expect(await textOf(viewer.locator('#card-price'))).toBe('$24.99');
    const list = viewer.getByTestId('card-list-price');
    expect(await list.isVisible()).toBe(true);
    expect(await textOf(list)).toBe('was $29.99');
    expect(await list.evaluate((e) => e.tagName + ' ' + getComputedStyle(e).textDecorationLine)).toBe('S line-through');
    await waitText('the variants\' stock', viewer.getByTestId('stock'), /^14 left/);
    await shot(viewer, 'viewer-list-price-phone.png');
    await viewer.getByTestId('add').click();
    const product = viewer.getByTestId('product-page');
    await until('the product page', () => product.isVisible(), (v) => v);
    expect(await textOf(product.getByTestId('list-price'))).toContain('29.99');
    expect(await textOf(product.getByTestId('description'))).toContain('Pick a size and a colour.');
    expect(await textOf(product.locator('legend'))).toBe('Size · Colour');
    const black = product.locator('[data-testid="variant"][data-sku="tee-s-black"]');
    await black.click();
    expect(await black.getAttribute('aria-pressed')).toBe('true');
    expect(await textOf(product.getByTestId('sale-price'))).toBe('$22.00');
    await product.getByTestId('product-page-add').click();
    await waitText('added', product.getByTestId('product-status'), 'Logo tee (S / Black): 1 in your cart');
    await waitText('one in the cart', viewer.getByTestId('cart-count'), '1');
    expect(problems).toEqual([]);
  }, 90_000);

  it('the same form at desktop width, in the products panel', async () => {
    const problems: string[] = [];
    const { page } = await studio('form-desk', 'en-US', problems, DESKTOP);
    await until('the products panel', () => page.locator('#products').isVisible(), (v) => v);
    await page.getByLabel('SKU', { exact: true }).fill('cap');
    await page.getByLabel('Title', { exact: true }).fill('Cotton cap');
    await page.getByLabel('Price', { exact: true }).fill('15');
    await page.getByLabel(/^List price/).fill('18');
    await page.getByTestId('add-variant').click();
    await page.getByTestId('add-variant').click();
    for (const [i, [suffix, name, stock]] of [['red', 'Red', '3'], ['blue', 'Blue', '5']].entries()) {
      await page.getByLabel(`Variant ${i + 1}: SKU suffix`).fill(suffix!);
      await page.getByLabel(`Variant ${i + 1}: Name`).fill(name!);
      await page.getByLabel(`Variant ${i + 1}: Stock`).fill(stock!);
    }
    await page.getByLabel('Option names').fill('colour');
    // One line per variant at this width.
    const [first, second] = [await page.getByTestId('variant-row').nth(0).boundingBox(), await page.getByTestId('variant-row').nth(1).boundingBox()];
    expect(first!.height).toBeLessThan(90);
    expect(second!.y).toBeGreaterThan(first!.y + first!.height - 1);
    await page.locator('#product-form').scrollIntoViewIfNeeded();
    await shot(page, 'streamer-product-form-desktop.png');
    await page.getByRole('button', { name: 'Add product' }).click();
    await waitText('added', page.getByTestId('product-form-status'), 'Added Cotton cap (cap) with 8 units.');
    await waitText('listed with its variants', page.locator('tr[data-sku="cap"] [data-cell="meta"]'), /^cap · 2 variants/);
    expect(await textOf(page.locator('tr[data-sku="cap"] [data-cell="price"]'))).toBe('$15.00 (list $18.00)');
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('the streamer page in zh-CN', () => {
  it('its encoder hints and a refused add are in Chinese', async () => {
    const problems: string[] = [];
    const { page, token } = await studio('form-zh', 'zh-CN', problems);
    expect(await http(server, 'POST', '/api/rooms/form-zh/products', token, { sku: 'mug', title: '马克杯', priceCents: 1800, currency: 'USD', stock: 5 }).then((r) => r.status)).toBe(201);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.getByLabel('SKU', { exact: true }).getAttribute('placeholder')).toBe('bag-1');
    expect(await page.locator('#p-title').getAttribute('placeholder')).toBe('帆布包');
    expect(await textOf(page.getByTestId('add-variant'))).toBe('+ 添加规格');

    // The add refused by the server (the SKU is taken): its code in Chinese, not the server's English.
    await page.locator('#p-sku').fill('mug');
    await page.locator('#p-title').fill('另一个马克杯');
    await page.locator('#p-price').fill('12');
    await page.locator('#product-form button[type="submit"]').click();
    await waitText('refused, in Chinese', page.getByTestId('product-form-status'), '无法添加商品：已有相同 SKU 的商品：请换一个 SKU。');
    // Checked on the page first, in Chinese too.
    await page.locator('#p-price').fill('12.345');
    await page.locator('#product-form button[type="submit"]').click();
    await waitText('the price refused, in Chinese', page.getByTestId('product-form-status'), /^价格/);

    // The encoder panel's hints (the products sheet closed first).
    await page.keyboard.press('Escape');
    await until('the sheet closed', () => page.locator('#products').isVisible(), (v) => !v);
    await page.getByTestId('encoder').locator('summary').click();
    expect(await textOf(page.getByTestId('encoder').locator('summary'))).toBe('用 OBS 或编码器推流');
    expect(await textOf(page.getByTestId('encoder-hint'))).toMatch(/^OBS 30 及以上：设置 → 推流 → 服务选“WHIP”/);
    await until('the stream key read', () => page.getByTestId('whip-url').inputValue(), (v) => v !== '');
    // The test server runs without RTMP: the note says so, in Chinese.
    await until('the RTMP note', () => page.getByTestId('rtmp-off').isVisible(), (v) => v);
    expect(await textOf(page.getByTestId('rtmp-off'))).toBe('此服务器未开启 RTMP（运维人员用 --rtmp-port 开启）：请使用 WHIP。');
    expect(problems).toEqual([]);
  }, 60_000);
});
