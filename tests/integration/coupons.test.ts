/**
 * Coupons end to end over the real server: 200 SDK buyers race for 50 (exactly 50 claimed, every
 * claim answered, one per buyer), the card's "left" reaching the room live, claims over HTTP with an
 * idempotent retry, and a winner's checkout priced with the coupon. On memory and on Redis, and on
 * two nodes sharing one Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClaimCouponAnswer, type LivecartClient } from '../../client/src/index.ts';
import type { ConfigInput } from '../../server/src/config.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, startTestServer } from '../helpers/server.ts';

const BUYERS = 200;
const COUPONS = 50;

describe.each<[string, () => ConfigInput]>([
  ['memory', () => ({})],
  ['Redis', () => ({ redis: REDIS_URL, redisPrefix: uniquePrefix('coupons-it') })],
])('coupons (%s store)', (_name, config) => {
  let server: RunningServer;
  const clients: LivecartClient[] = [];
  beforeAll(async () => {
    server = await startTestServer(config());
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close();
  });

  async function room(id: string) {
    const streamer = await server.mintToken({ userId: `s-${id}`, name: 'S', role: 'streamer' });
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: id, id })).status).toBe(201);
    expect((await http(server, 'POST', `/api/rooms/${id}/products`, streamer, { sku: 'mug', title: 'Mug', priceCents: 2500, currency: 'USD', stock: 500 })).status).toBe(201);
    expect((await http(server, 'POST', `/api/rooms/${id}/start`, streamer)).status).toBe(200);
    return streamer;
  }

  async function buyer(roomId: string, userId: string): Promise<LivecartClient> {
    const token = await server.mintToken({ userId, name: userId, role: 'viewer' });
    const client = connect({ url: server.wsUrl, token, room: roomId, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 200 } });
    clients.push(client);
    await client.ready;
    return client;
  }

  it('200 SDK buyers race for 50 coupons: exactly 50 claimed, every claim answered, one per buyer; the card counts down live', async () => {
    const roomId = `race-${Math.random().toString(36).slice(2, 8)}`;
    const streamer = await room(roomId);
    const created = await http(server, 'POST', `/api/rooms/${roomId}/coupons`, streamer, { id: 'FLASH5', amountOffCents: 500, minSpendCents: 2000, total: COUPONS });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.coupon).toMatchObject({ id: 'FLASH5', amountOffCents: 500, minSpendCents: 2000, total: COUPONS });
    expect((await http(server, 'PUT', `/api/rooms/${roomId}/coupons/pinned`, streamer, { couponId: 'FLASH5' })).status).toBe(200);

    const buyers = await Promise.all(Array.from({ length: BUYERS }, (_, i) => buyer(roomId, `b${i}`)));
    const watcher = buyers[0]!;
    expect((await watcher.coupons()).pinned).toMatchObject({ coupon: { id: 'FLASH5' }, left: COUPONS });

    // Every buyer taps twice at once (a double tap is two actions, two keys): 400 claims in one burst.
    const settled = await Promise.allSettled(buyers.flatMap((b) => [b.claimCoupon('FLASH5'), b.claimCoupon('FLASH5')]));
    const answers = settled.map((s) => {
      expect(s.status, s.status === 'rejected' ? String(s.reason) : '').toBe('fulfilled');
      return (s as PromiseFulfilledResult<ClaimCouponAnswer>).value;
    });
    expect(answers).toHaveLength(2 * BUYERS);
    const claimedBy = new Map<number, number>();
    answers.forEach((a, i) => {
      expect(['coupon_claimed', 'coupon_already_claimed', 'coupons_gone']).toContain(a.status);
      if (a.status === 'coupon_claimed') claimedBy.set(i >> 1, (claimedBy.get(i >> 1) ?? 0) + 1);
    });
    expect([...claimedBy.values()].reduce((n, c) => n + c, 0)).toBe(COUPONS);
    expect([...claimedBy.values()].every((c) => c === 1)).toBe(true);
    // A winner's other tap heard of the claim it holds; a loser heard "all claimed" twice.
    for (let b = 0; b < BUYERS; b++) {
      const pair = [answers[2 * b]!, answers[2 * b + 1]!];
      if (claimedBy.has(b)) {
        const other = pair.find((a) => a.status !== 'coupon_claimed')!;
        expect(other.status).toBe('coupon_already_claimed');
        expect(other.status === 'coupon_already_claimed' && other.claim.userId).toBe(`b${b}`);
      } else {
        expect(pair.map((a) => a.status)).toEqual(['coupons_gone', 'coupons_gone']);
      }
    }
    // Every claim went through the room's admission queue, as add-to-carts do.
    expect(server.admission!.knownRoomStats(roomId)!.admitted).toBeGreaterThanOrEqual(2 * BUYERS);
    // The terms come with every answer (the minimum spend among them).
    expect(answers.every((a) => a.coupon.minSpendCents === 2000)).toBe(true);

    // The room's card reaches 0 left, live, on every viewer's socket.
    await waitUntil(() => watcher.state.coupon?.left === 0, 5000, 'the card shows 0 left');
    const read = await http(server, 'GET', `/api/rooms/${roomId}/coupons`, streamer);
    expect(read.body.pinned).toMatchObject({ coupon: { id: 'FLASH5' }, left: 0 });
    expect(read.body.coupons).toHaveLength(1);

    // A winner buys: the discount is on the order; a second order pays full price.
    const winnerIndex = [...claimedBy.keys()][0]!;
    const winner = buyers[winnerIndex]!;
    expect((await winner.coupons()).claims).toEqual([expect.objectContaining({ couponId: 'FLASH5', userId: `b${winnerIndex}` })]);
    expect((await winner.addToCart('mug', 1)).status).toBe('reserved');
    const order = await winner.checkout({ couponId: 'FLASH5' });
    expect(order.status).toBe('ordered');
    expect(order.status === 'ordered' && order.order).toMatchObject({ subtotalCents: 2500, discountCents: 500, totalCents: 2000, couponId: 'FLASH5', lines: [{ sku: 'mug', quantity: 1, priceCents: 2500 }] });
    expect((await winner.addToCart('mug', 1)).status).toBe('reserved');
    const again = await winner.checkout();
    expect(again.status === 'ordered' && again.order).toMatchObject({ subtotalCents: 2500, discountCents: 0, totalCents: 2500 });
  }, 60_000);

  it('claims over HTTP through the same desk: a retried Idempotency-Key gets the first answer; typed errors for the rest', async () => {
    const roomId = `http-${Math.random().toString(36).slice(2, 8)}`;
    const streamer = await room(roomId);
    expect((await http(server, 'POST', `/api/rooms/${roomId}/coupons`, streamer, { id: 'TEN', percentOff: 10, total: 1 })).status).toBe(201);
    const viewer = await server.mintToken({ userId: 'h1', name: 'h1', role: 'viewer' });
    const other = await server.mintToken({ userId: 'h2', name: 'h2', role: 'viewer' });
    const claimWith = async (token: string, key: string, couponId = 'TEN') => {
      const response = await fetch(`${server.url}/api/rooms/${roomId}/coupons/${couponId}/claim`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'idempotency-key': key } });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const first = await claimWith(viewer, 'k-1');
    expect(first).toMatchObject({ status: 200, body: { status: 'coupon_claimed', left: 0, coupon: { id: 'TEN', percentOff: 10 } } });
    expect(await claimWith(other, 'k-1')).toMatchObject({ status: 200, body: { status: 'coupons_gone' } });
    expect(await claimWith(viewer, 'k-1')).toEqual(first);
    expect(await claimWith(viewer, 'k-2')).toMatchObject({ status: 200, body: { status: 'coupon_already_claimed', claim: first.body.claim } });
    expect(await claimWith(viewer, 'k-1', 'OTHER')).toMatchObject({ status: 422, body: { error: { name: 'IDEMPOTENCY_MISMATCH' } } });
    expect(await claimWith(viewer, 'k-3', 'NOPE')).toMatchObject({ status: 404, body: { error: { name: 'COUPON_NOT_FOUND' } } });
    expect(await claimWith(viewer, 'k-4', 'bad code!')).toMatchObject({ status: 400 });
    expect((await http(server, 'POST', `/api/rooms/${roomId}/coupons`, viewer, { id: 'MINE', percentOff: 10, total: 1 })).status).toBe(403);
    expect((await http(server, 'POST', `/api/rooms/${roomId}/coupons`, streamer, { id: 'BOTH', percentOff: 10, amountOffCents: 5, total: 1 })).status).toBe(400);
    expect((await http(server, 'POST', `/api/rooms/${roomId}/coupons`, streamer, { id: 'TEN', percentOff: 10, total: 1 })).status).toBe(409);
    // The viewer's checkout over HTTP: the best claimed coupon applies by itself.
    expect((await http(server, 'POST', `/api/rooms/${roomId}/cart/items`, viewer, { sku: 'mug', quantity: 3, key: 'add-1' })).body.status).toBe('reserved');
    const checkout = await http(server, 'POST', `/api/rooms/${roomId}/checkout`, viewer, { key: 'co-1' });
    expect(checkout.body).toMatchObject({ status: 'ordered', order: { subtotalCents: 7500, discountCents: 750, totalCents: 6750, couponId: 'TEN' } });
  }, 30_000);
}, 90_000);

describe('coupons on two nodes sharing one Redis', () => {
  let nodes: RunningServer[] = [];
  const clients: LivecartClient[] = [];
  beforeAll(async () => {
    const prefix = uniquePrefix('coupons-2n');
    nodes = await Promise.all([0, 1].map(() => startTestServer({ redis: REDIS_URL, redisPrefix: prefix })));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('200 buyers over two nodes race for 50: exactly 50 claimed, one per buyer; both nodes\' viewers see none left', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const roomId = `two-${Math.random().toString(36).slice(2, 8)}`;
    const streamer = await a.mintToken({ userId: `s-${roomId}`, name: 'S', role: 'streamer' });
    expect((await http(a, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId })).status).toBe(201);
    expect((await http(a, 'POST', `/api/rooms/${roomId}/coupons`, streamer, { id: 'DUO', percentOff: 20, total: COUPONS })).status).toBe(201);
    expect((await http(b, 'PUT', `/api/rooms/${roomId}/coupons/pinned`, streamer, { couponId: 'DUO' })).status).toBe(200);
    const buyers = await Promise.all(Array.from({ length: BUYERS }, async (_, i) => {
      const node = i % 2 === 0 ? a : b;
      const token = await node.mintToken({ userId: `d${i}`, name: `d${i}`, role: 'viewer' });
      const client = connect({ url: node.wsUrl, token, room: roomId, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 200 } });
      clients.push(client);
      await client.ready;
      return client;
    }));
    const answers = await Promise.all(buyers.map((client) => client.claimCoupon('DUO')));
    expect(answers.filter((x) => x.status === 'coupon_claimed')).toHaveLength(COUPONS);
    expect(answers.filter((x) => x.status === 'coupons_gone')).toHaveLength(BUYERS - COUPONS);
    expect(new Set(answers.flatMap((x) => (x.status === 'coupon_claimed' ? [x.claim.userId] : []))).size).toBe(COUPONS);
    await waitUntil(() => buyers[0]!.state.coupon?.left === 0 && buyers[1]!.state.coupon?.left === 0, 5000, 'both nodes\' viewers see 0 left');
  }, 60_000);
});
