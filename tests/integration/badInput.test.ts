import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, encode, ErrorCode } from '../../protocol/src/index.ts';
import { TokenService } from '../../server/src/auth/TokenService.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('bad input never crashes the node or touches other sockets', () => {
  let server: RunningServer;
  let bystander: RawClient;
  let host: RawClient;
  beforeAll(async () => {
    server = await startTestServer({ maxFrameBytes: 1024, helloTimeoutMs: 300, maxFramesPerSecond: 20 });
    const { streamer } = await liveRoom(server, 'bad');
    host = (await RawClient.join(server.wsUrl, streamer, 'bad')).client;
    bystander = (await RawClient.join(server.wsUrl, await viewerToken(server, 'bystander'), 'bad')).client;
  });
  afterAll(async () => {
    // The bystander still gets room events after all the abuse.
    const before = bystander.of('comment').length;
    expect((await host.request({ t: 'comment', text: 'still alive' })).t).toBe('ok');
    await bystander.waitFor(() => bystander.of('comment').length === before + 1);
    await server.close();
  });

  const joined = async () => (await RawClient.join(server.wsUrl, await viewerToken(server, `bad-${Math.random()}`), 'bad')).client;

  it('closes on an undecodable frame with 4500', async () => {
    const client = await joined();
    client.sendRaw(new Uint8Array([0xc1, 0xff, 0x00]));
    expect((await client.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    const reserved = await joined();
    reserved.sendRaw(new Uint8Array([0xc1])); // msgpack's reserved byte, decoded by msgpackr as an object
    expect((await reserved.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('closes on a text frame and on a non-map frame with 4500', async () => {
    const text = await joined();
    text.sendRaw('{"t":"ping"}');
    expect((await text.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    const array = await joined();
    array.sendRaw(encode([1, 2, 3]));
    expect((await array.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('answers an unknown type with UNKNOWN_TYPE and keeps the socket', async () => {
    const client = await joined();
    const reply = await client.request({ t: 'teleport' });
    expect(reply.t === 'err' && reply.code).toBe(ErrorCode.UNKNOWN_TYPE);
    expect((await client.request({ t: 'ping' })).t).toBe('ok');
    client.close();
  });

  it('answers a schema violation with BAD_REQUEST naming the field', async () => {
    const client = await joined();
    const reply = await client.request({ t: 'comment', text: 42 });
    expect(reply.t).toBe('err');
    if (reply.t !== 'err') return;
    expect(reply.code).toBe(ErrorCode.BAD_REQUEST);
    expect(reply.message).toContain('text');
    const noId = await joined();
    noId.send({ t: 'comment' });
    const err = await noId.waitFor((m) => m.t === 'err');
    expect(err.t === 'err' && err.id).toBeUndefined();
    for (const c of [client, noId]) c.close();
  });

  it('closes an oversized frame with 4504', async () => {
    const client = await joined();
    client.send({ t: 'comment', id: 1, text: 'x'.repeat(2000) });
    expect((await client.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
  });

  it('refuses requests before hello with NOT_JOINED and a second hello with ALREADY_JOINED', async () => {
    const fresh = await RawClient.open(server.wsUrl);
    const early = await fresh.request({ t: 'comment', text: 'hi' });
    expect(early.t === 'err' && early.code).toBe(ErrorCode.NOT_JOINED);
    const welcome = await fresh.hello(await viewerToken(server, 'twice'), 'bad');
    expect(welcome.t).toBe('welcome');
    const second = await fresh.hello(await viewerToken(server, 'twice'), 'bad');
    expect(second.t === 'err' && second.code).toBe(ErrorCode.ALREADY_JOINED);
    fresh.close();
  });

  it('rejects a bad token (4501), an unknown room (4503) and a wrong version (4502)', async () => {
    const badToken = await RawClient.open(server.wsUrl);
    const r1 = await badToken.hello('not-a-token', 'bad');
    expect(r1.t === 'err' && r1.code).toBe(ErrorCode.UNAUTHORIZED);
    expect((await badToken.closed).code).toBe(CloseCode.UNAUTHORIZED);

    const forged = await RawClient.open(server.wsUrl);
    const other = await new TokenService('another-secret-abcdefghijklmnop', 60).mint({ userId: 'x', name: 'x', role: 'operator' });
    const r2 = await forged.hello(other, 'bad');
    expect(r2.t === 'err' && r2.code).toBe(ErrorCode.UNAUTHORIZED);

    const noRoom = await RawClient.open(server.wsUrl);
    const r3 = await noRoom.hello(await viewerToken(server, 'lost'), 'no-such-room');
    expect(r3.t === 'err' && r3.code).toBe(ErrorCode.ROOM_NOT_FOUND);
    expect((await noRoom.closed).code).toBe(CloseCode.ROOM_NOT_FOUND);

    const oldClient = await RawClient.open(server.wsUrl);
    oldClient.send({ t: 'hello', id: 1, v: 99, token: await viewerToken(server, 'old'), room: 'bad' });
    const r4 = await oldClient.waitFor((m) => m.t === 'err');
    expect(r4.t === 'err' && r4.code).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect((await oldClient.closed).code).toBe(CloseCode.UNSUPPORTED_VERSION);
  });

  it('closes a socket that never says hello (4002) and one that floods (4003)', async () => {
    const silent = await RawClient.open(server.wsUrl);
    expect((await silent.closed).code).toBe(CloseCode.HELLO_TIMEOUT);
    const flood = await joined();
    for (let i = 0; i < 40; i++) flood.send({ t: 'like' });
    expect((await flood.closed).code).toBe(CloseCode.FLOODING);
  });
});
