/**
 * The streamer page's "Stream from OBS or an encoder" panel, in real headless Chromium at phone
 * width: the WHIP URL, RTMP server and stream key the server gives, the key hidden until shown,
 * and a new key that replaces the old one (the old one then refused by WHIP).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { freePort } from '../helpers/redisServer.ts';
import { http, liveRoom, startTestServer } from '../helpers/server.ts';
import { launchChromium, openPage, PHONE, pollers } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];
let rtmpPort: number;

beforeAll(async () => {
  rtmpPort = await freePort();
  server = await startTestServer({ media: true, mediaWorkers: 1, rtmpPort });
  browser = await launchChromium([]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const { until } = pollers(15_000, 100);

describe('the streamer page\'s encoder settings in Chromium', () => {
  it('shows the WHIP URL, the RTMP server and the hidden stream key; a new key replaces the old one', async () => {
    const room = 'obs-page';
    const { streamer } = await liveRoom(server, room);
    const page = await openPage(browser, `${server.url}/streamer?token=${streamer}&room=${room}`, problems, PHONE);
    const panel = page.getByTestId('encoder');
    await panel.locator('summary').click();
    const key = page.getByTestId('stream-key');
    await until('the stream key loaded', () => key.inputValue(), (v) => v.startsWith('sk_'));
    const answer = (await http(server, 'GET', `/api/rooms/${room}/stream-key`, streamer)).body as { key: string; whip: { url: string }; rtmp: { server: string } };
    expect(await key.inputValue()).toBe(answer.key);
    expect(await key.getAttribute('type')).toBe('password');
    expect(await page.getByTestId('whip-url').inputValue()).toBe(answer.whip.url);
    expect(await page.getByTestId('rtmp-server').inputValue()).toBe(answer.rtmp.server);
    expect(answer.rtmp.server).toContain(`:${rtmpPort}/${room}`);
    await panel.getByRole('button', { name: 'Show' }).click();
    expect(await key.getAttribute('type')).toBe('text');
    // At phone width the panel fits: nothing scrolls sideways.
    const wide = await page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
    expect(wide).toEqual([]);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('stream-key-rotate').click();
    const rotated = await until('a new key shown', () => key.inputValue(), (v) => v !== answer.key && v.startsWith('sk_'));
    expect((await http(server, 'GET', `/api/rooms/${room}/stream-key`, streamer)).body).toMatchObject({ key: rotated });
    // The old key no longer opens a WHIP session.
    const refused = await fetch(`${server.url}/api/rooms/${room}/whip`, { method: 'POST', headers: { authorization: `Bearer ${answer.key}`, 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
    expect(refused.status).toBe(401);
    expect(problems).toEqual([]);
  }, 60_000);
});
