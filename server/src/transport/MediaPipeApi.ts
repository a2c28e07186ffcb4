import { z } from 'zod';
import type { NodeSignature } from '../auth/NodeSignature.ts';
import type { PipeService } from '../media/MediaService.ts';
import { type JsonRouter, parse, type RequestContext } from './JsonRouter.ts';

/** The node-to-node routes of a room's video across nodes (see media/PipeLink.ts); every call is signed (auth/NodeSignature). */
export const PIPE_PATHS = {
  open: '/internal/media/pipes/open',
  consume: '/internal/media/pipes/consume',
  keepalive: '/internal/media/pipes/keepalive',
  close: '/internal/media/pipes/close',
  stopStream: '/internal/media/stop',
} as const;

const id = z.string().min(1).max(128);
const opaque = z.record(z.string(), z.unknown());
const endpoint = z.object({ ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65535), srtpParameters: opaque.optional() });
const openSchema = z.object({ roomId: id, nodeId: id, url: z.string().regex(/^https?:\/\/\S+$/).max(512), endpoint });
const consumeSchema = z.object({ roomId: id, pipeId: id, producerIds: z.array(id).max(16) });
const refSchema = z.object({ roomId: id, pipeId: id });
const stopSchema = z.object({ roomId: id, reason: z.string().max(200) });

/** Registers the routes other nodes call to have a room's stream piped to them. */
export function registerMediaPipeApi(router: JsonRouter, deps: { pipes: PipeService; signature: NodeSignature }): void {
  const { pipes, signature } = deps;
  const signed = async (ctx: RequestContext, path: string): Promise<unknown> => {
    signature.verify(ctx.authorization, 'POST', path, await ctx.rawBody());
    return ctx.body();
  };
  router.route('post', PIPE_PATHS.open, async (ctx) => {
    const request = parse(openSchema, await signed(ctx, PIPE_PATHS.open));
    return { status: 200, body: await pipes.open(request) };
  });
  router.route('post', PIPE_PATHS.consume, async (ctx) => {
    const request = parse(consumeSchema, await signed(ctx, PIPE_PATHS.consume));
    return { status: 200, body: await pipes.consume(request) };
  });
  router.route('post', PIPE_PATHS.keepalive, async (ctx) => {
    pipes.keepalive(parse(refSchema, await signed(ctx, PIPE_PATHS.keepalive)));
    return { status: 200, body: {} };
  });
  router.route('post', PIPE_PATHS.close, async (ctx) => {
    pipes.close(parse(refSchema, await signed(ctx, PIPE_PATHS.close)));
    return { status: 200, body: {} };
  });
  router.route('post', PIPE_PATHS.stopStream, async (ctx) => {
    const { roomId, reason } = parse(stopSchema, await signed(ctx, PIPE_PATHS.stopStream));
    pipes.stopStream(roomId, reason);
    return { status: 200, body: {} };
  });
}
