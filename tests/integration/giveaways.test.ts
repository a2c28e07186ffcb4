/**
 * Giveaways end to end over the real server and the SDK: 300 viewers enter within the window (some
 * tap twice, some on two sockets, on two nodes over Redis), the entrants count is exactly the
 * distinct users, the draw served as draw.json passes scripts/verify-giveaway.mjs and fails it with
 * one entrant removed, winners hold the prize as an order of total 0 and are told, the prize's stock
 * is what limits the prizes, a buyers-only giveaway turns away a non-buyer, entries after the end
 * are closed; cancel, end and HTTP. On memory (one node) and on two nodes sharing one Redis.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type EnterGiveawayAnswer, type GiveawayCard, type GiveawayWonEvent, type LivecartClient } from '../../client/src/index.ts';
import type { ConfigInput } from '../../server/src/config.ts';
import { entrantIdOf } from '../../server/src/giveaways/draw.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, startTestServer } from '../helpers/server.ts';

const VIEWERS = 300;
const WINNERS = 5;
const WINDOW_MS = 6000;

/** Exit code of `node scripts/verify-giveaway.mjs <file>` and what it printed. */
function verify(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/verify-giveaway.mjs', file], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr });
    });
  });
}

describe.each<[string, number, () => ConfigInput]>([
  ['memory, one node', 1, () => ({})],
  ['two nodes sharing one Redis', 2, () => ({ redis: REDIS_URL, redisPrefix: uniquePrefix('giveaways-it') })],
])('giveaways (%s)', (_name, nodeCount, config) => {
  let nodes: RunningServer[] = [];
  const clients: LivecartClient[] = [];
  let dir: string;
  beforeAll(async () => {
    const shared = config();
    nodes = await Promise.all(Array.from({ length: nodeCount }, () => startTestServer(shared)));
    dir = await mkdtemp(join(tmpdir(), 'giveaway-'));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => node.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const node = (i: number) => nodes[i % nodes.length]!;

  async function room(id: string, prizeStock: number) {
    const streamer = await node(0).mintToken({ userId: `s-${id}`, name: 'S', role: 'streamer' });
    expect((await http(node(0), 'POST', '/api/rooms', streamer, { title: id, id })).status).toBe(201);
    expect((await http(node(0), 'POST', `/api/rooms/${id}/products`, streamer, { sku: 'tote', title: 'Tote', priceCents: 1500, currency: 'USD', stock: prizeStock })).status).toBe(201);
    expect((await http(node(0), 'POST', `/api/rooms/${id}/products`, streamer, { sku: 'mug', title: 'Mug', priceCents: 900, currency: 'USD', stock: 100 })).status).toBe(201);
    expect((await http(node(0), 'POST', `/api/rooms/${id}/start`, streamer)).status).toBe(200);
    return streamer;
  }

  async function viewer(roomId: string, userId: string, onNode: number, role: 'viewer' | 'streamer' = 'viewer'): Promise<LivecartClient> {
    const token = await node(onNode).mintToken({ userId, name: `Name of ${userId}`, role });
    const client = connect({ url: node(onNode).wsUrl, token, room: roomId, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 200 } });
    clients.push(client);
    await client.ready;
    return client;
  }

  it('300 SDK viewers enter (double taps, second sockets, both nodes): counted once each, a draw anyone can verify, prizes as zero-total orders, closed after the end', async () => {
    const roomId = `g-${Math.random().toString(36).slice(2, 8)}`;
    await room(roomId, 100);
    const host = await viewer(roomId, `s-${roomId}`, 0, 'streamer');
    const users = Array.from({ length: VIEWERS }, (_, i) => `u${i}`);
    const sockets = await Promise.all(users.map((userId, i) => viewer(roomId, userId, i)));
    // Every tenth user has a second socket, on the other node when there are two.
    const seconds = await Promise.all(users.filter((_, i) => i % 10 === 0).map((userId, j) => viewer(roomId, userId, j * 10 + 1)));
    const won: Array<{ userId: string; event: GiveawayWonEvent }> = [];
    sockets.forEach((client, i) => client.on('giveawayWon', (event) => won.push({ userId: users[i]!, event })));
    const watcher = sockets[1]!;

    const opened = await host.openGiveaway({ id: 'tote-day', sku: 'tote', winners: WINNERS, durationMs: WINDOW_MS });
    expect(opened).toMatchObject({ id: 'tote-day', status: 'open', entrants: 0, winnersWanted: WINNERS, eligibility: 'present' });
    expect(opened.commitment).toMatch(/^[0-9a-f]{64}$/);
    await waitUntil(() => watcher.state.giveaway?.id === 'tote-day', 5000, 'the opened giveaway reaches the room');
    expect(watcher.state.giveaway!.commitment).toBe(opened.commitment);

    // Every user enters; every seventh taps twice at once (two actions, two keys); second sockets enter too.
    const taps: Array<Promise<EnterGiveawayAnswer>> = [];
    sockets.forEach((client, i) => {
      taps.push(client.enterGiveaway('tote-day', { showName: i % 2 === 0 }));
      if (i % 7 === 0) taps.push(client.enterGiveaway('tote-day', { showName: i % 2 === 0 }));
    });
    // A user's choice to show their name is the same on each of their sockets (the first entry to arrive keeps it).
    seconds.forEach((client, j) => taps.push(client.enterGiveaway('tote-day', { showName: (j * 10) % 2 === 0 })));
    const answers = await Promise.all(taps);
    expect(answers.every((a) => a.status === 'entered' || a.status === 'already_entered'), JSON.stringify(answers.find((a) => a.status !== 'entered' && a.status !== 'already_entered'))).toBe(true);
    expect(answers.filter((a) => a.status === 'entered')).toHaveLength(VIEWERS);
    expect(answers.filter((a) => a.status === 'already_entered')).toHaveLength(taps.length - VIEWERS);
    const counts = answers.flatMap((a) => (a.status === 'entered' ? [a.entrants] : []));
    expect(new Set(counts).size).toBe(VIEWERS);
    expect(Math.max(...counts)).toBe(VIEWERS);
    // Entries went through the room's admission queue, as add-to-carts do.
    const admitted = nodes.reduce((n, s) => n + (s.admission!.knownRoomStats(roomId)?.admitted ?? 0), 0);
    expect(admitted).toBeGreaterThanOrEqual(taps.length);
    // The room hears the count, paced, up to the exact number.
    await waitUntil(() => watcher.state.giveaway?.entrants === VIEWERS, 5000, 'the room hears 300 entrants');

    // The node that opened it draws at the end; everyone hears the result.
    await waitUntil(() => watcher.state.giveaway?.status === 'drawn', WINDOW_MS + 10_000, 'the draw reaches the room', 50);
    const card = watcher.state.giveaway as GiveawayCard;
    const result = card.result!;
    expect(card.entrants).toBe(VIEWERS);
    expect(result.entrantsCount).toBe(VIEWERS);
    expect(result.winners).toHaveLength(WINNERS);
    expect(result.prizeShort).toBeUndefined();
    expect(result.drawUrl).toBe(`/api/rooms/${roomId}/giveaways/tote-day/draw.json`);

    // The published data: the script reproduces the winners; one entrant removed, it fails.
    const served = await fetch(`${node(1).url}${result.drawUrl}`);
    expect(served.status).toBe(200);
    const draw = (await served.json()) as { entrants: string[]; entrantsCount: number; winners: string[]; seed: string; salt: string; commitment: string };
    expect(draw.seed).toBe(result.seed);
    expect(draw.commitment).toBe(opened.commitment);
    expect(draw.entrants).toHaveLength(VIEWERS);
    expect(new Set(draw.entrants)).toEqual(new Set(users.map((u) => entrantIdOf(opened.salt, u))));
    expect(draw.winners).toEqual(result.winners.map((w) => w.entrantId));
    const file = join(dir, `${roomId}.json`);
    await writeFile(file, JSON.stringify(draw));
    const ok = await verify(file);
    expect(ok.code, ok.output).toBe(0);
    for (const winner of draw.winners) expect(ok.output).toContain(winner);
    const loser = draw.entrants.find((id) => !draw.winners.includes(id))!;
    const forged = join(dir, `${roomId}-forged.json`);
    await writeFile(forged, JSON.stringify({ ...draw, entrants: draw.entrants.filter((id) => id !== loser), entrantsCount: VIEWERS - 1 }));
    const failed = await verify(forged);
    expect(failed.code, failed.output).toBe(1);
    expect(failed.output).toContain('FAILED');

    // Winners: named when they chose it, told on their sockets, holding the prize as an order of total 0.
    const winnerIds = users.filter((u) => draw.winners.includes(entrantIdOf(opened.salt, u)));
    expect(winnerIds).toHaveLength(WINNERS);
    for (const w of result.winners) {
      const userId = winnerIds.find((u) => entrantIdOf(opened.salt, u) === w.entrantId)!;
      const shows = Number(userId.slice(1)) % 2 === 0;
      expect(w.name).toBe(shows ? `Name of ${userId}` : undefined);
    }
    await waitUntil(() => won.length === WINNERS, 5000, 'every winner is told');
    expect(won.map((w) => w.userId).sort()).toEqual([...winnerIds].sort());
    for (const { userId, event } of won) {
      expect(event).toMatchObject({ giveawayId: 'tote-day', sku: 'tote', orderId: expect.any(String) });
      const token = await node(0).mintToken({ userId, name: userId, role: 'viewer' });
      const mine = await http(node(1), 'GET', '/api/me/orders', token);
      const prize = (mine.body.orders as Array<Record<string, any>>).find((o) => o.id === event.orderId);
      expect(prize).toMatchObject({ roomId, userId, totalCents: 0, lines: [{ sku: 'tote', quantity: 1, priceCents: 0, listPriceCents: 1500 }] });
    }
    // The prizes came out of the tote's stock.
    const stock = await node(0).store.stock(roomId, 'tote');
    expect(stock).toMatchObject({ available: 100 - WINNERS, sold: WINNERS });

    // After the end: closed to newcomers, on both nodes; an entrant's entry still stands; the result stays.
    const newcomers = await Promise.all([viewer(roomId, 'late-0', 0), viewer(roomId, 'late-1', 1)]);
    const late = await Promise.all([...newcomers.map((client) => client.enterGiveaway('tote-day')), sockets[2]!.enterGiveaway('tote-day'), sockets[3]!.enterGiveaway('tote-day')]);
    expect(late).toEqual([
      { status: 'giveaway_closed', giveawayId: 'tote-day' }, { status: 'giveaway_closed', giveawayId: 'tote-day' },
      { status: 'already_entered', giveawayId: 'tote-day', entrants: VIEWERS }, { status: 'already_entered', giveawayId: 'tote-day', entrants: VIEWERS },
    ]);
    expect(await sockets[4]!.getGiveaway('tote-day')).toMatchObject({ status: 'drawn', result: { seed: result.seed } });
    expect((await sockets[4]!.enterGiveaway('nope')).status).toBe('no_giveaway');
  }, 90_000);

  it('a buyers-only giveaway turns away a non-buyer; the prize\'s stock limits the prizes; end early, cancel and HTTP', async () => {
    const roomId = `b-${Math.random().toString(36).slice(2, 8)}`;
    const streamer = await room(roomId, 1);
    const host = await viewer(roomId, `s-${roomId}`, 0, 'streamer');
    const buyerA = await viewer(roomId, 'buyer-a', 0);
    const buyerB = await viewer(roomId, 'buyer-b', 1);
    const browser = await viewer(roomId, 'browser', 1);
    for (const buyer of [buyerA, buyerB]) {
      expect((await buyer.addToCart('mug', 1)).status).toBe('reserved');
      expect((await buyer.checkout()).status).toBe('ordered');
    }
    // Viewers may not open one; followers are not available; the prize must be a product of the room.
    await expect(buyerA.openGiveaway({ id: 'x', sku: 'tote', winners: 1, durationMs: 5000 })).rejects.toMatchObject({ name: 'FORBIDDEN' });
    await expect(host.openGiveaway({ id: 'x', sku: 'tote', winners: 1, durationMs: 5000, eligibility: 'followers' })).rejects.toMatchObject({ name: 'BAD_REQUEST' });
    await expect(host.openGiveaway({ id: 'x', sku: 'nothing', winners: 1, durationMs: 5000 })).rejects.toMatchObject({ name: 'PRODUCT_NOT_FOUND' });

    await host.openGiveaway({ id: 'buyers', sku: 'tote', winners: 2, durationMs: 60_000, eligibility: 'buyers' });
    await expect(host.openGiveaway({ id: 'other', sku: 'tote', winners: 1, durationMs: 5000 })).rejects.toMatchObject({ name: 'GIVEAWAY_BUSY' });
    expect(await browser.enterGiveaway('buyers')).toEqual({ status: 'not_eligible', giveawayId: 'buyers', eligibility: 'buyers' });
    expect(await buyerA.enterGiveaway('buyers')).toMatchObject({ status: 'entered', entrants: 1 });
    // Over HTTP through the same desk: a buyer's entry counts once whatever the key.
    const buyerBToken = await node(1).mintToken({ userId: 'buyer-b', name: 'B', role: 'viewer' });
    const enter = (token: string, key: string, giveawayId = 'buyers') => fetch(`${node(1).url}/api/rooms/${roomId}/giveaways/${giveawayId}/enter`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'idempotency-key': key } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    expect(await enter(buyerBToken, 'k1')).toMatchObject({ status: 200, body: { status: 'entered', entrants: 2 } });
    expect(await enter(buyerBToken, 'k2')).toMatchObject({ status: 200, body: { status: 'already_entered', entrants: 2 } });
    expect(await enter(buyerBToken, 'k3', 'bad id!')).toMatchObject({ status: 400 });

    // Ended early: two winners, one tote: one prize, and the result says who got none.
    const ended = await host.endGiveaway('buyers');
    expect(ended).toMatchObject({ status: 'drawn', entrants: 2, result: { entrantsCount: 2 } });
    expect(ended.result!.winners).toHaveLength(2);
    expect(ended.result!.prizeShort).toHaveLength(1);
    // After the close an entry's answer stands: a retry of its key gets exactly its first answer, an
    // entrant's new key already_entered; only a user who had not entered hears giveaway_closed.
    expect(await enter(buyerBToken, 'k1')).toMatchObject({ status: 200, body: { status: 'entered', giveawayId: 'buyers', entrants: 2 } });
    expect(await enter(buyerBToken, 'k2')).toMatchObject({ status: 200, body: { status: 'already_entered', entrants: 2 } });
    expect(await buyerA.enterGiveaway('buyers')).toEqual({ status: 'already_entered', giveawayId: 'buyers', entrants: 2 });
    expect(await node(0).store.stock(roomId, 'tote')).toMatchObject({ available: 0, sold: 1 });
    // Ending it again answers the same draw; cancelling it is too late.
    expect((await host.endGiveaway('buyers')).result).toEqual(ended.result);
    await expect(host.cancelGiveaway('buyers')).rejects.toMatchObject({ name: 'GIVEAWAY_OVER' });

    // A present-only giveaway over HTTP: not in the room, not eligible. Cancelled: no draw to serve.
    const opened = await http(node(1), 'POST', `/api/rooms/${roomId}/giveaways`, streamer, { id: 'present', sku: 'tote', winners: 1, durationMs: 60_000 });
    expect(opened).toMatchObject({ status: 201, body: { giveaway: { id: 'present', eligibility: 'present', status: 'open' } } });
    expect(await enter(buyerBToken, 'k4', 'present')).toMatchObject({ status: 200, body: { status: 'not_eligible', eligibility: 'present' } });
    expect(await browser.enterGiveaway('present')).toMatchObject({ status: 'entered' });
    const cancelled = await http(node(0), 'POST', `/api/rooms/${roomId}/giveaways/present/cancel`, streamer);
    expect(cancelled).toMatchObject({ status: 200, body: { giveaway: { status: 'cancelled', entrants: 1 } } });
    await waitUntil(() => browser.state.giveaway?.status === 'cancelled', 5000, 'the room hears the cancel');
    expect(await browser.enterGiveaway('present')).toMatchObject({ status: 'already_entered', entrants: 1 });
    expect(await buyerB.enterGiveaway('present')).toMatchObject({ status: 'giveaway_closed' });
    expect((await http(node(1), 'GET', `/api/rooms/${roomId}/giveaways/present/draw.json`)).status).toBe(404);
    expect(await http(node(1), 'POST', `/api/rooms/${roomId}/giveaways/present/end`, streamer)).toMatchObject({ status: 409, body: { error: { name: 'GIVEAWAY_OVER' } } });
    expect(await http(node(1), 'GET', `/api/rooms/${roomId}/giveaways/present`, buyerBToken)).toMatchObject({ status: 200, body: { giveaway: { status: 'cancelled' } } });
    expect((await http(node(1), 'GET', `/api/rooms/${roomId}/giveaways/buyers/draw.json`)).body).toMatchObject({ format: 'livecart-giveaway/1', entrantsCount: 2 });
  }, 60_000);
});

describe('giveaways: the node that opened one is gone at its end', () => {
  const clients: LivecartClient[] = [];
  let nodes: RunningServer[] = [];
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('another node closes and draws it when it meets it past its end, once; the winner still gets the prize', async () => {
    const shared = { redis: REDIS_URL, redisPrefix: uniquePrefix('giveaways-gone') };
    nodes = await Promise.all([startTestServer(shared), startTestServer(shared)]);
    const [opener, survivor] = nodes as [RunningServer, RunningServer];
    const roomId = `gone-${Math.random().toString(36).slice(2, 8)}`;
    const streamer = await opener.mintToken({ userId: `s-${roomId}`, name: 'S', role: 'streamer' });
    expect((await http(opener, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId })).status).toBe(201);
    expect((await http(opener, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'tote', title: 'Tote', priceCents: 1500, currency: 'USD', stock: 5 })).status).toBe(201);
    expect((await http(opener, 'POST', `/api/rooms/${roomId}/start`, streamer)).status).toBe(200);
    const viewers = await Promise.all(['v1', 'v2', 'v3'].map(async (userId) => {
      const client = connect({ url: survivor.wsUrl, token: await survivor.mintToken({ userId, name: userId, role: 'viewer' }), room: roomId, reconnect: { baseMs: 20, maxMs: 50 } });
      clients.push(client);
      await client.ready;
      return client;
    }));
    const opened = await http(opener, 'POST', `/api/rooms/${roomId}/giveaways`, streamer, { id: 'g', sku: 'tote', winners: 1, durationMs: 5000 });
    expect(opened.status).toBe(201);
    expect((await Promise.all(viewers.map((v) => v.enterGiveaway('g')))).map((a) => a.status)).toEqual(['entered', 'entered', 'entered']);
    const won: GiveawayWonEvent[] = [];
    for (const v of viewers) v.on('giveawayWon', (event) => won.push(event));
    await opener.close();
    nodes = [survivor];
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (opened.body.giveaway.closesAt as number) - Date.now() + 50)));
    // A late tap on the surviving node (an entrant's: its entry stands) finds it over and closes it; the room hears the draw.
    expect((await viewers[0]!.enterGiveaway('g')).status).toBe('already_entered');
    await waitUntil(() => viewers[1]!.state.giveaway?.status === 'drawn', 10_000, 'the surviving node draws');
    const again = await Promise.all(viewers.map((v) => v.getGiveaway('g')));
    expect(new Set(again.map((card) => JSON.stringify(card!.result)))).toEqual(new Set([JSON.stringify(viewers[1]!.state.giveaway!.result)]));
    await waitUntil(() => won.length === 1, 5000, 'the winner is told');
    expect(await survivor.store.stock(roomId, 'tote')).toMatchObject({ available: 4, sold: 1 });
  }, 60_000);
});
