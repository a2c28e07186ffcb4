/**
 * Operators over several nodes: real server processes (the CLI) on the shared Redis, each under a
 * prefix of its own. The node registry lists every live node and drops a dead one; the rooms of
 * every node come back from any node with their viewers summed; a degrade override or a queue limit
 * set through one node holds on every node hosting the room, on one serving its carts over HTTP,
 * and on one that starts hosting it later. A room's open auction shows from any node, read from the store.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type ClusterRoom, type NodeStatus } from '../../protocol/src/index.ts';
import { globalKey } from '../../server/src/redis/keys.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { OwnRedisCluster } from '../helpers/redisCluster.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const HEARTBEAT_MS = 200;
const DOWN_AFTER_BEATS = 3;
const FORGET_AFTER_BEATS = 10;
const registryArgs = ['--node-heartbeat-ms', String(HEARTBEAT_MS), '--node-down-after-beats', String(DOWN_AFTER_BEATS), '--node-forget-after-beats', String(FORGET_AFTER_BEATS)];

/** Where the nodes meet: the suite's Redis, or a Redis Cluster of the file's own (settings then travel on sharded channels). */
const backends = [
  { name: 'one Redis', start: async () => ({ url: REDIS_URL, stop: async () => undefined }) },
  { name: 'a Redis Cluster', start: async () => OwnRedisCluster.start() },
];

const operatorToken = () => tokens.mint({ userId: 'cluster-op', name: 'Op', role: 'operator' });
const viewer = (n: number | string) => tokens.mint({ userId: `cv-${n}`, name: `V${n}`, role: 'viewer' });

async function nodesSeenBy(node: Node, operator: string): Promise<NodeStatus[]> {
  const answer = await call(node, 'GET', '/api/ops/nodes', operator);
  expect(answer.status).toBe(200);
  return answer.body.nodes as NodeStatus[];
}

async function roomSeenBy(node: Node, operator: string, roomId: string): Promise<ClusterRoom | undefined> {
  const answer = await call(node, 'GET', '/api/ops/rooms', operator);
  expect(answer.status).toBe(200);
  return (answer.body.rooms as ClusterRoom[]).find((room) => room.roomId === roomId);
}

/** The node id each node gives itself. */
async function idOf(node: Node, operator: string): Promise<string> {
  return (await nodesSeenBy(node, operator)).find((n) => n.self)!.nodeId;
}

