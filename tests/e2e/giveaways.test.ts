/**
 * Giveaways in real headless Chromium against a real server, at phone width (390×844): the streamer
 * opens a giveaway on the streamer page; a phone viewer who joins after it opened sees the card
 * (prize, winners, countdown, live count) beside the coupon card, the product card, the like
 * button and the comments without overlapping them, and enters with 50 SDK viewers; the draw
 * happens at the end of the window; every entrant wins (winners = entrants), so the phone viewer's
 * card says "You won!", its Verify checks the published draw in the browser, and My orders holds the
 * prize at total 0. A second giveaway, ended early from the streamer page with one winner, shows the
 * other branch (or the same, for the one viewer in 51 who wins it); a third is cancelled. One check
 * of the card in zh-CN; the operator console lists the room's giveaway while it takes entries, and an open auction beside it.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type EnterGiveawayAnswer, type LivecartClient } from '../../client/src/index.ts';
import { entrantIdOf } from '../../server/src/giveaways/draw.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';
import { ARTIFACTS, DESKTOP, launchChromium, openPage, PHONE, pollers, publishShot, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const clients: LivecartClient[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = await startTestServer({});
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const context of contexts) await context.close();
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(20_000, 50);

type Box = { x: number; y: number; width: number; height: number };
async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  expect(b, 'element has a box (is rendered)').not.toBeNull();
  return b!;
}
const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;

/** The giveaway card shares the phone's screen with the other floating parts without covering any, and stays on screen. */
async function expectClearOfOthers(page: Page, screen = PHONE): Promise<void> {
  const card = await box(page.getByTestId('giveaway-card'));
  expect(card.x >= 0 && card.y >= 0 && card.x + card.width <= screen.width && card.y + card.height <= screen.height, `on screen: ${JSON.stringify(card)}`).toBe(true);
  for (const [name, locator] of [['coupon card', page.getByTestId('coupon-card')], ['product card', page.getByTestId('card')], ['like button', page.locator('.like-row')],
    ['comments', page.getByTestId('comment-stack')], ['comment box', page.locator('#comment-form')]] as const) {
    const other = await box(locator);
    expect(overlap(card, other), `the giveaway card ${JSON.stringify(card)} overlaps the ${name} ${JSON.stringify(other)}`).toBe(false);
  }
}

async function viewers(roomId: string, count: number, prefix: string): Promise<LivecartClient[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const token = await server.mintToken({ userId: `${prefix}-${i}`, name: `Fan ${i}`, role: 'viewer' });
    const client = connect({ url: server.wsUrl, token, room: roomId, retry: { baseMs: 20, maxMs: 200 } });
    clients.push(client);
    await client.ready;
    return client;
  }));
}

