import { describe, expect, it } from 'vitest';
import type { LocalRoomDetail, NodeRecord, NodeStatus, RoomSettings } from '../../protocol/src/index.ts';
import { clusterRooms } from '../../server/src/ops/clusterRooms.ts';
import { NodeRegistry, type RegistryRoom } from '../../server/src/ops/NodeRegistry.ts';
import { MemoryNodeDirectory } from '../../server/src/store/MemoryNodeDirectory.ts';
import type { NodeDirectory } from '../../server/src/store/NodeDirectory.ts';
import { captureLog } from '../helpers/captureLog.ts';

const none: RoomSettings = { version: 0, degradeOverride: null, queueLimit: null };
const room = (id: string, viewers: number, level: 0 | 1 | 2 | 3 = 0, settings = none): RegistryRoom => ({ id, viewerCount: viewers, memberCount: viewers + 1, degrade: { level, reason: level === 0 ? 'normal' : 'operator' }, settings });

/** A registry over `directory` whose clock and hosted rooms the test sets. */
function setup(directory: NodeDirectory = new MemoryNodeDirectory(), maxRooms = 10) {
  const clock = { now: 1_000_000 };
  const hosted: RegistryRoom[] = [];
  const registry = new NodeRegistry({
    directory,
    nodeId: 'self',
    sources: { rooms: { hostedRooms: () => hosted }, gateway: { stats: { connectionsOpen: 7 } }, guard: { eventLoopDelayMs: 3.14159, rssMb: 99.6, overloaded: false }, admission: { inFlight: 2 } },
    options: { heartbeatMs: 100, downAfterBeats: 3, forgetAfterBeats: 10, maxRooms },
    log: captureLog().log,
    now: () => clock.now,
  });
  return { registry, clock, hosted, directory };
}

/** Another node's record, written `ageMs` before `now` with a 100 ms heartbeat. */
function other(nodeId: string, now: number, ageMs: number, rooms: NodeRecord['rooms'] = []): NodeRecord {
  return {
    nodeId, url: `http://${nodeId}:8080`, startedAt: now - 60_000, heartbeatAt: now - ageMs, heartbeatMs: 100, draining: false, sockets: 0, rooms, roomsOmitted: 0,
    load: { eventLoopDelayMs: 1, rssMb: 80, cpuPercent: 3, overloaded: false, roomsByLevel: [rooms.length, 0, 0, 0], admissionInFlight: 0 },
  };
}

describe('NodeRegistry', () => {
  it('writes a record of its rooms (most viewers first, capped), sockets and load', async () => {
    const { registry, hosted, directory } = setup(new MemoryNodeDirectory(), 2);
    hosted.push(room('small', 1), room('big', 50, 2), room('mid', 10));
    registry.start('http://self:8080');
    await registry.close(); // waits for the first beat, then removes the record
    const record = registry.record();
    expect(record).toMatchObject({ nodeId: 'self', url: 'http://self:8080', heartbeatMs: 100, draining: false, sockets: 7, roomsOmitted: 1 });
    expect(record.rooms.map((r) => [r.roomId, r.viewers, r.sockets, r.level])).toEqual([['big', 50, 51, 2], ['mid', 10, 11, 0]]);
    expect(record.load).toMatchObject({ eventLoopDelayMs: 3.1, rssMb: 100, overloaded: false, roomsByLevel: [2, 0, 1, 0], admissionInFlight: 2 });
    expect(await directory.all()).toEqual([]); // removed on close
  });

  it('shows a node whose record stopped coming as down past downAfterBeats, removes it past forgetAfterBeats, and keeps one that wrote since', async () => {
    const { registry, clock, directory } = setup();
    const now = clock.now;
    await directory.put(other('fresh', now, 300)); // exactly 3 beats: still up
    await directory.put(other('late', now, 301));
    await directory.put(other('gone', now, 1001));
    await registry.beat();
    const view = await registry.view();
    expect(view.complete).toBe(true);
    expect(view.nodes.map((n) => [n.nodeId, n.down, n.self])).toEqual([['self', false, true], ['fresh', false, false], ['late', true, false]]);
    expect(view.nodes.find((n) => n.nodeId === 'late')!.heartbeatAgeMs).toBe(301);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await directory.all()).map((r) => r.nodeId).sort()).toEqual(['fresh', 'late', 'self']);

    // A node that wrote again after it was seen stale keeps its new record.
    await directory.put(other('late', now, 0));
    await directory.removeStale('late', now - 301);
    expect((await directory.all()).map((r) => r.nodeId)).toContain('late');
    await registry.close();
  });

  it('answers with this node alone when the registry cannot be read, and keeps beating', async () => {
    const failing: NodeDirectory = {
      put: async () => { throw new Error('redis away'); },
      all: async () => { throw new Error('redis away'); },
      removeStale: async () => undefined,
      remove: async () => { throw new Error('redis away'); },
    };
    const { registry } = setup(failing);
    await expect(registry.beat()).resolves.toBeUndefined();
    const view = await registry.view();
    expect(view).toMatchObject({ complete: false, nodes: [{ nodeId: 'self', self: true, down: false }] });
    await expect(registry.close()).resolves.toBeUndefined();
  });
});

describe('clusterRooms', () => {
  const status = (record: NodeRecord, down = false): NodeStatus => ({ ...record, down, heartbeatAgeMs: 0, self: false });
  const entry = (roomId: string, viewers: number, settings = none) => ({ roomId, viewers, sockets: viewers, level: 0 as const, reason: 'normal', settings });

  it('sums viewers over the nodes that are up, lists every node\'s part, takes the newest settings and this node\'s detail', () => {
    const newer: RoomSettings = { version: 2, degradeOverride: 3, queueLimit: null };
    const older: RoomSettings = { version: 1, degradeOverride: 1, queueLimit: null };
    const nodes = [
      status(other('a', 0, 0, [entry('shared', 2, older), entry('only-a', 9)])),
      status(other('b', 0, 0, [entry('shared', 5, newer)])),
      status(other('dead', 0, 0, [entry('shared', 100, older)]), true),
    ];
    const detail = { roomId: 'only-a', members: 9 } as LocalRoomDetail;
    const rooms = clusterRooms(nodes, new Map([['only-a', detail]]));
    expect(rooms.map((r) => [r.roomId, r.viewers, r.sockets])).toEqual([['only-a', 9, 9], ['shared', 7, 7]]);
    const shared = rooms[1]!;
    expect(shared.nodes.map((n) => [n.nodeId, n.viewers, n.down])).toEqual([['b', 5, false], ['a', 2, false], ['dead', 100, true]]);
    expect(shared.settings).toEqual(newer);
    expect(shared.local).toBeNull();
    expect(rooms[0]!.local).toBe(detail);
  });
});
