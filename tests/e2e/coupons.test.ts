/**
 * Coupons in real headless Chromium against a real server: the streamer creates and pins a coupon
 * on the streamer page; a buyer at phone width (390×844) sees its card, claims one, and 200 SDK
 * buyers race for the other 50 (exactly 50 claimed, every claim answered, one per buyer) while the
 * buyer's card counts down to "All claimed"; the buyer's cart shows the discount, the order
 * confirmation and the orders page show subtotal, discount and total.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClaimCouponAnswer, type LivecartClient } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const clients: LivecartClient[] = [];

beforeAll(async () => {
  server = await startTestServer({});
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(20_000, 50);

describe('coupons in Chromium', () => {
  it('a phone buyer claims a coupon in a race of 200 SDK buyers for the other 50, checks out, and the order shows the discount', async () => {
    const roomId = 'coupon-show';
    const streamerToken = await saleRoom(server, roomId, 400, { title: 'Linen tote bag', priceCents: 2450 }, 'Spring market live');

    // The streamer creates the coupon on the streamer page and pins it.
    const streamer = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${roomId}`, problems);
    await until('the coupons panel', () => streamer.getByTestId('coupons-panel').isVisible(), (v) => v);
    await streamer.getByTestId('coupon-code-input').fill('SPRING5');
    await streamer.getByTestId('coupon-value-input').fill('5.00');
    await streamer.getByTestId('coupon-min-input').fill('20.00');
    await streamer.getByTestId('coupon-total-input').fill('51');
    await streamer.getByTestId('coupon-create').click();
    await waitText('pinned', streamer.getByTestId('coupon-panel-status'), 'SPRING5 is pinned for your viewers.');
    await waitText('the row', streamer.getByTestId('coupon-row-left'), '51 of 51 left');

    // The streamer's SDK pins the product too, so the phone page shows both cards.
    const pinner = connect({ url: server.wsUrl, token: streamerToken, room: roomId });
    clients.push(pinner);
    await pinner.ready;
    await pinner.pin('hot');

    const ann = await server.mintToken({ userId: 'ann', name: 'Ann', role: 'viewer' });
    const page = await openPage(browser, `${server.url}/viewer?room=${roomId}&token=${ann}`, problems, PHONE);
    const card = page.getByTestId('coupon-card');
    await until('the coupon card', () => card.isVisible(), (v) => v);
    expect(await textOf(page.getByTestId('coupon-code'))).toBe('SPRING5');
    expect(await textOf(page.locator('#coupon-title'))).toBe('$5.00 off');
    expect(await textOf(page.getByTestId('coupon-terms'))).toBe('On orders of $20.00 or more · one per buyer');
    await waitText('51 left', page.getByTestId('coupon-left'), '51 left');
    await page.getByTestId('coupon-claim').click();
    await waitText('claimed', page.getByTestId('coupon-status'), 'Claimed! SPRING5 comes off your next checkout. It applies to orders of $20.00 or more.');
    expect(await textOf(page.getByTestId('coupon-claim'))).toBe('Claimed');

    // 200 SDK buyers race for the 50 left.
    const buyers = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const token = await server.mintToken({ userId: `race-${i}`, name: `Racer ${i}`, role: 'viewer' });
      const client = connect({ url: server.wsUrl, token, room: roomId, retry: { baseMs: 20, maxMs: 200 } });
      clients.push(client);
      await client.ready;
      return client;
    }));
    const settled = await Promise.allSettled(buyers.map((b) => b.claimCoupon('SPRING5')));
    const answers = settled.map((s) => (s.status === 'fulfilled' ? s.value : ({ status: `rejected: ${String(s.reason)}` } as unknown as ClaimCouponAnswer)));
    expect(answers.filter((a) => a.status === 'coupon_claimed')).toHaveLength(50);
    expect(answers.filter((a) => a.status === 'coupons_gone')).toHaveLength(150);
    expect(new Set(answers.flatMap((a) => (a.status === 'coupon_claimed' ? [a.claim.userId] : []))).size).toBe(50);
    // Reads of the pinned card may be answered from what the node read within the last second (its `left` only goes down).
    const pinnedLeft = async () => ((await http(server, 'GET', `/api/rooms/${roomId}/coupons`, streamerToken)).body as { pinned: { coupon: { id: string }; left: number } }).pinned;
    await until('the card read with none left', pinnedLeft, (pinned) => pinned.coupon.id === 'SPRING5' && pinned.left === 0);
    // The phone's card counts down live to none left; the streamer's list says so too.
    await waitText('all claimed', page.getByTestId('coupon-left'), 'All claimed');
    await waitText('streamer row', streamer.getByTestId('coupon-row-left'), '0 of 51 left');

    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-coupon-phone.png') });
    publishShot('viewer-coupon-phone.png');
    await streamer.getByTestId('coupons-panel').screenshot({ path: join(ARTIFACTS, 'streamer-coupons.png') });
    publishShot('streamer-coupons.png');

    // One tote (24.50) reaches the minimum: the cart shows the discount before checkout.
    await page.getByTestId('add').click();
    await until('reserved', () => page.getByTestId('add-status').getAttribute('data-state'), (s) => s === 'reserved');
    await page.locator('#cart-button').click();
    await until('the cart drawer', () => page.getByTestId('cart').isVisible(), (v) => v);
    await waitText('cart discount', page.getByTestId('cart-discount'), '−$5.00');
    expect(await textOf(page.getByTestId('cart-subtotal'))).toBe('$24.50');
    expect(await textOf(page.getByTestId('cart-total'))).toBe('$19.50');
    await page.getByTestId('checkout').click();
    await waitText('order placed', page.getByTestId('cart-status'), /^Thank you! Order o-\S+ is placed\.$/);
    const order = page.getByTestId('order');
    expect(await textOf(order.getByTestId('order-subtotal'))).toBe('Subtotal $24.50');
    expect(await textOf(order.getByTestId('order-discount'))).toBe('Coupon SPRING5 −$5.00');
    expect(await textOf(page.locator('#order-total'))).toBe('$19.50');
    await waitText('used', page.getByTestId('coupon-claim'), 'Used');
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-coupon-order-phone.png') });
    publishShot('viewer-coupon-order-phone.png');

    // The store has the order priced the same way.
    const orders = await http(server, 'GET', `/api/rooms/${roomId}/orders`, streamerToken);
    expect(orders.body.orders).toEqual([expect.objectContaining({ subtotalCents: 2450, discountCents: 500, totalCents: 1950, couponId: 'SPRING5' })]);

    // The orders page shows subtotal, discount and total.
    await page.getByTestId('order-orders-link').click();
    await until('the orders page', () => page.getByTestId('order-card').count(), (n) => n === 1);
    const listed = page.getByTestId('order-card');
    expect(await textOf(listed.getByTestId('order-subtotal'))).toBe('Subtotal $24.50');
    expect(await textOf(listed.getByTestId('order-discount'))).toBe('Coupon SPRING5 −$5.00');
    expect(await textOf(listed.getByTestId('order-total'))).toBe('$19.50');
    expect(problems).toEqual([]);
  }, 120_000);
});
