/**
 * The SDK against the real server (no fakes): handshake, requests, typed errors, like coalescing,
 * reconnect and resume, terminal closes.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../protocol/src/codec.ts';
import { until, useRealServer } from './support/realServer.ts';
import { startTestServer as startServer } from '../helpers/server.ts';
import {
  connect,
  LivecartError,
  type CommentEvent,
  type ConnectOptions,
  type LivecartClient,
  type ReconnectingEvent,
  type WebSocketConstructor,
  type Welcome,
} from '../../client/src/index.ts';

type RunningServer = Awaited<ReturnType<typeof startServer>>;
type Role = 'viewer' | 'streamer' | 'operator';

const TOKEN_SECRET = 'test-secret-0123456789abcdef0123456789';
const serverConfig = {
  port: 0,
  host: '127.0.0.1',
  tokenSecret: TOKEN_SECRET,
  logLevel: 'silent',
  commentRate: 1000,
  commentBurst: 1000,
  likeIntervalMs: 16,
  viewerCountIntervalMs: 100,
} as const;

const fixture = useRealServer(serverConfig);
const clients = fixture.clients;
let roomCounter = 0;
let server: RunningServer;
beforeAll(() => {
  server = fixture.server;
});

function token(userId: string, role: Role = 'viewer'): Promise<string> {
  return server.mintToken({ userId, name: userId, role });
}

/** Creates a live room owned by a fresh streamer; returns the room id and the streamer's token. */
async function liveRoom(): Promise<{ room: string; streamerToken: string; streamerId: string }> {
  const room = `sdk-${process.pid}-${++roomCounter}`;
  const streamerId = `streamer-${room}`;
  const streamerToken = await token(streamerId, 'streamer');
  const post = async (path: string, body: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${streamerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const created = await post('/api/rooms', { title: `Room ${room}`, id: room });
  expect(created.status).toBe(201);
  expect((await post(`/api/rooms/${room}/start`, {})).status).toBe(200);
  return { room, streamerToken, streamerId };
}

function open(options: Omit<ConnectOptions, 'url'> & { url?: string }): LivecartClient {
  const client = connect({ url: server.wsUrl, reconnect: { baseMs: 20, maxMs: 100 }, ...options });
  clients.push(client);
  return client;
}

/** Resolves when `check()` holds, polling every 10 ms; fails after `timeoutMs`. */
/** A real `ws` socket that records the `t` (and `n`) of every frame the client sends. */
function recordingWebSocket(sent: Array<{ t: string; n?: number }>): WebSocketConstructor {
  return class RecordingWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(url);
    }
    override send(data: Uint8Array): void {
      sent.push(decode(data) as { t: string; n?: number });
      super.send(data);
    }
  };
}

const product = { sku: 'mug-1', title: 'Mug', priceCents: 1299, currency: 'USD', stock: 10 };

