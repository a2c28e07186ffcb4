/**
 * The SDK's flow-control frames against the real server (no fakes). Only what the server side
 * already guarantees: `welcome.degradeLevel`, and `ack` notices accepted without a reply.
 * (Admission itself — `queued`, `OVERLOADED`, `degrade` updates under load — belongs with the
 * server's admission tests; the client's handling of those frames is in flowControl.test.ts.)
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../protocol/src/codec.ts';
import { until, useRealServer } from './support/realServer.ts';
import { connect, type ConnectOptions, type LivecartClient, type WebSocketConstructor } from '../../client/src/index.ts';

import type { RunningServer } from '../../server/src/server.ts';
type Sent = { t: string; seq?: number };

const fixture = useRealServer({ port: 0, host: '127.0.0.1', tokenSecret: 'test-secret-0123456789abcdef0123456789', logLevel: 'silent' });
const clients = fixture.clients;
let roomCounter = 0;
let server: RunningServer;
beforeAll(() => {
  server = fixture.server;
});

/** A live room owned by a fresh streamer; returns its id and the streamer's token. */
async function liveRoom(): Promise<{ room: string; streamerToken: string }> {
  const room = `adm-${process.pid}-${++roomCounter}`;
  const streamerToken = await server.mintToken({ userId: `streamer-${room}`, name: 'Streamer', role: 'streamer' });
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${streamerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await post('/api/rooms', { title: `Room ${room}`, id: room })).status).toBe(201);
  expect((await post(`/api/rooms/${room}/start`, {})).status).toBe(200);
  return { room, streamerToken };
}

function open(options: Omit<ConnectOptions, 'url'>): LivecartClient {
  const client = connect({ url: server.wsUrl, reconnect: false, ...options });
  clients.push(client);
  return client;
}

/** A real `ws` socket that records every frame the client sends. */
function recordingWebSocket(sent: Sent[]): WebSocketConstructor {
  return class RecordingWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(url);
    }
    override send(data: Uint8Array): void {
      sent.push(decode(data) as Sent);
      super.send(data);
    }
  };
}

describe('flow control against the real server', () => {
  it('gets the degrade level in the welcome', async () => {
    const { room } = await liveRoom();
    const viewer = open({ token: await server.mintToken({ userId: 'ann', name: 'ann', role: 'viewer' }), room });
    const welcome = await viewer.ready;
    expect(welcome.degradeLevel).toBe(0); // an idle room
    expect(viewer.state.degradeLevel).toBe(0);
  });

  it('acks the last seq; the server takes the notices silently', async () => {
    const { room, streamerToken } = await liveRoom();
    const sent: Sent[] = [];
    const viewer = open({
      token: await server.mintToken({ userId: 'ann', name: 'ann', role: 'viewer' }),
      room,
      WebSocket: recordingWebSocket(sent),
      ack: { intervalMs: 30, keepaliveMs: 120 },
    });
    const errors: Error[] = [];
    viewer.on('error', (e) => errors.push(e));
    await viewer.ready;
    const streamer = open({ token: streamerToken, room });
    await streamer.ready;

    const { seq } = await streamer.comment('hello');
    await until(() => sent.some((f) => f.t === 'ack' && f.seq === seq), `an ack of seq ${seq}`);
    // Nothing new: keepalives repeat the same seq.
    await until(() => sent.filter((f) => f.t === 'ack' && f.seq === seq).length >= 3, 'keepalive acks');
    const acks = sent.filter((f) => f.t === 'ack');
    expect(acks.every((f) => Object.keys(f).sort().join() === 'seq,t')).toBe(true);

    // No `err` came back for them, and the socket still works.
    await expect(viewer.ping()).resolves.toMatchObject({ now: expect.any(Number) });
    expect(errors).toEqual([]);
    expect(viewer.connected).toBe(true);
  });
});
