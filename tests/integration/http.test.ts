import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { startServer } from '../../server/src/server.ts';

const protocolDoc = readFileSync(new URL('../../protocol/PROTOCOL.md', import.meta.url), 'utf8');

describe('HTTP API', () => {
  let server: RunningServer;
  let streamer: string;
  beforeAll(async () => {
    server = await startTestServer({ maxHttpBodyBytes: 1024, maxRooms: 2 });
    streamer = await server.mintToken({ userId: 'http-streamer', name: 'S', role: 'streamer' });
  });
  afterAll(() => server.close());

  it('creates a room, adds products, starts and ends the show, with viewers told each step', async () => {
    const created = await http(server, 'POST', '/api/rooms', streamer, { title: 'Spring sale', id: 'spring' });
    expect(created.status).toBe(201);
    expect(created.body.room).toMatchObject({ id: 'spring', title: 'Spring sale', streamerId: 'http-streamer', state: 'scheduled' });
    const { client: viewer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'h1'), 'spring');
    const product = { sku: 'bag-1', title: 'Bag', priceCents: 5000, currency: 'EUR', stock: 7 };
    expect((await http(server, 'POST', '/api/rooms/spring/products', streamer, product)).status).toBe(201);
    await viewer.waitFor((m) => m.t === 'product' && m.product.sku === 'bag-1');
    expect((await http(server, 'POST', '/api/rooms/spring/products', streamer, product)).body.error.code).toBe(ErrorCode.PRODUCT_EXISTS);
    expect((await http(server, 'POST', '/api/rooms/spring/start', streamer)).body.room.state).toBe('live');
    await viewer.waitFor((m) => m.t === 'roomState' && m.state === 'live');
    const snapshot = await http(server, 'GET', '/api/rooms/spring');
    expect(snapshot.body).toMatchObject({ id: 'spring', state: 'live', viewers: 1, products: [product] });
    expect((await http(server, 'GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id)).toContain('spring');
    expect((await http(server, 'POST', '/api/rooms/spring/end', streamer)).body.room.state).toBe('ended');
    await viewer.waitFor((m) => m.t === 'roomState' && m.state === 'ended');
    const late = await viewer.request({ t: 'comment', text: 'too late' });
    expect(late.t === 'err' && late.code).toBe(ErrorCode.ROOM_ENDED);
    viewer.close();
  });

  it('answers bad requests with typed errors and matching statuses', async () => {
    const viewer = await viewerToken(server, 'h2');
    expect((await http(server, 'POST', '/api/rooms', undefined, { title: 'x' })).status).toBe(401);
    expect((await http(server, 'POST', '/api/rooms', 'garbage', { title: 'x' })).status).toBe(401);
    const forbidden = await http(server, 'POST', '/api/rooms', viewer, { title: 'x' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: ErrorCode.FORBIDDEN, name: 'FORBIDDEN', temporary: false });
    const invalid = await http(server, 'POST', '/api/rooms', streamer, { title: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toContain('title');
    expect((await http(server, 'POST', '/api/rooms', streamer, '{not json')).status).toBe(400);
    const tooLarge = await http(server, 'POST', '/api/rooms', streamer, { title: 'x'.repeat(2000) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toMatchObject({ code: 413, name: 'PAYLOAD_TOO_LARGE' });
    expect((await http(server, 'GET', '/api/rooms/nope')).status).toBe(404);
    expect((await http(server, 'GET', '/no/such/route')).status).toBe(404);
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: 'dup', id: 'dup' })).status).toBe(201);
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: 'dup', id: 'dup' })).status).toBe(409);
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: 'one too many' })).body.error.name).toBe('LIMIT_EXCEEDED');
  });

  it('has no dev token endpoint when a secret is configured, and has one in dev mode', async () => {
    expect((await http(server, 'GET', '/api/dev/token')).status).toBe(404);
    const dev = await startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      const minted = await http(dev, 'GET', '/api/dev/token?name=Ann');
      expect(minted.status).toBe(200);
      expect(minted.body.role).toBe('viewer');
      const principal = await dev.tokens.verify(minted.body.token);
      expect(principal).toMatchObject({ name: 'Ann', role: 'viewer' });
    } finally {
      await dev.close();
    }
  });
});

