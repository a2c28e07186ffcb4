import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient, type ReconnectingEvent, type Welcome } from '../../client/src/index.ts';
import { CloseCode, ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { roomKey } from '../../server/src/redis/keys.ts';

/** A metric's value from the node's /metrics text (no labels). */
async function metric(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

describe('a node that loses its sequencer lease resets the room', () => {
  const prefix = uniquePrefix('lease-node');
  let server: RunningServer;
  const redis = new Redis(REDIS_URL);
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: prefix, sequencerLeaseMs: 1000, commentRate: 1000, commentBurst: 1000 });
  });
  afterAll(async () => {
    await server.close();
    redis.disconnect();
  });

  it('answers the failed comment UNAVAILABLE, closes the room\'s sockets with RESYNC, and gives a snapshot to a client that saw the dropped event', async () => {
    const { streamer } = await liveRoom(server, 'lease');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'lease');
    const token = await viewerToken(server, 'lease-1');
    const first = await RawClient.join(server.wsUrl, token, 'lease');
    if (first.welcome.t !== 'welcome') throw new Error('no welcome');
    expect((await host.request({ t: 'comment', text: 'logged' })).t).toBe('ok');
    await first.client.waitFor((m) => m.t === 'comment' && m.text === 'logged');
    const loggedSeq = first.client.of('comment')[0]!.seq;
    expect(await redis.get(roomKey(prefix, 'lease', 'lease'))).not.toBeNull(); // this node holds the room's lease
    expect(await metric(server, 'livecart_sequencer_leases')).toBe(1);
    expect(await metric(server, 'livecart_sequencer_local_events_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(server, 'livecart_sequencer_resets_total')).toBe(0);
    // The operator sees which rooms this node keeps the order of.
    const operator = await server.mintToken({ userId: 'lease-op', name: 'Op', role: 'operator' });
    const opsRooms = await http(server, 'GET', '/api/ops/rooms', operator);
    expect(opsRooms.body.rooms.find((r: { roomId: string }) => r.roomId === 'lease')).toMatchObject({ local: { sequencedHere: true } });
    expect((await http(server, 'GET', '/api/ops/node', operator)).body.sequencer).toMatchObject({ leasesHeld: 1, resets: 0 });

    // Another node takes the room over (this one stalled past its lease, say), for a short while.
    await redis.set(roomKey(prefix, 'lease', 'lease'), 'another-node', 'PX', 300);
    const failed = await host.request({ t: 'comment', text: 'dropped' });
    expect(failed.t === 'err' && failed.code).toBe(ErrorCode.UNAVAILABLE);
    // The viewer got the dropped comment before the append failed, then its socket was closed.
    await first.client.waitFor((m) => m.t === 'comment' && m.text === 'dropped');
    const seenSeq = first.client.of('comment').at(-1)!.seq;
    expect(seenSeq).toBe(loggedSeq + 1);
    expect((await first.client.closed).code).toBe(CloseCode.RESYNC);
    expect((await host.closed).code).toBe(CloseCode.RESYNC);
    expect(await metric(server, 'livecart_sequencer_resets_total')).toBe(1);

    // Resuming past the drop gets a snapshot from the log (without the dropped comment) …
    const again = await RawClient.open(server.wsUrl);
    const welcome = await again.hello(token, 'lease', { seq: seenSeq, epoch: first.welcome.epoch });
    if (welcome.t !== 'welcome') throw new Error(JSON.stringify(welcome));
    expect(welcome.resumed).toBe(false);
    expect(welcome.historyLost).toBe(true);
    expect(welcome.comments.map((c) => c.text)).toEqual(['logged']);
    expect(welcome.seq).toBe(loggedSeq);
    // … while a client that saw only logged events resumes as usual.
    const other = await RawClient.open(server.wsUrl);
    const resumed = await other.hello(await viewerToken(server, 'lease-2'), 'lease', { seq: loggedSeq, epoch: first.welcome.epoch });
    expect(resumed.t === 'welcome' && resumed.resumed).toBe(true);

    // The room goes on: the next comment takes the next seq in the log and reaches both.
    const { client: host2 } = await RawClient.join(server.wsUrl, streamer, 'lease');
    const next = await host2.request({ t: 'comment', text: 'after' });
    expect(next.t).toBe('ok');
    await again.waitFor((m) => m.t === 'comment' && m.text === 'after');
    await other.waitFor((m) => m.t === 'comment' && m.text === 'after');
    expect(again.of('comment').at(-1)!.seq).toBe(loggedSeq + 1);
    await waitUntil(async () => (await redis.get(roomKey(prefix, 'lease', 'seq'))) === String(loggedSeq + 1), 2000, 'log seq');
  });

  it('the SDK reconnects by itself after RESYNC and replaces its comments with the log\'s', async () => {
    const { streamer } = await liveRoom(server, 'lease-sdk');
    const clients: LivecartClient[] = [];
    try {
      const host = connect({ url: server.wsUrl, token: streamer, room: 'lease-sdk', reconnect: { baseMs: 20, maxMs: 100 } });
      const viewer = connect({ url: server.wsUrl, token: await viewerToken(server, 'lease-sdk-1'), room: 'lease-sdk', reconnect: { baseMs: 20, maxMs: 100 } });
      clients.push(host, viewer);
      await Promise.all([host.ready, viewer.ready]);
      await host.comment('logged');
      await waitUntil(() => viewer.state.comments.length === 1, 2000, 'the logged comment');
      const reconnecting: ReconnectingEvent[] = [];
      const lost: Welcome[] = [];
      viewer.on('reconnecting', (r) => reconnecting.push(r));
      viewer.on('historyLost', (w) => lost.push(w));

      await redis.set(roomKey(prefix, 'lease-sdk', 'lease'), 'another-node', 'PX', 300);
      await expect(host.comment('dropped')).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true });
      await waitUntil(() => lost.length === 1, 5000, 'the snapshot after the reset');
      expect(reconnecting[0]).toMatchObject({ code: CloseCode.RESYNC });
      expect(viewer.state.comments.map((c) => c.text)).toEqual(['logged']);
      await waitUntil(() => host.state.comments.length === 1, 5000, 'the host back');
      // The SDK may retry the failed comment itself; either way the room goes on, in order.
      await host.comment('after');
      await waitUntil(() => viewer.state.comments.at(-1)?.text === 'after', 5000, 'the next comment');
      const seqs = viewer.state.comments.map((c) => c.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      for (const client of clients) client.close();
    }
  });
});
