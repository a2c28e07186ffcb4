import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('reconnect and resume', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ commentRate: 1000, commentBurst: 1000, resumeRingSize: 16, maxFramesPerSecond: 10_000 });
  });
  afterAll(() => server.close());

  it('replays exactly the missed events, in order, with no gaps or duplicates', async () => {
    const { streamer } = await liveRoom(server, 'resume');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'resume');
    const token = await viewerToken(server, 'resume-1');
    const first = await RawClient.join(server.wsUrl, token, 'resume');
    if (first.welcome.t !== 'welcome') throw new Error('no welcome');
    for (let i = 0; i < 3; i++) await host.request({ t: 'comment', text: `seen ${i}` });
    await first.client.waitFor(() => first.client.of('comment').length === 3);
    const lastSeen = Math.max(...first.client.of('comment').map((c) => c.seq));
    first.client.close();
    await first.client.closed;

    for (let i = 0; i < 4; i++) await host.request({ t: 'comment', text: `missed ${i}` });
    await host.request({ t: 'pin', sku: 'sku-1' });

    const again = await RawClient.open(server.wsUrl);
    const welcome = await again.hello(token, 'resume', { seq: lastSeen, epoch: first.welcome.epoch });
    expect(welcome.t === 'welcome' && welcome.resumed).toBe(true);
    expect(welcome.t === 'welcome' && welcome.historyLost).toBe(false);
    await again.waitFor((m) => m.t === 'popup');
    const replayed = again.messages.filter((m) => 'seq' in m && m.t !== 'welcome') as Array<{ seq: number; t: string }>;
    const seqs = replayed.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 5 }, (_, i) => lastSeen + 1 + i));
    expect(again.of('comment').map((c) => c.text)).toEqual(['missed 0', 'missed 1', 'missed 2', 'missed 3']);
    // live events continue right after the replay
    await host.request({ t: 'comment', text: 'live' });
    await again.waitFor((m) => m.t === 'comment' && m.text === 'live');
    expect(again.of('comment').at(-1)!.seq).toBe(lastSeen + 6);
    for (const c of [host, again]) c.close();
  });

  it('answers a resume from too long ago, or from another epoch, with a fresh snapshot flagged historyLost', async () => {
    const { streamer } = await liveRoom(server, 'lost');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'lost');
    const token = await viewerToken(server, 'lost-1');
    const first = await RawClient.join(server.wsUrl, token, 'lost');
    if (first.welcome.t !== 'welcome') throw new Error('no welcome');
    const seqAtJoin = first.welcome.seq;
    first.client.close();
    for (let i = 0; i < 40; i++) await host.request({ t: 'comment', text: `flood ${i}` }); // ring holds 16

    const tooOld = await RawClient.open(server.wsUrl);
    const w1 = await tooOld.hello(token, 'lost', { seq: seqAtJoin, epoch: first.welcome.epoch });
    if (w1.t !== 'welcome') throw new Error('no welcome');
    expect(w1.resumed).toBe(false);
    expect(w1.historyLost).toBe(true);
    expect(w1.comments.length).toBeGreaterThan(0); // a full snapshot
    expect((await tooOld.request({ t: 'ping' })).t).toBe('ok'); // a replay would have come before this reply
    expect(tooOld.of('comment')).toHaveLength(0); // nothing replayed

    const otherEpoch = await RawClient.open(server.wsUrl);
    const w2 = await otherEpoch.hello(token, 'lost', { seq: w1.seq, epoch: 'another-epoch' });
    expect(w2.t === 'welcome' && w2.historyLost).toBe(true);

    const future = await RawClient.open(server.wsUrl);
    const w3 = await future.hello(token, 'lost', { seq: w1.seq + 1000, epoch: w1.epoch });
    expect(w3.t === 'welcome' && w3.historyLost).toBe(true);

    const upToDate = await RawClient.open(server.wsUrl);
    const w4 = await upToDate.hello(token, 'lost', { seq: w1.seq, epoch: w1.epoch });
    expect(w4.t === 'welcome' && w4.resumed).toBe(true);
    for (const c of [host, tooOld, otherEpoch, future, upToDate]) c.close();
  });
});
