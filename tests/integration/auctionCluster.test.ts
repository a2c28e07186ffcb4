/**
 * An auction's last second on two nodes sharing one Redis: 200 SDK viewers, half on each node, bid
 * in the last second of a short anti-sniping auction (a third of them maximums). Every bid is
 * answered; replaying the bids in the store's order through the reference rules gives every answer
 * and the final card; exactly one winner at the highest valid bid; the late bids pushed the end;
 * the end is announced once on each node; the winner's cart holds the product at the winning price.
 * And a settle whose node dies before following it up: the other node finishes it once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuctionCard, type AuctionEndedEvent, type AuctionWonEvent, type BidAnswer, connect, type LivecartClient } from '../../client/src/index.ts';
import type { Auction, AuctionState } from '../../server/src/auctions/auction.ts';
import { initialState } from '../../server/src/auctions/auction.ts';
import { applyBid } from '../../server/src/auctions/bidding.ts';
import { createRedisClient, connectWithin } from '../../server/src/redis/client.ts';
import { roomKey } from '../../server/src/redis/keys.ts';
import { RedisAuctionStore } from '../../server/src/store/RedisAuctionStore.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const VIEWERS = 200;
const WINDOW_MS = 3000;
const SCHEDULE = [{ belowCents: 5000, stepCents: 100 }, { belowCents: 20000, stepCents: 500 }, { stepCents: 1000 }];

interface Placed {
  readonly userId: string;
  readonly max: boolean;
  readonly amountCents: number;
  answer?: BidAnswer;
  error?: unknown;
}

describe('auction on two nodes (Redis)', () => {
  let nodes: Node[];
  const clients: LivecartClient[] = [];
  const prefix = uniquePrefix('auction-cluster');
  beforeAll(async () => {
    nodes = await startNodes(2, REDIS_URL, prefix, ['--auction-settle-grace-ms', '1500', '--stock-interval-ms', '100']);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await stopNodes(nodes ?? []);
  });

  async function join(node: Node, roomId: string, userId: string, role: 'viewer' | 'streamer'): Promise<LivecartClient> {
    const token = await tokens.mint({ userId, name: `N-${userId}`, role });
    const client = connect({ url: node.wsUrl, token, room: roomId, reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 50, maxMs: 400 }, requestTimeoutMs: 20_000 });
    clients.push(client);
    await client.ready;
    return client;
  }

  it('200 viewers on both nodes in the last second: every bid answered, one winner at the highest valid bid, the end pushed, the winner\'s cart at the winning price', async () => {
    const roomId = `ac-${Math.random().toString(36).slice(2, 8)}`;
    const streamerToken = await tokens.mint({ userId: 'seller', name: 'Seller', role: 'streamer' });
    expect((await call(nodes[0]!, 'POST', '/api/rooms', streamerToken, { title: roomId, id: roomId })).status).toBe(201);
    expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/products`, streamerToken, { sku: 'lamp', title: 'Lamp', priceCents: 50_000, currency: 'USD', stock: 2 })).status).toBe(201);
    expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/start`, streamerToken)).status).toBe(200);

    const seller = await join(nodes[0]!, roomId, 'seller', 'streamer');
    const viewers = await Promise.all(Array.from({ length: VIEWERS }, (_, i) => join(nodes[i % 2]!, roomId, `v${i}`, 'viewer')));
    const endedHeard: AuctionEndedEvent[][] = [[], []];
    viewers[0]!.on('auctionEnded', (event) => endedHeard[0]!.push(event));
    viewers[1]!.on('auctionEnded', (event) => endedHeard[1]!.push(event));
    const won = new Map<string, AuctionWonEvent>();
    viewers.forEach((viewer, i) => viewer.on('auctionWon', (event) => won.set(`v${i}`, event)));

    const { auction: started } = await seller.startAuction({ id: 'lot', sku: 'lamp', startPriceCents: 1000, increments: SCHEDULE, durationMs: 5000, ending: { kind: 'extend', windowMs: WINDOW_MS } });
    await waitUntil(() => viewers[1]!.state.auction?.id === 'lot', 5000, 'the card on the other node');

    // The last second: each viewer bids once at a random moment of it, amounts climbing and jittered, a third maximums.
    const lastSecond = started.endsAt - 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastSecond - Date.now())));
    const delays = viewers.map(() => Math.floor(Math.random() * 900));
    const placed: Placed[] = viewers.map((_, i) => ({ userId: `v${i}`, max: i % 3 === 0, amountCents: 1000 + 1000 * Math.floor(delays[i]! / 10 + Math.random() * 3) }));
    await Promise.all(viewers.map(async (viewer, i) => {
      await new Promise((resolve) => setTimeout(resolve, delays[i]!));
      const bid = placed[i]!;
      try {
        bid.answer = await viewer.bid('lot', bid.amountCents, { max: bid.max });
      } catch (error) {
        bid.error = error;
      }
    }));

    // Every bid answered: by the store, or shed (OVERLOADED, retries spent) only when it could not win.
    for (const bid of placed) {
      if (bid.answer === undefined) expect(bid.error, String(bid.error)).toMatchObject({ name: 'OVERLOADED' });
    }
    const answered = placed.filter((bid) => bid.answer !== undefined) as Array<Placed & { answer: BidAnswer }>;
    expect(answered.length).toBeGreaterThan(VIEWERS / 2);
    // A real race: many leads changed hands, and bids arriving behind higher ones were told so.
    expect(answered.filter((bid) => bid.answer.status === 'leading').length).toBeGreaterThan(10);
    expect(answered.filter((bid) => bid.answer.status !== 'leading').length).toBeGreaterThan(10);
    for (const bid of answered) expect(['leading', 'outbid', 'too_low']).toContain(bid.answer.status);

    // The end is announced once on each node; the winner hears it on their own socket.
    await waitUntil(() => endedHeard[0]!.length > 0 && endedHeard[1]!.length > 0, 15_000, 'the end on both nodes');
    await waitUntil(() => won.size > 0, 5000, 'the winner\'s notice');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(endedHeard.map((heard) => heard.length)).toEqual([1, 1]);
    const ended = endedHeard[0]![0]!;
    expect(endedHeard[1]![0]).toEqual(ended);
    expect(won.size).toBe(1);

    // The store's record: the final card and the history.
    const read = await call(nodes[1]!, 'GET', `/api/rooms/${roomId}/auctions/lot`, streamerToken);
    expect(read.status).toBe(200);
    const card = read.body.auction as AuctionCard;
    expect(card).toMatchObject({ status: 'ended', seq: answered.length });
    expect(card.endsAt, 'late bids pushed the end').toBeGreaterThan(started.endsAt);

    // Replaying the bids in the store's order (their answers' seq) through the reference rules gives every answer.
    const auction: Auction = {
      id: 'lot', roomId, sku: 'lamp', sellerId: 'seller', startPriceCents: 1000, increments: SCHEDULE, ending: { kind: 'sudden_death' }, leaderShown: 'name', startsAt: 0, endsAt: Number.MAX_SAFE_INTEGER,
    };
    const inOrder = [...answered].sort((a, b) => seqOf(a.answer) - seqOf(b.answer));
    expect(inOrder.map((bid) => seqOf(bid.answer))).toEqual(inOrder.map((_, i) => i + 1));
    let state: AuctionState = initialState(auction);
    for (const bid of inOrder) {
      const step = applyBid(auction, state, { userId: bid.userId, kind: bid.max ? 'max' : 'price', amountCents: bid.amountCents, at: 1 });
      state = step.state;
      const { endsAt: _ignored, ...expected } = step.answer as BidAnswer & { endsAt?: number };
      expect(bid.answer, `${bid.userId} ${bid.amountCents}`).toMatchObject({ ...expected, auctionId: 'lot' });
    }
    expect(card).toMatchObject({ priceCents: state.priceCents, bids: state.bids });

    // One winner at the highest valid bid (the earliest of equal ones).
    const valid = inOrder.filter((bid) => bid.answer.status === 'leading' || bid.answer.status === 'outbid');
    const highest = Math.max(...valid.map((bid) => bid.amountCents));
    const winner = valid.find((bid) => bid.amountCents === highest)!;
    expect(state.leaderId).toBe(winner.userId);
    expect(ended).toMatchObject({ outcome: 'sold', winner: `N-${winner.userId}`, priceCents: state.priceCents });
    expect(won.get(winner.userId)).toMatchObject({ auctionId: 'lot', sku: 'lamp', priceCents: state.priceCents, held: true });
    // A shed bid could not have won.
    for (const bid of placed) if (bid.error !== undefined) expect(bid.amountCents).toBeLessThan(state.priceCents);
    expect(read.body.history.at(-1)).toMatchObject({ leaderId: winner.userId, priceCents: state.priceCents });

    // The winner's cart holds the product at the winning price.
    const winnerClient = viewers[Number(winner.userId.slice(1))]!;
    expect((await winnerClient.cart()).lines).toEqual([expect.objectContaining({ sku: 'lamp', quantity: 1, priceCents: state.priceCents })]);
  }, 60_000);

  it('a node that settles and dies before announcing: the other node takes the follow-up over, the end is heard once by every viewer, the winner\'s cart holds the line once at the winning price', async () => {
    const roomId = `at-${Math.random().toString(36).slice(2, 8)}`;
    const streamerToken = await tokens.mint({ userId: 'seller', name: 'Seller', role: 'streamer' });
    expect((await call(nodes[0]!, 'POST', '/api/rooms', streamerToken, { title: roomId, id: roomId })).status).toBe(201);
    expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/products`, streamerToken, { sku: 'lamp', title: 'Lamp', priceCents: 50_000, currency: 'USD', stock: 2 })).status).toBe(201);
    expect((await call(nodes[0]!, 'POST', `/api/rooms/${roomId}/start`, streamerToken)).status).toBe(200);
    const seller = await join(nodes[0]!, roomId, 'seller', 'streamer');
    const viewers = await Promise.all(Array.from({ length: 4 }, (_, i) => join(nodes[i % 2]!, roomId, `w${i}`, 'viewer')));
    const endedHeard: AuctionEndedEvent[][] = viewers.map(() => []);
    const wonHeard: AuctionWonEvent[] = [];
    viewers.forEach((viewer, i) => viewer.on('auctionEnded', (event) => endedHeard[i]!.push(event)));
    viewers[1]!.on('auctionWon', (event) => wonHeard.push(event));

    const { auction: started } = await seller.startAuction({ id: 'lot', sku: 'lamp', startPriceCents: 1000, increments: SCHEDULE, durationMs: 5000, ending: { kind: 'sudden_death' } });
    expect(await viewers[1]!.bid('lot', 1700)).toMatchObject({ status: 'leading', priceCents: 1700 });

    // "Node A": settles through the store right at the end, under its claim, and dies before announcing or holding anything.
    const redis = createRedisClient(REDIS_URL, 2000);
    await connectWithin(redis, REDIS_URL);
    const crashed = new RedisAuctionStore(redis, { prefix, historyKept: 10, retryAfterMs: 1000 });
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started.endsAt - Date.now())));
      const settledAt = Date.now();
      expect(await crashed.settle(roomId, 'lot', settledAt, { owner: 'node-a', until: settledAt + 500 })).toMatchObject({ result: 'ended', outcome: { status: 'ended', winnerId: 'w1', priceCents: 1700 } });

      // The nodes' timers (end + grace) hear `settled`; one of them claims the follow-up, finishes it and marks it done.
      await waitUntil(async () => (await redis.hget(roomKey(prefix, roomId, 'auction:lot'), 'fstep')) === 'done', 15_000, 'the follow-up finished by a node', 50);
      await waitUntil(() => endedHeard.every((heard) => heard.length > 0) && wonHeard.length > 0, 5000, 'the end on every viewer');
      // Whatever else might still arrive would be a second announcement: give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(endedHeard.map((heard) => heard.length)).toEqual([1, 1, 1, 1]);
      for (const heard of endedHeard) expect(heard[0]).toMatchObject({ outcome: 'sold', winner: 'N-w1', priceCents: 1700, auction: { id: 'lot', status: 'ended' } });
      expect(wonHeard).toEqual([expect.objectContaining({ auctionId: 'lot', sku: 'lamp', priceCents: 1700, held: true })]);
      expect((await viewers[1]!.cart()).lines).toEqual([expect.objectContaining({ sku: 'lamp', quantity: 1, priceCents: 1700 })]);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

function seqOf(answer: BidAnswer): number {
  return 'seq' in answer && answer.seq !== undefined ? answer.seq : 0;
}
