/**
 * Draining one node (POST /api/ops/drain), in process: the node says so to load balancers, sends
 * new sockets elsewhere with a typed close, moves its open sockets over the window, and a socket
 * whose cart request is still with the store gets the answer before it moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, type ServerMessage } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { type Closed, RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { OwnRedis } from '../helpers/redisServer.ts';
import { http, liveRoom, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const operatorOf = (server: RunningServer) => server.mintToken({ userId: 'ops', name: 'Ops', role: 'operator' });

describe('draining a node', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: uniquePrefix('drain') });
  });
  afterAll(async () => {
    await server.close();
  });

  it('only operators drain, with a valid window', async () => {
    const viewer = await viewerToken(server, 'nosy');
    expect((await http(server, 'POST', '/api/ops/drain', viewer, {})).status).toBe(403);
    expect((await http(server, 'POST', '/api/ops/drain', undefined, {})).status).toBe(401);
    const operator = await operatorOf(server);
    for (const windowMs of [-1, 1.5, 'soon', 3_600_001]) {
      const refused = await http(server, 'POST', '/api/ops/drain', operator, { windowMs });
      expect(refused.status, String(windowMs)).toBe(400);
      expect(refused.body.error.name).toBe('BAD_REQUEST');
    }
    // None of these started a drain.
    expect((await http(server, 'GET', '/readyz')).body).toMatchObject({ ready: true, draining: false });
    expect((await http(server, 'GET', '/api/ops/node', operator)).body.drain).toMatchObject({ draining: false, since: null });
  });

  it('turns /readyz 503, closes new sockets with MOVED, and moves the open ones evenly over the window', async () => {
    const operator = await operatorOf(server);
    await liveRoom(server, 'leaving');
    const sockets = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await RawClient.join(server.wsUrl, await viewerToken(server, `l${i}`), 'leaving')).client));
    const closedAt: number[] = [];
    const closes = sockets.map((socket) => socket.closed.then((closed) => {
      closedAt.push(Date.now());
      return closed;
    }));

    const windowMs = 1000;
    const started = await http(server, 'POST', '/api/ops/drain', operator, { windowMs });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ started: true, drain: { draining: true, windowMs, socketsAtStart: 20 } });
    const since = started.body.drain.since as number;

    const ready = await http(server, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, draining: true });
    const newcomer = await RawClient.open(server.wsUrl);
    expect(await newcomer.closed).toEqual({ code: CloseCode.MOVED, reason: expect.stringContaining('draining') });
    // A second call changes nothing.
    expect((await http(server, 'POST', '/api/ops/drain', operator, { windowMs: 0 })).body).toMatchObject({ started: false, drain: { since, windowMs } });
    const during = (await http(server, 'GET', '/api/ops/node', operator)).body.drain;
    expect(during).toMatchObject({ draining: true, since, windowMs, socketsAtStart: 20 });
    expect(during.socketsLeft).toBeGreaterThan(0);

    const codes = (await Promise.all(closes)).map((closed: Closed) => closed.code);
    expect(codes).toEqual(Array(20).fill(CloseCode.MOVED));
    // Socket i of 20 has its turn at i × 50 ms, not before; all within the window (and a margin for a busy machine).
    closedAt.sort((a, b) => a - b);
    closedAt.forEach((at, i) => expect(at - since, `close ${i}`).toBeGreaterThanOrEqual((i * windowMs) / 20 - 5));
    expect(closedAt.at(-1)! - since).toBeLessThan(windowMs + 500);
    const after = (await http(server, 'GET', '/api/ops/node', operator)).body;
    expect(after.drain).toMatchObject({ socketsMoved: 20, socketsLeft: 0 });
    expect(after.connections.movedCloses).toBe(21);
  });
});

describe('a socket whose turn comes while its request is with the store', () => {
  let redis: OwnRedis;
  let server: RunningServer;
  beforeAll(async () => {
    redis = await OwnRedis.start();
    server = await startTestServer({ redis: redis.url, redisPrefix: uniquePrefix('drain-inflight'), redisCommandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    redis.resume();
    await server.close();
    await redis.kill();
  });

  it('gets the answer first, then MOVED', async () => {
    await saleRoom(server, 'slow', 10);
    const operator = await operatorOf(server);
    const { client: buyer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'b1'), 'slow');
    const messagesAtClose: ServerMessage[][] = [];
    void buyer.closed.then(() => messagesAtClose.push([...buyer.messages]));

    redis.pause();
    const id = buyer.nextId();
    buyer.send({ t: 'addToCart', id, sku: 'hot', quantity: 1, key: 'held-1' });
    await waitUntil(() => (server.admission?.inFlight ?? 0) > 0, 5000, 'the add to reach the frozen store');
    const drained = await http(server, 'POST', '/api/ops/drain', operator, { windowMs: 0 });
    expect(drained.body.drain).toMatchObject({ socketsAtStart: 1, socketsMoved: 1, socketsLeft: 1 });
    // Its turn came, but its answer is not out: the socket stays.
    expect((await http(server, 'GET', '/api/ops/node', operator)).body.drain.socketsLeft).toBe(1);
    expect(messagesAtClose).toEqual([]);

    redis.resume();
    expect((await buyer.closed).code).toBe(CloseCode.MOVED);
    const answer = messagesAtClose[0]!.find((m) => m.t === 'ok' && m.id === id);
    expect(answer).toMatchObject({ t: 'ok', result: { status: 'reserved', granted: 1 } });
  });
});

describe('SIGTERM\'s drain (drainAndClose) with a checkout on its way to the store', () => {
  let redis: OwnRedis;
  let server: RunningServer;
  beforeAll(async () => {
    redis = await OwnRedis.start();
    server = await startTestServer({ redis: redis.url, redisPrefix: uniquePrefix('drain-close'), redisCommandTimeoutMs: 10_000, drainWindowMs: 0, shutdownGraceMs: 5000 });
  });
  afterAll(async () => {
    redis.resume();
    await server.close();
    await redis.kill();
  });

  it('answers it before the node closes: the order is placed and the buyer hears it', async () => {
    await saleRoom(server, 'last', 5);
    const buyer = await viewerToken(server, 'late-buyer');
    expect((await http(server, 'POST', '/api/rooms/last/cart/items', buyer, { sku: 'hot', quantity: 2, key: 'a1' })).body.status).toBe('reserved');
    redis.pause();
    const checkout = http(server, 'POST', '/api/rooms/last/checkout', buyer, { key: 'pay-1' });
    await waitUntil(() => (server.admission?.inFlight ?? 0) > 0, 5000, 'the checkout to reach the frozen store');
    let closed = false;
    const closing = server.drainAndClose().then(() => (closed = true));
    // The window is 0 and the node has no socket: only the checkout holds it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    redis.resume();
    const answer = await checkout;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ordered', order: { lines: [{ sku: 'hot', quantity: 2 }] } });
    await closing;
  });
});
