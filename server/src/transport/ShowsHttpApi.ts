import type { Principal } from '../auth/TokenService.ts';
import { ProtocolError } from '../errors.ts';
import type { ShowService } from '../rooms/ShowService.ts';
import type { JsonRouter, RequestContext } from './JsonRouter.ts';

/**
 * Scheduled shows over HTTP: a streamer's live and upcoming shows (anyone; with a bearer token,
 * each says whether the caller set a reminder), and the caller's "remind me" for a show (set,
 * read, remove; each idempotent). A show is scheduled with `POST /api/rooms` and `startsAt`.
 */
export function registerShowsHttpApi(router: JsonRouter, deps: { shows: ShowService }): void {
  const { shows } = deps;

  router.route('get', '/api/streamers/:streamerId/shows', async (ctx) => ({
    status: 200, body: { shows: await shows.shows(pathPart(ctx.params[0]!), await optionalPrincipal(router, ctx)) },
  }));
  router.route('get', '/api/me/reminders', async (ctx) => ({
    status: 200, body: { shows: await shows.remindedShows(await router.principal(ctx)) },
  }));
  router.route('get', '/api/rooms/:id/reminder', async (ctx) => ({
    status: 200, body: await shows.reminder(await router.principal(ctx), ctx.params[0]!),
  }));
  router.route('post', '/api/rooms/:id/reminder', async (ctx) => ({
    status: 200, body: await shows.remind(await router.principal(ctx), ctx.params[0]!),
  }));
  router.route('del', '/api/rooms/:id/reminder', async (ctx) => ({
    status: 200, body: await shows.forget(await router.principal(ctx), ctx.params[0]!),
  }));
}

/** The caller when a token is given (a bad one is still UNAUTHORIZED), else undefined. */
async function optionalPrincipal(router: JsonRouter, ctx: RequestContext): Promise<Principal | undefined> {
  return ctx.authorization === '' ? undefined : router.principal(ctx);
}

/** A percent-encoded path segment (user ids may hold any character). */
function pathPart(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ProtocolError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}
