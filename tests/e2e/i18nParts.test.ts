/**
 * The parts of issue 20 built beside the phone pages speak zh-CN too: in real headless Chromium at
 * 390×844 whose browser language is zh-CN, against a real dev-mode server,
 *
 * - the viewer's coupon card (terms, "N left", Claim and its answer) is in Chinese, money written
 *   for zh-CN ("US$5.00");
 * - a scheduled show's preview (eyebrow, countdown, Remind me, its products) is in Chinese;
 * - the shop window has the language picker, and its name, static text, product rows, product page
 *   and variant legend are in Chinese.
 *
 * Screenshots (tests/artifacts): coupon-phone-zh.png, show-preview-phone-zh.png, shop-window-phone-zh.png.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, PHONE, pollers, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const clients: LivecartClient[] = [];
const contexts: BrowserContext[] = [];
const problems: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(15_000, 50);

/** A phone page in a fresh context whose browser language is zh-CN; its errors land in `problems`. */
async function openZh(path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, locale: 'zh-CN' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${path}: uncaught ${error.message}`));
  const response = await page.goto(`${server.url}${path}`);
  expect(response?.status(), path).toBe(200);
  return page;
}

describe('the coupon card, the scheduled show and the shop window in zh-CN at 390×844', () => {
  it('shows Chinese labels on each', async () => {
    // The coupon card: a live room with a coupon pinned.
    const streamerToken = await saleRoom(server, 'zh-coupon', 20, { title: '真丝围巾', priceCents: 2450 }, '春季新品直播');
    const streamer = connect({ url: server.wsUrl, token: streamerToken, room: 'zh-coupon' });
    clients.push(streamer);
    await streamer.ready;
    await streamer.createCoupon({ id: 'SAVE5', amountOffCents: 500, minSpendCents: 2000, total: 10 });
    await streamer.pinCoupon('SAVE5');
    const viewer = await openZh(`/viewer?room=zh-coupon&token=${await viewerToken(server, 'zh-ann')}`);
    const card = viewer.getByTestId('coupon-card');
    await until('the coupon card', () => card.isVisible(), (v) => v);
    expect(await viewer.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await textOf(viewer.locator('#coupon-title'))).toBe('立减US$5.00');
    expect(await textOf(viewer.getByTestId('coupon-terms'))).toBe('满US$20.00可用 · 每人限领 1 张');
    await waitText('the coupons left', viewer.getByTestId('coupon-left'), '剩余 10 张');
    expect(await textOf(card.locator('.coupon-stub'))).toBe('优惠券');
    expect(await textOf(viewer.getByTestId('coupon-claim'))).toBe('领取');
    await viewer.getByTestId('coupon-claim').click();
    await waitText('the claim', viewer.getByTestId('coupon-status'), '领取成功！下次结算时自动抵扣 SAVE5。满US$20.00可用。');
    expect(await textOf(viewer.getByTestId('coupon-claim'))).toBe('已领取');
    await viewer.screenshot({ path: join(ARTIFACTS, 'coupon-phone-zh.png') });

    // The scheduled show's preview.
    const host = await server.mintToken({ userId: 'zh-host', name: '小美', role: 'streamer' });
    const startsAt = Date.now() + 2 * 3_600_000;
    expect((await http(server, 'POST', '/api/rooms', host, { title: '周五晚间上新', id: 'zh-friday', startsAt })).status).toBe(201);
    expect((await http(server, 'POST', '/api/rooms/zh-friday/products', host, { sku: 'mug', title: '手作马克杯', priceCents: 1800, currency: 'USD', stock: 20 })).status).toBe(201);
    const preview = await openZh(`/viewer?room=zh-friday&token=${await viewerToken(server, 'zh-bo')}`);
    const panel = preview.getByTestId('show-preview');
    await until('the show preview', () => panel.isVisible(), (v) => v);
    expect(await textOf(panel.locator('#show-preview-title'))).toBe('即将开播');
    expect(await textOf(panel.locator('.show-products-title'))).toBe('本场商品');
    await waitText('the countdown', preview.getByTestId('show-countdown'), /^距开播 \d+:\d{2}:\d{2}$/);
    await waitText('the reminder button', preview.getByTestId('remind-me'), '开播提醒');
    expect(await textOf(preview.getByTestId('preview-add'))).toBe('开播后开售');
    expect(await textOf(panel.locator('.show-product'))).toContain('US$18.00 · 库存 20');
    await until('the reminder can be set', () => preview.getByTestId('remind-me').isEnabled(), (v) => v);
    await preview.getByTestId('remind-me').click();
    await waitText('the reminder is set', preview.getByTestId('remind-me'), '✓ 已设提醒');
    await waitText('the reminder note', preview.getByTestId('remind-status'), /^开播时，你打开的任意 livecart 页面都会提醒你。1 人在等开播。$/);
    await preview.screenshot({ path: join(ARTIFACTS, 'show-preview-phone-zh.png'), fullPage: true });

    // The shop window.
    const mia = await server.mintToken({ userId: 'zh-mia', name: 'Mia', role: 'streamer' });
    for (const product of [
      { sku: 'tote', title: '亚麻托特包', priceCents: 2450, listPriceCents: 3200, currency: 'USD', stock: 12 },
      { sku: 'tee', title: '标志T恤', priceCents: 2499, currency: 'USD', stock: 0, variants: [{ sku: 'tee-m-white', options: { size: 'M', colour: '白色' }, stock: 10 }] },
    ]) expect((await http(server, 'POST', '/api/shop/products', mia, product)).status).toBe(201);
    const shop = await openZh(`/shop?streamer=zh-mia&token=${await viewerToken(server, 'zh-cy')}`);
    const tote = shop.locator('[data-testid="product-row"][data-sku="tote"]');
    await until('the shop\'s products', () => tote.isVisible(), (v) => v);
    expect(await shop.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    // The shop's name is composed on the page from its streamer's name (the server's "Mia's shop" is English).
    await until('the shop\'s name in Chinese', () => shop.title(), (title) => title === 'Mia的小店 · livecart');
    expect(await textOf(shop.locator('#shop-title'))).toBe('Mia的小店');
    expect(await shop.getByTestId('language').isVisible()).toBe(true);
    expect(await shop.getByTestId('language').inputValue()).toBe('zh-CN');
    expect(await textOf(shop.getByTestId('offline-note'))).toBe('当前没有直播：店铺橱窗照常营业。');
    expect(await textOf(shop.getByTestId('orders-link'))).toBe('我的订单');
    expect(await textOf(shop.getByTestId('cart-button'))).toBe('购物车 0');
    await waitText('the tote\'s stock', tote.getByTestId('product-stock'), '库存 12');
    expect(await textOf(tote.getByTestId('sale-price'))).toBe('US$24.50');
    expect(await textOf(tote.getByTestId('list-price'))).toBe('原价 US$32.00');
    expect(await textOf(tote.getByTestId('product-add'))).toBe('加购');
    const tee = shop.locator('[data-testid="product-row"][data-sku="tee"]');
    expect(await textOf(tee.getByTestId('product-choose'))).toBe('选规格');
    await shop.screenshot({ path: join(ARTIFACTS, 'shop-window-phone-zh.png') });
    await tee.getByTestId('product-choose').click();
    const productPage = shop.getByTestId('product-page');
    await until('the product page', () => productPage.isVisible(), (v) => v);
    expect(await textOf(productPage.locator('legend'))).toBe('尺码 · 颜色');
    expect(await textOf(productPage.getByTestId('product-page-add'))).toBe('加入购物车');
    expect(await textOf(shop.getByTestId('product-back'))).toBe('‹ 全部商品');
    await productPage.getByTestId('product-page-add').click();
    await waitText('the add', productPage.getByTestId('product-status'), '标志T恤 (M / 白色)：购物车中已有 1 件');

    expect(problems).toEqual([]);
  }, 120_000);
});