describe('giveaways in Chromium', () => {
  it('a streamer opens a giveaway, a phone viewer and 50 SDK viewers enter, the draw is verified on the page and the prize is an order of total 0', async () => {
    const roomId = 'giveaway-show';
    const streamerToken = await saleRoom(server, roomId, 200, { title: 'Linen tote bag', priceCents: 2450 }, 'Spring market live');
    // The streamer's SDK pins the product and a coupon and 50 fans comment, so every floating part of the phone page is there.
    const host = connect({ url: server.wsUrl, token: streamerToken, room: roomId });
    clients.push(host);
    await host.ready;
    await host.pin('hot');
    await host.createCoupon({ id: 'SPRING5', amountOffCents: 500, minSpendCents: 2000, total: 50 });
    await host.pinCoupon('SPRING5');
    const fans = await viewers(roomId, 50, 'fan');
    for (const fan of fans.slice(0, 14)) await fan.comment(`Hello from ${fan.state.you?.name ?? 'a fan'}, love the tote!`);

    // The streamer opens the giveaway on the streamer page: every entrant wins (50 fans and the phone viewer).
    const studio = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${roomId}`, problems, PHONE);
    await until('the giveaway panel', () => studio.getByTestId('giveaways-panel').isVisible(), (v) => v);
    await until('the prize list', () => studio.getByTestId('giveaway-prize-input').locator('option').count(), (n) => n === 1);
    await studio.getByTestId('giveaway-winners-input').fill('51');
    await studio.getByTestId('giveaway-duration-input').fill('25');
    await studio.getByTestId('giveaway-unit-input').selectOption('1000');
    await studio.getByTestId('giveaway-open').click();
    await waitText('opened', studio.getByTestId('giveaway-panel-status'), 'The giveaway is open.');
    await waitText('the panel count', studio.getByTestId('giveaway-panel-entrants'), '0 entered');
    const giveawayId = host.state.giveaway?.id ?? (await host.getGiveaway())!.id;

    // The phone viewer joins after the giveaway opened: the card is read after the welcome.
    const ann = await server.mintToken({ userId: 'ann', name: 'Ann', role: 'viewer' });
    const page = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${ann}`, problems, PHONE);
    const card = page.getByTestId('giveaway-card');
    await until('the giveaway card', () => card.isVisible(), (v) => v);
    expect(await textOf(page.getByTestId('giveaway-prize'))).toBe('Linen tote bag');
    expect(await textOf(page.getByTestId('giveaway-eyebrow'))).toBe('🎁 Giveaway · 51 winners');
    expect(await textOf(page.getByTestId('giveaway-countdown'))).toMatch(/^Ends in 0:[0-2]\d$/);
    await until('the coupon card', () => page.getByTestId('coupon-card').isVisible(), (v) => v);
    await until('the product card', () => page.getByTestId('card').isVisible(), (v) => v);
    await expectClearOfOthers(page);

    await page.getByTestId('giveaway-show-name').check();
    await page.getByTestId('giveaway-enter').click();
    await waitText('entered', page.getByTestId('giveaway-status'), 'You\'re in! 1 entered so far. No purchase needed.');
    expect(await textOf(page.getByTestId('giveaway-enter'))).toBe('You\'re in');
    expect(await page.getByTestId('giveaway-enter').isDisabled()).toBe(true);
    // After a reload the card still knows this viewer is in (the card itself is everyone's).
    await page.reload();
    await until('the card after a reload', () => card.isVisible(), (v) => v);
    await waitText('still in after a reload', page.getByTestId('giveaway-enter'), 'You\'re in');
    expect(await page.getByTestId('giveaway-enter').isDisabled()).toBe(true);

    // 50 SDK viewers enter (one of them twice); the card counts them live, and so does the studio.
    const answers: EnterGiveawayAnswer[] = await Promise.all(fans.map((fan) => fan.enterGiveaway(giveawayId)));
    expect(answers.every((a) => a.status === 'entered')).toBe(true);
    expect((await fans[0]!.enterGiveaway(giveawayId)).status).toBe('already_entered');
    await waitText('51 on the card', page.getByTestId('giveaway-entrants'), '51 entered');
    await waitText('51 in the studio', studio.getByTestId('giveaway-panel-entrants'), '51 entered');
    expect(await studio.getByTestId('giveaway-open').isVisible()).toBe(false);
    // The studio's panel at the top of the phone's screen, under its top bar.
    await studio.evaluate(() => {
      const panel = document.getElementById('giveaways')!;
      const bar = document.querySelector('.top-stack, .topbar')?.getBoundingClientRect().height ?? 0;
      window.scrollBy(0, panel.getBoundingClientRect().top - bar - 8);
    });
    await studio.screenshot({ path: join(ARTIFACTS, 'streamer-giveaway-phone.png') });
    publishShot('streamer-giveaway-phone.png');
    await expectClearOfOthers(page);
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-giveaway-phone.png') });
    publishShot('viewer-giveaway-phone.png');

    // The draw at the window's end: every entrant won, the phone viewer among them, by name.
    await until('drawn', () => card.getAttribute('data-status'), (s) => s === 'drawn', 40_000);
    await waitText('you won', page.getByTestId('giveaway-won'), '🎉 You won! See it in My orders');
    expect(await page.getByTestId('giveaway-winners').locator('li').count()).toBe(51);
    expect(await textOf(page.getByTestId('giveaway-winners').locator('li.me'))).toBe('Ann (you)');
    await page.getByTestId('giveaway-verify').click();
    await waitText('verified', page.getByTestId('giveaway-verify-status'),
      'The draw checks out: the seed matches the commitment published at opening, and the 51 winner(s) follow from it and the 51 entrants. Your entry is on the list.');
    expect(await page.getByTestId('giveaway-draw-link').getAttribute('href')).toBe(`/api/rooms/${roomId}/giveaways/${giveawayId}/draw.json`);
    await expectClearOfOthers(page);
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-giveaway-result-phone.png') });
    publishShot('viewer-giveaway-result-phone.png');

    // The studio shows the result and checks the same draw.
    await until('the studio result', () => studio.getByTestId('giveaway-panel-winners').locator('li').count(), (n) => n === 51);
    await studio.getByTestId('giveaway-verify').click();
    await waitText('studio verified', studio.getByTestId('giveaway-verify-status'), /^The draw checks out: /);

    // My orders: the prize, an order of total 0.
    await page.getByTestId('giveaway-orders-link').click();
    await until('the orders page', () => page.getByTestId('order-card').count(), (n) => n === 1);
    expect(await textOf(page.getByTestId('order-card').getByTestId('order-total'))).toBe('$0.00');
    const orders = await http(server, 'GET', `/api/rooms/${roomId}/orders`, streamerToken);
    const annOrders = (orders.body.orders as { userId: string; totalCents: number }[]).filter((o) => o.userId === 'ann');
    expect(annOrders).toEqual([expect.objectContaining({ totalCents: 0 })]);

    // A second giveaway with one winner, ended early from the studio: a winner or a loser, each told so.
    const back = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${ann}`, problems, PHONE);
    contexts.push(back.context());
    await studio.getByTestId('giveaway-winners-input').fill('1');
    await studio.getByTestId('giveaway-duration-input').fill('10');
    await studio.getByTestId('giveaway-unit-input').selectOption('60000');
    await studio.getByTestId('giveaway-open').click();
    await until('the second giveaway', () => back.getByTestId('giveaway-card').getAttribute('data-status'), (s) => s === 'open');
    const second = host.state.giveaway!;
    expect(second.id).not.toBe(giveawayId);
    await back.getByTestId('giveaway-enter').click();
    await waitText('entered again', back.getByTestId('giveaway-status'), /^You're in! 1 entered so far/);
    await Promise.all(fans.map((fan) => fan.enterGiveaway(second.id)));
    await waitText('51 on the second card', back.getByTestId('giveaway-entrants'), '51 entered');
    await studio.getByTestId('giveaway-end').click();
    await waitText('ended early', studio.getByTestId('giveaway-panel-status'), 'Drawn.');
    await until('second drawn', () => back.getByTestId('giveaway-card').getAttribute('data-status'), (s) => s === 'drawn');
    const drawn = host.state.giveaway!.result!;
    expect(drawn.winners).toHaveLength(1);
    const annWon = drawn.winners[0]!.entrantId === entrantIdOf(second.salt, 'ann');
    if (annWon) await waitText('you won the second', back.getByTestId('giveaway-won'), '🎉 You won! See it in My orders');
    else {
      await waitText('not this time', back.getByTestId('giveaway-lost'), 'Not this time: thanks for entering.');
      expect(await back.getByTestId('giveaway-won').count()).toBe(0);
      expect(await textOf(back.getByTestId('giveaway-winners'))).toBe(`Winner ${drawn.winners[0]!.entrantId.slice(0, 8)}`);
    }
    await back.getByTestId('giveaway-verify').click();
    await waitText('second verified', back.getByTestId('giveaway-verify-status'), 'The draw checks out: the seed matches the commitment published at opening, and the 1 winner(s) follow from it and the 51 entrants. Your entry is on the list.');

    // A third, cancelled: the card says so; entering late is answered as closed.
    await studio.getByTestId('giveaway-open').click();
    await until('the third giveaway', () => back.getByTestId('giveaway-card').getAttribute('data-status'), (s) => s === 'open');
    await studio.getByTestId('giveaway-cancel').click();
    await waitText('cancelled', studio.getByTestId('giveaway-panel-status'), 'Cancelled: no draw.');
    await waitText('the card says cancelled', back.getByTestId('giveaway-result'), 'The streamer cancelled this giveaway: no draw.');
    expect((await fans[1]!.enterGiveaway(host.state.giveaway!.id)).status).toBe('giveaway_closed');

    // zh-CN: a viewer whose browser speaks Chinese sees the card in Chinese.
    await studio.getByTestId('giveaway-winners-input').fill('3');
    await studio.getByTestId('giveaway-open').click();
    await until('the fourth giveaway', () => back.getByTestId('giveaway-card').getAttribute('data-status'), (s) => s === 'open');
    const zhContext = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, locale: 'zh-CN' });
    contexts.push(zhContext);
    const zh = await zhContext.newPage();
    zh.on('pageerror', (error) => problems.push(`zh viewer: uncaught ${error.message}`));
    const bo = await server.mintToken({ userId: 'bo', name: '小波', role: 'viewer' });
    await zh.goto(`${server.url}/viewer?room=${roomId}&token=${bo}`);
    await until('the zh card', () => zh.getByTestId('giveaway-card').isVisible(), (v) => v);
    expect(await textOf(zh.getByTestId('giveaway-eyebrow'))).toBe('🎁 抽奖 · 3 位中奖');
    expect(await textOf(zh.getByTestId('giveaway-enter'))).toBe('免费参与');
    expect(await textOf(zh.locator('.giveaway-name'))).toBe('中奖时显示我的昵称');
    await zh.getByTestId('giveaway-enter').click();
    await waitText('zh entered', zh.getByTestId('giveaway-status'), /^参与成功！目前 \d+ 人已参与。无需购买。$/);
    expect(await textOf(zh.getByTestId('giveaway-countdown'))).toMatch(/^剩余 \d+:\d\d$/);


    // At desktop width: the studio's panel and the viewer's card, without horizontal overflow.
    const wideStudio = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${roomId}`, problems, DESKTOP);
    contexts.push(wideStudio.context());
    await waitText('the wide studio count', wideStudio.getByTestId('giveaway-panel-entrants'), '1 entered');
    expect(await wideStudio.getByTestId('giveaway-end').isVisible()).toBe(true);
    const wideViewer = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${ann}`, problems, DESKTOP);
    contexts.push(wideViewer.context());
    await waitText('the wide card count', wideViewer.getByTestId('giveaway-entrants'), '1 entered');
    for (const wide of [wideStudio, wideViewer]) expect(await wide.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await wideViewer.screenshot({ path: join(ARTIFACTS, 'viewer-giveaway-desktop.png') });
    await wideStudio.getByTestId('giveaways-panel').scrollIntoViewIfNeeded();
    await wideStudio.screenshot({ path: join(ARTIFACTS, 'streamer-giveaway-desktop.png') });

    // The operator console shows the room's giveaway taking entries, and drops it once it is over.
    const operatorToken = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    const ops = await openPage(browser, `${server.url}/operator?token=${operatorToken}`, problems);
    contexts.push(ops.context());
    const fourth = host.state.giveaway!;
    const opsLine = ops.getByTestId(`giveaway-${roomId}`);
    await waitText('the console\'s giveaway', opsLine, new RegExp(`^🎁 Giveaway ${fourth.id}: 1 entered, entries close at \\d{1,2}:\\d\\d`));
    // An open auction shows beside it: the price in the page's money format, the leader (none yet), the time left.
    await host.startAuction({ id: 'opslot', sku: 'hot', startPriceCents: 1250, increments: [{ stepCents: 50 }], durationMs: 600_000, ending: { kind: 'sudden_death' } });
    await waitText('the console\'s auction', ops.getByTestId(`auction-${roomId}`), /^🔨 Auction opslot: \$12\.50, leader none yet · 0 bids, (10:00|9:\d\d) left$/);
    await host.cancelAuction('opslot');
    await until('the console without the auction', () => ops.getByTestId(`auction-${roomId}`).isVisible(), (v) => !v);
    await host.cancelGiveaway(fourth.id);
    await until('the console without it', () => opsLine.isVisible(), (v) => !v);

    expect(problems).toEqual([]);
  }, 180_000);

  it('at 360×740 in Chinese, beside a coupon, the product card and comments, Enter shows whole in the card', async () => {
    const roomId = 'giveaway-narrow';
    const streamerToken = await saleRoom(server, roomId, 20, { title: '复古胶片相机 Vintage film camera', priceCents: 12000 });
    const host = connect({ url: server.wsUrl, token: streamerToken, room: roomId });
    clients.push(host);
    await host.ready;
    await host.pin('hot');
    await host.createCoupon({ id: 'SAVE5', amountOffCents: 500, minSpendCents: 2000, total: 10 });
    await host.pinCoupon('SAVE5');
    await host.openGiveaway({ id: 'narrow', sku: 'hot', winners: 1, durationMs: 600_000 });
    const texts = ['这个相机还能用吗？', 'Lens looks clean', 'Go go go 🎉', '好看', '多少钱', '已下单', '还有吗', '包邮吗'];
    const fans = await viewers(roomId, texts.length, 'narrow-fan');
    for (const [i, fan] of fans.entries()) await fan.comment(texts[i]!);
    const screen = { width: 360, height: 740 };
    const context = await browser.newContext({ viewport: screen, deviceScaleFactor: 1, locale: 'zh-CN' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`narrow viewer: uncaught ${error.message}`));
    await page.goto(`${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'mei', name: '韩梅梅', role: 'viewer' })}`);
    const card = page.getByTestId('giveaway-card');
    await until('the giveaway card', () => card.isVisible(), (v) => v);
    await until('the coupon card', () => page.getByTestId('coupon-card').isVisible(), (v) => v);
    await until('the comments', () => page.getByTestId('comments').locator('li').count(), (n) => n === 8);
    await waitText('Enter, in Chinese', page.getByTestId('giveaway-enter'), '免费参与');
    // Before, the card kept 32dvh free for the comments and scrolled its Enter button out of sight.
    const enter = await box(page.getByTestId('giveaway-enter'));
    const shown = await box(card);
    expect(enter.y + enter.height, `Enter ${JSON.stringify(enter)} inside the card ${JSON.stringify(shown)}`).toBeLessThanOrEqual(shown.y + shown.height + 1);
    await expectClearOfOthers(page, screen);
    expect(problems).toEqual([]);
  }, 60_000);
});
