import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/src/index.ts';
import type { Principal } from '../../server/src/auth/TokenService.ts';
import { LocalBroker } from '../../server/src/broker/LocalBroker.ts';
import { Fanout } from '../../server/src/fanout/Fanout.ts';
import type { Member } from '../../server/src/rooms/Member.ts';
import { RoomCommands } from '../../server/src/rooms/RoomCommands.ts';
import { RoomLifecycle } from '../../server/src/rooms/RoomLifecycle.ts';
import { RoomRegistry } from '../../server/src/rooms/RoomRegistry.ts';
import { MemoryRoomDirectory } from '../../server/src/store/MemoryRoomDirectory.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { captureLog } from '../helpers/captureLog.ts';
import { waitUntil } from '../helpers/rawClient.ts';

const config = {
  maxRooms: 100, maxMembersPerRoom: 100, maxSocketsPerUser: 10, historyLength: 50, resumeRingSize: 64, lagDemoteMs: 3000, fanoutShardSize: 256, viewerCountIntervalMs: 60_000, forgetIdleRoomsMs: 60_000, stockIntervalMs: 250, degradedStockIntervalMs: 1000, likeIntervalMs: 250,
  maxMutedPerRoom: 10, kickBanMs: 10_000, commentMaxLength: 100, commentRate: 1, commentBurst: 5, rateLimiterMaxKeys: 1000, replayTimelineMaxPins: 100,
  maxModeratorsPerRoom: 20, maxFilterWords: 200, filterWordMaxLength: 30,
};
const streamer: Principal = { userId: 'boss', name: 'Boss', role: 'streamer' };

function member(userId: string): Member & { frames: number } {
  return {
    frames: 0, connectionId: 1, principal: { userId, name: userId, role: 'viewer' }, lagMs: 0, lastAckAt: 0, ackedSeq: 0, inChatter: true, lagging: false, shard: 0,
    send() {
      this.frames++;
    },
    sendMany(frames) {
      this.frames += frames.length;
    },
    subscribeRoom: () => undefined, bufferedBytes: () => 0, close: () => undefined,
  };
}

describe('RoomRegistry', () => {
  it('tells the lifecycle when a room is hosted, when its show ends, and when the node lets it go; a live room stays hosted a while after its last member', async () => {
    const directory = new MemoryRoomDirectory();
    const broker = new LocalBroker(64);
    const store = new MemoryStore({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 1000, maxOrders: 1000 });
    const { log } = captureLog();
    const lifecycle = new RoomLifecycle(log);
    const fanout = new Fanout({ publish: () => true }, { sampledCommentsPerSecond: 1, shardSize: 256, deliveriesPerTurn: 1000, turnTargetMs: 5, maxWaitingFrames: 100 });
    const registry = new RoomRegistry({ config, broker, directory, store, fanout, lifecycle, log });
    const commands = new RoomCommands({ config, registry, directory, store, broker, commerce: { addProduct: async (_p, _r, product) => product, releaseUser: async () => 0 }, log });
    const events: string[] = [];
    lifecycle.on('hosted', (room) => events.push(`hosted ${room.id}`));
    lifecycle.on('ended', (roomId) => events.push(`ended ${roomId}`));
    lifecycle.on('unhosted', (roomId) => events.push(`unhosted ${roomId}`));
    try {
      for (const id of ['live', 'show']) await commands.createRoom(streamer, { title: id, id });
      const hello = (room: string) => ({ t: 'hello' as const, id: 1, v: PROTOCOL_VERSION, token: 't', room });
      const a = member('a');
      const b = member('b');
      await registry.join(a, hello('live'));
      await registry.join(b, hello('show'));
      expect(a.frames).toBe(1); // the welcome
      expect(events).toEqual(['hosted live', 'hosted show']);

      registry.leave(a, 'live');
      await commands.setShowState(streamer, 'show', 'ended');
      expect(events).toEqual(['hosted live', 'hosted show', 'ended show']);
      registry.leave(b, 'show');
      await waitUntil(() => events.length === 4, 1000, 'the ended room unhosted');
      expect(events.at(-1)).toBe('unhosted show');
      expect(registry.hostedRoomIds).toEqual(['live']); // a live room waits for its viewers to come back
      expect(registry.perRoomState()).toEqual({ hosted: 1, bootstrapping: 0, views: 0, resumeFloors: 0, statePacedRooms: 0 });
      expect(fanout.perRoomState().pacedRooms).toBe(1);
    } finally {
      registry.close();
    }
  });
});
