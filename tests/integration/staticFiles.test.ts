/** The web pages' file server on a real uWS app: content types, caching, the "not built" page, rebuilds. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticFiles } from '../../server/src/transport/StaticFiles.ts';
import { createApp, listen } from '../../server/src/transport/listen.ts';

let dir: string;
let base: string;
let closeBuilt: () => void;
let missingBase: string;
let closeMissing: () => void;

async function serve(root: string): Promise<{ url: string; close: () => void }> {
  const app = createApp();
  new StaticFiles(root).register(app);
  app.any('/*', (res) => void res.writeStatus('404 Not Found').end('routed elsewhere'));
  const listener = await listen(app, '127.0.0.1', 0);
  return { url: `http://127.0.0.1:${listener.port}`, close: () => listener.close() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'livecart-web-'));
  mkdirSync(join(dir, 'assets'));
  for (const page of ['viewer', 'streamer', 'operator', 'orders']) writeFileSync(join(dir, `${page}.html`), `<!doctype html><title>${page}</title>`);
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app-1.css'), 'body{}');
  writeFileSync(join(dir, 'assets', 'app-1.js.map'), '{}');
  const built = await serve(dir);
  base = built.url;
  closeBuilt = built.close;
  const missing = await serve(join(dir, 'no-such-dist'));
  missingBase = missing.url;
  closeMissing = missing.close;
});

afterAll(() => {
  closeBuilt?.();
  closeMissing?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('StaticFiles', () => {
  it('serves each page at /name, /name/ and /name.html as uncached HTML with a no-referrer policy', async () => {
    for (const path of ['/viewer', '/viewer/', '/viewer.html', '/streamer', '/operator', '/orders']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    expect(await (await fetch(`${base}/operator`)).text()).toContain('<title>operator</title>');
  });

  it('serves hashed assets with their content type, cached for good; unknown ones are 404', async () => {
    const js = await fetch(`${base}/assets/app-1.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    expect((await fetch(`${base}/assets/app-1.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/assets/app-1.js.map`)).headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await fetch(`${base}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/assets/..%2fviewer.html`)).status).toBe(404);
    // Other paths fall through to the app's other routes.
    expect(await (await fetch(`${base}/api/rooms`)).text()).toBe('routed elsewhere');
  });

  it('answers 503 with a page naming npm run build:web when there is no build', async () => {
    const response = await fetch(`${missingBase}/viewer`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('npm run build:web');
    expect((await fetch(`${missingBase}/assets/app-1.js`)).status).toBe(404);
  });

  it('picks up a rebuild without a restart', async () => {
    writeFileSync(join(dir, 'viewer.html'), '<!doctype html><title>viewer v2</title>');
    writeFileSync(join(dir, 'assets', 'app-2.js'), 'console.log(2)');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'viewer.html'), later, later);
    expect(await (await fetch(`${base}/viewer`)).text()).toContain('viewer v2');
    expect(await (await fetch(`${base}/assets/app-2.js`)).text()).toBe('console.log(2)');
  });
});
