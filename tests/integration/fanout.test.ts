import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, seqOf, waitUntil } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('room fan-out', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ commentRate: 1000, commentBurst: 1000, likeIntervalMs: 200, historyLength: 5, maxFramesPerSecond: 10_000 });
  });
  afterAll(() => server.close());

  it('delivers every comment to 500 viewers exactly once and in order', async () => {
    const { streamer } = await liveRoom(server, 'big');
    const tokens = await Promise.all(Array.from({ length: 500 }, (_, i) => viewerToken(server, `big-${i}`)));
    const viewers = await Promise.all(tokens.map(async (token) => (await RawClient.join(server.wsUrl, token, 'big')).client));
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'big');
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await host.request({ t: 'comment', text: `hello ${i}` });
      expect(reply.t).toBe('ok');
      seqs.push(seqOf(reply));
    }
    // One more comment, awaited everywhere: a duplicate of an earlier one would have come before it.
    seqs.push(seqOf(await host.request({ t: 'comment', text: 'last' })));
    await waitUntil(() => viewers.every((v) => v.of('comment').some((c) => c.text === 'last')), 10_000, 'comments to arrive');
    for (const viewer of viewers) {
      const comments = viewer.of('comment');
      expect(comments.map((c) => c.text)).toEqual(['hello 0', 'hello 1', 'hello 2', 'hello 3', 'hello 4', 'last']);
      expect(comments.map((c) => c.seq)).toEqual(seqs);
    }
    for (const v of [...viewers, host]) v.close();
  });

  it('gives a late joiner the last N comments and the current pop-up', async () => {
    const { streamer } = await liveRoom(server, 'late');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'late');
    for (let i = 0; i < 8; i++) expect((await host.request({ t: 'comment', text: `c${i}` })).t).toBe('ok');
    const endsAt = Date.now() + 60_000;
    expect((await host.request({ t: 'pin', sku: 'sku-1', endsAt })).t).toBe('ok');
    const { client, welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'late-1'), 'late');
    if (welcome.t !== 'welcome') throw new Error('no welcome');
    expect(welcome.comments.map((c) => c.text)).toEqual(['c3', 'c4', 'c5', 'c6', 'c7']);
    expect(welcome.popup?.product.sku).toBe('sku-1');
    expect(welcome.popup?.endsAt).toBe(endsAt);
    expect(welcome.room.state).toBe('live');
    expect(welcome.products.map((p) => p.sku)).toEqual(['sku-1']);
    // unpin reaches viewers and later joiners see no card
    expect((await host.request({ t: 'unpin' })).t).toBe('ok');
    await client.waitFor((m) => m.t === 'popup' && m.popup === null);
    const later = await RawClient.join(server.wsUrl, await viewerToken(server, 'late-2'), 'late');
    expect(later.welcome.t === 'welcome' && later.welcome.popup).toBeNull();
    for (const c of [client, host, later.client]) c.close();
  });

  it('coalesces likes from 200 viewers into a few counter frames with the right total', async () => {
    await liveRoom(server, 'likes');
    const viewers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => (await RawClient.join(server.wsUrl, await viewerToken(server, `likes-${i}`), 'likes')).client),
    );
    for (const viewer of viewers) {
      viewer.send({ t: 'like' });
      viewer.send({ t: 'like', n: 2 });
    }
    const watcher = viewers[0]!;
    await waitUntil(() => watcher.of('likes').some((m) => m.total === 600), 5000, 'like total 600');
    const frames = watcher.of('likes');
    expect(frames.length).toBeLessThanOrEqual(10); // 400 notices, a handful of counters
    expect(Math.max(...frames.map((f) => f.total))).toBe(600);
    // viewer count is fanned out coalesced too
    await waitUntil(() => watcher.of('viewers').some((m) => m.count === 200), 5000, 'viewer count 200');
    expect(watcher.of('viewers').length).toBeLessThanOrEqual(5);
    for (const v of viewers) v.close();
  });

  it('never lets events cross rooms', async () => {
    const a = await liveRoom(server, 'iso-a');
    await liveRoom(server, 'iso-b');
    const { client: hostA } = await RawClient.join(server.wsUrl, a.streamer, 'iso-a');
    const { client: inA } = await RawClient.join(server.wsUrl, await viewerToken(server, 'iso-1'), 'iso-a');
    const { client: inB } = await RawClient.join(server.wsUrl, await viewerToken(server, 'iso-2'), 'iso-b');
    await hostA.request({ t: 'comment', text: 'only for A' });
    await hostA.request({ t: 'pin', sku: 'sku-1' });
    inA.send({ t: 'like', n: 5 });
    await inA.waitFor((m) => m.t === 'popup');
    await inA.waitFor((m) => m.t === 'likes');
    await new Promise((r) => setTimeout(r, 300));
    expect(inB.of('comment')).toHaveLength(0);
    expect(inB.of('popup')).toHaveLength(0);
    expect(inB.of('likes')).toHaveLength(0);
    // and a streamer of room A cannot act on room B through its own socket: its socket is bound to A
    const { streamer: streamerOfB } = { streamer: a.streamer };
    const cross = await RawClient.join(server.wsUrl, streamerOfB, 'iso-b');
    const pin = await cross.client.request({ t: 'pin', sku: 'sku-1' });
    expect(pin.t === 'err' && pin.code).toBe(1006);
    for (const c of [hostA, inA, inB, cross.client]) c.close();
  });
});

