/**
 * Draining one node of three, as a deployment would: real server processes on one Redis, 3,000
 * viewers on the real SDK spread over them, a streamer publishing all along and buyers adding to
 * their carts while one node drains. Its viewers must move to the other nodes gradually, over
 * the window, and miss nothing; every cart request gets a definite answer; stock stays exact.
 * Then SIGTERM: the node exits after its window, and a second SIGTERM stops it at once.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddToCartAnswer, type CheckoutAnswer, CloseCode, connect, type LivecartClient } from '../../client/src/index.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const VIEWERS = 3000;
const STOCK = 100;
const WINDOW_MS = 5000;
const PUBLISH_EVERY_MS = 250;
/** Share of the moves one tenth of the window may hold at most: even is 10 %, all at once 100 %; the margin is for a busy machine (see below). */
const MAX_SHARE_PER_TENTH = 0.5;
/** No load shedding: a sampled comment, or a viewer dropped from chatter, would be a gap that is not the drain's. */
const QUIET = ['--comment-rate', '1000', '--comment-burst', '1000', '--max-frames-per-second', '10000', '--degrade-backlogged-share', '1', '--degrade-queue-fill', '1', '--degrade-store-latency-ms', '600000', '--lag-demote-ms', '600000'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one viewer saw. */
interface Watch {
  readonly client: LivecartClient;
  readonly home: number;
  firstSeq: number;
  readonly seqs: number[];
  /** When the client heard MOVED (epoch ms). */
  readonly movedAt: number[];
  readonly welcomes: Array<{ resumed: boolean; historyLost: boolean }>;
}

function watch(client: LivecartClient, home: number): Watch {
  const seen: Watch = { client, home, firstSeq: 0, seqs: [], movedAt: [], welcomes: [] };
  const record = (event: { seq: number }) => seen.seqs.push(event.seq);
  for (const name of ['comment', 'commentDeleted', 'popup', 'product', 'roomState', 'userMuted', 'soldOut'] as const) client.on(name, record);
  client.on('reconnecting', (r) => {
    if (r.code === CloseCode.MOVED) seen.movedAt.push(Date.now());
  });
  client.on('welcome', (w) => seen.welcomes.push({ resumed: w.resumed, historyLost: w.historyLost }));
  return seen;
}

describe('draining one node of three', () => {
  const prefix = uniquePrefix('drain-cluster');
  let nodes: Node[];
  const clients: LivecartClient[] = [];
  let streamerToken: string;
  let operator: string;

  beforeAll(async () => {
    nodes = await startNodes(3, REDIS_URL, prefix, QUIET);
    streamerToken = await tokens.mint({ userId: 'd-streamer', name: 'S', role: 'streamer' });
    operator = await tokens.mint({ userId: 'd-ops', name: 'Ops', role: 'operator' });
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await stopNodes(nodes);
  });

  it('moves 1,000 viewers to the other nodes over the window: none misses an event, every cart request is answered, stock stays exact', async () => {
    const [n0, n1] = nodes as [Node, Node, Node];
    expect((await call(n1, 'POST', '/api/rooms', streamerToken, { title: 'drain', id: 'drain' })).status).toBe(201);
    expect((await call(n1, 'POST', '/api/rooms/drain/products', streamerToken, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: STOCK })).status).toBe(201);
    expect((await call(n1, 'POST', '/api/rooms/drain/start', streamerToken)).status).toBe(200);

    // Viewer i lives on node i % 3; after a move it goes to one of the other two, half each way.
    const endpointsOf = (i: number) => {
      const home = i % 3;
      const step = Math.floor(i / 3) % 2 === 0 ? 1 : 2;
      return [0, step, 2 * step].map((k) => nodes[(home + k) % 3]!.wsUrl);
    };
    const viewers: Watch[] = [];
    for (let start = 0; start < VIEWERS; start += 300) {
      const batch = await Promise.all(Array.from({ length: Math.min(300, VIEWERS - start) }, async (_, k) => {
        const i = start + k;
        // Acks far apart: 3,000 clients in one test process are a crowd of their own to serve.
        const client = connect({ url: endpointsOf(i), shuffleEndpoints: false, token: await tokens.mint({ userId: `dv-${i}`, name: `V${i}`, role: 'viewer' }), room: 'drain', ack: { intervalMs: 5000, keepaliveMs: 30_000 } });
        clients.push(client);
        const seen = watch(client, i % 3);
        seen.firstSeq = (await client.ready).seq;
        return seen;
      }));
      viewers.push(...batch);
    }
    const onDrained = viewers.filter((v) => v.home === 0);

    // The streamer, on a node that stays, publishes all along: comments and pins in turn.
    const streamer = connect({ url: n1.wsUrl, token: streamerToken, room: 'drain' });
    clients.push(streamer);
    await streamer.ready;
    const published: number[] = [];
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        published.push((n % 2 === 0 ? await streamer.comment(`c${n}`) : await streamer.pin('hot')).seq);
        await sleep(PUBLISH_EVERY_MS);
      }
    })();
    await waitUntil(() => published.length >= 5, 10_000, 'the first events');

    // Buyers on every node (one viewer in 25) add to cart and check out at random moments of the window.
    const buyers = viewers.filter((_, i) => i % 25 === 0);
    const addAnswers: AddToCartAnswer[] = [];
    const checkoutAnswers: CheckoutAnswer[] = [];
    const shopping = Promise.all(buyers.map(async ({ client }) => {
      await sleep(Math.random() * WINDOW_MS);
      const added = await client.addToCart('hot');
      addAnswers.push(added);
      if (added.status === 'reserved' && Math.random() < 0.5) checkoutAnswers.push(await client.checkout());
    }));
    // And HTTP buyers on the draining node itself: it keeps serving HTTP while it drains.
    const httpBuying = Promise.all(Array.from({ length: 30 }, async (_, i) => {
      await sleep((i * WINDOW_MS) / 30);
      const buyer = await tokens.mint({ userId: `dh-${i}`, name: `H${i}`, role: 'viewer' });
      return call(n0, 'POST', '/api/rooms/drain/cart/items', buyer, { sku: 'hot', quantity: 1, key: `http-${i}` });
    }));

    const drained = await call(n0, 'POST', '/api/ops/drain', operator, { windowMs: WINDOW_MS });
    expect(drained.body).toMatchObject({ started: true, drain: { draining: true, windowMs: WINDOW_MS } });
    expect(drained.body.drain.socketsAtStart).toBe(onDrained.length);
    const since = drained.body.drain.since as number;

    await waitUntil(() => onDrained.every((v) => v.client.connected && v.client.url !== n0.wsUrl), WINDOW_MS + 20_000, 'every viewer of the drained node on another node');
    const [, httpAnswers] = await Promise.all([shopping, httpBuying]);
    publishing = false;
    await publisher;
    const lastSeq = published.at(-1)!;
    await waitUntil(() => viewers.every((v) => v.client.state.lastSeq >= lastSeq), 20_000, 'the last event on every viewer');

    // Every viewer of the drained node moved once, resumed where it was, and is on one of the two others.
    for (const v of onDrained) {
      expect(v.movedAt).toHaveLength(1);
      expect(v.welcomes.at(-1)).toEqual({ resumed: true, historyLost: false });
    }
    const landedOn = new Set(onDrained.map((v) => v.client.url));
    expect(landedOn).toEqual(new Set([nodes[1]!.wsUrl, nodes[2]!.wsUrl]));
    // Nobody missed an event: each viewer's seqs run without a gap from its first welcome to the last event.
    for (const v of viewers) {
      expect(v.welcomes.every((w) => !w.historyLost)).toBe(true);
      const expected = Array.from({ length: lastSeq - v.firstSeq }, (_, k) => v.firstSeq + 1 + k);
      expect(v.seqs).toEqual(expected);
    }
    // Every viewer joined before the first event was published, so each one has every event.
    expect(published[0]).toBeGreaterThan(Math.max(...viewers.map((v) => v.firstSeq)));

    // The moves are spread over the window. The times are when this process heard each close; on
    // a busy machine it stalls now and then and hears a few hundred ms of closes at once, but never
    // hears one before it was sent: the k-th of the n moves comes no sooner than its turn, k/n of
    // the window (all at once, every move comes at 0). Nor are they held back into a clump.
    const moves = onDrained.map((v) => v.movedAt[0]! - since).sort((a, b) => a - b);
    const early = moves.findIndex((at, k) => at < (k * WINDOW_MS) / moves.length - 20);
    expect(early, `move ${early} of ${moves.length} at ${moves[early]} ms, before its turn`).toBe(-1);
    const perTenth = new Array<number>(10).fill(0);
    for (const at of moves) perTenth[Math.min(9, Math.floor(at / (WINDOW_MS / 10)))]!++;
    expect(Math.max(...perTenth), `moves per tenth of the window: ${perTenth.join(', ')}`).toBeLessThanOrEqual(moves.length * MAX_SHARE_PER_TENTH);
    expect(moves.at(-1), 'the last move').toBeLessThan(WINDOW_MS + 3000);

    // Every cart request got a definite answer, and the stock adds up.
    expect(addAnswers).toHaveLength(buyers.length);
    for (const answer of addAnswers) expect(['reserved', 'sold_out']).toContain(answer.status);
    for (const answer of checkoutAnswers) expect(answer.status).toBe('ordered');
    for (const answer of httpAnswers) {
      expect(answer.status).toBe(200);
      expect(['reserved', 'sold_out']).toContain(answer.body.status);
    }
    const granted = [...addAnswers, ...httpAnswers.map((a) => a.body as AddToCartAnswer)].reduce((sum, a) => sum + (a.status === 'reserved' ? a.granted : 0), 0);
    const ordered = checkoutAnswers.reduce((sum, a) => sum + (a.status === 'ordered' ? a.order.lines.reduce((n, line) => n + line.quantity, 0) : 0), 0);
    const { inventory } = (await call(n1, 'GET', '/api/rooms/drain/inventory', streamerToken)).body;
    expect(inventory.hot.available + inventory.hot.reserved + inventory.hot.sold).toBe(STOCK);
    expect(inventory.hot.reserved + inventory.hot.sold).toBe(granted);
    expect(inventory.hot.sold).toBe(ordered);
    expect((await call(n1, 'GET', '/api/rooms/drain/orders', streamerToken)).body.orders).toHaveLength(checkoutAnswers.length);

    const node = (await call(n0, 'GET', '/api/ops/node', operator)).body;
    expect(node.drain).toMatchObject({ draining: true, since, socketsAtStart: onDrained.length, socketsMoved: onDrained.length, socketsLeft: 0 });
    expect((await call(n0, 'GET', '/readyz')).status).toBe(503);

    // The drained node's window is over and it has no socket left: SIGTERM stops it at once.
    const exited = once(n0.child, 'exit');
    const stoppedAt = Date.now();
    n0.child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(WINDOW_MS);
  }, 90_000);
});

