import { afterEach, describe, expect, it } from 'vitest';
import type { ProductInput, RoomRequest } from '../../protocol/src/index.ts';
import type { Principal } from '../../server/src/auth/TokenService.ts';
import { LocalBroker } from '../../server/src/broker/LocalBroker.ts';
import { Fanout } from '../../server/src/fanout/Fanout.ts';
import type { Member } from '../../server/src/rooms/Member.ts';
import { RoomCommands, type RoomCommerce } from '../../server/src/rooms/RoomCommands.ts';
import { RoomLifecycle } from '../../server/src/rooms/RoomLifecycle.ts';
import { RoomRegistry } from '../../server/src/rooms/RoomRegistry.ts';
import { MemoryRoomDirectory } from '../../server/src/store/MemoryRoomDirectory.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import { captureLog } from '../helpers/captureLog.ts';

const config = {
  maxRooms: 100, maxMembersPerRoom: 100, maxSocketsPerUser: 10, historyLength: 50, resumeRingSize: 64, lagDemoteMs: 3000, fanoutShardSize: 256, viewerCountIntervalMs: 60_000, forgetIdleRoomsMs: 60_000, stockIntervalMs: 250, degradedStockIntervalMs: 1000, likeIntervalMs: 250,
  maxMutedPerRoom: 2, kickBanMs: 10_000, commentMaxLength: 10, commentRate: 1, commentBurst: 2, rateLimiterMaxKeys: 1000, replayTimelineMaxPins: 2,
  maxModeratorsPerRoom: 2, maxFilterWords: 3, filterWordMaxLength: 8,
};

/** A room request without its id (each member of the union on its own). */
type Ask = RoomRequest extends infer R ? (R extends RoomRequest ? Omit<R, 'id'> : never) : never;

const streamer: Principal = { userId: 'boss', name: 'Boss', role: 'streamer' };
const viewer = (userId: string): Principal => ({ userId, name: userId, role: 'viewer' });

/** The member a request comes from: commands read only its principal. */
function memberOf(principal: Principal): Member {
  return {
    connectionId: 1, principal, lagMs: 0, lastAckAt: 0, ackedSeq: 0, inChatter: true, lagging: false, shard: 0,
    send: () => undefined, sendMany: () => undefined, subscribeRoom: () => undefined, bufferedBytes: () => 0, close: () => undefined,
  };
}

