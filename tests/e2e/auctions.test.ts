/**
 * Auctions in real headless Chromium at 390×844 against a real server: the streamer starts an
 * anti-sniping auction on the streamer page; two phone viewers bid (one with a maximum), one is
 * outbid and sees it, a late bid pushes the end (the countdown jumps, "Extended!"), the auction
 * runs out and one wins: the winner's card says so and their cart holds the product at the winning
 * price, the other's says "Sold to …", the streamer sees the result and the bid history. The card
 * keeps clear of the coupon and giveaway cards, the like button and the comments; a zh-CN viewer reads it in Chinese.
 */
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const clients: LivecartClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ auctionSettleGraceMs: 300 });
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
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
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;

/** The end the viewer's card counts down to (server epoch ms). */
const shownEnd = async (page: Page) => Number(await page.getByTestId('auction-countdown').getAttribute('data-ends-at'));

async function shot(page: Page, name: string): Promise<void> {
  await sleep(250); // the card's layout settles
  await page.screenshot({ path: join(ARTIFACTS, name) });
  publishShot(name);
}

describe('auctions in Chromium', () => {
  it('two phone viewers bid on an anti-sniping auction started on the streamer page; a late bid extends it, one wins and holds it at the winning price', async () => {
    const roomId = 'auction-show';
    const streamerToken = await saleRoom(server, roomId, 5, { title: 'Vintage film camera', priceCents: 12000 }, 'Camera market live');
    // A busy room: a pinned product, a pinned coupon, a giveaway taking entries and a few comments.
    const host = connect({ url: server.wsUrl, token: streamerToken, room: roomId });
    clients.push(host);
    await host.ready;
    await host.pin('hot');
    await host.createCoupon({ id: 'SAVE5', amountOffCents: 500, minSpendCents: 2000, total: 10 });
    await host.pinCoupon('SAVE5');
    await host.openGiveaway({ id: 'thanks', sku: 'hot', winners: 1, durationMs: 300_000 });
    for (const text of ['Is it working?', 'Lens looks clean', 'Go go go']) await host.comment(text);

    const ann = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'ann', name: 'Ann', role: 'viewer' })}`, problems, PHONE);
    const bob = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'bob', name: 'Bob', role: 'viewer' })}`, problems, PHONE);
    for (const page of [ann, bob]) {
      await until('the product card', () => page.locator('#card').isVisible(), (v) => v);
      await until('the giveaway card', () => page.getByTestId('giveaway-card').isVisible(), (v) => v);
    }

    // The streamer starts the auction on the streamer page: $10.00, 20 s, anti-sniping over the last 8 s.
    const streamer = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${roomId}`, problems, PHONE);
    await until('the auction panel', () => streamer.getByTestId('auctions-panel').isVisible(), (v) => v);
    expect(await streamer.getByTestId('auction-sku').inputValue()).toBe('hot');
    expect(await streamer.getByTestId('auction-ending').inputValue()).toBe('extend');
    await streamer.getByTestId('auction-start-price').fill('10.00');
    await streamer.getByTestId('auction-duration').fill('20');
    await streamer.getByTestId('auction-window').fill('8');
    await streamer.getByTestId('auction-start').click();
    await waitText('started', streamer.getByTestId('auction-panel-status'), /^Auction a[0-9a-z]+ is live\.$/);
    await until('the live card on the streamer page', () => textOf(streamer.getByTestId('auction-live')), (t) => t.startsWith('Vintage film camera: $10.00 · 0 bids · leader none yet · Ends in '));
    expect(await streamer.getByTestId('auction-form').isVisible()).toBe(false);
    const auctionId = (await host.auction()).auction!.id;

    // Both phones show the card in the product card's place, clear of everything else on the screen.
    for (const page of [ann, bob]) {
      await until('the auction card', () => page.getByTestId('auction-card').isVisible(), (v) => v);
      expect(await textOf(page.getByTestId('auction-title'))).toBe('Vintage film camera');
      expect(await textOf(page.getByTestId('auction-price'))).toBe('Starting bid $10.00');
      expect(await textOf(page.getByTestId('auction-leader'))).toBe('No bids yet: be the first');
      expect(await page.getByTestId('auction-bid').allTextContents()).toEqual(['$10.00', '$11.00', '$12.00']);
      expect(await page.locator('#card').isVisible()).toBe(false);
    }
    const card = await box(ann.getByTestId('auction-card'));
    expect(card.x).toBeGreaterThanOrEqual(0);
    expect(card.y).toBeGreaterThanOrEqual(0);
    expect(card.x + card.width).toBeLessThanOrEqual(PHONE.width);
    expect(card.y + card.height).toBeLessThanOrEqual(PHONE.height);
    for (const [name, other] of [['coupon card', ann.getByTestId('coupon-card')], ['giveaway card', ann.getByTestId('giveaway-card')], ['like button', ann.locator('#like')], ['comments', ann.getByTestId('comment-stack')], ['comment box', ann.locator('#comment-form')], ['top bar', ann.locator('.topbar')]] as const) {
      expect(overlaps(card, await box(other)), `the auction card overlaps the ${name}`).toBe(false);
    }
    await until('the comments', () => ann.getByTestId('comments').locator('li').count(), (n) => n === 3);

    // Ann sets a maximum: she leads at the start price and the server bids for her up to $30.00.
    await ann.getByTestId('auction-max-input').fill('30.00');
    await ann.getByTestId('auction-max-submit').click();
    await waitText('Ann leads', ann.getByTestId('auction-status'), 'You lead at $10.00; we bid for you up to $30.00.');
    await waitText('Ann sees herself', ann.getByTestId('auction-leader'), 'Leading: You · 1 bid');
    await waitText('Bob sees Ann lead', bob.getByTestId('auction-leader'), 'Leading: Ann · 1 bid');
    // After a reload Ann's page still knows the lead is hers (the card names her as everyone sees her).
    await ann.reload();
    await waitText('Ann still sees herself after a reload', ann.getByTestId('auction-leader'), 'Leading: You · 1 bid');
    await until('Bob is offered the next bids', () => bob.getByTestId('auction-bid').allTextContents(), (b) => b.join() === '$11.00,$12.00,$13.00');

    // Bob taps $11.00: Ann's maximum answers at once, he is outbid and told the price and the next bid.
    await bob.getByTestId('auction-bid').first().click();
    await waitText('Bob outbid', bob.getByTestId('auction-status'), 'Outbid: the price is now $12.00. Bid $13.00 or more.');
    await waitText('Bob sees the price', bob.getByTestId('auction-price'), 'Current bid $12.00');
    // Too low: below the lowest bid taken.
    const tooLow = connect({ url: server.wsUrl, token: await server.mintToken({ userId: 'cat', name: 'Cat', role: 'viewer' }), room: roomId });
    clients.push(tooLow);
    await tooLow.ready;
    expect((await tooLow.bid(auctionId, 1200)).status).toBe('too_low');

    // Bob sets a higher maximum: he leads, and Ann, who did nothing, sees she was outbid.
    await bob.getByTestId('auction-max-input').fill('40.00');
    await bob.getByTestId('auction-max-submit').click();
    await waitText('Bob leads', bob.getByTestId('auction-status'), 'You lead at $31.00; we bid for you up to $40.00.');
    await waitText('Ann hears she was outbid', ann.getByTestId('auction-status'), 'You were outbid: the price is now $31.00.');
    await waitText('Ann sees Bob lead', ann.getByTestId('auction-leader'), /^Leading: Bob · \d+ bids$/);

    // A zh-CN viewer reads the live card in Chinese, prices in zh-CN's format.
    const zhContext = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, locale: 'zh-CN' });
    const zh = await zhContext.newPage();
    zh.on('pageerror', (error) => problems.push(`zh viewer: uncaught ${error.message}`));
    await zh.goto(`${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'lei', name: '李雷', role: 'viewer' })}`);
    await waitText('the card in Chinese', zh.getByTestId('auction-price'), '当前价 US$31.00');
    expect(await textOf(zh.locator('.auction-card .eyebrow span').first())).toBe('直播拍卖');
    expect(await textOf(zh.getByTestId('auction-leader'))).toMatch(/^领先：Bob · \d+ 次出价$/);
    expect(await textOf(zh.getByTestId('auction-max-submit'))).toBe('设最高价');
    expect(await textOf(zh.getByTestId('auction-countdown'))).toMatch(/^剩余 \d+:\d\d$/);
    await zhContext.close();

    // A late bid, inside the last 8 s: Ann bids $32.00 (outbid by Bob's maximum, yet the price moved), then sets $50.00.
    const endBefore = await shownEnd(ann);
    await until('inside the anti-sniping window', async () => Date.now(), (now) => now > endBefore - 7000, 15_000);
    await ann.getByTestId('auction-bid').first().click();
    await waitText('Ann outbid by the maximum', ann.getByTestId('auction-status'), 'Outbid: the price is now $33.00. Bid $34.00 or more.');
    await ann.getByTestId('auction-max-input').fill('50.00');
    await ann.getByTestId('auction-max-submit').click();
    await waitText('Ann leads again', ann.getByTestId('auction-status'), 'You lead at $41.00; we bid for you up to $50.00.');
    await until('the end moved on Bob\'s card', () => shownEnd(bob), (end) => end > endBefore);
    await until('the extended hint', () => bob.getByTestId('auction-extended').isVisible(), (v) => v, 3000);
    await waitText('Bob hears he was outbid', bob.getByTestId('auction-status'), 'You were outbid: the price is now $41.00.');
    await waitText('Bob sees the price', bob.getByTestId('auction-price'), 'Current bid $41.00');
    await shot(bob, 'viewer-auction-phone.png');

    // The auction runs out: Ann wins at $41.00 and is told how long her cart holds it; Bob sees who bought it.
    await until('Ann won', () => textOf(ann.getByTestId('auction-result')), (t) => /^You won! It is in your cart until .+\.$/.test(t), 25_000);
    await waitText('Bob sees the sale', bob.getByTestId('auction-result'), 'Sold to Ann for $41.00');
    expect(await ann.getByTestId('auction-bid').count()).toBe(0);
    expect(await ann.getByTestId('auction-max').isVisible()).toBe(false);
    expect(await textOf(ann.getByTestId('auction-price'))).toBe('Winning bid $41.00');
    expect(await textOf(ann.getByTestId('auction-leader'))).toMatch(/^Won by You · \d+ bids$/);
    expect(await textOf(bob.getByTestId('auction-leader'))).toMatch(/^Won by Ann · \d+ bids$/);
    await waitText('Ann\'s cart count', ann.locator('#cart-button'), /1$/);
    await shot(ann, 'viewer-auction-won-phone.png');
    await ann.locator('#cart-button').click();
    const line = ann.locator('.cart-line[data-sku="hot"]');
    await until('the cart line', () => line.isVisible(), (v) => v);
    expect(await textOf(line)).toMatch(/\$41\.00 each/);
    expect((await host.auction(auctionId)).auction?.priceCents).toBe(4100);

    // Bob closes the settled card: the pinned product comes back in its place.
    await bob.getByTestId('auction-close').click();
    await until('the product card is back', () => bob.locator('#card').isVisible(), (v) => v);
    expect(await bob.getByTestId('auction-card').isVisible()).toBe(false);

    // The streamer sees the result, the history of every price move, and may start the next auction.
    await waitText('the result on the streamer page', streamer.getByTestId('auction-panel-result'), 'Sold to Ann for $41.00');
    const rows = streamer.getByTestId('auction-history-row');
    await until('the bid history', () => rows.count(), (n) => n >= 4);
    expect(await textOf(rows.last())).toMatch(/ann\s*\$41\.00\s*ann$/);
    expect(await streamer.getByTestId('auction-form').isVisible()).toBe(true);
    await streamer.getByTestId('auction-panel-result').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await shot(streamer, 'streamer-auction-phone.png');

    expect(problems).toEqual([]);
  }, 120_000);

  it('at 360×740 in Chinese the bid buttons show their whole price; beside a coupon and a giveaway, in a busy room, nothing covers the card', async () => {
    const roomId = 'auction-narrow';
    const streamerToken = await saleRoom(server, roomId, 5, { title: '复古胶片相机 Vintage film camera', priceCents: 12000 });
    const host = connect({ url: server.wsUrl, token: streamerToken, room: roomId });
    clients.push(host);
    await host.ready;
    await host.createCoupon({ id: 'SAVE5', amountOffCents: 500, minSpendCents: 2000, total: 10 });
    await host.pinCoupon('SAVE5');
    await host.openGiveaway({ id: 'narrow-gift', sku: 'hot', winners: 1, durationMs: 600_000 });
    await host.startAuction({ id: 'narrow', sku: 'hot', startPriceCents: 12000, increments: [{ stepCents: 500 }], durationMs: 600_000, ending: { kind: 'sudden_death' } });
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`narrow viewer: uncaught ${error.message}`));
    await page.goto(`${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'mei', name: '韩梅梅', role: 'viewer' })}`);
    const buttons = page.getByTestId('auction-bid');
    await until('three bid buttons', () => buttons.count(), (n) => n === 3);
    expect(await textOf(buttons.first())).toBe('US$120.00');
    // Before, three buttons shared a 172 px card: "US$120.00" showed as "US$12".
    const clipped = await buttons.evaluateAll((all) => all.filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent));
    expect(clipped).toEqual([]);
    const card = await box(page.getByTestId('auction-card'));
    expect(card.x + card.width).toBeLessThanOrEqual(360);
    expect(overlaps(card, await box(page.getByTestId('comments')))).toBe(false);
    await until('the giveaway card', () => page.getByTestId('giveaway-card').isVisible(), (v) => v);

    // An operator fixes the room at level 3: the busy banner and "new comments are hidden" show too.
    const operator = await server.mintToken({ userId: 'narrow-ops', name: 'Ops', role: 'operator' });
    expect((await http(server, 'PUT', `/api/ops/rooms/${roomId}/degrade`, operator, { level: 3 })).status).toBe(200);
    await until('the paused note', () => page.locator('#chat-paused').isVisible(), (v) => v);
    await until('the busy banner', () => page.getByTestId('busy-banner').isVisible(), (v) => v);
    await sleep(300); // the floating parts follow the banner's height
    const busyCard = await box(page.getByTestId('auction-card'));
    // Before, the note ran 62vw wide over the card's "my maximum" field.
    for (const [name, other] of [['the paused note', page.locator('#chat-paused')], ['the giveaway card', page.getByTestId('giveaway-card')], ['the comments', page.getByTestId('comment-stack')]] as const) {
      const b = await box(other);
      expect(overlaps(busyCard, b), `${name} ${JSON.stringify(b)} over the auction card ${JSON.stringify(busyCard)}`).toBe(false);
    }
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('the streamer cancels an auction: viewers are told, nobody wins', async () => {
    const roomId = 'auction-cancel';
    const streamerToken = await saleRoom(server, roomId, 5, { title: 'Brass lamp', priceCents: 5000 });
    const page = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${await server.mintToken({ userId: 'dan', name: 'Dan', role: 'viewer' })}`, problems, PHONE);
    const streamer = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${roomId}`, problems, PHONE);
    await until('the auction panel', () => streamer.getByTestId('auctions-panel').isVisible(), (v) => v);
    await streamer.getByTestId('auction-ending').selectOption('sudden_death');
    expect(await streamer.getByTestId('auction-window').isVisible()).toBe(false);
    await streamer.getByTestId('auction-start').click();
    await until('the card', () => page.getByTestId('auction-card').isVisible(), (v) => v);
    await page.getByTestId('auction-bid').first().click();
    await waitText('Dan leads', page.getByTestId('auction-status'), 'You lead at $1.00.');
    await streamer.getByTestId('auction-cancel').click();
    await waitText('cancelled on the streamer page', streamer.getByTestId('auction-panel-status'), 'Cancelled: nobody wins.');
    await waitText('cancelled on the phone', page.getByTestId('auction-result'), 'The auction was cancelled.');
    expect(problems).toEqual([]);
  }, 60_000);
});
