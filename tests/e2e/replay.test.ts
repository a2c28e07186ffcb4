/**
 * The shoppable replay, in real headless Chromium: ffmpeg streams a show into a room (RTP ingest),
 * the streamer pins two products a few seconds apart, the show ends; a visitor who comes later (at
 * phone width) gets the recording playing instead of "The show has ended", the products at their
 * moments, jumps to the second one and puts it in the cart against the stock of now.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayInfo } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { hasFfmpeg, runIngest } from '../helpers/ffmpegIngest.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { http, liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

if (!hasFfmpeg) console.warn('tests/e2e/replay.test.ts skipped: ffmpeg/ffprobe missing (apt-get install ffmpeg)');

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const hlsDir = mkdtempSync(join(tmpdir(), 'livecart-replay-e2e-'));

beforeAll(async () => {
  if (!hasFfmpeg) return;
  server = await startTestServer({ media: true, mediaWorkers: 1, hls: true, hlsDir });
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(hlsDir, { recursive: true, force: true });
});

const { until, waitAttr, waitText } = pollers(30_000, 100);

function player(page: Page): Promise<{ paused: boolean; width: number; time: number; controls: boolean }> {
  return page.locator('#player').evaluate((v: HTMLVideoElement) => ({ paused: v.paused, width: v.videoWidth, time: v.currentTime, controls: v.controls }));
}

describe.skipIf(!hasFfmpeg)('the shoppable replay on the viewer page in Chromium', () => {
  it('a late visitor plays the recording, jumps to a product\'s moment and buys it', async () => {
    const room = 'replay-e2e';
    const { streamer } = await liveRoom(server, room); // sku-1, a Mug
    expect((await http(server, 'POST', `/api/rooms/${room}/products`, streamer, { sku: 'sku-2', title: 'Scarf', priceCents: 2500, currency: 'USD', stock: 5 })).status).toBe(201);
    const ingestAt = await http(server, 'POST', `/api/rooms/${room}/ingest`, streamer, { video: true, audio: true });
    expect(ingestAt.status).toBe(201);
    const ingest = runIngest(ingestAt.body.ffmpeg as string, 60);
    const { client: host } = await RawClient.join(server.wsUrl, streamer, room);
    const replay = async () => (await http(server, 'GET', `/api/rooms/${room}/replay`)).body as ReplayInfo;
    try {
      await until('the show being recorded', replay, (r) => r.durationMs >= 2000);
      expect((await host.request({ t: 'pin', sku: 'sku-1' })).t).toBe('ok');
      await sleep(3000);
      expect((await host.request({ t: 'pin', sku: 'sku-2' })).t).toBe('ok');
      await sleep(3000);
      expect((await http(server, 'POST', `/api/rooms/${room}/end`, streamer)).status).toBe(200);
      await until('the recording closed', replay, (r) => r.complete);
    } finally {
      ingest.kill();
      host.close();
    }
    const recorded = await replay();
    const [mug, scarf] = recorded.timeline;
    expect([mug?.product.sku, scarf?.product.sku]).toEqual(['sku-1', 'sku-2']);
    expect(scarf!.atMs - mug!.atMs).toBeGreaterThan(2000);

    // A visitor after the show: the replay plays, where "The show has ended" would have been.
    const page = await openPage(browser, `${server.url}/viewer?room=${room}&token=${await viewerToken(server, 'late-visitor')}`, problems, PHONE);
    await waitAttr('the replay playing', page.getByTestId('video'), 'data-media', 'replay');
    const started = await until('the replay\'s picture moving', () => player(page), (p) => !p.paused && p.width > 0 && p.time > 0.5);
    await until('the replay\'s clock rising', () => player(page), (p) => p.time > started.time + 1);
    expect(started.controls).toBe(true); // scrubbing with the browser's own controls
    expect(await page.locator('#card').isVisible()).toBe(false);

    // The timeline: each product at its moment, with the stock of now.
    const moments = page.getByTestId('moment');
    await until('two moments listed', () => moments.count(), (n) => n === 2);
    expect(await moments.nth(0).getAttribute('data-sku')).toBe('sku-1');
    expect(Number(await moments.nth(1).getAttribute('data-at-ms'))).toBe(scarf!.atMs);
    expect(await textOf(moments.nth(1).locator('.stock'))).toBe('5 left');
    expect(await textOf(page.locator('#replay-note'))).toBe('Watch the replay: tap a product to jump to its moment in the show.');

    // A tap on the second product jumps the video to the moment it was pinned.
    await page.getByRole('button', { name: /^Watch Scarf at \d+:\d\d$/ }).click();
    const jumped = await until('the video at the scarf\'s moment', () => player(page), (p) => Math.abs(p.time - scarf!.atMs / 1000) < 1.5);
    expect(jumped.paused).toBe(false);
    expect(await moments.nth(1).getAttribute('aria-current')).toBe('true');

    // Into the cart, against the stock of now.
    await page.getByRole('button', { name: 'Add Scarf to cart' }).click();
    await waitText('the add answered', moments.nth(1).getByRole('status'), 'Reserved: 1 in your cart.');
    await waitText('the cart counts it', page.getByTestId('cart-count'), '1');
    await waitText('the stock dropped on the page', moments.nth(1).locator('.stock'), '4 left');
    expect(await server.store.stock(room, 'sku-2')).toEqual({ available: 4, reserved: 1, sold: 0 });
    expect(await server.store.stock(room, 'sku-1')).toEqual({ available: 10, reserved: 0, sold: 0 });

    // Fits a phone: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-replay-phone.png'), fullPage: true });
    publishShot('viewer-replay-phone.png');

    // The cart holds it and checks out.
    await page.getByRole('button', { name: /^Cart/ }).click();
    expect(await page.locator('.cart-line').getAttribute('data-sku')).toBe('sku-2');
    await page.getByTestId('checkout').click();
    await waitText('the order placed', page.locator('#order-title'), 'Order placed');
    expect(await server.store.stock(room, 'sku-2')).toEqual({ available: 4, reserved: 0, sold: 1 });
    expect(problems).toEqual([]);
  }, 120_000);
});
