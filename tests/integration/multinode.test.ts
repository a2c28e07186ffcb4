import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, laneOf } from '../../protocol/src/index.ts';
import { RedisBroker } from '../../server/src/broker/RedisBroker.ts';
import { connectWithin, createRedisClient, redisTarget } from '../../server/src/redis/client.ts';
import { roomChannel } from '../../server/src/redis/keys.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { OwnRedisCluster } from '../helpers/redisCluster.ts';

/** Where the nodes meet: the suite's Redis, or a Redis Cluster of the file's own. */
interface Backend {
  readonly name: string;
  start(): Promise<{ url: string; stop(): Promise<void>; subscribers(channel: string): Promise<number>; channels(pattern: string): Promise<string[]> }>;
}

const oneRedis: Backend = {
  name: 'one Redis',
  start: async () => {
    const redis = new Redis(REDIS_URL);
    return {
      url: REDIS_URL,
      stop: async () => redis.disconnect(),
      subscribers: async (channel) => Number((await redis.pubsub('NUMSUB', channel))[1]),
      channels: async (pattern) => (await redis.pubsub('CHANNELS', pattern)) as string[],
    };
  },
};

const redisCluster: Backend = {
  name: 'Redis Cluster (3 masters, 3 replicas)',
  start: async () => {
    const cluster = await OwnRedisCluster.start();
    // Sharded channels are counted on the master that owns their slot.
    const onOwner = async <T>(channel: string, run: (redis: Redis) => Promise<T>): Promise<T> => {
      const redis = new Redis(await cluster.masterOf(channel));
      try {
        return await run(redis);
      } finally {
        redis.disconnect();
      }
    };
    return {
      url: cluster.url,
      stop: () => cluster.stop(),
      subscribers: (channel) => onOwner(channel, async (r) => Number(((await r.call('PUBSUB', 'SHARDNUMSUB', channel)) as unknown[])[1])),
      channels: (pattern) => onOwner(pattern.replace('*', ''), async (r) => (await r.call('PUBSUB', 'SHARDCHANNELS', pattern)) as string[]),
    };
  },
};

const viewer = (n: number | string) => tokens.mint({ userId: `mv-${n}`, name: `V${n}`, role: 'viewer' });