describe('LivecartClient against the real server', () => {
  it('connects and gets a welcome (Node 20: falls back to the ws package)', async () => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    const { room } = await liveRoom();
    const viewer = open({ token: await token('ann'), room });
    const welcomes: Welcome[] = [];
    viewer.on('welcome', (w) => welcomes.push(w));
    const welcome = await viewer.ready;
    expect(welcome).toMatchObject({ t: 'welcome', resumed: false, historyLost: false, room: { id: room, state: 'live' }, you: { userId: 'ann', role: 'viewer' } });
    expect(welcomes).toEqual([welcome]);
    expect(viewer.connected).toBe(true);
    expect(viewer.state.epoch).toBe(welcome.epoch);
    expect(viewer.state.lastSeq).toBe(welcome.seq);
    expect(viewer.state.room?.id).toBe(room);
    const { now } = await viewer.ping();
    expect(Math.abs(now - Date.now())).toBeLessThan(5000);
  });

  it('round-trips a comment to every member and into state.comments', async () => {
    const { room } = await liveRoom();
    const ann = open({ token: await token('ann'), room });
    const bob = open({ token: await token('bob'), room });
    await Promise.all([ann.ready, bob.ready]);
    const seen: CommentEvent[] = [];
    bob.on('comment', (c) => seen.push(c));

    const { seq } = await ann.comment('hello room');
    await until(() => seen.length === 1 && ann.state.lastSeq >= seq, 'the comment event');
    expect(seen[0]).toMatchObject({ t: 'comment', seq, userId: 'ann', name: 'ann', text: 'hello room' });
    expect(bob.state.comments.at(-1)).toMatchObject({ seq, text: 'hello room' });
    expect(ann.state.comments.at(-1)).toMatchObject({ seq, text: 'hello room' });

    // A newcomer gets it in the welcome's history.
    const cy = open({ token: await token('cy'), room });
    expect((await cy.ready).comments.map((c) => c.text)).toEqual(['hello room']);
    expect(cy.state.comments.map((c) => c.seq)).toEqual([seq]);
  });

  it('rejects a viewer pin with a typed FORBIDDEN error', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: await token('ann'), room });
    await viewer.ready;
    const error = await viewer.pin('mug-1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LivecartError);
    expect(error).toMatchObject({ name: 'FORBIDDEN', code: 1006, temporary: false });
    // The socket stays usable after a refused request.
    await expect(viewer.ping()).resolves.toHaveProperty('now');
  });

  it('runs the streamer commands and keeps every member\'s state in step', async () => {
    const { room, streamerToken } = await liveRoom();
    const streamer = open({ token: streamerToken, room });
    const viewer = open({ token: await token('ann'), room });
    await Promise.all([streamer.ready, viewer.ready]);

    await expect(streamer.addProduct(product)).resolves.toEqual({ product });
    await expect(streamer.addProduct(product)).rejects.toMatchObject({ name: 'PRODUCT_EXISTS' });
    await expect(streamer.pin('nope')).rejects.toMatchObject({ name: 'PRODUCT_NOT_FOUND' });
    const endsAt = Date.now() + 60_000;
    const pinned = await streamer.pin('mug-1', endsAt);
    await until(() => viewer.state.lastSeq >= pinned.seq, 'the popup');
    expect(viewer.state.products).toEqual([product]);
    expect(viewer.state.popup).toMatchObject({ product, endsAt });

    const { seq: commentSeq } = await viewer.comment('to be deleted');
    const deleted = await streamer.deleteComment(commentSeq);
    await until(() => viewer.state.lastSeq >= deleted.seq, 'the deletion');
    expect(viewer.state.comments.some((c) => c.seq === commentSeq)).toBe(false);

    const muted = await streamer.mute('ann');
    await until(() => viewer.state.lastSeq >= muted.seq, 'the mute');
    expect(viewer.state.muted.has('ann')).toBe(true);
    await expect(viewer.comment('let me speak')).rejects.toMatchObject({ name: 'MUTED', temporary: false });
    await streamer.unmute('ann');
    await expect(viewer.comment('thanks')).resolves.toHaveProperty('seq');

    const unpinned = await streamer.unpin();
    await until(() => viewer.state.lastSeq >= unpinned.seq, 'the unpin');
    expect(viewer.state.popup).toBeNull();
  });

  it('coalesces like taps into few notices with the right total', async () => {
    const { room } = await liveRoom();
    const sent: Array<{ t: string; n?: number }> = [];
    const tapper = open({ token: await token('tapper'), room, WebSocket: recordingWebSocket(sent) });
    const watcher = open({ token: await token('watcher'), room });
    await Promise.all([tapper.ready, watcher.ready]);
    const totals: number[] = [];
    watcher.on('likes', ({ total }) => totals.push(total));

    for (let i = 0; i < 250; i++) tapper.like();
    await until(() => watcher.state.likes === 250, 'a like total of 250');
    const notices = sent.filter((f) => f.t === 'like');
    expect(notices.map((f) => f.n)).toEqual([100, 100, 50]);
    expect(totals.at(-1)).toBe(250);
    expect(tapper.state.likes).toBe(250);

    // Taps spread over a few windows still add up, in far fewer notices than taps.
    for (let i = 0; i < 30; i++) {
      tapper.like();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await until(() => watcher.state.likes === 280, 'a like total of 280');
    expect(sent.filter((f) => f.t === 'like').length - notices.length).toBeLessThanOrEqual(10);
  });

  it('reconnects after a drop and resumes with no gap and no duplicate', async () => {
    const { room, streamerToken } = await liveRoom();
    const streamer = open({ token: streamerToken, room });
    const viewer = open({ token: await token('ann'), room, reconnect: { baseMs: 50, maxMs: 50 } });
    const [, firstWelcome] = await Promise.all([streamer.ready, viewer.ready]);
    const received: number[] = [];
    const welcomes: Welcome[] = [firstWelcome];
    const reconnecting: ReconnectingEvent[] = [];
    viewer.on('comment', (c) => received.push(c.seq));
    viewer.on('welcome', (w) => welcomes.push(w));
    viewer.on('reconnecting', (r) => reconnecting.push(r));

    const posted: number[] = [];
    for (let i = 0; i < 5; i++) posted.push((await streamer.comment(`before ${i}`)).seq);
    await until(() => received.length === 5, 'the first comments');

    viewer.dropConnectionForTest();
    expect(viewer.connected).toBe(false);
    // Posted while the viewer is away: only a resume can deliver them.
    posted.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => streamer.comment(`during ${i}`)))).map((r) => r.seq));
    await until(() => welcomes.length === 2, 'the second welcome');
    for (let i = 0; i < 5; i++) posted.push((await streamer.comment(`after ${i}`)).seq);
    await until(() => received.length >= posted.length, 'every comment');

    expect(reconnecting).toEqual([{ attempt: 1, delayMs: expect.any(Number), code: 4000, reason: 'connection dropped for test', url: server.wsUrl }]);
    expect(reconnecting[0]!.delayMs).toBeLessThan(50);
    expect(welcomes[1]).toMatchObject({ resumed: true, historyLost: false, epoch: welcomes[0]!.epoch });
    expect(received).toEqual(posted);
    expect(viewer.state.comments.map((c) => c.seq)).toEqual(posted);
    expect(viewer.state.lastSeq).toBe(posted.at(-1));
  });

  it('queues requests made while reconnecting and sends them after the welcome', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: await token('ann'), room });
    await viewer.ready;
    viewer.dropConnectionForTest();
    const result = viewer.comment('sent after the resume');
    await expect(result).resolves.toHaveProperty('seq');
  });

  it('rejects requests in flight when the socket drops, with a temporary error', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: await token('ann'), room });
    await viewer.ready;
    const pending = viewer.ping();
    viewer.dropConnectionForTest();
    await expect(pending).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true });
  });

  it('stops for good on a terminal close: a bad token rejects ready with UNAUTHORIZED', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: 'not-a-jwt', room });
    const closed = new Promise((resolve) => viewer.on('closed', resolve));
    const reconnecting: unknown[] = [];
    viewer.on('reconnecting', (r) => reconnecting.push(r));
    await expect(viewer.ready).rejects.toMatchObject({ name: 'UNAUTHORIZED', code: 1005, temporary: false });
    expect(await closed).toMatchObject({ code: 4501, willReconnect: false, error: { name: 'UNAUTHORIZED' } });
    expect(reconnecting).toEqual([]);
    expect(viewer.closed).toBe(true);
    await expect(viewer.ping()).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: false });
  });

  it('reports a missing room as ROOM_NOT_FOUND', async () => {
    const viewer = open({ token: await token('ann'), room: 'no-such-room' });
    await expect(viewer.ready).rejects.toMatchObject({ name: 'ROOM_NOT_FOUND' });
    expect(viewer.closed).toBe(true);
  });

  it('does not reconnect after a kick (4505)', async () => {
    const { room, streamerToken } = await liveRoom();
    const streamer = open({ token: streamerToken, room });
    const viewer = open({ token: await token('troll'), room });
    await Promise.all([streamer.ready, viewer.ready]);
    const closed = new Promise((resolve) => viewer.on('closed', resolve));
    const reconnecting: unknown[] = [];
    viewer.on('reconnecting', (r) => reconnecting.push(r));
    await expect(streamer.kick('troll')).resolves.toEqual({ closed: 1, released: 0 });
    expect(await closed).toMatchObject({ code: 4505, willReconnect: false });
    expect(reconnecting).toEqual([]);
  });

  it('keeps running when a listener throws, and reports it on error', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: await token('ann'), room });
    const errors: Error[] = [];
    viewer.on('error', (e) => errors.push(e));
    viewer.on('welcome', () => {
      throw new Error('listener bug');
    });
    await viewer.ready;
    const seen: string[] = [];
    viewer.on('comment', (c) => seen.push(c.text));
    await viewer.comment('still works');
    await until(() => seen.length === 1, 'the comment');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'ListenerError', event: 'welcome' });
  });
});

