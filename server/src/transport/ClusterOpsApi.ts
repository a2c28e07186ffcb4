import { z } from 'zod';
import type { LocalRoomDetail, OpsAuction, OpsGiveaway, OpsNodes, OpsRooms } from '../../../protocol/src/index.ts';
import type { AdmissionController } from '../admission/AdmissionController.ts';
import type { Broker } from '../broker/Broker.ts';
import type { DegradeMonitor } from '../fanout/DegradeMonitor.ts';
import { clusterRooms } from '../ops/clusterRooms.ts';
import type { NodeRegistry } from '../ops/NodeRegistry.ts';
import type { RoomCommands } from '../rooms/RoomCommands.ts';
import { type JsonRouter, parse } from './JsonRouter.ts';

const degradeSchema = z.object({ level: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.null()]) });
const roomLimitsSchema = z.object({ queueLimit: z.number().int().min(0).max(1_000_000).nullable() });

/**
 * The operator API over every node: the node registry, every room across nodes (with this node's
 * detail where it hosts the room, its giveaway taking entries and its open auction, read from the store), and a room's settings (degrade override, queue limit), which an
 * operator sets through any node for every node. Operator token required.
 */
export function registerClusterOpsApi(
  router: JsonRouter,
  deps: {
    registry: NodeRegistry; commands: RoomCommands; degrade: DegradeMonitor; admission: AdmissionController | undefined; broker: Broker;
    giveaways?: { openIn(roomId: string): Promise<OpsGiveaway | null> };
    auctions?: { openIn(roomId: string): Promise<OpsAuction | null> };
  },
): void {
  const { registry, commands, degrade, admission, broker, giveaways, auctions } = deps;

  router.route('get', '/api/ops/nodes', async (ctx) => {
    await router.operator(ctx);
    const view = await registry.view();
    const body: OpsNodes & { registry: 'ok' | 'unavailable' } = { nodeId: registry.nodeId, registry: view.complete ? 'ok' : 'unavailable', nodes: view.nodes };
    return { status: 200, body };
  });

  router.route('get', '/api/ops/rooms', async (ctx) => {
    await router.operator(ctx);
    const admissionByRoom = new Map((admission?.stats() ?? []).map((s) => [s.roomId, s]));
    const local = new Map<string, LocalRoomDetail>();
    for (const room of degrade.status()) {
      local.set(room.roomId, { ...room, admission: admissionByRoom.get(room.roomId) ?? null, sequencedHere: broker.sequencesLocally(room.roomId) });
    }
    const view = await registry.view();
    const rooms = clusterRooms(view.nodes, local);
    await Promise.all(rooms.map(async (room) => {
      // A store that does not answer leaves the room without its giveaway or auction here, not the list without its rooms.
      const [giveaway, auction] = await Promise.all([
        giveaways?.openIn(room.roomId).catch(() => null) ?? null,
        auctions?.openIn(room.roomId).catch(() => null) ?? null,
      ]);
      if (giveaway !== null) room.giveaway = giveaway;
      if (auction !== null) room.auction = auction;
    }));
    const body: OpsRooms & { registry: 'ok' | 'unavailable' } = { nodeId: registry.nodeId, registry: view.complete ? 'ok' : 'unavailable', rooms };
    return { status: 200, body };
  });

  router.route('put', '/api/ops/rooms/:id/degrade', async (ctx) => {
    const principal = await router.operator(ctx);
    const { level } = parse(degradeSchema, await ctx.body());
    const settings = await commands.changeSettings(principal, ctx.params[0]!, { degradeOverride: level });
    return { status: 200, body: { roomId: ctx.params[0], override: settings.degradeOverride, settings } };
  });

  router.route('put', '/api/ops/rooms/:id/limits', async (ctx) => {
    const principal = await router.operator(ctx);
    const { queueLimit } = parse(roomLimitsSchema, await ctx.body());
    const settings = await commands.changeSettings(principal, ctx.params[0]!, { queueLimit });
    return { status: 200, body: { roomId: ctx.params[0], queueLimit: settings.queueLimit, admission: admission !== undefined, settings } };
  });
}
