/**
 * The pinned coupon card in `welcome`, on two nodes sharing Redis: a viewer joining on another node
 * than the pin's sees the card (with its live "left") at once, in a resume too; and after a re-pin
 * the card another node still announces for a moment (its news of the old pin) never replaces the
 * newer card on any viewer: every viewer, and every welcome, converges on the newest pin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';

describe('the pinned coupon card in welcome (two nodes, Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  const clients: LivecartClient[] = [];
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('coupon-welcome');
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20, maxFramesPerSecond: 10_000 });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20, maxFramesPerSecond: 10_000 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await a?.close();
    await b?.close();
  });

  const token = (server: RunningServer, userId: string) => server.mintToken({ userId, name: userId, role: 'viewer' });
  const claim = (server: RunningServer, roomId: string, userId: string, couponId: string) =>
    token(server, userId).then((t) => http(server, 'POST', `/api/rooms/${roomId}/coupons/${couponId}/claim`, t, { key: `claim-${userId}` }));
  async function viewer(server: RunningServer, roomId: string, userId: string): Promise<LivecartClient> {
    const client = connect({ url: server.wsUrl, token: await token(server, userId), room: roomId, reconnect: { baseMs: 20, maxMs: 50 } });
    clients.push(client);
    await client.ready;
    return client;
  }

  it('a viewer joining on the other node sees the pinned card and its live left in welcome, and in a resume', async () => {
    const streamer = await saleRoom(a, 'welcome-card', 10);
    expect((await http(a, 'POST', '/api/rooms/welcome-card/coupons', streamer, { id: 'HELLO', amountOffCents: 200, total: 5 })).status).toBe(201);
    // Node b does not host the room yet: its first viewer's welcome is built from the store.
    const { client: empty, welcome: first } = await RawClient.join(b.wsUrl, await token(b, 'wc-early'), 'welcome-card');
    expect(first.t === 'welcome' && first.coupon).toEqual({ card: null, version: 0 });
    expect((await http(a, 'PUT', '/api/rooms/welcome-card/coupons/pinned', streamer, { couponId: 'HELLO' })).status).toBe(200);
    // Node b now hosts it: it heard the pin, and a viewer joining there has the card in welcome.
    await empty.waitFor((m) => m.t === 'coupon' && m.card?.coupon.id === 'HELLO');
    const { client: joined, welcome } = await RawClient.join(b.wsUrl, await token(b, 'wc-late'), 'welcome-card');
    expect(welcome.t === 'welcome' && welcome.coupon).toMatchObject({ card: { coupon: { id: 'HELLO', amountOffCents: 200 }, left: 5 }, version: 1 });
    // Claims on node a: node b's welcome shows what is left once the card's news is out.
    for (const user of ['wc-1', 'wc-2']) expect((await claim(a, 'welcome-card', user, 'HELLO')).body.status).toBe('coupon_claimed');
    await joined.waitFor((m) => m.t === 'coupon' && m.card?.left === 3);
    const { welcome: after } = await RawClient.join(b.wsUrl, await token(b, 'wc-after'), 'welcome-card');
    expect(after.t === 'welcome' && after.coupon).toMatchObject({ card: { coupon: { id: 'HELLO' }, left: 3 }, version: 1 });
    // A resume's welcome carries it too; the SDK's state has it without asking (no getCoupons).
    const resume = after.t === 'welcome' ? { seq: after.seq, epoch: after.epoch } : undefined;
    const { welcome: resumed } = await RawClient.join(b.wsUrl, await token(b, 'wc-after'), 'welcome-card', resume);
    expect(resumed.t === 'welcome' && [resumed.resumed, resumed.coupon.card?.left]).toEqual([true, 3]);
    const sdk = await viewer(b, 'welcome-card', 'wc-sdk');
    expect(sdk.state).toMatchObject({ coupon: { coupon: { id: 'HELLO' }, left: 3 }, couponVersion: 1 });
    for (const client of [empty, joined]) client.close();
  });

  it('after a re-pin, the old card another node still announces never replaces the newer one; every viewer and welcome ends on the newest', async () => {
    const streamer = await saleRoom(a, 'repin-card', 10);
    for (const id of ['OLD', 'NEW', 'NEWER']) expect((await http(a, 'POST', '/api/rooms/repin-card/coupons', streamer, { id, amountOffCents: 100, total: 50 })).status).toBe(201);
    const onA = await viewer(a, 'repin-card', 'rp-a');
    const onB = await viewer(b, 'repin-card', 'rp-b');
    const { client: raw } = await RawClient.join(b.wsUrl, await token(b, 'rp-raw'), 'repin-card');
    // Pinned on node b, claimed there: node b keeps news of the OLD card.
    expect((await http(b, 'PUT', '/api/rooms/repin-card/coupons/pinned', streamer, { couponId: 'OLD' })).status).toBe(200);
    expect((await claim(b, 'repin-card', 'rp-1', 'OLD')).body.status).toBe('coupon_claimed');
    await waitUntil(() => onA.state.coupon?.left === 49, 5000, 'the OLD card counts down');
    // Re-pinned on node a; node b's next news of OLD (a claim there) still carries the old pin.
    expect((await http(a, 'PUT', '/api/rooms/repin-card/coupons/pinned', streamer, { couponId: 'NEW' })).status).toBe(200);
    await waitUntil(() => onA.state.coupon?.coupon.id === 'NEW' && onB.state.coupon?.coupon.id === 'NEW', 5000, 'NEW everywhere');
    expect((await claim(b, 'repin-card', 'rp-2', 'OLD')).body.status).toBe('coupon_claimed');
    const stale = await raw.waitFor((m) => m.t === 'coupon' && m.card?.coupon.id === 'OLD' && m.card.left === 48);
    expect(stale.t === 'coupon' && stale.version).toBe(1);
    // The stale card came after NEW in the room's order, and changed nothing.
    await waitUntil(() => onB.state.lastSeq >= (stale.t === 'coupon' ? stale.seq : 0) && onA.state.lastSeq >= (stale.t === 'coupon' ? stale.seq : 0), 5000, 'the stale card delivered');
    for (const client of [onA, onB]) expect(client.state).toMatchObject({ coupon: { coupon: { id: 'NEW' }, left: 50 }, couponVersion: 2 });
    for (const server of [a, b]) {
      const { client, welcome } = await RawClient.join(server.wsUrl, await token(server, `rp-late-${server === a ? 'a' : 'b'}`), 'repin-card');
      expect(welcome.t === 'welcome' && welcome.coupon).toMatchObject({ card: { coupon: { id: 'NEW' } }, version: 2 });
      client.close();
    }

    // Two re-pins racing from both nodes: every viewer and every welcome converges on the pin with the highest version.
    await Promise.all([
      http(a, 'PUT', '/api/rooms/repin-card/coupons/pinned', streamer, { couponId: 'NEWER' }),
      http(b, 'PUT', '/api/rooms/repin-card/coupons/pinned', streamer, { couponId: 'OLD' }),
      claim(b, 'repin-card', 'rp-3', 'OLD'),
    ]);
    const newest = await a.store.pinnedCoupon('repin-card');
    expect(newest.version).toBe(4);
    await waitUntil(() => [onA, onB].every((c) => c.state.couponVersion === 4 && c.state.coupon?.coupon.id === newest.card?.coupon.id), 5000, 'the newest pin everywhere');
    for (const server of [a, b]) {
      const { client, welcome } = await RawClient.join(server.wsUrl, await token(server, `rp-last-${server === a ? 'a' : 'b'}`), 'repin-card');
      expect(welcome.t === 'welcome' && welcome.coupon).toMatchObject({ card: { coupon: { id: newest.card?.coupon.id } }, version: 4 });
      client.close();
    }
    raw.close();
  });
});
