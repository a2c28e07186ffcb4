/**
 * Auctions end to end on one node with the memory store, through the SDK: every answer a bid can
 * get (too_low with the lowest bid, leading, outbid with the price, not_allowed for the streamer and
 * an unknown auction, ended), the room's card and the end announced once, the winner's cart line at
 * the winning price, a moderator's bid history, bids over HTTP with an idempotent retry, and an
 * auction settled by its timer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuctionEndedEvent, type AuctionWonEvent, connect, type LivecartClient, LivecartError } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { http, startTestServer } from '../helpers/server.ts';

const SCHEDULE = [{ belowCents: 5000, stepCents: 100 }, { stepCents: 500 }];

describe('auctions (memory store)', () => {
  let server: RunningServer;
  const clients: LivecartClient[] = [];
  beforeAll(async () => {
    server = await startTestServer({ auctionSettleGraceMs: 100, stockIntervalMs: 50 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close();
  });

  async function join(roomId: string, userId: string, role: 'viewer' | 'streamer', name = userId): Promise<{ client: LivecartClient; token: string }> {
    const token = await server.mintToken({ userId, name, role });
    const client = connect({ url: server.wsUrl, token, room: roomId, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 200 } });
    clients.push(client);
    await client.ready;
    return { client, token };
  }

  async function room(roomId: string): Promise<string> {
    const streamer = await server.mintToken({ userId: `s-${roomId}`, name: 'S', role: 'streamer' });
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId })).status).toBe(201);
    expect((await http(server, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'vase', title: 'Vase', priceCents: 9900, currency: 'USD', stock: 3 })).status).toBe(201);
    expect((await http(server, 'POST', `/api/rooms/${roomId}/start`, streamer)).status).toBe(200);
    return streamer;
  }

  it('answers every bid definitely, shows the room the card and the end once, and puts the product in the winner\'s cart at the winning price', async () => {
    const roomId = `auc-${Math.random().toString(36).slice(2, 8)}`;
    await room(roomId);
    const { client: seller } = await join(roomId, `s-${roomId}`, 'streamer', 'S');
    const { client: ann } = await join(roomId, 'ann', 'viewer', 'Ann');
    const { client: bo, token: boToken } = await join(roomId, 'bo', 'viewer', 'Bo');
    const { client: watcher, token: watcherToken } = await join(roomId, 'watcher', 'viewer');
    const ended: AuctionEndedEvent[] = [];
    watcher.on('auctionEnded', (event) => ended.push(event));
    const won: AuctionWonEvent[] = [];
    bo.on('auctionWon', (event) => won.push(event));

    // A viewer may not start one; the product must be the room's.
    await expect(ann.startAuction({ id: 'lot1', sku: 'vase', startPriceCents: 1000, increments: SCHEDULE, durationMs: 60_000, ending: { kind: 'extend', windowMs: 10_000 } })).rejects.toMatchObject({ name: 'FORBIDDEN' });
    await expect(seller.startAuction({ id: 'lot1', sku: 'nope', startPriceCents: 1000, increments: SCHEDULE, durationMs: 60_000, ending: { kind: 'sudden_death' } })).rejects.toMatchObject({ name: 'PRODUCT_NOT_FOUND' });
    const { auction: started } = await seller.startAuction({ id: 'lot1', sku: 'vase', startPriceCents: 1000, increments: SCHEDULE, durationMs: 60_000, ending: { kind: 'extend', windowMs: 10_000 } });
    expect(started).toMatchObject({ id: 'lot1', status: 'open', priceCents: 1000, minNextCents: 1000, leader: null, bids: 0, seq: 0 });
    await expect(seller.startAuction({ id: 'lot2', sku: 'vase', startPriceCents: 1000, increments: SCHEDULE, durationMs: 60_000, ending: { kind: 'sudden_death' } })).rejects.toMatchObject({ name: 'AUCTION_BUSY' });
    await waitUntil(() => watcher.state.auction?.id === 'lot1', 3000, 'the card at the start');

    expect(await ann.bid('lot1', 900)).toEqual({ status: 'too_low', auctionId: 'lot1', priceCents: 1000, minNextCents: 1000, endsAt: started.endsAt, seq: 1 });
    expect(await ann.bid('lot1', 3000, { max: true })).toEqual({ status: 'leading', auctionId: 'lot1', priceCents: 1000, maxCents: 3000, endsAt: started.endsAt, seq: 2 });
    // Ann's proxy answers Bo at once: the price moves to one step above his bid.
    expect(await bo.bid('lot1', 1500)).toEqual({ status: 'outbid', auctionId: 'lot1', priceCents: 1600, minNextCents: 1700, endsAt: started.endsAt, seq: 3 });
    expect(await bo.bid('lot1', 1650)).toMatchObject({ status: 'too_low', minNextCents: 1700 });
    expect(await seller.bid('lot1', 5000)).toEqual({ status: 'not_allowed', auctionId: 'lot1', reason: 'seller', seq: 5 });
    expect(await bo.bid('nope', 5000)).toEqual({ status: 'not_allowed', auctionId: 'nope', reason: 'unknown_auction' });
    expect(await bo.bid('lot1', 4000, { max: true })).toMatchObject({ status: 'leading', priceCents: 3100, maxCents: 4000 });
    // The room's card: the price and the leader's name (never a maximum).
    await waitUntil(() => watcher.state.auction?.priceCents === 3100, 3000, 'the card after the bids');
    expect(watcher.state.auction).toMatchObject({ leader: 'Bo', minNextCents: 3200, bids: 3, status: 'open' });
    expect(JSON.stringify(watcher.state.auction)).not.toContain('4000');
    // A viewer joining now gets the card in the welcome.
    const { client: late } = await join(roomId, 'late', 'viewer');
    expect(late.state.auction).toMatchObject({ id: 'lot1', priceCents: 3100, leader: 'Bo' });

    // Over HTTP: the same desk; a retry with the key gets the first answer.
    const headers = { authorization: `Bearer ${watcherToken}`, 'content-type': 'application/json', 'idempotency-key': 'tap-1' };
    const viaHttp = async () => (await fetch(`${server.url}/api/rooms/${roomId}/auctions/lot1/bids`, { method: 'POST', headers, body: JSON.stringify({ amountCents: 3500 }) })).json();
    const first = await viaHttp();
    expect(first).toMatchObject({ status: 'outbid', priceCents: 3600 });
    expect(await viaHttp()).toEqual(first);
    const reused = await fetch(`${server.url}/api/rooms/${roomId}/auctions/lot1/bids`, { method: 'POST', headers, body: JSON.stringify({ amountCents: 3700 }) });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ error: { name: 'IDEMPOTENCY_MISMATCH' } });

    // The history is the streamer's; a viewer sees the card only.
    const history = await http(server, 'GET', `/api/rooms/${roomId}/auctions/lot1`, await server.mintToken({ userId: `s-${roomId}`, name: 'S', role: 'streamer' }));
    expect(history.status).toBe(200);
    expect(history.body.history.map((r: { userId: string; priceCents: number; leaderId: string }) => [r.userId, r.priceCents, r.leaderId])).toEqual([['ann', 1000, 'ann'], ['bo', 1600, 'ann'], ['bo', 3100, 'bo'], ['watcher', 3600, 'bo']]);
    const asViewer = await http(server, 'GET', `/api/rooms/${roomId}/auctions/lot1`, boToken);
    expect(asViewer.body.history).toBeUndefined();
    expect(asViewer.body.auction).toMatchObject({ priceCents: 3600, leader: 'Bo' });

    // Ended early by the streamer: the leader wins at the current price; the end is announced once.
    const { auction: closed } = await seller.endAuction('lot1');
    expect(closed).toMatchObject({ status: 'ended', priceCents: 3600, leader: 'Bo' });
    await waitUntil(() => ended.length > 0 && won.length > 0, 3000, 'the end and the win');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ outcome: 'sold', winner: 'Bo', priceCents: 3600, auction: { id: 'lot1', status: 'ended' } });
    expect(won[0]).toMatchObject({ auctionId: 'lot1', sku: 'vase', priceCents: 3600, held: true });
    expect(await ann.bid('lot1', 9000)).toMatchObject({ status: 'ended', auctionId: 'lot1', priceCents: 3600 });
    await expect(seller.endAuction('lot1')).rejects.toMatchObject({ name: 'AUCTION_OVER' });
    await expect(seller.cancelAuction('lot1')).rejects.toMatchObject({ name: 'AUCTION_OVER' });

    // The winner's cart holds the product at the winning price, and the order is priced so.
    const cart = await bo.cart();
    expect(cart.lines).toEqual([expect.objectContaining({ sku: 'vase', quantity: 1, priceCents: 3600 })]);
    await waitUntil(() => bo.state.cart.lines.some((line) => line.sku === 'vase'), 3000, 'the SDK\'s cart view');
    const ordered = await bo.checkout();
    expect(ordered.status).toBe('ordered');
    expect(ordered.status === 'ordered' && ordered.order.totalCents).toBe(3600);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ended).toHaveLength(1);
  });

  it('settles by its timer at the end, once; a cancelled auction has no winner', async () => {
    const roomId = `auc-${Math.random().toString(36).slice(2, 8)}`;
    const streamerToken = await room(roomId);
    // Started over HTTP before anyone joined: the node reads the card as it starts hosting the room, and the welcome carries it.
    const created = await http(server, 'POST', `/api/rooms/${roomId}/auctions`, streamerToken, { id: 'c1', sku: 'vase', startPriceCents: 500, increments: SCHEDULE, durationMs: 60_000, ending: { kind: 'sudden_death' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { client: seller } = await join(roomId, `s-${roomId}`, 'streamer', 'S');
    const { client: ann } = await join(roomId, 'ann', 'viewer', 'Ann');
    expect(ann.state.auction).toMatchObject({ id: 'c1', status: 'open', priceCents: 500 });
    const ended: AuctionEndedEvent[] = [];
    ann.on('auctionEnded', (event) => ended.push(event));
    expect(await ann.bid('c1', 500)).toMatchObject({ status: 'leading' });
    expect((await seller.cancelAuction('c1')).auction).toMatchObject({ status: 'cancelled' });
    await waitUntil(() => ended.length === 1, 3000, 'the cancel');
    expect(ended[0]).toMatchObject({ outcome: 'cancelled', winner: null });
    expect(ended[0]!.priceCents).toBeUndefined();

    const { auction } = await seller.startAuction({ id: 'timed', sku: 'vase', startPriceCents: 700, increments: SCHEDULE, durationMs: 5000, ending: { kind: 'sudden_death' }, leaderShown: 'anonymous' });
    expect(await ann.bid('timed', 800, { max: true })).toMatchObject({ status: 'leading', priceCents: 700 });
    await waitUntil(() => ended.length === 2, 9000, 'the settle at the end');
    expect(Date.now()).toBeGreaterThanOrEqual(auction.endsAt);
    // Anonymous: the room sees a pseudonym, never the name.
    expect(ended[1]).toMatchObject({ outcome: 'sold', priceCents: 700, auction: { id: 'timed', status: 'ended' } });
    expect(ended[1]!.winner).toMatch(/^Bidder [0-9a-f]{4}$/);
    expect((await ann.auction('timed')).auction).toMatchObject({ status: 'ended', leader: ended[1]!.winner });
    expect((await ann.cart()).lines).toEqual([expect.objectContaining({ sku: 'vase', priceCents: 700 })]);
    await expect(ann.auction('missing')).rejects.toBeInstanceOf(LivecartError);
  }, 20_000);
});
