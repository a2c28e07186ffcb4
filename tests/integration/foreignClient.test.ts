import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { int, intFormats, pack, Raw, type Value } from '../helpers/msgpackBytes.ts';
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

  it('has titles, user ids and names counted in characters too, and a name cut to 64 of them never inside an emoji', async () => {
    const streamerToken = await server.mintToken({ userId: 'streamer-foreign', name: 'Streamer', role: 'streamer' });
    const product = (sku: string, title: string) => http(server, 'POST', '/api/rooms/foreign/products', streamerToken, { sku, title, priceCents: 100, currency: 'USD', stock: 1 });
    expect((await product('emoji-200', '😀'.repeat(200))).status).toBe(201);
    const tooLong = await product('emoji-201', '😀'.repeat(201));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain('at most 200 characters');
    expect((await http(server, 'POST', '/api/rooms', streamerToken, { title: '😀'.repeat(200) })).status).toBe(201);

    const key = new TextEncoder().encode(TEST_SECRET);
    const sign = (sub: string, name: string) => new SignJWT({ name, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(key);
    const sub = '😀'.repeat(128);
    const { client, welcome } = await RawClient.join(server.wsUrl, await sign(sub, `${'a'.repeat(63)}😀b`), 'foreign');
    expect(welcome.t === 'welcome' && welcome.you).toEqual({ userId: sub, name: `${'a'.repeat(63)}😀`, role: 'viewer' });
    expect(await call(streamer, 410, { t: 'mute', id: 410, userId: sub })).toMatchObject({ t: 'ok' });
    expect(await call(streamer, 411, { t: 'unmute', id: 411, userId: sub })).toMatchObject({ t: 'ok' });
    client.close();
    expect((await http(server, 'GET', '/api/rooms/foreign/cart', await sign('😀'.repeat(129), 'x'))).status).toBe(401);
  });

  it('lets no lone surrogate through to other clients, where it would arrive as invalid UTF-8', async () => {
    // Over the WebSocket invalid UTF-8 (here "\ud83d" alone as CESU-8 bytes, as a careless encoder writes half an emoji) decodes to U+FFFD.
    const sent = await call(viewer, 420, { t: 'comment', id: 420, text: new Raw([0xa5, 0x78, 0xed, 0xa0, 0xbd, 0x79]) });
    expect(sent.t).toBe('ok');
    const seen = await streamer.waitFor((m) => m.t === 'comment' && m.text.startsWith('x') && m.text.endsWith('y'));
    expect(seen.t === 'comment' && /\p{Cs}/u.test(seen.text)).toBe(false);
    // JSON can carry one ("\ud83d"): a title with one is refused over HTTP.
    const streamerToken = await server.mintToken({ userId: 'streamer-foreign', name: 'Streamer', role: 'streamer' });
    const product = await http(server, 'POST', '/api/rooms/foreign/products', streamerToken, { sku: 'half', title: 'x\ud83d', priceCents: 1, currency: 'USD', stock: 1 });
    expect(product.status).toBe(400);
    expect(product.body.error.message).toContain('lone surrogate');
    expect((await http(server, 'POST', '/api/rooms', streamerToken, { title: '\udc00 sale' })).status).toBe(400);
    // So can a token's claims: a display name is kept with its lone surrogates replaced; a user id with one is refused.
    const key = new TextEncoder().encode(TEST_SECRET);
    const sign = (sub: string, name: string) => new SignJWT({ name, role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(key);
    const { client, welcome } = await RawClient.join(server.wsUrl, await sign('half-name', 'Ann\ud83d'), 'foreign');
    expect(welcome.t === 'welcome' && welcome.you.name).toBe('Ann\ufffd');
    client.close();
    expect((await http(server, 'GET', '/api/rooms/foreign/cart', await sign('x\ud83d', 'x'))).status).toBe(401);
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
