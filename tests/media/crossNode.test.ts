/**
 * A room's video across nodes: real server processes on one Redis, each with its own mediasoup
 * worker and port range; the streamer a real WebRTC peer publishing on node 1, viewers on the
 * other nodes decoding frames piped from it. Then nodes die (kill -9): a relay node's viewers move
 * to another node and decode again; the origin's streamer publishes again where it reconnects,
 * and every viewer, on the new origin and on the node that keeps relaying, decodes the new stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import { StreamPublisher, StreamViewer } from '../../client/src/media.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { eventually, framesDecoded, NODE_HANDLER, syntheticCamera } from '../helpers/webrtc.ts';

const KEEPALIVE_MS = 400;

interface Watcher {
  readonly name: string;
  readonly client: LivecartClient;
  readonly viewer: StreamViewer;
  /** Tracks received since the test last cleared it. */
  tracks: number;
  rebuilt: boolean;
}

async function watcher(name: string, urls: string[], room: string): Promise<Watcher> {
  const client = connect({ url: urls, shuffleEndpoints: false, token: await tokens.mint({ userId: name, name, role: 'viewer' }), room, reconnect: { baseMs: 50, maxMs: 200 } });
  await client.ready;
  const viewer = new StreamViewer(client, { handlerName: NODE_HANDLER, retryMs: 300 });
  const w: Watcher = { name, client, viewer, tracks: 0, rebuilt: false };
  viewer.on('track', ({ kind }) => { if (kind === 'video') w.tracks++; });
  viewer.on('state', ({ state }) => { if (state === 'connecting') w.rebuilt = true; });
  await viewer.start();
  return w;
}

/** Decoded frames rise by `by` from now (a stream that plays, not one stray key frame). */
async function decodesMore(w: Watcher, by: number, what: string, timeoutMs = 20_000): Promise<void> {
  const from = await framesDecoded(w.viewer);
  await eventually(async () => (await framesDecoded(w.viewer)) >= from + by, `${w.name}: ${what}`, timeoutMs);
}

async function mediaOf(node: Node, operator: string): Promise<{ pipesServed: number; roomsRelayed: number; producers: number }> {
  return (await call(node, 'GET', '/api/ops/node', operator)).body.media;
}

function kill(node: Node): Promise<void> {
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  node.child.kill('SIGKILL');
  return exited;
}

describe('video across nodes', () => {
  const prefix = uniquePrefix('media-nodes');
  let nodes: Node[];
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    // Each node its own port range, as on separate machines; a short keepalive so the test sees pipes expire quickly.
    nodes = await startNodes(4, REDIS_URL, prefix, (i) => [
      '--media-workers', '1', '--media-port-min', String(41000 + i * 100), '--media-port-max', String(41099 + i * 100),
      '--media-pipe-keepalive-ms', String(KEEPALIVE_MS), '--media-video-full-retry-ms', '300',
      '--recording', 'false', // no show recorded into the shared HLS folder (recordings: recording.test.ts)
    ]);
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) close();
    await stopNodes(nodes);
  });

  it('viewers on other nodes decode the stream piped from the origin; a relay dying moves its viewers, the origin dying moves the stream', async () => {
    const [n1, n2, n3, n4] = nodes as [Node, Node, Node, Node];
    const streamerToken = await tokens.mint({ userId: 'x-streamer', name: 'S', role: 'streamer' });
    const operator = await tokens.mint({ userId: 'x-ops', name: 'Ops', role: 'operator' });
    expect((await call(n1, 'POST', '/api/rooms', streamerToken, { title: 'across', id: 'across' })).status).toBe(201);
    expect((await call(n1, 'POST', '/api/rooms/across/start', streamerToken)).status).toBe(200);

    // The streamer publishes on node 1 (node 3 is where it goes if node 1 dies).
    const host = connect({ url: [n1.wsUrl, n3.wsUrl], shuffleEndpoints: false, token: streamerToken, room: 'across', reconnect: { baseMs: 50, maxMs: 200 } });
    await host.ready;
    const camera = syntheticCamera(160, 120);
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER, retryMs: 300 });
    closers.push(() => { publisher.dispose(); camera.stop(); host.close(); });
    await publisher.publish({ video: camera.track });

    // Viewers on nodes 2, 3 and 4: none of them has the streamer on its node.
    const onN2 = await watcher('on-n2', [n2.wsUrl, n3.wsUrl], 'across');
    const onN3 = await watcher('on-n3', [n3.wsUrl], 'across');
    const onN4 = await watcher('on-n4', [n4.wsUrl], 'across');
    const viewers = [onN2, onN3, onN4];
    for (const w of viewers) closers.push(() => { w.viewer.dispose(); w.client.close(); });
    await Promise.all(viewers.map((w) => decodesMore(w, 15, 'frames piped from node 1')));
    expect(viewers.map((w) => w.viewer.state)).toEqual(['live', 'live', 'live']);
    expect(await mediaOf(n1, operator)).toMatchObject({ pipesServed: 3, roomsRelayed: 0 });
    for (const relay of [n2, n3, n4]) expect(await mediaOf(relay, operator)).toMatchObject({ pipesServed: 0, roomsRelayed: 1 });

    // A relay node dies: its viewer reconnects to node 3, consumes again and decodes; the origin closes the dead node's pipe.
    onN2.rebuilt = false;
    await kill(n2);
    await eventually(() => onN2.client.url === n3.wsUrl && onN2.rebuilt && onN2.viewer.state === 'live', 'the viewer of node 2 watching on node 3');
    await decodesMore(onN2, 15, 'frames after moving to node 3');
    await eventually(async () => (await mediaOf(n1, operator)).pipesServed === 2, 'the dead relay\'s pipe closed on the origin', 10 * KEEPALIVE_MS);

    // The origin dies: the streamer reconnects to node 3 and publishes again; node 3 becomes the
    // origin, node 4 pipes from it; every viewer gets the new stream's track and decodes it.
    for (const w of viewers) w.tracks = 0;
    await kill(n1);
    await eventually(() => host.url === n3.wsUrl && publisher.state === 'live', 'the streamer publishing again on node 3', 20_000);
    await eventually(() => viewers.every((w) => w.tracks > 0), 'every viewer got the new stream\'s track', 20_000);
    await Promise.all(viewers.map((w) => decodesMore(w, 15, 'frames of the stream published again')));
    expect(await mediaOf(n3, operator)).toMatchObject({ pipesServed: 1, roomsRelayed: 0 });
    expect(await mediaOf(n4, operator)).toMatchObject({ roomsRelayed: 1 });
  }, 120_000);
});