describe('HTTP API reads', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers GET /api/rooms/:id with the fields PROTOCOL.md lists', async () => {
    await saleRoom(server, 'documented', 5);
    const row = protocolDoc.split('\n').find((line) => line.startsWith('| `GET /api/rooms/:id` |'));
    expect(row, 'PROTOCOL.md has a row for GET /api/rooms/:id').toBeDefined();
    const answer = row!.split('|').at(-2)!;
    const documented = /\{([^}]*)\}/.exec(answer)![1]!.split(',').map((field) => field.trim().replace(/\W.*$/, ''));
    const { status, body } = await http(server, 'GET', '/api/rooms/documented');
    expect(status).toBe(200);
    expect(documented.sort()).toEqual(Object.keys(body).sort());
  });

  it('shows an order to its buyer and the room\'s moderators, and answers 404 to anyone else', async () => {
    const streamer = await saleRoom(server, 'orders', 5);
    const buyer = await viewerToken(server, 'buyer');
    const added = await fetch(`${server.url}/api/rooms/orders/cart/items`, {
      method: 'POST', headers: { authorization: `Bearer ${buyer}`, 'idempotency-key': 'add-1', 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'hot', quantity: 1 }),
    });
    expect(((await added.json()) as { status: string }).status).toBe('reserved');
    const paid = await fetch(`${server.url}/api/rooms/orders/checkout`, { method: 'POST', headers: { authorization: `Bearer ${buyer}`, 'idempotency-key': 'pay-1' } });
    const { order } = (await paid.json()) as { order: { id: string } };
    expect((await http(server, 'GET', `/api/orders/${order.id}`, buyer)).body.order).toMatchObject({ id: order.id, userId: 'viewer-buyer' });
    expect((await http(server, 'GET', `/api/orders/${order.id}`, streamer)).status).toBe(200);
    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    expect((await http(server, 'GET', `/api/orders/${order.id}`, operator)).status).toBe(200);
    // Someone else's order and an order that does not exist get the same answer: nothing to probe.
    const other = await http(server, 'GET', `/api/orders/${order.id}`, await viewerToken(server, 'other'));
    const unknown = await http(server, 'GET', '/api/orders/o-no-such-order', buyer);
    for (const reply of [other, unknown]) {
      expect(reply.status).toBe(404);
      expect(reply.body.error).toMatchObject({ code: ErrorCode.ORDER_NOT_FOUND, name: 'ORDER_NOT_FOUND', temporary: false });
    }
    expect((await http(server, 'GET', `/api/orders/${order.id}`)).status).toBe(401);
  });

  it('sets a room\'s queue limit for an operator, and answers ROOM_NOT_FOUND for a room that does not exist, keeping nothing for it', async () => {
    await saleRoom(server, 'limited', 5);
    const operator = await server.mintToken({ userId: 'op-limits', name: 'Op', role: 'operator' });
    const perRoomAdmission = async () => (await http(server, 'GET', '/api/ops/node', operator)).body.perRoomState.admission;
    const set = await http(server, 'PUT', '/api/ops/rooms/limited/limits', operator, { queueLimit: 7 });
    expect(set).toMatchObject({ status: 200, body: { roomId: 'limited', queueLimit: 7, admission: true } });
    const before = await perRoomAdmission();
    const typo = await http(server, 'PUT', '/api/ops/rooms/no-such-room/limits', operator, { queueLimit: 7 });
    expect(typo.status).toBe(404);
    expect(typo.body.error).toMatchObject({ code: ErrorCode.ROOM_NOT_FOUND, name: 'ROOM_NOT_FOUND' });
    expect(await perRoomAdmission()).toEqual(before);
  });
});
