/**
 * Scheduled shows in real headless Chromium at phone width (390×844): a scheduled room's page
 * shows the show's title, a countdown and its products (not yet on sale); the viewer taps "Remind
 * me", goes on to another room, and when the streamer starts the show there comes a notice with a
 * link that takes the viewer to the live room. A second viewer who stayed on the show's page sees
 * it turn live without a reload. The streamer page schedules a show and shows its reminder count.
 * A show not started on time: its page waits for the streamer instead of counting below zero, the
 * streamer's list shows it late with "Start now", and one never started is cancelled after the grace.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

const GRACE_MS = 6000;
let server: RunningServer;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  // A show not started this long after its startsAt is cancelled as missed (hours by default).
  server = await startTestServer({ showGraceMs: GRACE_MS });
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(15_000, 50);

async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(300);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  publishShot(`${name}.png`);
}

/** Nothing on the page is wider than the phone's screen. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`));
}

/** The page's SDK client has joined `roomId`. */
async function joined(page: Page, roomId: string): Promise<void> {
  await until(`joined ${roomId}`, () => page.evaluate(() => (window as unknown as { livecart?: { state: { room?: { id: string } } } }).livecart?.state.room?.id ?? ''), (id) => id === roomId);
}

describe('scheduled shows in Chromium at phone width', () => {
  it('shows the countdown and preview, reminds the viewer on another page when the show goes live, and the link leads to the live room', async () => {
    const streamer = await server.mintToken({ userId: 'shows-streamer', name: 'Mia', role: 'streamer' });
    const startsAt = Date.now() + 2 * 3_600_000 + 15 * 60_000;
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: 'Friday night drop', id: 'friday-drop', startsAt })).status).toBe(201);
    for (const [sku, title, priceCents] of [['tote', 'Linen tote bag', 2450], ['mug', 'Stoneware mug', 1800]] as const) {
      expect((await http(server, 'POST', '/api/rooms/friday-drop/products', streamer, { sku, title, priceCents, currency: 'USD', stock: 20 })).status).toBe(201);
    }
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: 'Sunday brunch edit', id: 'sunday-brunch', startsAt: startsAt + 2 * 86_400_000 })).status).toBe(201);
    await saleRoom(server, 'warmup', 5, { title: 'Scented candle' }, 'Warm-up live');
    const ann = await viewerToken(server, 'shows-ann');
    const bo = await viewerToken(server, 'shows-bo');
    const cy = await viewerToken(server, 'shows-cy');

    // Before the start: title, countdown, products shown but not on sale, and "Remind me".
    const page = await openPage(browser, `${server.url}/viewer?room=friday-drop&token=${ann}`, problems, PHONE);
    const preview = page.getByTestId('show-preview');
    await until('the preview', () => preview.isVisible(), (v) => v);
    expect(await textOf(page.getByTestId('show-title'))).toBe('Friday night drop');
    await waitText('the countdown', page.getByTestId('show-countdown'), /^Starts in 2:1\d:\d\d$/);
    const items = page.getByTestId('show-products').locator('li');
    expect(await items.count()).toBe(2);
    expect(await textOf(items.nth(0))).toContain('Linen tote bag');
    expect(await textOf(items.nth(0))).toContain('$24.50');
    const adds = page.getByTestId('preview-add');
    expect(await adds.nth(1).isDisabled()).toBe(true);
    expect(await textOf(adds.nth(1))).toBe('On sale when the show starts');
    // The server agrees: an add before the start is not on sale, with the start time.
    expect((await http(server, 'POST', '/api/rooms/friday-drop/cart/items', ann, { sku: 'mug', quantity: 1, key: 'early' })).body).toEqual({ status: 'not_on_sale', sku: 'mug', startsAt });

    // The streamer's other upcoming show is listed below.
    const upcoming = page.getByTestId('upcoming-shows');
    await until('the streamer\'s other shows', () => upcoming.isVisible(), (v) => v);
    expect(await upcoming.locator('li').count()).toBe(1);
    expect(await textOf(upcoming.locator('li'))).toContain('Sunday brunch edit');

    const remind = page.getByTestId('remind-me');
    await until('the reminder state is read', () => remind.isEnabled(), (v) => v);
    await remind.click();
    await until('reminder set', () => remind.getAttribute('aria-pressed'), (v) => v === 'true');
    await waitText('reminder said', page.getByTestId('remind-status'), /tell you on any livecart page/);
    expect((await http(server, 'GET', '/api/streamers/shows-streamer/shows')).body.shows.map((s: { id: string; reminders: number }) => [s.id, s.reminders])).toEqual([['friday-drop', 1], ['sunday-brunch', 0]]);
    expect(await overflowing(page)).toEqual([]);
    await shot(page, 'viewer-scheduled-phone');

    // Cy (a reminder too, set over HTTP) has only "My orders" open: the page follows her reminded show.
    await http(server, 'POST', '/api/rooms/friday-drop/reminder', cy);
    const orders = await openPage(browser, `${server.url}/orders?token=${cy}`, problems, PHONE);
    await until('the orders page follows the show', () => orders.evaluate(() => (window as unknown as { livecartOrders: { followedRooms(): string[] } }).livecartOrders.followedRooms()), (rooms) => rooms.includes('friday-drop'));

    // Bo stays on the show's page (no reminder): it turns live without a reload.
    const stay = await openPage(browser, `${server.url}/viewer?room=friday-drop&token=${bo}`, problems, PHONE);
    await until('Bo\'s preview', () => stay.getByTestId('show-preview').isVisible(), (v) => v);
    await stay.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));

    // Ann goes on to another room.
    await page.goto(`${server.url}/viewer?room=warmup&token=${ann}`);
    await joined(page, 'warmup');
    await waitText('the other room', page.locator('#room-title'), 'Warm-up live');
    expect(await page.getByTestId('show-live-notice').count()).toBe(0);

    // The streamer starts the show: Ann is told in-app, on the other room's page.
    expect((await http(server, 'POST', '/api/rooms/friday-drop/start', streamer)).body.room.state).toBe('live');
    const notice = page.getByTestId('show-live-notice');
    await until('the go-live notice', () => notice.isVisible(), (v) => v);
    expect(await textOf(notice)).toContain('Friday night drop is live now');
    await shot(page, 'show-live-notice-phone');

    await until('the notice on the orders page', () => orders.getByTestId('show-live-notice').isVisible(), (v) => v);
    expect(await orders.getByTestId('show-live-link').getAttribute('href')).toBe(`/viewer?room=friday-drop&token=${encodeURIComponent(cy)}`);
    await orders.context().close();

    await waitText('Bo\'s page turned live', stay.locator('#room-state'), 'Live');
    expect(await stay.getByTestId('show-preview').isVisible()).toBe(false);
    expect(await stay.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(await stay.getByTestId('show-live-notice').count()).toBe(0);

    await page.getByTestId('show-live-link').click();
    await page.waitForURL(/\/viewer\?room=friday-drop/);
    await joined(page, 'friday-drop');
    await waitText('the live room', page.locator('#room-state'), 'Live');
    expect(await page.getByTestId('show-preview').isVisible()).toBe(false);
    // On sale now.
    expect((await http(server, 'POST', '/api/rooms/friday-drop/cart/items', ann, { sku: 'mug', quantity: 1, key: 'now' })).body.status).toBe('reserved');
    expect(problems).toEqual([]);
    await page.context().close();
    await stay.context().close();
  }, 90_000);

  it('the streamer page schedules a show and shows how many viewers set a reminder', async () => {
    const streamer = await server.mintToken({ userId: 'sched-streamer', name: 'Lea', role: 'streamer' });
    const page = await openPage(browser, `${server.url}/streamer?token=${streamer}`, problems, PHONE);
    const panel = page.getByTestId('show-scheduler');
    await until('the scheduler', () => panel.isVisible(), (v) => v);
    await page.getByTestId('show-title-input').fill('Sunday market');
    await page.getByTestId('schedule-show').click();
    await waitText('scheduled', page.getByTestId('show-status'), /"Sunday market" is scheduled/);
    const row = page.getByTestId('scheduled-shows').locator('li');
    await until('listed', () => row.count(), (n) => n === 1);
    expect(await textOf(row.getByTestId('reminder-count'))).toBe('0 reminders');
    const roomId = await row.getAttribute('data-room');
    const { body } = await http(server, 'GET', `/api/rooms/${roomId}`);
    expect(body).toMatchObject({ title: 'Sunday market', state: 'scheduled' });
    expect(body.startsAt).toBeGreaterThan(Date.now());
    await http(server, 'POST', `/api/rooms/${roomId}/reminder`, await viewerToken(server, 'sched-fan'));
    await until('the count follows', () => textOf(row.getByTestId('reminder-count')), (t) => t === '1 reminder', 10_000);
    expect(await overflowing(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('a show past its start time waits for the streamer, the streamer sees it late with "Start now", and one never started is cancelled after the grace', async () => {
    const streamer = await server.mintToken({ userId: 'late-streamer', name: 'Noa', role: 'streamer' });
    const startsAt = Date.now() + 3000;
    for (const [id, title] of [['late-show', 'Late night picks'], ['late-never', 'The show that was not']] as const) {
      expect((await http(server, 'POST', '/api/rooms', streamer, { title, id, startsAt })).status).toBe(201);
    }
    expect((await http(server, 'POST', '/api/rooms/late-show/products', streamer, { sku: 'lamp', title: 'Desk lamp', priceCents: 3900, currency: 'USD', stock: 5 })).status).toBe(201);
    const viewer = await viewerToken(server, 'late-viewer');
    const page = await openPage(browser, `${server.url}/viewer?room=late-show&token=${viewer}`, problems, PHONE);
    const never = await openPage(browser, `${server.url}/viewer?room=late-never&token=${await viewerToken(server, 'late-fan')}`, problems, PHONE);
    await http(server, 'POST', '/api/rooms/late-never/reminder', await viewerToken(server, 'late-fan'));

    // Past startsAt: no countdown below zero, the page says it waits for the streamer.
    const preview = page.getByTestId('show-preview');
    await until('the late state', () => preview.getAttribute('data-phase'), (phase) => phase === 'late');
    expect(await textOf(page.getByTestId('show-eyebrow'))).toBe('Starting soon');
    expect(await textOf(page.getByTestId('show-countdown'))).toBe('Starting soon — waiting for the streamer');
    expect(await textOf(page.getByTestId('show-note'))).toContain('This page turns live by itself when the streamer starts.');
    expect(await page.getByTestId('show-products').locator('li').count()).toBe(1);
    expect(await overflowing(page)).toEqual([]);
    await shot(page, 'viewer-show-late-phone');

    // The streamer's list shows it late, with "Start now" a thumb away.
    const studio = await openPage(browser, `${server.url}/streamer?token=${streamer}`, problems, PHONE);
    const lateRow = studio.getByTestId('scheduled-shows').locator('li[data-room="late-show"]');
    await until('the late show in the streamer\'s list', () => lateRow.getAttribute('data-late'), (late) => late === 'true');
    expect(await textOf(lateRow.getByTestId('late-badge'))).toMatch(/^Late: planned for /);
    const startButton = lateRow.getByTestId('start-late-show');
    const box = await startButton.boundingBox();
    expect(box !== null && box.height >= 44 && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    expect(await overflowing(studio)).toEqual([]);
    await startButton.scrollIntoViewIfNeeded();
    await shot(studio, 'streamer-show-late-phone');
    // The show's own studio page says it is late, and Go live reads "Start now".
    const room = await openPage(browser, `${server.url}/streamer?token=${streamer}&room=late-show`, problems, PHONE);
    await waitText('the studio says late', room.locator('#room-state'), 'Late: viewers are waiting');
    expect(await textOf(room.locator('#go-live'))).toBe('Start now');
    expect(await room.locator('#go-live').evaluate((b) => b.classList.contains('late'))).toBe(true);
    await startButton.click();
    await waitText('started', studio.getByTestId('show-status'), '"Late night picks" is live.');
    await waitText('the studio turned live', room.locator('#room-state'), 'Live');
    expect(await textOf(room.locator('#go-live'))).toBe('Go live');
    // The waiting page turns live by itself.
    await waitText('the page turned live', page.locator('#room-state'), 'Live');
    expect(await preview.isVisible()).toBe(false);
    // Live in the streamer's list: reminders were for before the start, so no count there.
    await until('listed as live', () => lateRow.locator('[data-state="live"]').count(), (n) => n === 1, 10_000);
    expect(await lateRow.getByTestId('reminder-count').count()).toBe(0);

    // The other show is never started: past the grace its page says it will not take place, and it leaves the list.
    const neverPreview = never.getByTestId('show-preview');
    await until('the cancelled show', () => neverPreview.getAttribute('data-phase'), (phase) => phase === 'missed', GRACE_MS + 10_000);
    expect(await textOf(never.getByTestId('show-eyebrow'))).toBe('Show cancelled');
    expect(await textOf(never.locator('#room-state'))).toBe('Show cancelled');
    expect(await textOf(never.getByTestId('show-note'))).toContain('will not take place');
    expect(await never.getByTestId('remind-me').isVisible()).toBe(false);
    expect(await overflowing(never)).toEqual([]);
    await shot(never, 'viewer-show-missed-phone');
    await until('gone from the streamer\'s list', () => studio.getByTestId('scheduled-shows').locator('li[data-room="late-never"]').count(), (n) => n === 0, 10_000);
    expect(problems).toEqual([]);
    for (const p of [page, never, studio, room]) await p.context().close();
  }, 90_000);
});
