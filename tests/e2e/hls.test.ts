/**
 * HLS past WebRTC capacity, in real headless Chromium: the streamer page goes on camera (Chromium's
 * fake camera and microphone); the server's one media worker carries one viewer's two consumers at
 * most, so a second viewer (at phone width) gets VIDEO_FULL and plays the room's HLS rendition
 * through hls.js instead, saying so; when the first viewer leaves, the second moves to WebRTC.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, pollers, publishShot, textOf } from './support/browser.ts';

const hasFfmpeg = existsSync('/usr/bin/ffmpeg');
if (!hasFfmpeg) console.warn('tests/e2e/hls.test.ts skipped: /usr/bin/ffmpeg is missing (apt-get install ffmpeg)');

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
const hlsDir = mkdtempSync(join(tmpdir(), 'livecart-hls-e2e-'));

beforeAll(async () => {
  if (!hasFfmpeg) return;
  server = await startTestServer({ media: true, mediaWorkers: 1, mediaConsumerLimit: 2, mediaVideoFullRetryMs: 500, hls: true, hlsDir });
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(hlsDir, { recursive: true, force: true });
});

const { until, waitText, waitAttr } = pollers(30_000, 100);

/** What the page's <video> shows: playing, picture size, clock, and whether it plays a WebRTC stream or a URL (HLS through MSE). */
function player(page: Page): Promise<{ paused: boolean; width: number; time: number; webrtc: boolean; src: string }> {
  return page.locator('#player').evaluate((v: HTMLVideoElement) => ({ paused: v.paused, width: v.videoWidth, time: v.currentTime, webrtc: v.srcObject !== null, src: v.currentSrc }));
}

describe.skipIf(!hasFfmpeg)('HLS fallback on the viewer page in Chromium', () => {
  it('a viewer past WebRTC capacity plays HLS and says so; a freed seat moves it to WebRTC', async () => {
    const room = 'hls-e2e';
    const { streamer: streamerToken } = await liveRoom(server, room);
    const streamer = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=${room}`, problems);
    await waitText('streamer connected', streamer.locator('#conn'), 'Connected');
    await streamer.getByRole('button', { name: 'Start video' }).click();
    await waitAttr('streamer on air', streamer.getByTestId('media-state'), 'data-state', 'live');

    // The first viewer takes the worker's only seat (video + audio = 2 consumers).
    const first = await openPage(browser, `${server.url}/viewer?room=${room}&token=${await viewerToken(server, 'hls-1')}`, problems);
    await waitAttr('first viewer playing', first.getByTestId('video'), 'data-media', 'playing');
    expect(await textOf(first.getByTestId('transport'))).toBe('Live (WebRTC)');

    // The rendition is out (a playlist asked for before its first segments answers 404, which the page retries).
    await until('the room\'s HLS playlist', async () => {
      const response = await fetch(`${server.url}/hls/${room}/index.m3u8`);
      return response.status === 200 ? (await response.text()).split('.ts').length - 1 : 0;
    }, (segments) => segments >= 2);

    // The second viewer is refused a seat: it plays the HLS rendition instead.
    const second = await openPage(browser, `${server.url}/viewer?room=${room}&token=${await viewerToken(server, 'hls-2')}`, problems, { width: 360, height: 740 });
    await waitAttr('second viewer on HLS', second.getByTestId('video'), 'data-media', 'hls');
    expect(await textOf(second.getByTestId('video-state'))).toBe('Playing (HLS)');
    const onHls = await until('HLS picture moving', () => player(second), (p) => !p.paused && p.width > 0 && p.time > 1 && !p.webrtc);
    expect(onHls.src).toMatch(/^blob:/); // hls.js through Media Source Extensions
    const label = await waitText('HLS delay shown', second.getByTestId('transport'), /^HLS, ~\d+ s behind live$/);
    expect(Number(/~(\d+) s/.exec(label)?.[1])).toBeLessThan(30);
    expect(await second.getByTestId('transport').isVisible()).toBe(true);
    expect(await second.getByRole('button', { name: 'Unmute the stream' }).isVisible()).toBe(true);
    // Fits a phone: nothing wider than the screen.
    expect(await second.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(server.media.status().consumers).toBe(2); // still only the first viewer's seat on WebRTC
    await second.screenshot({ path: join(ARTIFACTS, 'viewer-hls-phone.png'), fullPage: true });
    publishShot('viewer-hls-phone.png');

    // The first viewer leaves: the seat frees, the second viewer moves to WebRTC on its next try.
    await first.context().close();
    await waitAttr('second viewer on WebRTC', second.getByTestId('video'), 'data-media', 'playing');
    await until('WebRTC picture', () => player(second), (p) => !p.paused && p.width > 0 && p.webrtc);
    expect(await textOf(second.getByTestId('transport'))).toBe('Live (WebRTC)');

    // A muted camera sends nothing: the rendition stops, and comes back with the camera.
    const playlist = () => fetch(`${server.url}/hls/${room}/index.m3u8`).then((r) => r.status);
    await streamer.getByRole('button', { name: 'Mute camera' }).click();
    await until('rendition stopped while the camera is muted', playlist, (status) => status === 404);
    await streamer.getByRole('button', { name: 'Unmute camera' }).click();
    await until('rendition back with the camera', playlist, (status) => status === 200);
    expect(problems).toEqual([]);
  }, 120_000);
});
