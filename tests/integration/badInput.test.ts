import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, encode, ErrorCode } from '../../protocol/src/index.ts';
import { TokenService } from '../../server/src/auth/TokenService.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { ext, pack } from '../helpers/msgpackBytes.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const protocolDoc = readFileSync(new URL('../../protocol/PROTOCOL.md', import.meta.url), 'utf8');

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

  it('does to a frame above 4 x maxFrameBytes what PROTOCOL.md says', async () => {
    // uWS refuses it from its header and drops the connection without a close frame.
    const documented = /Frames larger than 4 × `maxFrameBytes`[^\n]*?close code (\d{4})/.exec(protocolDoc);
    expect(documented, 'PROTOCOL.md names the close code of a frame above 4 × maxFrameBytes').not.toBeNull();
    const atLimit = await joined();
    atLimit.sendRaw(new Uint8Array(4 * 1024));
    expect((await atLimit.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
    const badFrames = server.gateway.stats.badFrames;
    const above = await joined();
    above.sendRaw(new Uint8Array(4 * 1024 + 1));
    expect((await above.closed).code).toBe(Number(documented![1]));
    // The node counts it as a bad frame, as it does the frames it closes itself.
    await waitUntil(() => server.gateway.stats.badFrames === badFrames + 1, 2000, 'the refused frame counted');
  });

  it('closes a frame that uses a MessagePack extension with 4500 naming it', async () => {
    // A Go or Python encoder writes a time value as the standard timestamp extension (-1).
    const timestamp = await RawClient.open(server.wsUrl);
    timestamp.sendRaw(pack({ t: 'hello', id: 1, v: 1, token: await viewerToken(server, 'ts'), room: 'bad', resume: { seq: 0, epoch: 'e' }, at: ext(-1, [0, 0, 0, 1]) }));
    expect(await timestamp.closed).toEqual({ code: CloseCode.PROTOCOL_ERROR, reason: expect.stringContaining('extension type -1 (timestamp)') });
    // msgpackr's own default writes records (extension 0x72) and would decode them back: refused too.
    const records = await joined();
    records.sendRaw(new Packr({ useRecords: true }).pack({ t: 'ping', id: 9 }));
    expect(await records.closed).toEqual({ code: CloseCode.PROTOCOL_ERROR, reason: expect.stringContaining('extension type 114 (msgpackr record)') });
    expect(records.messages.some((m) => m.t === 'ok')).toBe(false);
    // Nested anywhere, in any of the ext forms: ext 0 (msgpackr: undefined), a Set (0x73), ext8 of 3 bytes.
    for (const value of [ext(0, [0]), ext(0x73, [0x90]), ext(5, [1, 2, 3])]) {
      const client = await joined();
      client.sendRaw(pack({ t: 'pin', id: 2, sku: 'sku-1', extra: [1, { deep: value }] }));
      expect((await client.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
      expect(client.messages.some((m) => m.t === 'ok' || m.t === 'err')).toBe(false);
    }
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

  it('closes a socket whose hello fails its schema with 4500, after a BAD_REQUEST naming the field', async () => {
    const token = await viewerToken(server, 'schema');
    for (const [hello, field] of [
      [{ t: 'hello', id: 1, v: 1, token: '', room: 'bad' }, 'token'],
      [{ t: 'hello', id: 1, v: 1, token, room: 'no spaces!' }, 'room'],
      [{ t: 'hello', id: 1, v: '1', token, room: 'bad' }, 'v'],
      [{ t: 'hello', id: 1, v: 1, token, room: 'bad', resume: { seq: -1, epoch: 'e' } }, 'resume.seq'],
    ] as const) {
      const client = await RawClient.open(server.wsUrl);
      client.send(hello);
      const reply = await client.waitFor((m) => m.t === 'err');
      expect(reply).toMatchObject({ t: 'err', id: 1, code: ErrorCode.BAD_REQUEST, message: expect.stringContaining(`${field}:`) });
      expect((await client.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    }
    const noId = await RawClient.open(server.wsUrl);
    noId.send({ t: 'hello', v: 1, token, room: 'bad' });
    expect(await noId.waitFor((m) => m.t === 'err')).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect((await noId.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    // A joined socket's second, malformed hello only gets its error: the socket has a room.
    const member = await joined();
    member.send({ t: 'hello', id: 5, v: 1, token: '', room: 'bad' });
    expect(await member.waitFor((m) => m.t === 'err' && m.id === 5)).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect((await member.request({ t: 'ping' })).t).toBe('ok');
    member.close();
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
