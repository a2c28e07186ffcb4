/**
 * Video on the web pages, in real headless Chromium (Debian's, driven by playwright-core) with
 * Chromium's fake camera and microphone, against a real server with mediasoup workers: the streamer
 * page starts video (getUserMedia + StreamPublisher, simulcast); two viewer pages play it (decoded
 * frames rise, read through `window.livecartViewer.stats()`); muting the camera shows on the
 * viewers, and so does ending the stream. A server without media makes the streamer page say
 * "Video unavailable" with the server's reason.
 *
 * Screenshots go to tests/artifacts/ (gitignored); streamer-live.png, viewer-playing.png and
 * viewer-playing-2.png (phone width) are copied to docs/screenshots/ when missing there, or always
 * with LIVECART_UPDATE_SCREENSHOTS=1.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { ARTIFACTS, DESKTOP, launchChromium, openPage, PHONE, pollers, publishShot, sleep, textOf } from './support/browser.ts';

let media: RunningServer;
let noMedia: RunningServer;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  [media, noMedia] = await Promise.all([startTestServer({ media: true, mediaWorkers: 2 }), startTestServer({ media: false })]);
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await media?.close();
  await noMedia?.close();
});

const open = (server: RunningServer, path: string, viewport = DESKTOP): Promise<Page> => openPage(browser, `${server.url}${path}`, problems, viewport);
const { until, waitText, waitAttr, endShowOnStreamerPage } = pollers(20_000, 100);

/** Video frames decoded so far by the page's StreamViewer (inbound-rtp of its receive transport). */
function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const viewer = (window as unknown as { livecartViewer?: { stats(): Promise<RTCStatsReport | undefined> } }).livecartViewer;
    const report = await viewer?.stats();
    let frames = 0;
    report?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
    });
    return frames;
  });
}

/** What the page's <video> is doing: playing (not paused), its picture size and its clock. */
function player(page: Page): Promise<{ paused: boolean; width: number; height: number; time: number; tracks: string[] }> {
  return page.locator('#player').evaluate((v: HTMLVideoElement) => ({
    paused: v.paused,
    width: v.videoWidth,
    height: v.videoHeight,
    time: v.currentTime,
    tracks: ((v.srcObject as MediaStream | null)?.getTracks() ?? []).map((t) => t.kind).sort(),
  }));
}

async function shot(page: Page, name: string, doc: boolean): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(300); // a few more frames, and settled transitions
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  if (doc) publishShot(`${name}.png`);
}

