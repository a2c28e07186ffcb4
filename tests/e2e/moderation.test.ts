/**
 * Identity and moderation in real headless Chromium at phone width (390×844), against a server in
 * dev mode (no token secret: the viewer page mints guest tokens itself; the test mints the
 * streamer's and viewers' tokens through the server).
 * - A guest viewer keeps one user id over a reload and in a second tab; a kept token the server
 *   refuses is replaced by a new guest token.
 * - The streamer appoints a moderator and sets a filter word from the streamer page; a viewer's
 *   filtered comment is refused with a clear sentence and never reaches another viewer; the
 *   streamer pins a comment, which shows at the top of the viewers' comments; the moderator removes
 *   a viewer from the viewer page and lifts the ban from the moderator's list.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../server/src/server.ts';
import { http, liveRoom, NO_AUTO_DEGRADE } from '../helpers/server.ts';
import { ARTIFACTS, launchChromium, openPage, PHONE, pollers, publishShot, textOf } from './support/browser.ts';

let server: RunningServer;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  // Dev mode: no token secret, so /api/dev/token exists.
  server = await startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', media: false, hls: false, commentRate: 100, commentBurst: 100, ...NO_AUTO_DEGRADE });
  browser = await launchChromium([]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const { until, waitText } = pollers(15_000, 50);

/** The user id the page's SDK client was welcomed as. */
function userIdOn(page: Page): Promise<string> {
  return until('a welcome', () => page.evaluate(() => (window as unknown as { livecart?: { state: { you?: { userId: string } } } }).livecart?.state.you?.userId ?? ''), (id) => id !== '');
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, name) });
  publishShot(name);
}

describe('identity across reloads and tabs', () => {
  it('a guest viewer keeps one user id over a reload and in a second tab; another browser is someone else; a refused token is replaced', async () => {
    await liveRoom(server, 'ident');
    const first = await openPage(browser, `${server.url}/viewer?room=ident`, problems, PHONE);
    const id = await userIdOn(first);
    expect(id).toMatch(/^v-/);
    await first.reload();
    expect(await userIdOn(first)).toBe(id);
    const tab = await first.context().newPage();
    await tab.goto(`${server.url}/viewer?room=ident`);
    expect(await userIdOn(tab)).toBe(id);
    // The orders page of the same browser reads the same identity.
    const kept = await tab.evaluate(() => JSON.parse(localStorage.getItem('livecart.identity') ?? '{}') as { userId?: string });
    expect(kept.userId).toBe(id);
    // The streamer's shop window in the same browser is the same buyer (one cart for a show and its shop).
    const shopOwner = await server.mintToken({ userId: 'ident-shop', name: 'Ida', role: 'streamer' });
    expect((await http(server, 'POST', '/api/shop/products', shopOwner, { sku: 'ident-mug', title: 'Mug', priceCents: 900, currency: 'USD', stock: 3 })).status).toBe(201);
    await tab.goto(`${server.url}/shop?streamer=ident-shop`);
    expect(await userIdOn(tab)).toBe(id);

    const elsewhere = await openPage(browser, `${server.url}/viewer?room=ident`, problems, PHONE);
    expect(await userIdOn(elsewhere)).not.toBe(id);

    // A kept token the server refuses (here: signed with another secret) gives way to a new guest token.
    const forged = `${btoa(JSON.stringify({ alg: 'HS256' }))}.${btoa(JSON.stringify({ sub: 'v-forged', name: 'F', role: 'viewer', exp: Math.floor(Date.now() / 1000) + 3600 })).replace(/=+$/, '')}.c2ln`;
    await elsewhere.evaluate((token) => localStorage.setItem('livecart.identity', JSON.stringify({ token, userId: 'v-forged', name: 'F', expiresAt: Date.now() + 3600_000, dev: true })), forged);
    await elsewhere.reload();
    const renewed = await until('a new guest identity', () => userIdOn(elsewhere), (v) => v !== 'v-forged');
    expect(renewed).toMatch(/^v-/);
    expect(problems).toEqual([]);
  });
});

