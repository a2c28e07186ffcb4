import { z } from 'zod';
import { type JsonRouter, parse } from './JsonRouter.ts';
import type { NodeDrain } from './NodeDrain.ts';

/** The longest window an operator may ask for (as `--drain-window-ms` allows). */
const MAX_WINDOW_MS = 3_600_000;
const drainSchema = z.object({ windowMs: z.number().int().min(0).max(MAX_WINDOW_MS).optional() }).optional();

/**
 * `POST /api/ops/drain { windowMs? }` (operator token): takes this node out of service gradually
 * (see `NodeDrain`) without stopping the process. A drain under way goes on as it was; the answer
 * says whether this call started it.
 */
export function registerDrainApi(router: JsonRouter, drain: NodeDrain, defaultWindowMs: number): void {
  router.route('post', '/api/ops/drain', async (ctx) => {
    await router.operator(ctx);
    const body = parse(drainSchema, await ctx.body());
    const started = drain.start(body?.windowMs ?? defaultWindowMs);
    return { status: 200, body: { started, drain: drain.status() } };
  });
}