/** Room commands over the in-memory directory and broker, a fake commerce and a clock the test moves. */
async function setup() {
  const clock = { now: 1_000_000 };
  const directory = new MemoryRoomDirectory();
  const broker = new LocalBroker(64);
  const store = new MemoryStore({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 1000, maxOrders: 1000 });
  const { log, lines } = captureLog();
  const registry = new RoomRegistry({
    config, broker, directory, store, lifecycle: new RoomLifecycle(log), log, now: () => clock.now,
    fanout: new Fanout({ publish: () => true }, { sampledCommentsPerSecond: 1, shardSize: 256, deliveriesPerTurn: 1000, turnTargetMs: 5, maxWaitingFrames: 100 }),
  });
  const calls: string[] = [];
  const commerce: RoomCommerce & { releaseFails: boolean } = {
    releaseFails: false,
    addProduct: async (_principal, roomId, product) => {
      calls.push(`addProduct ${roomId} ${product.sku}`);
      return product;
    },
    releaseUser: async (roomId, userId) => {
      // The ban is in place before the release, so no add of theirs can start after it.
      const banned = (await directory.bans(roomId, clock.now)).some((ban) => ban.userId === userId);
      calls.push(`release ${roomId} ${userId} banned=${banned}`);
      if (commerce.releaseFails) throw new Error('store down');
      return 2;
    },
  };
  const commands = new RoomCommands({ config, registry, directory, store, broker, commerce, log, now: () => clock.now });
  await commands.createRoom(streamer, { title: 'Show', id: 'show' });
  const ask = (principal: Principal, request: Ask) => commands.handle(memberOf(principal), 'show', { id: 1, ...request } as RoomRequest);
  return { commands, registry, directory, clock, calls, commerce, ask, lines };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('RoomCommands', () => {
  it('comments: refused when empty, too long, muted or after the show; rate-limited by the clock, with the wait to retry', async () => {
    const { ask, clock, registry, commands } = await setup();
    close = () => registry.close();
    const fan = viewer('fan');
    await expect(ask(fan, { t: 'comment', text: '   ' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ask(fan, { t: 'comment', text: 'x'.repeat(11) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await ask(fan, { t: 'comment', text: 'one' })).toEqual({ seq: 1 });
    expect(await ask(fan, { t: 'comment', text: 'two' })).toEqual({ seq: 2 });
    await expect(ask(fan, { t: 'comment', text: 'three' })).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    clock.now += 1000;
    expect(await ask(fan, { t: 'comment', text: 'three' })).toEqual({ seq: 3 });

    await expect(ask(fan, { t: 'mute', userId: 'loud' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await ask(streamer, { t: 'mute', userId: 'loud' })).toEqual({ seq: 4 });
    await expect(ask(viewer('loud'), { t: 'comment', text: 'hey' })).rejects.toMatchObject({ code: 'MUTED' });

    await commands.setShowState(streamer, 'show', 'ended');
    clock.now += 10_000;
    await expect(ask(fan, { t: 'comment', text: 'late' })).rejects.toMatchObject({ code: 'ROOM_ENDED' });
    await expect(commands.setShowState(streamer, 'show', 'live')).rejects.toMatchObject({ code: 'ROOM_ENDED' });
  });

  it('kick: moderators only, never the streamer; the ban is in place before the release; ended bans do not count against the cap', async () => {
    const { ask, clock, registry, calls, commerce, lines } = await setup();
    close = () => registry.close();
    await expect(ask(viewer('fan'), { t: 'kick', userId: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ask(streamer, { t: 'kick', userId: 'boss' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await ask(streamer, { t: 'kick', userId: 'a' })).toEqual({ closed: 0, released: 2 });
    expect(calls).toEqual(['release show a banned=true']);
    await ask(streamer, { t: 'kick', userId: 'b' });
    await expect(ask(streamer, { t: 'kick', userId: 'c' })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' }); // two bans in force: the cap
    clock.now += 10_000; // both bans ended
    commerce.releaseFails = true;
    expect(await ask(streamer, { t: 'kick', userId: 'c' })).toEqual({ closed: 0, released: 0 }); // the kick stands; its reservations expire by themselves
    expect(lines.some((line) => line.msg === 'kicked user\'s reservations not released; they expire by themselves')).toBe(true);
    expect(await ask(streamer, { t: 'unban', userId: 'c' })).toEqual({ lifted: true });
    expect(await ask(streamer, { t: 'unban', userId: 'a' })).toEqual({ lifted: false }); // ended already
  });

  it('pins a product of the catalog with a future end, each pin logged for the replay; a new product goes through commerce', async () => {
    const { ask, registry, calls, directory, clock } = await setup();
    close = () => registry.close();
    const mug: ProductInput = { sku: 'mug', title: 'Mug', priceCents: 100, currency: 'USD', stock: 3 };
    expect(await ask(streamer, { t: 'addProduct', product: mug })).toEqual({ product: mug });
    expect(calls).toEqual(['addProduct show mug']);
    await directory.putProduct('show', mug); // what commerce does through the room's rules
    await expect(ask(streamer, { t: 'pin', sku: 'nope' })).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
    await expect(ask(streamer, { t: 'pin', sku: 'mug', endsAt: clock.now })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ask(viewer('fan'), { t: 'pin', sku: 'mug' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await ask(streamer, { t: 'pin', sku: 'mug', endsAt: clock.now + 5000 })).toEqual({ seq: 1 });
    expect((await directory.get('show'))?.popup).toEqual({ product: mug, pinnedAt: clock.now, endsAt: clock.now + 5000 });
    expect(await ask(streamer, { t: 'unpin' })).toEqual({ seq: 2 });
    expect(await ask(streamer, { t: 'unpin' })).toEqual({ seq: 0 }); // nothing pinned: nothing published (the view is the directory's)
    // Every pin goes into the room's pin log (the replay's timeline), which keeps the latest two here; refused pins do not.
    const pinnedAt = clock.now;
    for (const step of [1000, 2000]) {
      clock.now = pinnedAt + step;
      await ask(streamer, { t: 'pin', sku: 'mug' });
    }
    expect(await directory.pins('show')).toEqual([{ sku: 'mug', at: pinnedAt + 1000 }, { sku: 'mug', at: pinnedAt + 2000 }]);
  });
});