describe('moderation at phone width', () => {
  it('moderator, keyword filter, pinned comment and ban list', async () => {
    const { streamer: streamerToken } = await liveRoom(server, 'mod-show', 'streamer-mod');
    const token = (userId: string, name: string) => server.mintToken({ userId, name, role: 'viewer' });
    const streamer = await openPage(browser, `${server.url}/streamer?token=${streamerToken}&room=mod-show`, problems, PHONE);
    const mia = await openPage(browser, `${server.url}/viewer?room=mod-show&token=${await token('u-mia', 'Mia')}`, problems, PHONE);
    const ann = await openPage(browser, `${server.url}/viewer?room=mod-show&token=${await token('u-ann', 'Ann')}`, problems, PHONE);
    const bo = await openPage(browser, `${server.url}/viewer?room=mod-show&token=${await token('u-bo', 'Bo')}`, problems, PHONE);
    for (const page of [streamer, mia, ann, bo]) await userIdOn(page);

    // Mia says hello; the streamer appoints her (the appoint field suggests commenters by id).
    await mia.getByLabel('Say something', { exact: true }).fill('Hi all, Mia here');
    await mia.getByRole('button', { name: 'Send' }).click();
    await waitText('streamer sees Mia', streamer.getByTestId('comments').locator('li').last(), /^Mia Hi all, Mia here/);
    expect(await mia.getByTestId('moderation').count()).toBe(0);
    await streamer.getByTestId('appoint-user').fill('u-mia');
    await streamer.getByTestId('appoint').click();
    await waitText('moderator listed', streamer.getByTestId('moderators'), /^Mia u-mia Remove$/);
    await until('Mia\'s moderator tools', () => mia.getByTestId('moderation').isVisible(), (v) => v);

    // The streamer sets the filter: an English and a Chinese word.
    await streamer.getByTestId('filter-words').fill('spam\n垃圾');
    await streamer.getByTestId('save-filter').click();
    await waitText('filter saved', streamer.getByTestId('status'), 'Keyword filter saved: 2 words.');
    await waitText('filter count', streamer.getByTestId('filter-count'), '2 of 200 words');

    // Ann's filtered comments are refused with a clear sentence; Bo never sees them.
    for (const text of ['Cheap SPAM links', '都是垃圾']) {
      await ann.getByLabel('Say something', { exact: true }).fill(text);
      await ann.getByRole('button', { name: 'Send' }).click();
      await waitText('Ann told', ann.getByTestId('comment-status'), 'Your comment was not posted: it contains a word this room does not allow.');
      await ann.getByTestId('comment-status').evaluate((el) => (el.textContent = ''));
    }
    await ann.getByLabel('Say something', { exact: true }).fill('Does it come in blue?');
    await ann.getByRole('button', { name: 'Send' }).click();
    await waitText('Bo sees Ann\'s question', bo.getByTestId('comments').locator('li').last(), /^Ann Does it come in blue\?/);
    const seen = await textOf(bo.getByTestId('comments'));
    expect(seen).not.toMatch(/SPAM|垃圾/);

    // The streamer pins Ann's question: it shows at the top of the viewers' comments.
    await streamer.getByRole('button', { name: 'Pin comment by Ann: Does it come in blue?' }).click();
    for (const page of [bo, ann, mia]) await waitText('pinned comment', page.getByTestId('pinned-comment'), '📌 Ann Does it come in blue?');
    await waitText('streamer pinned comment', streamer.getByTestId('pinned-comment-now'), 'Ann: Does it come in blue?');
    await shot(bo, 'viewer-pinned-comment-phone.png');

    // Mia (a moderator, on the viewer page) removes Ann; Ann's page says so; Mia's ban list has her by name.
    await mia.getByRole('button', { name: 'Remove Ann from the room' }).click();
    await until('Ann removed', () => ann.getByTestId('removed-banner').isVisible(), (v) => v);
    await waitText('Mia\'s ban list', mia.getByTestId('moderator-bans'), 'Ann Lift ban');
    await waitText('streamer\'s ban list', streamer.getByTestId('bans'), /^Ann until .+ Let back in$/);
    await streamer.getByTestId('moderation').scrollIntoViewIfNeeded();
    await shot(streamer, 'streamer-moderation-phone.png');

    // Mia lifts the ban from her list: both lists empty, and Ann may come back.
    await mia.getByRole('button', { name: 'Lift the ban of Ann' }).click();
    await waitText('Mia\'s list empty', mia.getByTestId('moderator-bans'), '');
    await waitText('streamer\'s list empty', streamer.getByTestId('bans'), '');
    await ann.reload();
    await waitText('Ann back', ann.getByTestId('pinned-comment'), '📌 Ann Does it come in blue?');

    // Nothing of the moderation tools is wider than the phone, on the streamer's page or the moderator's.
    for (const page of [streamer, mia]) {
      const wide = await page.evaluate(() => Array.from(document.querySelectorAll('.moderation, .moderation *, .mod-actions, .pinned-comment')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName));
      expect(wide).toEqual([]);
    }
    await mia.getByTestId('moderation').scrollIntoViewIfNeeded();
    await shot(mia, 'viewer-moderator-phone.png');
    expect(problems).toEqual([]);
  });
});