describe.each([oneRedis, redisCluster])('three nodes on $name', (backend) => {
  const prefix = uniquePrefix('cluster');
  let nodes: Node[];
  let redis: Awaited<ReturnType<Backend['start']>>;
  let streamer: string;
  beforeAll(async () => {
    redis = await backend.start();
    nodes = await startNodes(3, redis.url, prefix, ['--comment-rate', '1000', '--comment-burst', '1000', '--stock-interval-ms', '50', '--max-frames-per-second', '10000']);
    streamer = await tokens.mint({ userId: 'm-streamer', name: 'S', role: 'streamer' });
  }, 60_000);
  afterAll(async () => {
    await stopNodes(nodes ?? []);
    await redis?.stop();
  });

  it('delivers comments and pop-ups from node 1 to viewers on every node exactly once, in order; stock from node 3 reaches everyone', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    expect((await call(n1, 'POST', '/api/rooms', streamer, { title: 'cluster', id: 'cl' })).status).toBe(201);
    expect((await call(n2, 'POST', '/api/rooms/cl/products', streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 20 })).status).toBe(201);
    expect((await call(n3, 'POST', '/api/rooms/cl/start', streamer)).body.room.state).toBe('live');
    const viewers = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await RawClient.join(nodes[i % 3]!.wsUrl, await viewer(i), 'cl')).client));
    for (const v of viewers) {
      const welcome = v.of('welcome')[0]!;
      expect(welcome.room.state).toBe('live');
      expect(welcome.products.map((p) => p.sku)).toEqual(['hot']);
    }
    const { client: host } = await RawClient.join(n1.wsUrl, streamer, 'cl');
    for (let i = 0; i < 10; i++) expect((await host.request({ t: 'comment', text: `c${i}` })).t).toBe('ok');
    expect((await host.request({ t: 'pin', sku: 'hot' })).t).toBe('ok');
    await waitUntil(() => viewers.every((v) => v.of('popup').length === 1), 10_000, 'pop-up on every node');
    // One more event, awaited everywhere: a duplicate of an earlier one would have come before it.
    expect((await host.request({ t: 'comment', text: 'last' })).t).toBe('ok');
    await waitUntil(() => viewers.every((v) => v.of('comment').some((c) => c.text === 'last')), 10_000, 'the last comment on every node');
    const expected = [...Array.from({ length: 10 }, (_, i) => `c${i}`), 'last'];
    for (const v of viewers) {
      expect(v.of('comment').map((c) => c.text)).toEqual(expected);
      const seqs = v.messages.filter((m) => 'seq' in m && m.t !== 'welcome').map((m) => (m as { seq: number }).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // a purchase through node 3 (HTTP) moves the stock everyone sees
    const buyer = await viewer('buyer');
    const bought = await call(n3, 'POST', '/api/rooms/cl/cart/items', buyer, { sku: 'hot', quantity: 4, key: 'b1' });
    expect(bought.body).toMatchObject({ status: 'reserved', available: 16 });
    await waitUntil(() => viewers.every((v) => v.of('stock').some((s) => s.available === 16)), 10_000, 'stock 16 on every node');
    // a late joiner on another node sees the same room
    const { welcome } = await RawClient.join(n2.wsUrl, await viewer('late'), 'cl');
    if (welcome.t !== 'welcome') throw new Error('no welcome');
    expect(welcome.popup?.product.sku).toBe('hot');
    expect(welcome.comments.map((c) => c.text)).toEqual(expected);
    expect(welcome.stock).toEqual({ hot: 16 });
    for (const v of [...viewers, host]) v.close();
  }, 60_000);

  it('subscribes only the nodes that have members of a room', async () => {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    await call(n1, 'POST', '/api/rooms', streamer, { title: 'two nodes', id: 'pair' });
    const channel = roomChannel(prefix, 'pair');
    const numsub = () => redis.subscribers(channel);
    expect(await numsub()).toBe(0);
    const a = (await RawClient.join(n1.wsUrl, await viewer('p1'), 'pair')).client;
    const b = (await RawClient.join(n2.wsUrl, await viewer('p2'), 'pair')).client;
    expect(await numsub()).toBe(2); // node 3 has no member: no subscription
    // node 3 still serves commands for the room without subscribing
    expect((await call(n3, 'POST', '/api/rooms/pair/start', streamer)).status).toBe(200);
    await a.waitFor((m) => m.t === 'roomState' && m.state === 'live');
    await b.waitFor((m) => m.t === 'roomState' && m.state === 'live');
    expect(await numsub()).toBe(2);
    const channels = await redis.channels(`${prefix}:ch:{r:pair}*`);
    expect(channels).toContain(channel);
    a.close();
    b.close();
  });

  it('resumes on another node without gaps or duplicates', async () => {
    const [n1, n2] = nodes as [Node, Node, Node];
    await call(n1, 'POST', '/api/rooms', streamer, { title: 'roam', id: 'roam' });
    await call(n1, 'POST', '/api/rooms/roam/start', streamer);
    const { client: host } = await RawClient.join(n1.wsUrl, streamer, 'roam');
    const token = await viewer('roamer');
    const first = await RawClient.join(n1.wsUrl, token, 'roam');
    if (first.welcome.t !== 'welcome') throw new Error('no welcome');
    await host.request({ t: 'comment', text: 'seen' });
    await first.client.waitFor((m) => m.t === 'comment');
    const lastSeq = first.client.of('comment')[0]!.seq;
    first.client.close();
    for (let i = 0; i < 3; i++) await host.request({ t: 'comment', text: `missed ${i}` });
    const again = await RawClient.open(n2.wsUrl);
    const welcome = await again.hello(token, 'roam', { seq: lastSeq, epoch: first.welcome.epoch });
    expect(welcome.t === 'welcome' && welcome.resumed).toBe(true);
    await again.waitFor(() => again.of('comment').length === 3);
    expect(again.of('comment').map((c) => c.seq)).toEqual([lastSeq + 1, lastSeq + 2, lastSeq + 3]);
    for (const c of [host, again]) c.close();
  });

  it('tells a viewer the room\'s viewer count at most once per interval, however many nodes host the room', async () => {
    await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: 'count', id: 'count' });
    const { client: watcher } = await RawClient.join(nodes[0]!.wsUrl, await viewer('count-watcher'), 'count');
    // Joins on every node for 3 s: each node's share of the room changes every interval (1 s).
    const startedAt = Date.now();
    const joined: RawClient[] = [];
    for (let i = 0; Date.now() - startedAt < 3000; i++) {
      joined.push((await RawClient.join(nodes[i % 3]!.wsUrl, await viewer(`count-${i}`), 'count')).client);
      await new Promise((r) => setTimeout(r, 100));
    }
    const window = Date.now() - startedAt;
    const heard = watcher.of('viewers').length;
    // One count per interval of the window, plus one for the timer's phase.
    expect(heard).toBeGreaterThan(0);
    expect(heard).toBeLessThanOrEqual(Math.ceil(window / 1000) + 1);
    // And it converges on the total over the nodes.
    await waitUntil(() => watcher.of('viewers').some((m) => m.count === joined.length + 1), 10_000, `viewer count ${joined.length + 1}`);
    for (const c of [watcher, ...joined]) c.close();
  });

  it('tells a viewer a product\'s stock and the like total at most once per interval, however many nodes change them', async () => {
    await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: 'paced', id: 'paced' });
    await call(nodes[0]!, 'POST', '/api/rooms/paced/products', streamer, { sku: 'tee', title: 'Tee', priceCents: 100, currency: 'USD', stock: 10_000 });
    await call(nodes[0]!, 'POST', '/api/rooms/paced/start', streamer);
    const { client: watcher } = await RawClient.join(nodes[0]!.wsUrl, await viewer('paced-watcher'), 'paced');
    const likers = await Promise.all(nodes.map(async (node, i) => (await RawClient.join(node.wsUrl, await viewer(`paced-liker-${i}`), 'paced')).client));
    // Adds and likes on every node for 2 s: each node changes the stock and the likes every 20 ms.
    const startedAt = Date.now();
    let adds = 0;
    let likes = 0;
    while (Date.now() - startedAt < 2000) {
      await Promise.all(nodes.map(async (node, i) => {
        const token = await viewer(`paced-buyer-${adds}`);
        adds++;
        expect((await call(node, 'POST', '/api/rooms/paced/cart/items', token, { sku: 'tee', quantity: 1, key: `k${adds}` })).body.status).toBe('reserved');
        likers[i]!.send({ t: 'like' });
        likes++;
      }));
      await new Promise((r) => setTimeout(r, 20));
    }
    // Levels published by different nodes may cross on the way (each node tells the level its own
    // last add saw): once the burst's news has gone quiet, one more add on one node tells the truth.
    let heard = -1;
    await waitUntil(async () => {
      const before = watcher.of('stock').length;
      await new Promise((r) => setTimeout(r, 300));
      return before === (heard = watcher.of('stock').length);
    }, 10_000, 'the burst\'s stock news quiet');
    const last = (await call(nodes[1]!, 'POST', '/api/rooms/paced/cart/items', await viewer('paced-last'), { sku: 'tee', quantity: 1, key: 'last' })).body;
    expect(last).toMatchObject({ status: 'reserved', available: 10_000 - adds - 1 });
    await waitUntil(() => watcher.of('stock').length > heard && watcher.of('stock').at(-1)?.available === 10_000 - adds - 1, 5000, `stock ${10_000 - adds - 1}`);
    await waitUntil(() => watcher.of('likes').at(-1)?.total === likes, 5000, `likes ${likes}`);
    const window = Date.now() - startedAt;
    // --stock-interval-ms 50; likes at the default 250 ms. One more for the timer's phase.
    expect(watcher.of('stock').length).toBeLessThanOrEqual(Math.ceil(window / 50) + 1);
    expect(watcher.of('likes').length).toBeLessThanOrEqual(Math.ceil(window / 250) + 1);
    // Like totals never go back, though nodes' totals cross on the way.
    const totals = watcher.of('likes').map((m) => m.total as number);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    for (const c of [watcher, ...likers]) c.close();
  });

  it('during a sell-out tells a viewer no level after the sold-out but a come-back\'s, and it still ends on the store\'s level', async () => {
    await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: 'sellout', id: 'sellout' });
    await call(nodes[0]!, 'POST', '/api/rooms/sellout/products', streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 150 });
    await call(nodes[0]!, 'POST', '/api/rooms/sellout/start', streamer);
    const watchers = await Promise.all(nodes.map(async (node, i) => (await RawClient.join(node.wsUrl, await viewer(`sellout-watcher-${i}`), 'sellout')).client));
    /** What a viewer heard of the product's level, in order: a sold-out as 'soldOut'. */
    const news = (client: RawClient) => client.messages.flatMap((m): Array<number | 'soldOut'> => (m.t === 'stock' && m.sku === 'hot' ? [m.available] : m.t === 'soldOut' && m.sku === 'hot' ? ['soldOut'] : []));
    const afterSoldOut = (client: RawClient) => news(client).slice(news(client).indexOf('soldOut') + 1);
    // Waves of buyers on every node until it sells out: each node tells the levels its own adds saw, and they cross.
    const reserved: Array<{ token: string; node: Node }> = [];
    for (let wave = 0; wave < 20; wave++) {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const token = await viewer(`sellout-buyer-${wave}-${i}`);
        const node = nodes[(wave + i) % 3]!;
        const answer = (await call(node, 'POST', '/api/rooms/sellout/cart/items', token, { sku: 'hot', quantity: 1, key: `k${wave}-${i}` })).body;
        expect(['reserved', 'sold_out']).toContain(answer.status);
        if (answer.status === 'reserved') reserved.push({ token, node });
      }));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(reserved).toHaveLength(150);
    await waitUntil(() => watchers.every((w) => news(w).includes('soldOut')), 5000, 'sold out to every watcher');
    // A level read before the last unit went, published by a node that had not heard the sold-out yet:
    // on the broker it comes after the sold-out, as a come-back would (a level no come-back here reaches).
    const late = createRedisClient(redis.url, 2000);
    await connectWithin(late, redis.url);
    const broker = new RedisBroker(late, { url: redisTarget(redis.url), prefix, ringSize: 16, retryAfterMs: 1000 });
    const stale = { t: 'stock', sku: 'hot', available: 99 } as const;
    broker.publishState('sellout', laneOf.stock, encode(stale), stale);
    // What may still follow the sold-out: levels waiting on any node, the stale one, and each node's read-back
    // once it has been quiet for 3 stock intervals (50 ms). Nothing can be awaited for "nothing came": 12 intervals.
    await new Promise((r) => setTimeout(r, 600));
    await broker.close();
    for (const w of watchers) expect(afterSoldOut(w)).toEqual([]);
    // Back in stock: six releases at once over the three nodes, whose levels cross too.
    await Promise.all(reserved.slice(0, 6).map(async ({ token }, i) => {
      const answer = (await call(nodes[i % 3]!, 'DELETE', `/api/rooms/sellout/cart/items/hot?key=rm${i}`, token)).body;
      expect(answer.status).toBe('released');
    }));
    expect(await call(nodes[0]!, 'GET', '/api/rooms/sellout/inventory', streamer).then((r) => r.body.inventory.hot.available)).toBe(6);
    await waitUntil(() => watchers.every((w) => news(w).at(-1) === 6), 5000, 'every watcher on the store\'s level, 6');
    // After the sold-out, only the come-back's levels.
    for (const w of watchers) expect(afterSoldOut(w).every((n) => typeof n === 'number' && n >= 1 && n <= 6)).toBe(true);
    for (const c of watchers) c.close();
  });

  // Node 1 told the first sell-out; a unit comes back through node 2; the second sell-out happens on
  // node 1 again: by the streamer zeroing the stock on a node that hosts the room (it heard the
  // come-back), or by a buyer taking the last unit on a node that does not (it heard nothing).
  it.each([
    { how: 'the streamer zeroes it on a node with viewers', watchedOn: [0, 1, 2], id: 'twice-zero' },
    { how: 'a buyer takes the last unit on a node without viewers', watchedOn: [1, 2], id: 'twice-buy' },
  ])('tells a second sell-out as one when the come-back between was on another node: $how', async ({ watchedOn, id }) => {
    await call(nodes[0]!, 'POST', '/api/rooms', streamer, { title: 'twice', id });
    await call(nodes[0]!, 'POST', `/api/rooms/${id}/products`, streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 2 });
    await call(nodes[0]!, 'POST', `/api/rooms/${id}/start`, streamer);
    const watchers = await Promise.all(watchedOn.map(async (n) => (await RawClient.join(nodes[n]!.wsUrl, await viewer(`${id}-watcher-${n}`), id)).client));
    const soldOuts = (client: RawClient) => client.messages.filter((m) => m.t === 'soldOut' && m.sku === 'hot').length;
    const buy = async (node: Node, who: string) => (await call(node, 'POST', `/api/rooms/${id}/cart/items`, await viewer(who), { sku: 'hot', quantity: 1, key: who })).body;
    expect(await buy(nodes[0]!, `${id}-a`)).toMatchObject({ status: 'reserved', available: 1 });
    expect(await buy(nodes[0]!, `${id}-b`)).toMatchObject({ status: 'reserved', available: 0 });
    await waitUntil(() => watchers.every((w) => soldOuts(w) === 1), 5000, 'the first sell-out to every watcher');
    expect((await call(nodes[1]!, 'DELETE', `/api/rooms/${id}/cart/items/hot?key=rm`, await viewer(`${id}-a`))).body.status).toBe('released');
    const lastNews = (client: RawClient) => client.messages.filter((m) => (m.t === 'stock' || m.t === 'soldOut') && m.sku === 'hot').at(-1);
    await waitUntil(() => watchers.every((w) => { const last = lastNews(w); return last?.t === 'stock' && last.available === 1; }), 5000, 'the come-back to every watcher');
    if (id === 'twice-zero') expect((await call(nodes[0]!, 'PUT', `/api/rooms/${id}/products/hot/stock`, streamer, { available: 0 })).status).toBe(200);
    else expect(await buy(nodes[0]!, `${id}-c`)).toMatchObject({ status: 'reserved', available: 0 });
    await waitUntil(() => watchers.every((w) => soldOuts(w) === 2), 5000, 'the second sell-out to every watcher');
    for (const c of watchers) c.close();
  });

  it('never oversells with two nodes taking the requests: 300 buyers × 1–3 units for 100 units', async () => {
    const [n1, n2] = nodes as [Node, Node, Node];
    await call(n1, 'POST', '/api/rooms', streamer, { title: 'race', id: 'race2' });
    await call(n1, 'POST', '/api/rooms/race2/products', streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 100 });
    await call(n1, 'POST', '/api/rooms/race2/start', streamer);
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const token = await viewer(`race-${i}`);
        return (await call(i % 2 === 0 ? n1 : n2, 'POST', '/api/rooms/race2/cart/items', token, { sku: 'hot', quantity: 1 + (i % 3), key: `k${i}` })).body;
      }),
    );
    const granted = answers.reduce((s, a) => s + (a.status === 'reserved' ? (a.granted as number) : 0), 0);
    expect(answers.every((a) => a.status === 'reserved' || a.status === 'sold_out')).toBe(true);
    expect(granted).toBe(100);
    const inventory = await call(n2, 'GET', '/api/rooms/race2/inventory', streamer);
    expect(inventory.body.inventory).toEqual({ hot: { available: 0, reserved: 100, sold: 0 } });
  });
});
