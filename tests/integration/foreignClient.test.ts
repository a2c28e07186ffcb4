import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { int, intFormats, pack, type Value } from '../helpers/msgpackBytes.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { http, liveRoom, startTestServer, TEST_SECRET, viewerToken } from '../helpers/server.ts';

/**
 * What a client written in another language meets: frames from an encoder other than msgpackr
 * (built byte by byte here), text counted in characters, tokens from another minter.
 */
describe('a foreign client', () => {
  let server: RunningServer;
  let streamer: RawClient;
  let viewer: RawClient;
  beforeAll(async () => {
    server = await startTestServer({ maxFramesPerSecond: 1000, commentBurst: 1000 });
    const { streamer: token } = await liveRoom(server, 'foreign');
    streamer = (await RawClient.join(server.wsUrl, token, 'foreign')).client;
    viewer = (await RawClient.join(server.wsUrl, await viewerToken(server, 'foreign'), 'foreign')).client;
  });
  afterAll(() => server.close());

  /** Sends a hand-built frame and resolves with the reply to request `id`. */
  const call = (client: RawClient, id: number, frame: Record<string, Value>) => {
    client.sendRaw(pack(frame));
    return client.waitFor((m) => (m.t === 'ok' || m.t === 'err') && m.id === id);
  };

  it('may write any integer in any MessagePack integer encoding', async () => {
    for (const [n, format] of intFormats.map((f, i) => [i + 1, f] as const)) {
      const reply = await call(streamer, n, { t: 'ping', id: int(n, format) });
      expect(reply, format).toMatchObject({ t: 'ok', id: n });
    }
    // An epoch-ms countdown end, as Go, Rust, Python or Java encoders write it: uint64 or int64.
    for (const format of ['uint64', 'int64', 'float64'] as const) {
      const endsAt = Date.now() + 60_000 + intFormats.indexOf(format);
      const id = 100 + intFormats.indexOf(format);
      expect(await call(streamer, id, { t: 'pin', id, sku: 'sku-1', endsAt: int(endsAt, format) }), format).toMatchObject({ t: 'ok', id });
      await viewer.waitFor((m) => m.t === 'popup' && m.popup?.endsAt === endsAt);
    }
    // The largest safe integer arrives exact.
    expect(await call(streamer, 200, { t: 'pin', id: 200, sku: 'sku-1', endsAt: int(Number.MAX_SAFE_INTEGER, 'uint64') })).toMatchObject({ t: 'ok' });
    await viewer.waitFor((m) => m.t === 'popup' && m.popup?.endsAt === Number.MAX_SAFE_INTEGER);
    // Cart requests too: quantity as uint64, the request id as int32.
    const added = await call(viewer, 300, { t: 'addToCart', id: int(300, 'int32'), key: 'foreign-1', sku: 'sku-1', quantity: int(2, 'uint64') });
    expect(added).toMatchObject({ t: 'ok', id: 300, result: { status: 'reserved', quantity: 2 } });
  });

  it('is told plainly when an integer is beyond ±(2^53 - 1)', async () => {
    for (const [n, id] of [[2n ** 53n, 400], [2n ** 64n - 1n, 401], [-(2n ** 63n), 402]] as const) {
      const reply = await call(streamer, id, { t: 'pin', id, sku: 'sku-1', endsAt: int(n, n < 0n ? 'int64' : 'uint64') });
      expect(reply).toMatchObject({ t: 'err', id, code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('endsAt') });
      if (reply.t === 'err') expect(reply.message).not.toContain('bigint');
    }
    const beyond = await call(streamer, 403, { t: 'pin', id: 403, sku: 'sku-1', endsAt: int(2n ** 64n - 1n, 'uint64') });
    expect(beyond.t === 'err' && beyond.message).toContain('outside the safe range');
  });

  it('has comments counted in characters, not UTF-16 units', async () => {
    const limit = server.config.commentMaxLength;
    const emoji = '😀'.repeat(limit); // each one character, two UTF-16 units, four UTF-8 bytes
    const accepted = await viewer.request({ t: 'comment', text: emoji });
    expect(accepted.t).toBe('ok');
    await streamer.waitFor((m) => m.t === 'comment' && m.text === emoji);
    const tooLong = await viewer.request({ t: 'comment', text: `${emoji}x` });
    expect(tooLong).toMatchObject({ t: 'err', code: ErrorCode.BAD_REQUEST, message: expect.stringContaining(`${limit} characters`) });
    // The wire ceiling counts the same way.
    const wire = await viewer.request({ t: 'comment', text: '😀'.repeat(2001) });
    expect(wire).toMatchObject({ t: 'err', code: ErrorCode.BAD_REQUEST, message: expect.stringContaining('at most 2000 characters') });
  });

  it('cannot use a token without an expiry, over WebSocket or HTTP', async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const forever = await new SignJWT({ name: 'Forever', role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject('forever').setIssuedAt().sign(key);
    const client = await RawClient.open(server.wsUrl);
    const refused = await client.hello(forever, 'foreign');
    expect(refused).toMatchObject({ t: 'err', code: ErrorCode.UNAUTHORIZED, message: expect.stringContaining('"exp"') });
    expect((await client.closed).code).toBe(CloseCode.UNAUTHORIZED);
    const overHttp = await http(server, 'GET', '/api/rooms/foreign/cart', forever);
    expect(overHttp.status).toBe(401);
    expect(overHttp.body.error.message).toContain('"exp"');
    // The same claims with an expiry are fine: exp is what was missing.
    const expiring = await new SignJWT({ name: 'Expiring', role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject('expiring').setIssuedAt().setExpirationTime('1h').sign(key);
    expect((await http(server, 'GET', '/api/rooms/foreign/cart', expiring)).status).toBe(200);
  });
});
