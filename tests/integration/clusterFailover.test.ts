import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../protocol/src/index.ts';
import { roomBase, roomKey } from '../../server/src/redis/keys.ts';
import { RedisStore } from '../../server/src/store/RedisStore.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { OwnRedisCluster } from '../helpers/redisCluster.ts';

/**
 * A Redis Cluster master killed with -9 mid-sale. Replication is asynchronous: what a master
 * acknowledged and had not yet sent to its replica is gone once the replica takes over. Orders
 * wait for a replica (WAIT) before the buyer hears `ordered`, so no acknowledged order is lost.
 */
describe('Redis Cluster failover', () => {
  let cluster: OwnRedisCluster;
  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('an order is acknowledged only once a replica holds it, and a retry with its key after the failover answers it', async () => {
    const prefix = uniquePrefix('failover-wait');
    const options = { url: cluster.url, prefix, idempotencyTtlMs: 86_400_000, commandTimeoutMs: 1000, retryAfterMs: 100, orderReplicaTimeoutMs: 300 };
    const waits = await RedisStore.connect({ ...options, orderReplicas: 1 });
    const trusting = await RedisStore.connect({ ...options, orderReplicas: 0 });
    try {
      const now = Date.now();
      await waits.addProduct('r', { sku: 'a', stock: 10, priceCents: 100, currency: 'USD' });
      for (const user of ['trusted', 'waited']) {
        expect((await waits.reserve({ roomId: 'r', userId: user, sku: 'a', quantity: 1, key: `add-${user}`, now, ttlMs: 600_000 })).status).toBe('reserved');
      }
      const master = await cluster.masterOf(roomBase(prefix, 'r'));
      const replica = await cluster.replicaOf(master);
      await waitForReplica(master);
      // The replica stops answering: the master alone holds what it writes from now on.
      cluster.pause(replica);
      // Without the wait the buyer hears `ordered` from the master alone; with it, a typed retry.
      expect((await trusting.checkout('r', 'trusted', 'pay-trusted', now)).status).toBe('ordered');
      await expect(waits.checkout('r', 'waited', 'pay-waited', now)).rejects.toMatchObject({ code: 'UNAVAILABLE' });

      await cluster.killMasterOf(roomBase(prefix, 'r'));
      cluster.resume(replica);
      await cluster.awaitHealthy();
      // The promoted replica has no replica of its own yet: checkouts still wait, and say so.
      await expect(waits.checkout('r', 'waited', 'pay-waited', now)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      // The old master comes back as the new master's replica: the buyer's retry (same key) is ordered and stays.
      await cluster.restart(master);
      await cluster.awaitHealthy();
      const waited = await eventually(() => waits.checkout('r', 'waited', 'pay-waited', now));
      expect(waited.status).toBe('ordered');
      if (waited.status !== 'ordered') return;
      expect(await waits.order(waited.order.id)).toEqual(waited.order);
      // What the store sold is what its orders hold (the other buyer's order may or may not have reached the replica: it was not waited for).
      const stock = (await waits.stock('r', 'a'))!;
      const orders = await waits.orders('r');
      expect(orders.map((o) => o.id)).toContain(waited.order.id);
      expect(stock.sold).toBe(orders.length);
      expect(stock.available + stock.reserved + stock.sold).toBe(10);
    } finally {
      await waits.close();
      await trusting.close();
    }
  }, 60_000);

  describe('mid-sale, through server processes', () => {
    const prefix = uniquePrefix('failover-sale');
    let nodes: Node[];
    beforeAll(async () => {
      nodes = await startNodes(2, cluster.url, prefix, ['--store-retry-after-ms', '100', '--redis-command-timeout-ms', '500', '--order-replica-timeout-ms', '300']);
      if (process.env.DEBUG_FAILOVER) for (const n of nodes) n.child.stdout!.on('data', (d: Buffer) => { for (const line of d.toString().split('\n')) if (/warn|error|unavailable/i.test(line)) console.log(line.slice(0, 400)); });
    }, 60_000);
    afterAll(() => stopNodes(nodes ?? []));

    it('answers typed retries while a master is down, then sells on; no oversell and no acknowledged order lost', async () => {
      const STOCK = 120;
      const BUYERS = 240;
      const streamer = await tokens.mint({ userId: 'fo-streamer', name: 'S', role: 'streamer' });
      const operator = nodes[0]!;
      expect((await call(operator, 'POST', '/api/rooms', streamer, { title: 'failover', id: 'sale' })).status).toBe(201);
      expect((await call(operator, 'POST', '/api/rooms/sale/products', streamer, { sku: 'hot', title: 'Hot', priceCents: 500, currency: 'USD', stock: STOCK })).status).toBe(201);
      expect((await call(operator, 'POST', '/api/rooms/sale/start', streamer)).status).toBe(200);

      const retries = { add: 0, checkout: 0 };
      const orders: Order[] = [];
      let reservedThenLost = 0;
      let killed = false;
      let killedAt = Number.POSITIVE_INFINITY;
      const master = await cluster.masterOf(roomKey(prefix, 'sale', 'inv:hot'));
      const buyer = async (i: number) => {
        const token = await tokens.mint({ userId: `fo-${i}`, name: `B${i}`, role: 'viewer' });
        const node = nodes[i % nodes.length]!;
        const add = await untilAnswered(() => call(node, 'POST', '/api/rooms/sale/cart/items', token, { sku: 'hot', quantity: 1, key: `add-${i}` }), () => retries.add++);
        if (add.status !== 'reserved') return;
        const paid = await untilAnswered(() => call(node, 'POST', '/api/rooms/sale/checkout', token, { key: `pay-${i}` }), () => retries.checkout++);
        if (paid.status === 'ordered') orders.push(paid.order as Order);
        else if (paid.status === 'cart_not_found') reservedThenLost++;
      };
      const kill = async () => {
        // Mid-sale: once a third of the stock is ordered.
        while (orders.length < STOCK / 3) await new Promise((r) => setImmediate(r));
        killedAt = Date.now();
        await cluster.killMasterOf(roomKey(prefix, 'sale', 'inv:hot'));
        killed = true;
        await cluster.awaitHealthy();
        await cluster.restart(master);
        await cluster.awaitHealthy();
      };
      const started = Date.now();
      await Promise.all([kill(), ...Array.from({ length: BUYERS }, (_, i) => staggered(i, started, () => buyer(i)))]);
      expect(killed).toBe(true);
      expect(retries.add + retries.checkout).toBeGreaterThan(0); // the buyers heard typed retries while the slot had no master

      const inventory = (await call(nodes[1]!, 'GET', '/api/rooms/sale/inventory', streamer)).body.inventory.hot as { available: number; reserved: number; sold: number };
      const stored = (await call(nodes[1]!, 'GET', '/api/rooms/sale/orders', streamer)).body.orders as Order[];
      // Every order a buyer was told about is in the store, and the store sold exactly those units.
      const storedIds = new Set(stored.map((o) => o.id));
      expect(orders.filter((o) => !storedIds.has(o.id))).toEqual([]);
      const soldUnits = stored.reduce((s, o) => s + o.lines.reduce((t, l) => t + l.quantity, 0), 0);
      expect(inventory.sold).toBe(soldUnits);
      expect(inventory.available + inventory.reserved + inventory.sold).toBe(STOCK);
      expect(inventory.sold).toBeLessThanOrEqual(STOCK);
      console.log(`failover mid-sale: ${orders.length} orders acknowledged (all kept), ${retries.add} add and ${retries.checkout} checkout retries, ${reservedThenLost} reservations acknowledged then lost with the master, killed ${killedAt - started} ms in`);
    }, 90_000);
  });
});

/** A client's retry loop: a 503 (or 429) with retry-after is asked again with the same key after the time it was told. */
async function untilAnswered(send: () => Promise<{ status: number; body: Record<string, any> }>, onRetry: () => void): Promise<Record<string, any>> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const answer = await send();
    if (answer.status === 200) return answer.body;
    const temporary = answer.body.error?.temporary === true;
    if (!temporary || Date.now() > deadline) throw new Error(`no definite answer: ${answer.status} ${JSON.stringify(answer.body)}`);
    onRetry();
    await new Promise((r) => setTimeout(r, Math.min(1000, Number(answer.body.error?.retryAfterMs ?? 100))));
  }
}

/** Buyers arrive over about two seconds, as a sale's taps do, so the kill lands mid-sale. */
async function staggered(i: number, started: number, run: () => Promise<void>): Promise<void> {
  const at = started + (i * 2000) / 240;
  if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
  await run();
}

async function waitForReplica(masterPort: number): Promise<void> {
  const redis = new Redis(masterPort);
  try {
    expect(Number(await redis.call('WAIT', 1, 2000))).toBe(1);
  } finally {
    redis.disconnect();
  }
}

async function eventually<T>(run: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
