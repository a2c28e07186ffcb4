import type { Logger } from '../log.ts';
import type { HlsFile } from '../media/HlsRendition.ts';
import type { HttpRequest, HttpResponse } from './uws.ts';

/** Marks a request one node makes to another for a media file: the node asked answers from its disk or not at all (no loops). */
const PROXY_HEADER = 'x-livecart-hls-proxy';

/** The request is another node's fetch for one of its clients. */
export function fromOtherNode(req: HttpRequest): boolean {
  return req.getHeader(PROXY_HEADER) !== '';
}

/**
 * HLS files (live renditions, recordings) that live on another node, fetched from its public URL
 * for this node's clients: many clients asking for one file at once cost one fetch, and segments,
 * which never change, are kept in memory (the latest `cacheEntries`).
 */
export class MediaFileProxy {
  readonly #nodeId: string;
  readonly #timeoutMs: number;
  readonly #cacheEntries: number;
  readonly #log: Logger;
  readonly #segments = new Map<string, HlsFile>();
  readonly #inFlight = new Map<string, Promise<HlsFile | undefined>>();

  constructor(options: { nodeId: string; timeoutMs: number; cacheEntries: number }, log: Logger) {
    this.#nodeId = options.nodeId;
    this.#timeoutMs = options.timeoutMs;
    this.#cacheEntries = options.cacheEntries;
    this.#log = log;
  }

  /**
   * The file at `path` on the node `baseUrl` names (resolved only when the file is neither cached
   * nor being fetched: most requests never look the node up), or undefined when no node has it or
   * it cannot be reached (logged). Segment names are unique per rendition, so a path names one file.
   */
  get(path: string, kind: HlsFile['kind'], baseUrl: () => Promise<string | undefined>): Promise<HlsFile | undefined> {
    const cached = this.#segments.get(path);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#inFlight.get(path);
    if (pending === undefined) {
      pending = baseUrl().then((base) => (base === undefined ? undefined : this.#fetch(`${base.replace(/\/+$/, '')}${path}`, kind))).then((file) => {
        if (file?.kind === 'segment' && this.#cacheEntries > 0) {
          this.#segments.set(path, file);
          if (this.#segments.size > this.#cacheEntries) this.#segments.delete(this.#segments.keys().next().value!);
        }
        return file;
      }).catch((error: unknown) => {
        this.#log.warn({ err: error, path }, 'HLS file could not be fetched from the node that has it');
        return undefined;
      }).finally(() => this.#inFlight.delete(path));
      this.#inFlight.set(path, pending);
    }
    return pending;
  }

  async #fetch(url: string, kind: HlsFile['kind']): Promise<HlsFile | undefined> {
    const response = await fetch(url, { headers: { [PROXY_HEADER]: this.#nodeId }, signal: AbortSignal.timeout(this.#timeoutMs) });
    if (response.status !== 200) return undefined;
    return { kind, body: Buffer.from(await response.arrayBuffer()) };
  }
}

/** A media file with its headers (any origin may play it: a player on a shop's own site, a CDN). */
export function sendMediaFile(res: HttpResponse, file: HlsFile, headers: ReadonlyArray<readonly [string, string]>): void {
  res.cork(() => {
    res.writeStatus('200 OK');
    for (const [header, value] of headers) res.writeHeader(header, value);
    res.writeHeader('Access-Control-Allow-Origin', '*').writeHeader('X-Content-Type-Options', 'nosniff').end(file.body);
  });
}

/** Plain text, never cached: the file may exist a moment later. */
export function mediaNotFound(res: HttpResponse, text: string): void {
  res.cork(() => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store')
      .writeHeader('Access-Control-Allow-Origin', '*').end(text);
  });
}
