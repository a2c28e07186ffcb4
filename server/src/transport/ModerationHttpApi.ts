import { z } from 'zod';
import { ModerationLimits } from '../../../protocol/src/index.ts';
import { ProtocolError } from '../errors.ts';
import type { ModerationCommands } from '../rooms/ModerationCommands.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

const filterSchema = z.object({ words: z.array(z.string().max(ModerationLimits.filterWordLength * 2).refine((word) => !/\p{Cs}/u.test(word), 'not valid Unicode text (a lone surrogate)')).max(ModerationLimits.filterWords) });

/**
 * A room's moderation over HTTP, for a shop's backend and the streamer page: the same commands as
 * over the WebSocket (`setModerator`, `setFilter`, `getModeration`), with the same rules.
 */
export function registerModerationHttpApi(router: JsonRouter, deps: { moderation: ModerationCommands }): void {
  const { moderation } = deps;
  router.route('get', '/api/rooms/:id/moderation', async (ctx) => ({
    status: 200, body: await moderation.state(await router.principal(ctx), ctx.params[0]!),
  }));
  router.route('put', '/api/rooms/:id/moderators/:userId', async (ctx) => ({
    status: 200, body: { moderators: await moderation.setModerator(await router.principal(ctx), ctx.params[0]!, userIdOf(ctx.params[1]!), true) },
  }));
  router.route('del', '/api/rooms/:id/moderators/:userId', async (ctx) => ({
    status: 200, body: { moderators: await moderation.setModerator(await router.principal(ctx), ctx.params[0]!, userIdOf(ctx.params[1]!), false) },
  }));
  router.route('put', '/api/rooms/:id/filter', async (ctx) => {
    const principal = await router.principal(ctx);
    const { words } = parse(filterSchema, await ctx.body());
    return { status: 200, body: { words: await moderation.setFilter(principal, ctx.params[0]!, words) } };
  });
}

/** A percent-encoded user id from the path (1–128 characters). */
function userIdOf(raw: string): string {
  let userId: string;
  try {
    userId = decodeURIComponent(raw);
  } catch {
    throw new ProtocolError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
  if (userId.length === 0 || [...userId].length > 128 || /\p{Cs}/u.test(userId)) throw new ProtocolError('BAD_REQUEST', 'a user id is 1 to 128 characters');
  return userId;
}
