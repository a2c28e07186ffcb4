import { z } from 'zod';
import { ProtocolError } from '../errors.ts';
import type { IngestEndpoint, MediaService } from '../media/MediaService.ts';
import type { RoomRules } from '../rooms/RoomRules.ts';
import type { StreamKeys } from '../rooms/StreamKeys.ts';
import { type JsonRouter, parse, type RequestContext } from './JsonRouter.ts';

const ingestSchema = z.object({ video: z.boolean().default(true), audio: z.boolean().default(true) }).refine((k) => k.video || k.audio, { message: 'ask for video, audio or both' });

/** A command line that feeds the endpoints a test pattern; streamers swap the inputs for their camera or file. */
function ffmpegCommand(video: IngestEndpoint | undefined, audio: IngestEndpoint | undefined): string {
  const parts = ['ffmpeg -re'];
  if (video !== undefined) parts.push('-f lavfi -i testsrc=size=640x360:rate=30');
  if (audio !== undefined) parts.push('-f lavfi -i sine=frequency=440:sample_rate=48000');
  let input = 0;
  if (video !== undefined) {
    parts.push(`-map ${input++}:v:0 -c:v libvpx -b:v 800k -deadline realtime -cpu-used 8 -pix_fmt yuv420p -g 60 -ssrc ${video.ssrc} -payload_type ${video.payloadType} -f rtp "rtp://${video.ip}:${video.port}?rtcpport=${video.rtcpPort}&pkt_size=1200"`);
  }
  if (audio !== undefined) {
    parts.push(`-map ${input}:a:0 -c:a libopus -ac 2 -ar 48000 -b:a 64k -ssrc ${audio.ssrc} -payload_type ${audio.payloadType} -f rtp "rtp://${audio.ip}:${audio.port}?rtcpport=${audio.rtcpPort}&pkt_size=1200"`);
  }
  return parts.join(' ');
}

/** Where an encoder publishes a room: WHIP's endpoint and bearer token, RTMP's server and stream key (null when RTMP is off). */
function encoderSettings(ctx: RequestContext, roomId: string, key: string, urls: { publicUrl: string | undefined; rtmpPort: number }) {
  const base = urls.publicUrl?.replace(/\/+$/, '') ?? `http://${ctx.host || '127.0.0.1'}`;
  const host = new URL(base).hostname;
  return {
    key,
    whip: { url: `${base}/api/rooms/${roomId}/whip`, bearerToken: key },
    rtmp: urls.rtmpPort === 0 ? null : { server: `rtmp://${host.includes(':') ? `[${host}]` : host}:${urls.rtmpPort}/${roomId}`, streamKey: key },
  };
}

/**
 * Media over HTTP: RTP ingest for streamers who publish from ffmpeg instead of the page, and the
 * room's stream key with the settings an encoder (OBS) publishes with over WHIP or RTMP.
 */
export function registerMediaHttpApi(router: JsonRouter, deps: { rooms: Pick<RoomRules, 'canModerate'>; media: MediaService; streamKeys: StreamKeys; urls: { publicUrl: string | undefined; rtmpPort: number } }): void {
  const { rooms, media, streamKeys, urls } = deps;
  router.route('get', '/api/rooms/:id/stream-key', async (ctx) => {
    const roomId = ctx.params[0]!;
    return { status: 200, body: encoderSettings(ctx, roomId, await streamKeys.keyFor(await router.principal(ctx), roomId), urls) };
  });
  router.route('post', '/api/rooms/:id/stream-key/rotate', async (ctx) => {
    const roomId = ctx.params[0]!;
    return { status: 200, body: encoderSettings(ctx, roomId, await streamKeys.rotate(await router.principal(ctx), roomId), urls) };
  });
  router.route('post', '/api/rooms/:id/ingest', async (ctx) => {
    const principal = await router.principal(ctx);
    const kinds = parse(ingestSchema, (await ctx.body()) ?? {});
    const endpoints = await media.createIngest(principal, ctx.params[0]!, kinds);
    return { status: 201, body: { ...endpoints, ffmpeg: ffmpegCommand(endpoints.video, endpoints.audio) } };
  });
  router.route('del', '/api/rooms/:id/ingest', async (ctx) => {
    const principal = await router.principal(ctx);
    if (!(await rooms.canModerate(principal, ctx.params[0]!))) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer or an operator can stop its stream');
    await media.stopStreamEverywhere(ctx.params[0]!, principal.role === 'operator' ? 'stopped by an operator' : 'the streamer ended the stream');
    return { status: 200, body: { stopped: true } };
  });
}
