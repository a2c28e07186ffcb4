import { roomIdSchema } from '../../../protocol/src/index.ts';
import type { HlsFile } from '../media/HlsRendition.ts';
import { PLAYLIST_NAME, SEGMENT_NAME } from '../media/HlsRendition.ts';
import { type RecordingSource, SHOW_NAME } from '../media/ShowRecorder.ts';
import type { ReplayService } from '../rooms/ReplayService.ts';
import type { RecordingDirectory } from '../store/RecordingDirectory.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';
import { fromOtherNode, type MediaFileProxy, mediaNotFound, sendMediaFile } from './MediaFileProxy.ts';

export interface ReplayHttpDeps {
  readonly replays: ReplayService;
  /** The recordings this node holds. */
  readonly local: RecordingSource;
  readonly recordings: RecordingDirectory;
  readonly nodeId: string;
  readonly proxy: MediaFileProxy;
}

const MPEGURL = 'application/vnd.apple.mpegurl';
const ENDLIST = Buffer.from('#EXT-X-ENDLIST');

/**
 * A closed recording changes only if the show's stream comes back before the show ends: caches keep
 * it a minute; an open one (still recording) a second. Segment names are never reused in a show.
 */
function headersOf(file: HlsFile): ReadonlyArray<[string, string]> {
  if (file.kind === 'segment') return [['Content-Type', 'video/mp2t'], ['Cache-Control', 'public, max-age=31536000, immutable']];
  return [['Content-Type', MPEGURL], ['Cache-Control', file.body.includes(ENDLIST) ? 'public, max-age=60' : 'public, max-age=1']];
}

/**
 * A show's replay: GET /api/rooms/:id/replay (the recording's playlist and the product timeline) and
 * GET /replay/ROOM/SHOW/FILE (the recording's VOD playlist and segments), on every node: the node
 * that recorded the show reads its disk; any other fetches the file from it (the recording
 * directory says where), keeping segments in memory like the live HLS.
 */
export function registerReplayHttpApi(router: JsonRouter, deps: ReplayHttpDeps): void {
  router.route('get', '/api/rooms/:id/replay', async (ctx) => ({ status: 200, body: await deps.replays.replay(parse(roomIdSchema, ctx.params[0])) }));

  const fromRecorder = (roomId: string, show: string, name: string): Promise<HlsFile | undefined> =>
    deps.proxy.get(`/replay/${roomId}/${show}/${name}`, name === PLAYLIST_NAME ? 'playlist' : 'segment', async () => {
      const record = await deps.recordings.get(roomId);
      return record === undefined || record.nodeId === deps.nodeId || record.show !== show ? undefined : record.url;
    });

  router.app.get('/replay/:room/:show/:file', (res, req) => {
    const roomId = req.getParameter(0) ?? '';
    const show = req.getParameter(1) ?? '';
    const name = req.getParameter(2) ?? '';
    const fromNode = fromOtherNode(req);
    if (!roomIdSchema.safeParse(roomId).success || !SHOW_NAME.test(show) || (name !== PLAYLIST_NAME && !SEGMENT_NAME.test(name))) {
      mediaNotFound(res, 'no such recording file\n');
      return;
    }
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    void (async () => {
      const file = (await deps.local.read(roomId, show, name)) ?? (fromNode ? undefined : await fromRecorder(roomId, show, name).catch(() => undefined));
      if (aborted) return;
      if (file === undefined) mediaNotFound(res, 'no such recording (or file)\n');
      else sendMediaFile(res, file, headersOf(file));
    })();
  });
}
