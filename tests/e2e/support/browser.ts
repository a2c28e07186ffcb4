import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** What the page tests share: Debian's Chromium, pages opened with their errors collected, polling helpers. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
export const DOC_SHOTS = join(ROOT, 'docs', 'screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Builds the pages if `dist` is missing, checks Chromium is there, and launches it with `extraArgs`. */
export async function launchChromium(extraArgs: readonly string[]): Promise<Browser> {
  if (!existsSync(join(ROOT, 'client', 'web', 'dist', 'viewer.html'))) {
    execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run node scripts/ensure-chromium.mjs (npm test does it first)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...extraArgs] });
}

/** Answers a page gets in normal use: asking for an ended show's replay, 404 says it has none (the page lists its products). */
const EXPECTED_MISSES = [/^\/api\/rooms\/[^/]+\/replay$/];

/**
 * A page in a fresh context; uncaught errors, console errors and failed loads (by path, but for the
 * expected misses) land in `problems` (tests expect it empty).
 */
export async function openPage(browser: Browser, url: string, problems: string[], viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const where = new URL(url).pathname;
  page.on('pageerror', (error) => problems.push(`${where}: uncaught ${error.message}`));
  page.on('console', (message) => {
    // A failed load is reported below, with its path.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) problems.push(`${where}: console error ${message.text()}`);
  });
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (response.status() >= 400 && !EXPECTED_MISSES.some((miss) => miss.test(path))) problems.push(`${where}: ${response.status()} ${path}`);
  });
  const response = await page.goto(url);
  expect(response?.status(), url).toBe(200);
  return page;
}

/** Copies a screenshot from tests/artifacts to docs/screenshots when missing there, or always with LIVECART_UPDATE_SCREENSHOTS=1. */
export function publishShot(name: string): void {
  mkdirSync(DOC_SHOTS, { recursive: true });
  if (process.env.LIVECART_UPDATE_SCREENSHOTS === '1' || !existsSync(join(DOC_SHOTS, name))) copyFileSync(join(ARTIFACTS, name), join(DOC_SHOTS, name));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const textOf = (locator: Locator) => locator.textContent({ timeout: 2000 }).then((t) => (t ?? '').replace(/\s+/g, ' ').trim());

/** Polling helpers with one default timeout and poll interval. */
export function pollers(defaultTimeoutMs: number, pollMs: number) {
  /** Polls until `read()` satisfies `ok`; fails with the last value seen. */
  async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = defaultTimeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    let error: unknown;
    while (Date.now() < deadline) {
      try {
        last = await read();
        if (ok(last)) return last;
      } catch (e) {
        error = e;
      }
      await sleep(pollMs);
    }
    throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}${error ? ` (${String(error)})` : ''}`);
  }
  const waitText = (what: string, locator: Locator, expected: string | RegExp) =>
    until(what, () => textOf(locator), (t) => (typeof expected === 'string' ? t === expected : expected.test(t)));
  const waitAttr = (what: string, locator: Locator, name: string, expected: string) =>
    until(what, () => locator.getAttribute(name, { timeout: 2000 }), (v) => v === expected);
  /** The streamer page ends the show (confirming), and then says it cannot go back on air and keeps Start video off. */
  async function endShowOnStreamerPage(streamer: Page): Promise<void> {
    await streamer.getByRole('button', { name: 'End show' }).click();
    await streamer.getByRole('button', { name: 'Really end the show?' }).click();
    await waitText('streamer ended', streamer.locator('#room-state'), 'Ended');
    await waitAttr('streamer off air', streamer.getByTestId('media-state'), 'data-state', 'show-ended');
    expect(await textOf(streamer.getByTestId('media-state'))).toBe('The show has ended: it cannot go back on air.');
    expect(await streamer.getByRole('button', { name: 'Start video' }).isDisabled()).toBe(true);
  }
  return { until, waitText, waitAttr, endShowOnStreamerPage };
}