describe('video on the web pages in Chromium', () => {
  it('the streamer goes on camera; two viewers play it, see the camera muted, then the stream end', async () => {
    expect(media.media.available).toBe(true);
    const room = 'tv-e2e';
    const { streamer: streamerToken } = await liveRoom(media, room);

    // The streamer starts video: fake camera and microphone, published with simulcast.
    const streamer = await open(media, `/streamer?token=${streamerToken}&room=${room}`);
    await waitText('streamer connected', streamer.locator('#conn'), 'Connected');
    await waitText('streamer idle video', streamer.getByTestId('media-state'), 'Camera off. Start video to go on air.');
    await streamer.getByRole('button', { name: 'Start video' }).click();
    await waitAttr('streamer on air', streamer.getByTestId('media-state'), 'data-state', 'live');
    expect(await textOf(streamer.getByTestId('media-state'))).toBe('On air: viewers see and hear you.');
    expect(await streamer.getByRole('button', { name: 'Start video' }).isDisabled()).toBe(true);
    const sent = await streamer.evaluate(async () => {
      const publisher = (window as unknown as { livecartPublisher: { stats(): Promise<RTCStatsReport | undefined> } }).livecartPublisher;
      const rids: string[] = [];
      (await publisher.stats())?.forEach((s: { type: string; kind?: string; rid?: string }) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) rids.push(s.rid);
      });
      return rids.sort();
    });
    expect(sent, 'simulcast layers sent').toEqual(['r0', 'r1', 'r2']);
    expect(media.media.status()).toMatchObject({ producers: 2 });

    // Two viewers (one at phone width) play it: frames are decoded and keep coming.
    const viewers = await Promise.all([1, 2].map(async (n) => open(media, `/viewer?room=${room}&token=${await viewerToken(media, `e2e-tv-${n}`)}`, n === 2 ? PHONE : DESKTOP)));
    for (const [i, viewer] of viewers.entries()) {
      await waitText(`viewer ${i} connected`, viewer.locator('#conn'), 'Connected');
      await waitAttr(`viewer ${i} playing`, viewer.getByTestId('video'), 'data-media', 'playing');
      expect(await textOf(viewer.getByTestId('video-state'))).toBe('Playing');
      const first = await until(`viewer ${i} decodes frames`, () => framesDecoded(viewer), (f) => f > 0);
      await until(`viewer ${i} frames keep rising`, () => framesDecoded(viewer), (f) => f > first);
      const shown = await until(`viewer ${i} <video> plays`, () => player(viewer), (p) => !p.paused && p.width > 0 && p.time > 0);
      expect(shown.tracks).toEqual(['audio', 'video']);
      expect(await viewer.getByRole('button', { name: 'Unmute' }).isVisible()).toBe(true);
    }
    expect(media.media.status()).toMatchObject({ producers: 2, consumers: 4 });
    // The operator console's node health shows the video load.
    const operator = await open(media, `/operator?token=${await media.mintToken({ userId: 'e2e-op', name: 'Op', role: 'operator' })}`);
    await waitText('operator video tile', operator.locator('.tile', { hasText: 'Video' }), /2 tracks live, 4 consumers, [\d.]+ Mbit\/s out · #\d \d+ consumers/);
    await operator.context().close();

    // The Unmute button unmutes the <video> (and offers to mute it again).
    await viewers[0]!.getByRole('button', { name: 'Unmute' }).click();
    expect(await viewers[0]!.locator('#player').evaluate((v: HTMLVideoElement) => v.muted)).toBe(false);
    await waitText('viewer 0 mute button', viewers[0]!.getByTestId('unmute'), 'Mute');
    await viewers[0]!.getByRole('button', { name: 'Mute the stream' }).click();
    expect(await viewers[0]!.locator('#player').evaluate((v: HTMLVideoElement) => v.muted)).toBe(true);

    await shot(streamer, 'streamer-live', true);
    await shot(viewers[0]!, 'viewer-playing', true);
    await shot(viewers[1]!, 'viewer-playing-2', true);

    // The streamer mutes the camera: every viewer shows it; unmuting brings the picture back.
    await streamer.getByRole('button', { name: 'Mute camera' }).click();
    await waitText('streamer camera muted', streamer.getByTestId('media-state'), 'On air, camera muted: viewers are told your camera is off.');
    await waitText('streamer unmute button', streamer.getByTestId('mute-camera'), 'Unmute camera');
    for (const [i, viewer] of viewers.entries()) {
      await waitAttr(`viewer ${i} camera off`, viewer.getByTestId('video'), 'data-media', 'camera-off');
      expect(await textOf(viewer.getByTestId('video-state'))).toBe('The streamer turned the camera off');
    }
    await shot(viewers[0]!, 'viewer-camera-off', false);
    await streamer.getByRole('button', { name: 'Unmute camera' }).click();
    for (const [i, viewer] of viewers.entries()) {
      await waitAttr(`viewer ${i} camera back`, viewer.getByTestId('video'), 'data-media', 'playing');
      const before = await framesDecoded(viewer);
      await until(`viewer ${i} frames after unmute`, () => framesDecoded(viewer), (f) => f > before);
    }

    // The microphone too: viewers get a "microphone is off" note.
    await streamer.getByRole('button', { name: 'Mute microphone' }).click();
    for (const [i, viewer] of viewers.entries()) await until(`viewer ${i} mic off`, () => viewer.getByTestId('mic-off').isVisible(), (v) => v);
    await streamer.getByRole('button', { name: 'Unmute microphone' }).click();
    for (const [i, viewer] of viewers.entries()) await until(`viewer ${i} mic back`, () => viewer.getByTestId('mic-off').isVisible(), (v) => !v);

    // The streamer ends the stream: the viewers say so, and the server closed every producer.
    await streamer.getByRole('button', { name: 'End stream' }).click();
    await waitAttr('streamer ended', streamer.getByTestId('media-state'), 'data-state', 'ended');
    expect(await textOf(streamer.getByTestId('media-state'))).toBe('Stream ended. Viewers see that it ended.');
    expect(await streamer.getByRole('button', { name: 'Start video' }).isDisabled()).toBe(false);
    for (const [i, viewer] of viewers.entries()) {
      await waitAttr(`viewer ${i} stream ended`, viewer.getByTestId('video'), 'data-media', 'ended');
      expect(await textOf(viewer.getByTestId('video-state'))).toBe('The stream has ended');
      expect((await player(viewer)).tracks).toEqual([]);
    }
    await shot(viewers[0]!, 'viewer-stream-ended', false);
    await until('server producers and consumers closed', async () => media.media.status(), (s) => s.producers === 0 && s.consumers === 0);

    // The room's commerce UI still works next to the video.
    await viewers[0]!.getByRole('button', { name: 'Like' }).click();
    await waitText('like counted', viewers[1]!.getByTestId('likes'), '1');

    expect(problems).toEqual([]);
    for (const page of [streamer, ...viewers]) await page.context().close();
  }, 120_000);

  it('ending the show takes the streamer off air for good: the page stops its camera and disables Start video; viewers see the end', async () => {
    const room = 'tv-over';
    const { streamer: streamerToken } = await liveRoom(media, room);
    const streamer = await open(media, `/streamer?token=${streamerToken}&room=${room}`);
    await waitText('streamer connected', streamer.locator('#conn'), 'Connected');
    await streamer.getByRole('button', { name: 'Start video' }).click();
    await waitAttr('streamer on air', streamer.getByTestId('media-state'), 'data-state', 'live');
    const viewer = await open(media, `/viewer?room=${room}&token=${await viewerToken(media, 'e2e-over')}`);
    await waitAttr('viewer playing', viewer.getByTestId('video'), 'data-media', 'playing');

    await endShowOnStreamerPage(streamer);
    await waitAttr('camera released', streamer.locator('#preview-box'), 'data-state', 'off');
    await waitAttr('viewer sees the end', viewer.getByTestId('video'), 'data-media', 'ended');
    expect((await player(viewer)).tracks).toEqual([]);
    await until('server producers closed', async () => media.media.status(), (s) => s.producers === 0);
    // Nothing puts it back on air: the page's publisher has stopped (no retries pending).
    expect(await streamer.evaluate(() => (window as unknown as { livecartPublisher: { running: boolean; state: string } }).livecartPublisher.running)).toBe(false);
    await shot(streamer, 'streamer-show-ended', false);
    expect(problems).toEqual([]);
    for (const page of [streamer, viewer]) await page.context().close();
  }, 60_000);

  it('a server without media: the streamer page says "Video unavailable" with the reason, viewers too', async () => {
    const room = 'tv-off';
    const { streamer: streamerToken } = await liveRoom(noMedia, room);
    const streamer = await open(noMedia, `/streamer?token=${streamerToken}&room=${room}`);
    await waitText('streamer connected', streamer.locator('#conn'), 'Connected');
    await streamer.getByRole('button', { name: 'Start video' }).click();
    await waitAttr('streamer video unavailable', streamer.getByTestId('media-state'), 'data-state', 'unavailable');
    expect(await textOf(streamer.getByTestId('media-state'))).toBe('Video unavailable: video is switched off (--media false).');
    expect(await textOf(streamer.getByTestId('media-detail'))).toMatch(/^Comments and the shop keep working\. Trying again in \d+ s\.$/);
    // The camera stays on (preview) and the stream can be given up.
    expect(await streamer.getByRole('button', { name: 'End stream' }).isDisabled()).toBe(false);
    await shot(streamer, 'streamer-video-unavailable', false);

    const viewer = await open(noMedia, `/viewer?room=${room}&token=${await viewerToken(noMedia, 'e2e-off')}`);
    await waitAttr('viewer video unavailable', viewer.getByTestId('video'), 'data-media', 'unavailable');
    expect(await textOf(viewer.getByTestId('video-state'))).toBe('Video unavailable');
    expect(await textOf(viewer.getByTestId('video-detail'))).toMatch(/^Video is switched off \(--media false\)\. Retrying in \d+ s\.$/);

    await streamer.getByRole('button', { name: 'End stream' }).click();
    await waitAttr('streamer gave up', streamer.getByTestId('media-state'), 'data-state', 'ended');
    expect(problems).toEqual([]);
  }, 60_000);
});
