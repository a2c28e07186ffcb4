import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../protocol/src/index.ts';
import { type RunningServer, startServer } from '../../server/src/server.ts';
import { UNAVAILABLE_MESSAGE } from '../../server/src/transport/wireErrors.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { OwnRedis } from '../helpers/redisServer.ts';
import { http, NO_AUTO_DEGRADE, TEST_SECRET, viewerToken } from '../helpers/server.ts';

describe('Redis goes down mid-sale', () => {
  let redis: OwnRedis;
  let server: RunningServer;
  /** The server's warnings and errors, as JSON lines. */
  const logged: string[] = [];
  beforeAll(async () => {
    redis = await OwnRedis.start();
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    server = await startServer({
      port: 0, host: '127.0.0.1', tokenSecret: TEST_SECRET, media: false, ...NO_AUTO_DEGRADE,
      redis: redis.url, redisPrefix: uniquePrefix('outage'), redisCommandTimeoutMs: 300, storeRetryAfterMs: 750, sweepIntervalMs: 100,
    }, log);
  });
  afterAll(async () => {
    await server.close();
    await redis.kill();
  });

  it('answers retry-after while Redis is down, never hangs or crashes, and the same requests succeed after; no accepted order is lost', async () => {
    const streamer = await server.mintToken({ userId: 'out-s', name: 'S', role: 'streamer' });
    await http(server, 'POST', '/api/rooms', streamer, { title: 'outage', id: 'outage' });
    await http(server, 'POST', '/api/rooms/outage/products', streamer, { sku: 'hot', title: 'Hot', priceCents: 500, currency: 'USD', stock: 10 });
    await http(server, 'POST', '/api/rooms/outage/start', streamer);
    const { client: buyer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'out-1'), 'outage');

    expect((await buyer.request({ t: 'addToCart', key: 'before', sku: 'hot', quantity: 2 })).t).toBe('ok');
    const placed = await buyer.request({ t: 'checkout', key: 'pay-before' });
    if (placed.t !== 'ok' || placed.result?.status !== 'ordered') throw new Error(JSON.stringify(placed));
    const acceptedOrder = (placed.result as { order: { id: string } }).order;

    await redis.kill();
    const started = Date.now();
    const during = await Promise.all([
      buyer.request({ t: 'addToCart', key: 'during', sku: 'hot', quantity: 1 }),
      buyer.request({ t: 'getCart' }),
      buyer.request({ t: 'checkout', key: 'pay-during' }),
    ]);
    expect(Date.now() - started).toBeLessThan(3000); // an answer, not a hang
    for (const reply of during) {
      expect(reply.t).toBe('err');
      if (reply.t !== 'err') continue;
      expect(reply.code).toBe(ErrorCode.UNAVAILABLE);
      expect(reply.temporary).toBe(true);
      expect(reply.retryAfterMs).toBe(750);
      expect(reply.message).toBe(UNAVAILABLE_MESSAGE); // the driver's words stay on the server
    }
    const httpDuring = await http(server, 'POST', '/api/rooms/outage/cart/items', await viewerToken(server, 'out-2'), { sku: 'hot', quantity: 1, key: 'h1' });
    expect(httpDuring.status).toBe(503);
    expect(httpDuring.body.error).toMatchObject({ name: 'UNAVAILABLE', temporary: true, retryAfterMs: 750, message: UNAVAILABLE_MESSAGE });
    // with --redis the room's events travel through Redis too: a typed answer, not a hang
    const comment = await buyer.request({ t: 'comment', text: 'is it down?' });
    expect(comment.t === 'err' && comment.code).toBe(ErrorCode.UNAVAILABLE);
    expect(comment.t === 'err' && comment.message).toBe(UNAVAILABLE_MESSAGE);
    // a room not hosted here must be read from Redis to join: the hello is refused, and the socket closed, in the same words
    const newcomer = await RawClient.open(server.wsUrl);
    const refused = await newcomer.hello(await viewerToken(server, 'out-3'), 'elsewhere');
    expect(refused).toMatchObject({ t: 'err', code: ErrorCode.UNAVAILABLE, message: UNAVAILABLE_MESSAGE });
    expect(await newcomer.closed).toEqual({ code: CloseCode.TRY_AGAIN_LATER, reason: UNAVAILABLE_MESSAGE });
    // the operator's log has what failed and why, the driver's message included
    const warnings = logged.map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } });
    expect(warnings.some((w) => w.msg === 'request failed: a backing service is unavailable' && /^(store|broker|room directory) unavailable: ./.test(w.err?.message ?? ''))).toBe(true);

    await redis.restart();
    let retried;
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 100));
      retried = await buyer.request({ t: 'addToCart', key: 'during', sku: 'hot', quantity: 1 });
    } while (retried.t === 'err' && retried.temporary && Date.now() < deadline);
    expect(retried.t === 'ok' && retried.result).toMatchObject({ status: 'reserved', quantity: 1, available: 7 });
    const paid = await buyer.request({ t: 'checkout', key: 'pay-during' });
    expect(paid.t === 'ok' && paid.result?.status).toBe('ordered');
    expect(await server.store.order(acceptedOrder.id)).toMatchObject({ id: acceptedOrder.id, totalCents: 1000 });
    expect(await server.store.stock('outage', 'hot')).toEqual({ available: 7, reserved: 0, sold: 3 });
    buyer.close();
  }, 30_000);
});