describe('room fan-out paced over event-loop turns', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // Tiny shards and turns, so 300 viewers already need ~8 turns per frame.
    server = await startTestServer({ commentRate: 1000, commentBurst: 1000, maxFramesPerSecond: 10_000, fanoutShardSize: 16, fanoutDeliveriesPerTurn: 40 });
  });
  afterAll(() => server.close());

  it('delivers every event in order and without gaps, to viewers there from the start and to viewers joining mid-stream', async () => {
    const { streamer } = await liveRoom(server, 'paced');
    const early = await Promise.all(Array.from({ length: 300 }, async (_, i) => (await RawClient.join(server.wsUrl, await viewerToken(server, `paced-${i}`), 'paced')).client));
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'paced');
    const pacedBefore = server.fanout.stats.framesPaced;
    // Comments (chatter) and pop-ups (commerce) interleaved, while 40 more viewers join.
    const latecomers: Array<Promise<{ client: RawClient; fromSeq: number }>> = [];
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await host.request(i % 5 === 4 ? { t: 'pin', sku: 'sku-1' } : { t: 'comment', text: `c${i}` });
      expect(reply.t).toBe('ok');
      seqs.push(seqOf(reply));
      if (i % 2 === 0) {
        for (let j = 0; j < 4; j++) {
          latecomers.push(viewerToken(server, `late-${i}-${j}`).then(async (token) => {
            const { client, welcome } = await RawClient.join(server.wsUrl, token, 'paced');
            return { client, fromSeq: welcome.t === 'welcome' ? welcome.seq : Number.NaN };
          }));
        }
      }
    }
    const last = seqs.at(-1)!;
    const late = await Promise.all(latecomers);
    const sequenced = (client: RawClient) => client.messages.flatMap((m) => ('seq' in m && typeof m.seq === 'number' && m.t !== 'welcome' ? [m.seq] : []));
    const caughtUp = (client: RawClient, fromSeq = 0) => fromSeq >= last || sequenced(client).at(-1) === last;
    await waitUntil(() => early.every((c) => caughtUp(c)) && late.every((l) => caughtUp(l.client, l.fromSeq)), 15_000, 'the last event at every viewer');
    // One more event, awaited everywhere: a duplicate of an earlier one would have come before it.
    const end = seqOf(await host.request({ t: 'comment', text: 'end' }));
    seqs.push(end);
    await waitUntil(() => [...early, ...late.map((l) => l.client)].every((c) => sequenced(c).at(-1) === end), 15_000, 'the end event at every viewer');
    for (const viewer of early) expect(sequenced(viewer)).toEqual(seqs);
    for (const { client, fromSeq } of late) {
      const got = sequenced(client).filter((seq) => seq > fromSeq); // older ones may arrive twice: the SDK skips seq <= its last
      expect(got).toEqual(seqs.filter((seq) => seq > fromSeq));
    }
    expect(server.fanout.stats.framesPaced).toBeGreaterThan(pacedBefore);
    expect(server.fanout.stats.framesWaiting).toBe(0);
    for (const c of [...early, ...late.map((l) => l.client), host]) c.close();
  });
});
