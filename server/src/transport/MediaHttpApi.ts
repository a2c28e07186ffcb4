import { z } from 'zod';
import { ProtocolError } from '../errors.ts';
import type { IngestEndpoint, MediaService } from '../media/MediaService.ts';
import type { RoomRules } from '../rooms/RoomRules.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

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

/** Media over HTTP: RTP ingest for streamers who publish from ffmpeg or OBS-like tools instead of the page. */
export function registerMediaHttpApi(router: JsonRouter, deps: { rooms: Pick<RoomRules, 'canModerate'>; media: MediaService }): void {
  const { rooms, media } = deps;
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
