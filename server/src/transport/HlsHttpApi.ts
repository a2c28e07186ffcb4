import { roomIdSchema } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { HlsFile, HlsSource } from '../media/HlsOrigin.ts';
import { PLAYLIST_NAME, SEGMENT_NAME } from '../media/HlsRendition.ts';
import type { MediaOriginDirectory } from '../store/MediaOriginDirectory.ts';
import type { HttpResponse, TemplatedApp } from './uws.ts';

/** Marks a request one node makes to the origin for another: the origin answers from disk or not at all (no loops). */
const PROXY_HEADER = 'x-livecart-hls-proxy';

export interface HlsHttpDeps {
  readonly hls: HlsSource;
  readonly nodeId: string;
  readonly origins: MediaOriginDirectory;
  readonly proxyTimeoutMs: number;
  readonly cacheEntries: number;
  readonly log: Logger;
}

/** The playlist changes every segment: caches (a CDN) keep it a second at most. Segments never change. */
const headersOf: Record<HlsFile['kind'], ReadonlyArray<[string, string]>> = {
  playlist: [['Content-Type', 'application/vnd.apple.mpegurl'], ['Cache-Control', 'public, max-age=1']],
  segment: [['Content-Type', 'video/mp2t'], ['Cache-Control', 'public, max-age=31536000, immutable']],
};

/**
 * GET /hls/ROOM/index.m3u8 and /hls/ROOM/SEGMENT.ts on every node. The room's media origin reads
 * its own rendition; any other node fetches the file from the origin's public URL (from the media
 * origin record), keeping recent segments in memory, so a CDN may pull from any node.
 */
export function registerHlsHttpApi(app: TemplatedApp, deps: HlsHttpDeps): void {
  const segments = new Map<string, HlsFile>();
  const inFlight = new Map<string, Promise<HlsFile | undefined>>();

  const fromOrigin = async (roomId: string, name: string): Promise<HlsFile | undefined> => {
    const origin = await deps.origins.get(roomId);
    if (origin === undefined || origin.nodeId === deps.nodeId) return undefined;
    const url = `${origin.url.replace(/\/+$/, '')}/hls/${roomId}/${name}`;
    const response = await fetch(url, { headers: { [PROXY_HEADER]: deps.nodeId }, signal: AbortSignal.timeout(deps.proxyTimeoutMs) });
    if (response.status !== 200) return undefined;
    return { kind: name === PLAYLIST_NAME ? 'playlist' : 'segment', body: Buffer.from(await response.arrayBuffer()) };
  };

  const proxied = (roomId: string, name: string): Promise<HlsFile | undefined> => {
    const key = `${roomId}/${name}`;
    const cached = segments.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    // Many viewers ask for the same file at once: one fetch from the origin serves them all.
    let pending = inFlight.get(key);
    if (pending === undefined) {
      pending = fromOrigin(roomId, name).then((file) => {
        if (file?.kind === 'segment' && deps.cacheEntries > 0) {
          segments.set(key, file);
          if (segments.size > deps.cacheEntries) segments.delete(segments.keys().next().value!);
        }
        return file;
      }).catch((error: unknown) => {
        deps.log.warn({ err: error, roomId, name }, 'HLS file could not be fetched from the room\'s media origin');
        return undefined;
      }).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };

  app.get('/hls/:room/:file', (res, req) => {
    const roomId = req.getParameter(0) ?? '';
    const name = req.getParameter(1) ?? '';
    const fromNode = req.getHeader(PROXY_HEADER) !== '';
    if (!roomIdSchema.safeParse(roomId).success || (name !== PLAYLIST_NAME && !SEGMENT_NAME.test(name))) {
      notFound(res, 'no such HLS file\n');
      return;
    }
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    void (async () => {
      const local = await deps.hls.read(roomId, name);
      const file = local ?? (fromNode || deps.hls.renders(roomId) ? undefined : await proxied(roomId, name));
      if (aborted) return;
      if (file === undefined) {
        notFound(res, 'no HLS stream of this room (yet)\n');
        return;
      }
      res.cork(() => {
        res.writeStatus('200 OK');
        for (const [header, value] of headersOf[file.kind]) res.writeHeader(header, value);
        res.writeHeader('Access-Control-Allow-Origin', '*').writeHeader('X-Content-Type-Options', 'nosniff').end(file.body);
      });
    })();
  });
}

function notFound(res: HttpResponse, text: string): void {
  res.cork(() => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store')
      .writeHeader('Access-Control-Allow-Origin', '*').end(text);
  });
}
