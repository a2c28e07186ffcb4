import { z } from 'zod';
import type { AdmissionController } from '../admission/AdmissionController.ts';
import type { Broker } from '../broker/Broker.ts';
import { ProtocolError } from '../errors.ts';
import type { Fanout } from '../fanout/Fanout.ts';
import type { MediaService } from '../media/MediaService.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { ProcessGuard } from '../ops/ProcessGuard.ts';
import type { ForgetsRooms } from '../rooms/RoomLifecycle.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { Store } from '../store/Store.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';
import type { NodeDrain } from './NodeDrain.ts';
import type { WsGateway } from './WsGateway.ts';

const nodeLimitsSchema = z.object({ concurrency: z.number().int().min(1).max(4096) });

/** The parts that keep state per room, by name: their map sizes are the node's `perRoomState`. */
export type PerRoomStateHolders = Readonly<Record<string, Pick<ForgetsRooms, 'perRoomState'> | undefined>>;

/**
 * This node's health and controls: its load, per-room state sizes and store concurrency limit,
 * /readyz for load balancers and /metrics for Prometheus. Operator token required (not /readyz;
 * /metrics wants the metrics token when one is configured). Rooms and their settings across nodes:
 * `ClusterOpsApi`.
 */
export function registerOpsApi(
  router: JsonRouter,
  deps: {
    rooms: RoomRegistry; admission: AdmissionController | undefined; guard: ProcessGuard; gateway: WsGateway; fanout: Fanout; store: Store; metrics: Metrics; media: MediaService; broker: Broker;
    perRoomState: PerRoomStateHolders; drain: NodeDrain;
  },
): void {
  const { rooms, admission, guard, gateway, fanout, store, metrics, media, broker } = deps;

  router.route('get', '/readyz', async () => {
    const storeOk = await store.ping().then(() => true, () => false);
    // A draining node answers 503 so the load balancer takes it out while its sockets move.
    const ready = storeOk && !guard.overloaded && !deps.drain.draining;
    // Without video the node still serves comments and carts: ready, but it says so.
    const video = media.status();
    return {
      status: ready ? 200 : 503,
      body: { ready, draining: deps.drain.draining, store: storeOk ? 'ok' : 'unreachable', protection: guard.reason, media: video.available ? 'ok' : `unavailable: ${video.reason}` },
    };
  });

  router.route('get', '/metrics', async (ctx) => {
    if (!metrics.allows(ctx.authorization)) throw new ProtocolError('UNAUTHORIZED', 'missing or wrong metrics token (Authorization: Bearer <token>)');
    return { status: 200, body: await metrics.scrape(), contentType: metrics.contentType };
  });

  router.route('get', '/api/ops/node', async (ctx) => {
    await router.operator(ctx);
    return {
      status: 200,
      body: {
        eventLoopDelayMs: { p99: guard.eventLoopDelayMs, max: guard.eventLoopMaxMs },
        rssMb: Math.round(guard.rssMb),
        protection: { overloaded: guard.overloaded, reason: guard.reason, refusedConnections: guard.refusedConnections },
        connections: gateway.stats,
        fanout: fanout.stats,
        admission: admission === undefined ? null : { concurrencyLimit: admission.limit, inFlight: admission.inFlight },
        hostedRooms: rooms.hostedRoomIds.length,
        // Sizes of every per-room map kept outside the hosted rooms: back to where they were once the rooms are gone.
        perRoomState: Object.fromEntries(Object.entries(deps.perRoomState).flatMap(([part, holder]) => (holder === undefined ? [] : [[part, holder.perRoomState()]]))),
        sequencer: broker.sequencerStats,
        media: media.status(),
        drain: deps.drain.status(),
      },
    };
  });

  router.route('put', '/api/ops/limits', async (ctx) => {
    await router.operator(ctx);
    const { concurrency } = parse(nodeLimitsSchema, await ctx.body());
    admission?.setConcurrencyLimit(concurrency);
    return { status: 200, body: { concurrency: admission?.limit ?? null } };
  });
}
