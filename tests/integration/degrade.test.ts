import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../server/src/config.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, seqOf, waitUntil } from '../helpers/rawClient.ts';
import { http, liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

/** The server's own degrade thresholds (the test helper turns automatic degradation off). */
const defaults = makeConfig({});
const DEFAULT_DEGRADE = {
  degradeEventLoopMs: defaults.degradeEventLoopMs, degradeLagMs: defaults.degradeLagMs, degradeBackloggedShare: defaults.degradeBackloggedShare,
  degradeQueueFill: defaults.degradeQueueFill, degradeStoreLatencyMs: defaults.degradeStoreLatencyMs,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves once the server's degrade monitor has judged its rooms `n` more times. */
async function degradeChecks(server: RunningServer, n: number): Promise<void> {
  const target = server.degrade.checks + n;
  await waitUntil(() => server.degrade.checks >= target, 10_000, `${n} degrade checks`);
}

const socketOf = (client: RawClient) => (client.ws as unknown as { _socket: Socket })._socket;

/** The last seq a client processed, as the SDK acks it: its welcome's, then each sequenced event's. */
function lastSeq(client: RawClient): number {
  let seq = 0;
  for (const m of client.messages) if ('seq' in m && typeof m.seq === 'number' && m.seq > seq) seq = m.seq;
  return seq;
}

async function roomStatus(server: RunningServer, operator: string, roomId: string) {
  const rooms = (await http(server, 'GET', '/api/ops/rooms', operator)).body.rooms as Array<{ roomId: string; local: { level: number; reason: string; signals: Record<string, number>; clientLagMs: number } }>;
  return rooms.find((r) => r.roomId === roomId)!.local;
}

async function viewers(server: RunningServer, roomId: string, count: number, prefix: string) {
  return Promise.all(Array.from({ length: count }, async (_, i) => (await RawClient.join(server.wsUrl, await viewerToken(server, `${prefix}-${i}`), roomId)).client));
}

describe('acks a client cannot forge', () => {
  let server: RunningServer;
  let operator: string;
  beforeAll(async () => {
    server = await startTestServer({ ...DEFAULT_DEGRADE, commentRate: 1000, commentBurst: 1000, maxFramesPerSecond: 10_000 });
    operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
  });
  afterAll(() => server.close());

  it('10 % of the sockets acking seq 0, a stale seq or a far-future one (three of them one user\'s) leave the room at level 0 and the honest viewers every comment', async () => {
    const { streamer } = await liveRoom(server, 'forged');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'forged');
    const honest = await viewers(server, 'forged', 36, 'honest');
    const forgerToken = await viewerToken(server, 'forger');
    const [zero, stale, future] = await Promise.all([0, 1, 2].map(async () => (await RawClient.join(server.wsUrl, forgerToken, 'forged')).client));
    const { client: stale2 } = await RawClient.join(server.wsUrl, await viewerToken(server, 'forger-2'), 'forged');
    const everyone = [...honest, zero!, stale!, future!, stale2];

    const texts = ['c0'];
    const staleSeq = seqOf(await host.request({ t: 'comment', text: 'c0' }));
    await waitUntil(() => everyone.every((c) => c.of('comment').length === 1), 5000, 'the first comment everywhere');
    const demotionsBefore = server.gateway.stats.chatterDemotions;
    // Honest viewers ack what they processed, as the SDK does (more often here); the forgers lie.
    const acks = setInterval(() => {
      for (const client of honest) client.send({ t: 'ack', seq: lastSeq(client) });
      zero!.send({ t: 'ack', seq: 0 });
      stale!.send({ t: 'ack', seq: staleSeq });
      stale2.send({ t: 'ack', seq: staleSeq });
      future!.send({ t: 'ack', seq: 0xffffffff });
      future!.send({ t: 'ack', seq: 0 });
    }, 250);
    try {
      for (let i = 1; i <= 25; i++) {
        texts.push(`c${i}`);
        expect((await host.request({ t: 'comment', text: `c${i}` })).t).toBe('ok');
        await sleep(200);
      }
      await waitUntil(() => honest.every((c) => c.of('comment').length === texts.length), 5000, 'every comment at every honest viewer');
      const status = await roomStatus(server, operator, 'forged');
      expect(status).toMatchObject({ level: 0, reason: 'normal', signals: { viewerLagMs: 0, backloggedShare: 0 } });
      // What the clients say, for operators: one voice per user (the forger's least-behind socket), the median of them.
      expect(status.clientLagMs).toBeLessThan(1000);
    } finally {
      clearInterval(acks);
    }
    for (const client of honest) {
      expect(client.of('comment').map((c) => c.text)).toEqual(texts);
      expect(client.of('degrade')).toEqual([]);
    }
    // A lie can cost the liar: the sockets that claimed to be behind were dropped from chatter.
    expect(server.gateway.stats.chatterDemotions).toBeGreaterThan(demotionsBefore);
    for (const client of [...everyone, host]) client.close();
  }, 30_000);

  it('a minority that stops reading (one user on three sockets) loses only its own chatter', async () => {
    const small = await startTestServer({
      ...DEFAULT_DEGRADE, softBufferBytes: 64 * 1024, hardBufferBytes: 8 * 1024 * 1024, backpressureScanMs: 20, degradeCheckMs: 50,
      commentRate: 1e9, commentBurst: 1e9, commentMaxLength: 2000, maxFramesPerSecond: 100_000,
    });
    try {
      const { streamer } = await liveRoom(small, 'stalled');
      const { client: host } = await RawClient.join(small.wsUrl, streamer, 'stalled');
      const honest = await viewers(small, 'stalled', 17, 'reader');
      const token = await viewerToken(small, 'staller');
      const stalled = await Promise.all([0, 1, 2].map(async () => (await RawClient.join(small.wsUrl, token, 'stalled')).client));
      for (const client of stalled) socketOf(client).pause();
      // Chatter until the three stalled sockets are past the soft cap in uWS (behind the kernel's buffers) and demoted.
      const text = 'c'.repeat(1900);
      let sent = 0;
      while (small.gateway.stats.chatterDemotions < 3 && sent < 20_000) {
        await Promise.all(Array.from({ length: 100 }, () => host.request({ t: 'comment', text })));
        sent += 100;
        await sleep(25);
      }
      expect(small.gateway.stats.chatterDemotions).toBeGreaterThanOrEqual(3);
      await degradeChecks(small, 6); // with the three sockets backlogged
      expect((await roomStatus(small, await small.mintToken({ userId: 'op', name: 'Op', role: 'operator' }), 'stalled')).level).toBe(0);
      expect((await host.request({ t: 'comment', text: 'after' })).t).toBe('ok');
      await waitUntil(() => honest.every((c) => c.of('comment').length === sent + 1), 15_000, 'every comment at every reading viewer');
      for (const client of honest) expect(client.of('degrade')).toEqual([]);
      for (const client of [...honest, ...stalled, host]) client.close();
    } finally {
      await small.close();
    }
  }, 60_000);
});

describe('degrading only when the node falls behind', () => {
  let server: RunningServer;
  let operator: string;
  beforeAll(async () => {
    // Event-loop delay counts for rooms with at least 100 sockets; 70 ms leaves room for a shared machine's noise.
    server = await startTestServer({ ...DEFAULT_DEGRADE, degradeEventLoopMs: 70, degradeDownAfterMs: 500, commentRate: 1000, commentBurst: 1000, maxFramesPerSecond: 10_000 });
    operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
  });
  afterAll(() => server.close());

  /** Holds this process's event loop (the server's too: it runs in it) for `ms`. */
  const block = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };

  it('one long pause of the event loop does not degrade a big room; a loop that stays slow takes it to level 1, not 2, and back', async () => {
    const { streamer } = await liveRoom(server, 'paused');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'paused');
    const audience = await viewers(server, 'paused', 120, 'paused');
    const watcher = audience[0]!;
    // The joins' own delay leaves the guard's windows first.
    await waitUntil(() => server.guard.sustainedEventLoopDelayMs < 70, 5000, 'a calm event loop after the joins');
    const checksBefore = server.degrade.checks;
    block(400);
    await sleep(1500); // three of the guard's windows: time passing is what this part tests
    expect(server.degrade.checks - checksBefore).toBeGreaterThanOrEqual(6);
    expect(watcher.of('degrade')).toEqual([]);
    expect((await roomStatus(server, operator, 'paused')).level).toBe(0);

    // 100 ms pauses back to back for 1.5 s: the delay lasts, between 1x and 2x the threshold.
    const slowUntil = Date.now() + 1500;
    while (Date.now() < slowUntil) {
      block(100);
      await new Promise((r) => setImmediate(r));
    }
    await watcher.waitFor((m) => m.t === 'degrade' && m.level === 1, 3000);
    await watcher.waitFor((m) => m.t === 'degrade' && m.level === 0, 5000);
    expect(watcher.of('degrade').map((d) => d.level)).toEqual([1, 0]);
    expect((await host.request({ t: 'comment', text: 'calm again' })).t).toBe('ok');
    await watcher.waitFor((m) => m.t === 'comment' && m.text === 'calm again');
    for (const client of [...audience, host]) client.close();
  }, 30_000);
});
