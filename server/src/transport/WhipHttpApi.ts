import type { Principal } from '../auth/TokenService.ts';
import { ProtocolError } from '../errors.ts';
import type { WhipIngest } from '../media/WhipIngest.ts';
import type { RoomRules } from '../rooms/RoomRules.ts';
import { StreamKeys } from '../rooms/StreamKeys.ts';
import type { JsonRouter, RequestContext } from './JsonRouter.ts';

/** WHIP clients may run in a page of another origin: every answer, errors included, allows it. */
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, DELETE, PATCH, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
  'Access-Control-Expose-Headers': 'Location, Accept-Post, Allow',
} as const;

const sessionPath = (roomId: string, sessionId: string) => `/api/rooms/${roomId}/whip/${sessionId}`;

/**
 * WHIP (RFC 9725) over HTTP: `POST /api/rooms/:id/whip` with an SDP offer answers 201 with the SDP
 * answer and the session's resource in `Location`; `DELETE` of that resource ends the stream.
 * Authorised by `Authorization: Bearer` with the room's stream key (what OBS's "Bearer Token" field
 * sends) or the streamer's token. Trickle ICE and ICE restarts (`PATCH`) are not supported (405):
 * the server is ICE-lite and its answer carries every candidate.
 */
export function registerWhipHttpApi(router: JsonRouter, deps: { whip: WhipIngest; streamKeys: StreamKeys; rooms: Pick<RoomRules, 'canModerate'> }): void {
  const { whip, streamKeys, rooms } = deps;
  const options = { headers: CORS };
  const preflight = async () => ({ status: 204, contentType: 'text/plain', body: '', headers: { 'Accept-Post': 'application/sdp' } });

  /** The stream key's publisher (the room's streamer), or the token's principal. */
  const publisher = async (ctx: RequestContext, roomId: string): Promise<Principal> => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.authorization)?.[1];
    if (bearer !== undefined && StreamKeys.looksLikeKey(bearer)) return streamKeys.publisherOf(roomId, bearer);
    return router.principal(ctx);
  };

  router.route('options', '/api/rooms/:id/whip', preflight, options);
  router.route('post', '/api/rooms/:id/whip', async (ctx) => {
    const roomId = ctx.params[0]!;
    const principal = await publisher(ctx, roomId);
    if (!/^application\/sdp\s*(;|$)/i.test(ctx.contentType)) throw new ProtocolError('BAD_REQUEST', 'a WHIP offer is sent with Content-Type: application/sdp');
    const { sessionId, answer } = await whip.publish(principal, roomId, await ctx.text());
    return { status: 201, contentType: 'application/sdp', body: answer, headers: { Location: sessionPath(roomId, sessionId) } };
  }, options);

  router.route('options', '/api/rooms/:id/whip/:session', preflight, options);
  router.route('patch', '/api/rooms/:id/whip/:session', async () => ({
    status: 405,
    headers: { Allow: 'DELETE, OPTIONS' },
    body: { error: { code: 405, name: 'METHOD_NOT_ALLOWED', message: 'no trickle ICE nor ICE restart: the answer carries every candidate (the server is ICE-lite)', temporary: false } },
  }), options);
  router.route('del', '/api/rooms/:id/whip/:session', async (ctx) => {
    const [roomId, sessionId] = [ctx.params[0]!, ctx.params[1]!];
    const principal = await publisher(ctx, roomId);
    if (!(await rooms.canModerate(principal, roomId))) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer or an operator can end its stream');
    if (!whip.end(roomId, sessionId)) throw new ProtocolError('MEDIA_NOT_FOUND', 'no such WHIP session in this room on this node (it may have ended)');
    return { status: 200, body: { stopped: true } };
  }, options);
}