describe('the node registry', () => {
  const prefix = uniquePrefix('registry');
  let nodes: Node[];
  let redis: Redis;
  beforeAll(async () => {
    nodes = await startNodes(3, REDIS_URL, prefix, registryArgs);
    redis = new Redis(REDIS_URL);
  }, 60_000);
  afterAll(async () => {
    redis.disconnect();
    await stopNodes(nodes);
  });

  it('lists every live node with its address, rooms and load; a node killed with -9 shows as down after the staleness bound, then goes; a drained one says so, and goes at once when it stops', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    const operator = await operatorToken();
    const streamer = await tokens.mint({ userId: 'reg-streamer', name: 'S', role: 'streamer' });
    expect((await call(n2, 'POST', '/api/rooms', streamer, { title: 'on two', id: 'on-two' })).status).toBe(201);
    const { client: watcher } = await RawClient.join(n2.wsUrl, await viewer('reg'), 'on-two');

    // Every node sees all three, itself first and live.
    for (const node of nodes) {
      await waitUntil(async () => (await nodesSeenBy(node, operator)).length === 3, 5000, `three nodes seen by ${node.url}`);
      const seen = await nodesSeenBy(node, operator);
      expect(seen[0]).toMatchObject({ self: true, url: node.url, down: false, draining: false });
      expect(seen.map((n) => n.url).sort()).toEqual(nodes.map((n) => n.url).sort());
      expect(new Set(seen.map((n) => n.nodeId)).size).toBe(3);
      for (const n of seen) {
        expect(n.down).toBe(false);
        expect(n.heartbeatAgeMs).toBeLessThanOrEqual(DOWN_AFTER_BEATS * HEARTBEAT_MS);
        expect(n.load).toMatchObject({ eventLoopDelayMs: expect.any(Number), rssMb: expect.any(Number), cpuPercent: expect.any(Number), roomsByLevel: [expect.any(Number), 0, 0, 0], overloaded: false });
        expect(n.startedAt).toBeLessThanOrEqual(n.heartbeatAt);
      }
    }
    // Node 2's record tells its room and the viewer's socket, as node 1 reads it.
    const id2 = await idOf(n2, operator);
    await waitUntil(async () => (await nodesSeenBy(n1, operator)).find((n) => n.nodeId === id2)!.rooms.some((r) => r.roomId === 'on-two'), 5000, 'node 2 reports its room');
    const two = (await nodesSeenBy(n1, operator)).find((n) => n.nodeId === id2)!;
    expect(two.rooms).toEqual([{ roomId: 'on-two', viewers: 1, sockets: 1, level: 0, reason: 'normal', settings: { version: 0, degradeOverride: null, queueLimit: null } }]);
    expect(two.sockets).toBe(1);
    expect(two.load.roomsByLevel).toEqual([1, 0, 0, 0]);
    // The registry is one hash, a key of no room.
    expect(await redis.hlen(globalKey(prefix, 'nodes'))).toBe(3);

    // kill -9: no goodbye. Down once its record is older than the bound, gone later.
    const id3 = await idOf(n3, operator);
    n3.child.kill('SIGKILL');
    let downSeen: NodeStatus | undefined;
    await waitUntil(async () => {
      downSeen = (await nodesSeenBy(n1, operator)).find((n) => n.nodeId === id3);
      return downSeen?.down === true;
    }, 5000, 'the killed node shown as down');
    expect(downSeen!.heartbeatAgeMs).toBeGreaterThan(DOWN_AFTER_BEATS * HEARTBEAT_MS);
    const lastBeat = downSeen!.heartbeatAt;
    await waitUntil(async () => !(await nodesSeenBy(n1, operator)).some((n) => n.nodeId === id3), 10_000, 'the killed node gone');
    expect(Date.now() - lastBeat).toBeGreaterThan(FORGET_AFTER_BEATS * HEARTBEAT_MS);
    // The reader that left it out removes its record without holding up the answer.
    await waitUntil(async () => (await redis.hexists(globalKey(prefix, 'nodes'), id3)) === 0, 5000, 'the killed node\'s record removed');
    expect((await nodesSeenBy(n2, operator)).map((n) => n.nodeId)).not.toContain(id3);
    expect((await nodesSeenBy(n1, operator)).every((n) => !n.down)).toBe(true);

    // A drained node says so in its record; stopped, it removes its record before it exits.
    expect((await call(n2, 'POST', '/api/ops/drain', operator, { windowMs: 0 })).body).toMatchObject({ started: true });
    await waitUntil(async () => (await nodesSeenBy(n1, operator)).find((n) => n.nodeId === id2)?.draining === true, 5000, 'node 2 draining, as node 1 sees it');
    watcher.close();
    await stopNodes([n2]);
    expect((await nodesSeenBy(n1, operator)).map((n) => n.nodeId)).not.toContain(id2);
  }, 60_000);
});