/**
 * A real `ws` socket behind a switchable outage: while `outage.down`, new sockets go to a port
 * where nothing listens, so connecting fails with 1006 as in a network outage.
 */
function gatedWebSocket(outage: { down: boolean }): WebSocketConstructor {
  return class GatedWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(outage.down ? 'ws://127.0.0.1:1/ws' : url);
    }
  };
}

describe('LivecartClient through outages', () => {
  it('retries through refused connections and reports historyLost when the ring moved on', async () => {
    const small = await startServer({ ...serverConfig, resumeRingSize: 16 });
    try {
      const principal = { userId: 'ring-streamer', name: 'Streamer', role: 'streamer' } as const;
      small.commands.createRoom(principal, { title: 'Ring', id: 'ring' });
      const outage = { down: false };
      const viewer = connect({
        url: small.wsUrl,
        token: await small.mintToken({ userId: 'ann', name: 'ann', role: 'viewer' }),
        room: 'ring',
        WebSocket: gatedWebSocket(outage),
        reconnect: { baseMs: 20, maxMs: 40 },
      });
      const streamer = connect({ url: small.wsUrl, token: await small.mintToken(principal), room: 'ring' });
      clients.push(viewer, streamer);
      await Promise.all([viewer.ready, streamer.ready]);
      await streamer.comment('old');
      await until(() => viewer.state.comments.length === 1, 'the first comment');

      const reconnecting: ReconnectingEvent[] = [];
      const lost: Welcome[] = [];
      const seen: number[] = [];
      viewer.on('reconnecting', (r) => reconnecting.push(r));
      viewer.on('historyLost', (w) => lost.push(w));
      viewer.on('comment', (c) => seen.push(c.seq));

      outage.down = true;
      viewer.dropConnectionForTest();
      const posted: number[] = [];
      for (let i = 0; i < 20; i++) posted.push((await streamer.comment(`missed ${i}`)).seq);
      await until(() => reconnecting.length >= 3, 'refused reconnect attempts');
      outage.down = false;

      await until(() => lost.length === 1, 'the history-lost welcome');
      expect(reconnecting[0]).toMatchObject({ attempt: 1, code: 4000 });
      expect(reconnecting.slice(1).every((r) => r.code === 1006)).toBe(true);
      expect(reconnecting.map((r) => r.attempt)).toEqual(reconnecting.map((_, i) => i + 1));
      expect(lost[0]).toMatchObject({ resumed: false, historyLost: true });
      // The snapshot replaces the local history; nothing was replayed as events.
      expect(seen).toEqual([]);
      expect(viewer.state.comments).toEqual(lost[0]!.comments);
      expect(viewer.state.comments.map((c) => c.seq).slice(-20)).toEqual(posted);
      expect(viewer.state.lastSeq).toBe(lost[0]!.seq);

      // And it is live again.
      const after = await streamer.comment('back');
      await until(() => seen.length === 1, 'a live comment');
      expect(seen).toEqual([after.seq]);
    } finally {
      await small.close();
    }
  });

  it('keeps trying when the hello is refused for a temporary reason (room full: 4004)', async () => {
    const full = await startServer({ ...serverConfig, maxMembersPerRoom: 1 });
    try {
      full.commands.createRoom({ userId: 's', name: 's', role: 'streamer' }, { title: 'Full', id: 'full' });
      const first = connect({ url: full.wsUrl, token: await full.mintToken({ userId: 'ann', name: 'ann', role: 'viewer' }), room: 'full' });
      clients.push(first);
      await first.ready;
      const second = connect({
        url: full.wsUrl,
        token: await full.mintToken({ userId: 'bob', name: 'bob', role: 'viewer' }),
        room: 'full',
        reconnect: { baseMs: 20, maxMs: 40 },
      });
      clients.push(second);
      const reconnecting: ReconnectingEvent[] = [];
      second.on('reconnecting', (r) => reconnecting.push(r));
      await until(() => reconnecting.length >= 2, 'refused joins');
      expect(reconnecting.every((r) => r.code === 4004)).toBe(true);
      expect(second.closed).toBe(false);
      first.close(); // a seat frees up
      await expect(second.ready).resolves.toMatchObject({ t: 'welcome', you: { userId: 'bob' } });
    } finally {
      await full.close();
    }
  });

  it('starts reconnecting when the server shuts down (4000)', async () => {
    const doomed = await startServer(serverConfig);
    doomed.commands.createRoom({ userId: 's', name: 's', role: 'streamer' }, { title: 'Doomed', id: 'doomed' });
    const viewer = connect({
      url: doomed.wsUrl,
      token: await doomed.mintToken({ userId: 'ann', name: 'ann', role: 'viewer' }),
      room: 'doomed',
      reconnect: { baseMs: 1000, maxMs: 1000 },
    });
    clients.push(viewer);
    await viewer.ready;
    const reconnecting = new Promise<ReconnectingEvent>((resolve) => viewer.on('reconnecting', resolve));
    await doomed.close();
    expect(await reconnecting).toMatchObject({ attempt: 1, code: 4000 });
    expect(viewer.closed).toBe(false);
    viewer.close();
    expect(viewer.closed).toBe(true);
  });
});