describe('a tree of relays', () => {
  const prefix = uniquePrefix('media-tree');
  let nodes: Node[];
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    // Each node feeds one other node at most: the third node is fed by the second.
    nodes = await startNodes(3, REDIS_URL, prefix, (i) => [
      '--media-workers', '1', '--media-port-min', String(41500 + i * 100), '--media-port-max', String(41599 + i * 100),
      '--media-pipe-keepalive-ms', String(KEEPALIVE_MS), '--media-pipes-per-room', '1', '--recording', 'false',
    ]);
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) close();
    await stopNodes(nodes);
  });

  it('a node past the origin\'s pipe limit is fed by a relay, and by the origin again once that relay dies; unsigned pipe calls are refused', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    const streamerToken = await tokens.mint({ userId: 't-streamer', name: 'S', role: 'streamer' });
    const operator = await tokens.mint({ userId: 't-ops', name: 'Ops', role: 'operator' });
    expect((await call(n1, 'POST', '/api/rooms', streamerToken, { title: 'tree', id: 'tree' })).status).toBe(201);
    expect((await call(n1, 'POST', '/api/rooms/tree/start', streamerToken)).status).toBe(200);
    const host = connect({ url: n1.wsUrl, token: streamerToken, room: 'tree' });
    await host.ready;
    const camera = syntheticCamera(160, 120);
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER });
    closers.push(() => { publisher.dispose(); camera.stop(); host.close(); });
    await publisher.publish({ video: camera.track });

    const onN2 = await watcher('tree-n2', [n2.wsUrl], 'tree');
    await decodesMore(onN2, 10, 'frames piped from node 1');
    const onN3 = await watcher('tree-n3', [n3.wsUrl], 'tree');
    for (const w of [onN2, onN3]) closers.push(() => { w.viewer.dispose(); w.client.close(); });
    await decodesMore(onN3, 10, 'frames piped through node 2');
    expect(await mediaOf(n1, operator)).toMatchObject({ pipesServed: 1 });
    expect(await mediaOf(n2, operator)).toMatchObject({ pipesServed: 1, roomsRelayed: 1 });
    expect(await mediaOf(n3, operator)).toMatchObject({ pipesServed: 0, roomsRelayed: 1 });

    // Node-to-node calls must be signed with the deployment's secret.
    const open = { roomId: 'tree', nodeId: 'intruder', url: 'http://127.0.0.1:9', endpoint: { ip: '127.0.0.1', port: 9 } };
    for (const authorization of ['', `LivecartNode ${Date.now()}.${'0'.repeat(64)}`, `Bearer ${operator}`]) {
      const refused = await fetch(`${n1.url}/internal/media/pipes/open`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(open) });
      expect(refused.status).toBe(401);
    }
    expect(await mediaOf(n1, operator)).toMatchObject({ pipesServed: 1 });

    // The relay in the middle dies: node 3 is fed by the origin once the origin closed the dead node's pipe.
    onN3.tracks = 0;
    await kill(n2);
    await eventually(() => onN3.tracks > 0, 'node 3 piping from node 1 again', 20_000);
    await decodesMore(onN3, 10, 'frames piped from node 1 after node 2 died');
    expect(await mediaOf(n1, operator)).toMatchObject({ pipesServed: 1 });

    // An operator on a relay node stops the stream: it ends where it is published, and so everywhere.
    expect((await call(n3, 'DELETE', '/api/rooms/tree/ingest', operator)).status).toBe(200);
    await eventually(() => publisher.state === 'idle' && onN3.viewer.state === 'waiting', 'the stream stopped on the origin and on node 3');
    await eventually(async () => (await mediaOf(n1, operator)).pipesServed === 0 && (await mediaOf(n3, operator)).roomsRelayed === 0, 'the pipe closed');
  }, 90_000);
});