describe.each(backends)('rooms and their settings across nodes on $name', (backend) => {
  const prefix = uniquePrefix('clusterops');
  let redis: { url: string; stop(): Promise<void> };
  let nodes: Node[];
  let operator: string;
  let streamer: string;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    redis = await backend.start();
    nodes = await startNodes(3, redis.url, prefix, registryArgs);
    operator = await operatorToken();
    streamer = await tokens.mint({ userId: 'co-streamer', name: 'S', role: 'streamer' });
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await stopNodes(nodes ?? []);
    await redis?.stop();
  });

  async function room(roomId: string, stock = 0): Promise<void> {
    expect((await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId })).status).toBe(201);
    if (stock > 0) expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock })).status).toBe(201);
    expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/start`, streamer)).status).toBe(200);
  }

  async function join(node: Node, token: string, roomId: string) {
    const joined = await RawClient.join(node.wsUrl, token, roomId);
    clients.push(joined.client);
    return joined;
  }

  it('answers every room of every node from any node: viewers summed, each node\'s part, this node\'s detail where it hosts the room', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    const [id1, id2] = [await idOf(n1, operator), await idOf(n2, operator)];
    await room('spread');
    await room('solo');
    for (let i = 0; i < 2; i++) await join(n1, await viewer(`s1-${i}`), 'spread');
    for (let i = 0; i < 3; i++) await join(n2, await viewer(`s2-${i}`), 'spread');
    await join(n1, streamer, 'spread'); // staff: a socket, not a viewer
    await join(n2, await viewer('solo'), 'solo');

    // Node 3 hosts nothing: it sees both rooms through the registry.
    // Each node reports its counts in its own time: wait for the last one (the streamer's socket) too.
    await waitUntil(async () => {
      const seen = await roomSeenBy(n3, operator, 'spread');
      return seen?.viewers === 5 && seen.sockets === 6 && (await roomSeenBy(n3, operator, 'solo'))?.viewers === 1;
    }, 5000, 'both rooms with their viewers and sockets on node 3');
    const spread = (await roomSeenBy(n3, operator, 'spread'))!;
    expect(spread).toMatchObject({ viewers: 5, sockets: 6, local: null, settings: { version: 0, degradeOverride: null, queueLimit: null } });
    expect(spread.nodes.map(({ nodeId, viewers, sockets, down, level }) => ({ nodeId, viewers, sockets, down, level }))).toEqual([
      { nodeId: id2, viewers: 3, sockets: 3, down: false, level: 0 },
      { nodeId: id1, viewers: 2, sockets: 3, down: false, level: 0 },
    ]);
    expect(spread.nodes.map((n) => n.url)).toEqual([n2.url, n1.url]);
    const solo = (await roomSeenBy(n3, operator, 'solo'))!;
    expect(solo.nodes.map((n) => n.nodeId)).toEqual([id2]);

    // Node 1 hosts 'spread': the same sums, and its own detail as the node-local API gave it.
    await waitUntil(async () => (await roomSeenBy(n1, operator, 'spread'))?.viewers === 5, 5000, 'spread summed on node 1');
    const here = (await roomSeenBy(n1, operator, 'spread'))!;
    expect(here.local).toMatchObject({ roomId: 'spread', level: 0, override: null, members: 3, sequencedHere: expect.any(Boolean), signals: { viewerLagMs: expect.any(Number) } });
    expect((await roomSeenBy(n1, operator, 'solo'))!.local).toBeNull();
    expect((await call(n1, 'GET', '/api/ops/rooms', streamer)).status).toBe(403);
    expect((await call(n1, 'GET', '/api/ops/nodes', streamer)).status).toBe(403);
  });

  it('shows a room\'s open auction from any node, its price and leader as bids move it, and drops it once it is cancelled', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    await room('lots', 1);
    const started = await call(n1, 'POST', '/api/rooms/lots/auctions', streamer, { id: 'lot1', sku: 'hot', startPriceCents: 1000, increments: [{ stepCents: 100 }], durationMs: 60_000, ending: { kind: 'sudden_death' } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const bidder = await viewer('bidder');
    await join(n2, bidder, 'lots');

    // Node 3 hosts nothing and never heard of the auction: it reads it from the store.
    await waitUntil(async () => (await roomSeenBy(n3, operator, 'lots'))?.auction !== undefined, 5000, 'the auction on node 3');
    const endsAt = (await roomSeenBy(n3, operator, 'lots'))!.auction!.endsAt;
    expect((await roomSeenBy(n3, operator, 'lots'))!.auction).toEqual({ id: 'lot1', sku: 'hot', priceCents: 1000, leader: null, bids: 0, endsAt, status: 'open' });
    expect(endsAt).toBeGreaterThan(Date.now() + 50_000);

    const bid = await call(n2, 'POST', '/api/rooms/lots/auctions/lot1/bids', bidder, { amountCents: 1000, key: 'ops-bid-1' });
    expect(bid.body).toMatchObject({ status: 'leading' });
    for (const node of [n1, n3]) {
      expect((await roomSeenBy(node, operator, 'lots'))!.auction).toMatchObject({ id: 'lot1', priceCents: 1000, leader: 'Vbidder', bids: 1, status: 'open' });
    }
    expect((await roomSeenBy(n1, operator, 'spread'))?.auction).toBeUndefined();

    expect((await call(n1, 'POST', '/api/rooms/lots/auctions/lot1/cancel', streamer)).status).toBe(200);
    expect((await roomSeenBy(n3, operator, 'lots'))!.auction).toBeUndefined();
  });

  it('a degrade override set through a node that does not host the room holds at once on the node that does, and on a node that starts hosting it later; automatic again from any node', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    await room('busy');
    const { client: onB } = await join(n2, await viewer('busy-b'), 'busy');

    const set = await call(n1, 'PUT', '/api/ops/rooms/busy/degrade', operator, { level: 3 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ roomId: 'busy', override: 3, settings: { degradeOverride: 3, queueLimit: null } });
    await onB.waitFor((m) => m.t === 'degrade' && m.level === 3);
    expect((await roomSeenBy(n2, operator, 'busy'))!.local).toMatchObject({ level: 3, override: 3, reason: 'operator' });
    // A viewer on node 2 is refused chatter, as at level 3 on one node.
    const refused = await onB.request({ t: 'comment', text: 'hello?' });
    expect(refused.t === 'err' && refused.code).toBe(ErrorCode.OVERLOADED);

    // Node 3 starts hosting the room after the change: it reads the room's settings.
    const { welcome } = await join(n3, await viewer('busy-c'), 'busy');
    expect(welcome.t === 'welcome' && welcome.degradeLevel).toBe(3);
    expect((await roomSeenBy(n3, operator, 'busy'))!.local).toMatchObject({ level: 3, override: 3 });
    await waitUntil(async () => {
      const seen = await roomSeenBy(n1, operator, 'busy');
      return seen?.nodes.length === 2 && seen.nodes.every((n) => n.level === 3 && n.settings.degradeOverride === 3);
    }, 5000, 'both hosting nodes at level 3, as node 1 sees them');

    // Automatic again, set through node 3: node 2's viewer hears it too.
    expect((await call(n3, 'PUT', '/api/ops/rooms/busy/degrade', operator, { level: null })).body).toMatchObject({ override: null, settings: { degradeOverride: null } });
    await onB.waitFor((m) => m.t === 'degrade' && m.level === 0);
    expect((await roomSeenBy(n2, operator, 'busy'))!.local).toMatchObject({ level: 0, override: null });
    expect((await onB.request({ t: 'comment', text: 'back' })).t).toBe('ok');

    const typo = await call(n1, 'PUT', '/api/ops/rooms/no-such-room/degrade', operator, { level: 1 });
    expect(typo.status).toBe(404);
    expect(typo.body.error).toMatchObject({ name: 'ROOM_NOT_FOUND' });
  });

  it('a queue limit set through one node holds on the node hosting the room, on a node serving its carts over HTTP, and on a node that starts hosting it later', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    await room('limited', 50);
    const { client: onB } = await join(n2, await viewer('lim-b'), 'limited');
    expect((await onB.request({ t: 'addToCart', key: 'before', sku: 'hot', quantity: 1 })).t).toBe('ok');

    // No request may wait in the room's queue: every cart request is refused at once.
    const set = await call(n1, 'PUT', '/api/ops/rooms/limited/limits', operator, { queueLimit: 0 });
    expect(set.body).toMatchObject({ roomId: 'limited', queueLimit: 0, admission: true, settings: { queueLimit: 0 } });
    const id2 = await idOf(n2, operator);
    await waitUntil(async () => (await roomSeenBy(n2, operator, 'limited'))?.nodes.find((n) => n.nodeId === id2)?.settings.queueLimit === 0, 5000, 'node 2 holds the limit');
    const refusedB = await onB.request({ t: 'addToCart', key: 'after', sku: 'hot', quantity: 1 });
    expect(refusedB.t === 'err' && refusedB.code).toBe(ErrorCode.OVERLOADED);
    expect((await roomSeenBy(n2, operator, 'limited'))!.local?.admission).toMatchObject({ queueLimit: 0 });

    // Node 3 does not host the room; an HTTP buyer's request there meets the same limit.
    const buyer = await viewer('lim-http');
    const refusedC = await call(n3, 'POST', '/api/rooms/limited/cart/items', buyer, { sku: 'hot', quantity: 1, key: 'http-1' });
    expect(refusedC.body.error).toMatchObject({ name: 'OVERLOADED' });
    // ...and so does its WebSocket buyer once node 3 hosts the room.
    const { client: onC } = await join(n3, await viewer('lim-c'), 'limited');
    const refusedWs = await onC.request({ t: 'addToCart', key: 'ws-1', sku: 'hot', quantity: 1 });
    expect(refusedWs.t === 'err' && refusedWs.code).toBe(ErrorCode.OVERLOADED);

    // Back to each node's default (null), set through node 2: node 3's buyer gets through.
    expect((await call(n2, 'PUT', '/api/ops/rooms/limited/limits', operator, { queueLimit: null })).body).toMatchObject({ queueLimit: null });
    const id3 = await idOf(n3, operator);
    await waitUntil(async () => (await roomSeenBy(n3, operator, 'limited'))?.nodes.find((n) => n.nodeId === id3)?.settings.queueLimit === null, 5000, 'node 3 back to its default');
    const served = await onC.request({ t: 'addToCart', key: 'ws-2', sku: 'hot', quantity: 1 });
    expect(served.t === 'ok' && served.result?.status).toBe('reserved');
    expect((await roomSeenBy(n3, operator, 'limited'))!.local?.admission?.queueLimit).toBe(5000);
  });
});

describe('a single node (memory mode)', () => {
  it('lists itself as the registry, and a room\'s settings set before anyone joins hold once it is hosted', async () => {
    const server = await startTestServer({ nodeHeartbeatMs: 100 });
    try {
      const operator = await server.mintToken({ userId: 'solo-op', name: 'Op', role: 'operator' });
      const nodes = await http(server, 'GET', '/api/ops/nodes', operator);
      expect(nodes.body).toMatchObject({ nodeId: server.registry.nodeId, registry: 'ok', nodes: [{ nodeId: server.registry.nodeId, self: true, down: false, url: server.url }] });
      expect(nodes.body.nodes).toHaveLength(1);

      await saleRoom(server, 'early', 5);
      expect((await http(server, 'PUT', '/api/ops/rooms/early/degrade', operator, { level: 2 })).status).toBe(200);
      expect((await http(server, 'PUT', '/api/ops/rooms/early/limits', operator, { queueLimit: 0 })).status).toBe(200);
      const { client, welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'early'), 'early');
      expect(welcome.t === 'welcome' && welcome.degradeLevel).toBe(2);
      const refused = await client.request({ t: 'addToCart', key: 'k', sku: 'hot', quantity: 1 });
      expect(refused.t === 'err' && refused.code).toBe(ErrorCode.OVERLOADED);
      const rooms = await http(server, 'GET', '/api/ops/rooms', operator);
      expect(rooms.body.rooms).toEqual([expect.objectContaining({ roomId: 'early', viewers: 1, settings: { version: 2, degradeOverride: 2, queueLimit: 0 }, local: expect.objectContaining({ level: 2, override: 2 }) })]);
      expect(rooms.body.rooms[0].auction).toBeUndefined();

      // An open auction shows on the room until it is cancelled.
      const streamer = await server.mintToken({ userId: 's-early', name: 'S', role: 'streamer' });
      const started = await http(server, 'POST', '/api/rooms/early/auctions', streamer, { id: 'solo1', sku: 'hot', startPriceCents: 2500, increments: [{ stepCents: 100 }], durationMs: 30_000, ending: { kind: 'sudden_death' } });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const withAuction = await http(server, 'GET', '/api/ops/rooms', operator);
      expect(withAuction.body.rooms[0].auction).toEqual({ id: 'solo1', sku: 'hot', priceCents: 2500, leader: null, bids: 0, endsAt: started.body.auction.endsAt, status: 'open' });
      expect((await http(server, 'POST', '/api/rooms/early/auctions/solo1/cancel', streamer)).status).toBe(200);
      expect((await http(server, 'GET', '/api/ops/rooms', operator)).body.rooms[0].auction).toBeUndefined();
      client.close();
    } finally {
      await server.close();
    }
  });
});
