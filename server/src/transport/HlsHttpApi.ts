import { roomIdSchema } from '../../../protocol/src/index.ts';
import type { HlsSource } from '../media/HlsOrigin.ts';
import type { HlsFile } from '../media/HlsRendition.ts';
import { PLAYLIST_NAME, SEGMENT_NAME } from '../media/HlsRendition.ts';
import type { MediaOriginDirectory } from '../store/MediaOriginDirectory.ts';
import { fromOtherNode, type MediaFileProxy, mediaNotFound, sendMediaFile } from './MediaFileProxy.ts';
import type { TemplatedApp } from './uws.ts';

export interface HlsHttpDeps {
  readonly hls: HlsSource;
  readonly nodeId: string;
  readonly origins: MediaOriginDirectory;
  readonly proxy: MediaFileProxy;
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
  const fromOrigin = (roomId: string, name: string): Promise<HlsFile | undefined> =>
    deps.proxy.get(`/hls/${roomId}/${name}`, name === PLAYLIST_NAME ? 'playlist' : 'segment', async () => {
      const origin = await deps.origins.get(roomId);
      return origin === undefined || origin.nodeId === deps.nodeId ? undefined : origin.url;
    });

  app.get('/hls/:room/:file', (res, req) => {
    const roomId = req.getParameter(0) ?? '';
    const name = req.getParameter(1) ?? '';
    const fromNode = fromOtherNode(req);
    if (!roomIdSchema.safeParse(roomId).success || (name !== PLAYLIST_NAME && !SEGMENT_NAME.test(name))) {
      mediaNotFound(res, 'no such HLS file\n');
      return;
    }
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    void (async () => {
      const local = await deps.hls.read(roomId, name);
      const file = local ?? (fromNode || deps.hls.renders(roomId) ? undefined : await fromOrigin(roomId, name).catch(() => undefined));
      if (aborted) return;
      if (file === undefined) mediaNotFound(res, 'no HLS stream of this room (yet)\n');
      else sendMediaFile(res, file, headersOf[file.kind]);
    })();
  });
}