describe('SIGTERM', () => {
  const prefix = uniquePrefix('drain-sigterm');
  let nodes: Node[];
  beforeAll(async () => {
    const [short, long] = await Promise.all([
      startNodes(1, REDIS_URL, prefix, ['--drain-window-ms', '1500']),
      startNodes(1, REDIS_URL, prefix, ['--drain-window-ms', '60000']),
    ]);
    nodes = [...short, ...long];
    const streamer = await tokens.mint({ userId: 't-streamer', name: 'S', role: 'streamer' });
    await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: 'term', id: 'term' });
  }, 60_000);
  afterAll(async () => {
    await stopNodes(nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null));
  });

  const join = async (node: Node, n: number) => Promise.all(Array.from({ length: n }, async (_, i) =>
    (await RawClient.join(node.wsUrl, await tokens.mint({ userId: `t-${i}`, name: `T${i}`, role: 'viewer' }), 'term')).client));

  it('drains over the window: new sockets get MOVED, /readyz says draining, the open ones move one by one, then the node exits 0', async () => {
    const node = nodes[0]!;
    const sockets = await join(node, 3);
    const exited = once(node.child, 'exit');
    const termAt = Date.now();
    node.child.kill('SIGTERM');
    // The first turn is at once: by its close the drain is under way.
    const closes = sockets.map((s) => s.closed.then((c) => ({ ...c, after: Date.now() - termAt })));
    expect((await Promise.race(closes)).code).toBe(CloseCode.MOVED);
    const ready = await call(node, 'GET', '/readyz');
    expect(ready).toMatchObject({ status: 503, body: { ready: false, draining: true } });
    const newcomer = await RawClient.open(node.wsUrl);
    expect((await newcomer.closed).code).toBe(CloseCode.MOVED);
    const all = await Promise.all(closes);
    expect(all.map((c) => c.code)).toEqual([CloseCode.MOVED, CloseCode.MOVED, CloseCode.MOVED]);
    // Turns at 0, 500 and 1000 ms; the exit at the end of the window.
    const after = all.map((c) => c.after).sort((a, b) => a - b);
    expect(after[1]).toBeGreaterThanOrEqual(500 - 50);
    expect(after[2]).toBeGreaterThanOrEqual(1000 - 50);
    expect((await exited)[0]).toBe(0);
    expect(Date.now() - termAt).toBeGreaterThanOrEqual(1500 - 50);
  });

  it('a second SIGTERM stops the node at once', async () => {
    const node = nodes[1]!;
    const sockets = await join(node, 2);
    const exited = once(node.child, 'exit');
    node.child.kill('SIGTERM');
    const first = await Promise.race(sockets.map((socket, i) => socket.closed.then((closed) => ({ ...closed, i }))));
    expect(first.code).toBe(CloseCode.MOVED);
    // The other socket's turn is 30 s away.
    const stoppedAt = Date.now();
    node.child.kill('SIGTERM');
    expect(await exited).toEqual([1, null]);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect((await sockets[1 - first.i]!.closed).code).not.toBe(CloseCode.MOVED);
  });
});
