import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { HttpResponse, TemplatedApp } from './uws.ts';

/**
 * The web pages, served from the Vite build in `client/web/dist` (`npm run build:web`; `npm start`
 * and `npm test` build first): GET /viewer, /streamer, /operator, /orders and their hashed /assets/*. This
 * is the only code that reads `dist`.
 *
 * The files are read into memory once and served from there; a page request re-reads them when the
 * build changed (one stat of `viewer.html`), so a rebuild shows without a restart. Without a build,
 * the pages answer 503 with a page saying what to run.
 */
const WEB_DIST_DIR = fileURLToPath(new URL('../../../client/web/dist/', import.meta.url));
/** The compiled server (build/server/…) reads the copy of the pages `npm run build` puts in build/; the sources read Vite's output. */
const COMPILED = import.meta.url.endsWith('.js');
const BUILD_COMMAND = COMPILED ? 'npm run build' : 'npm run build:web';
const DIST_NAME = COMPILED ? 'build/client/web/dist' : 'client/web/dist';

export const PAGES = ['viewer', 'streamer', 'operator', 'orders', 'shop'] as const;

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** Pages take tokens in their URL: never leak it as a referrer; scripts, styles and sockets only from here. */
const pageHeaders: ReadonlyArray<[string, string]> = [
  ['Cache-Control', 'no-cache'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"],
];
const assetHeaders: ReadonlyArray<[string, string]> = [
  // Vite names assets by content hash: a new build makes new names.
  ['Cache-Control', 'public, max-age=31536000, immutable'],
  ['X-Content-Type-Options', 'nosniff'],
];

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const MISSING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>livecart: pages not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The web pages are not built</h1>
<p>This server serves the viewer, streamer and operator pages from <code>${DIST_NAME}</code>, which does not exist yet.</p>
<p>Run <code>${BUILD_COMMAND}</code> in the livecart folder, then reload this page. (<code>npm start</code> and <code>npm test</code> build the pages for you.)</p>
</body></html>
`;

export class StaticFiles {
  #files = new Map<string, StaticFile>();
  /** mtime of the build's viewer.html when it was read; -1 when there is no build. */
  #stamp = -1;
  #warned = false;

  constructor(
    readonly dir: string = WEB_DIST_DIR,
    readonly log?: Logger,
  ) {}

  /** Routes the pages and their assets on `app`. Register before the catch-all 404. */
  register(app: TemplatedApp): void {
    for (const page of PAGES) {
      const serve = (res: HttpResponse) => this.#servePage(res, page);
      app.get(`/${page}`, serve);
      app.get(`/${page}/`, serve);
      app.get(`/${page}.html`, serve);
    }
    app.get('/assets/*', (res, req) => this.#serveAsset(res, req.getUrl()));
  }

  /** True when a build is present (after re-checking the disk). */
  get built(): boolean {
    this.#refresh();
    return this.#stamp !== -1;
  }

  #servePage(res: HttpResponse, page: (typeof PAGES)[number]): void {
    this.#refresh();
    const file = this.#files.get(`/${page}.html`);
    if (file === undefined) {
      res.cork(() => {
        res.writeStatus('503 Service Unavailable').writeHeader('Content-Type', 'text/html; charset=utf-8').writeHeader('Cache-Control', 'no-store').end(MISSING_PAGE);
      });
      return;
    }
    write(res, file, pageHeaders);
  }

  #serveAsset(res: HttpResponse, url: string): void {
    this.#refresh();
    // Lookup only: a path that is not a file of the build (`..`, encoded tricks) is simply not found.
    const file = this.#files.get(url);
    if (file === undefined) {
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store').end(this.#stamp === -1 ? `pages not built: run ${BUILD_COMMAND}\n` : 'no such asset\n');
      });
      return;
    }
    write(res, file, assetHeaders);
  }

  /** Re-reads the build when its viewer.html changed (or appeared, or went away). */
  #refresh(): void {
    let stamp: number;
    try {
      stamp = statSync(join(this.dir, 'viewer.html')).mtimeMs;
    } catch {
      stamp = -1;
    }
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.#files = stamp === -1 ? new Map() : this.#readAll();
    if (stamp === -1 && !this.#warned) {
      this.#warned = true;
      this.log?.warn({ dir: this.dir }, `web pages not built: run ${BUILD_COMMAND}`);
    } else if (stamp !== -1) {
      this.#warned = false;
      this.log?.debug({ dir: this.dir, files: this.#files.size }, 'web pages loaded');
    }
  }

  #readAll(): Map<string, StaticFile> {
    const files = new Map<string, StaticFile>();
    const walk = (dir: string, prefix: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const url = `${prefix}/${entry.name}`;
        if (entry.isDirectory()) walk(path, url);
        else if (entry.isFile()) files.set(url, { body: readFileSync(path), type: contentTypes[extname(entry.name).toLowerCase()] ?? 'application/octet-stream' });
      }
    };
    try {
      walk(this.dir, '');
    } catch (error) {
      // A build being rewritten right now: serve what was read; the next request looks again.
      this.#stamp = -2;
      this.log?.warn({ err: error, dir: this.dir }, 'web pages could not be read completely');
    }
    return files;
  }
}

function write(res: HttpResponse, file: StaticFile, headers: ReadonlyArray<[string, string]>): void {
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', file.type);
    for (const [name, value] of headers) res.writeHeader(name, value);
    res.end(file.body);
  });
}
