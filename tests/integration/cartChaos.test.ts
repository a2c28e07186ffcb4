/**
 * Chaos during a sale, as an outside tester ran it: two nodes on a Redis of the test's own, SDK
 * buyers of whom some drop their socket right after tapping (the reply is lost; the SDK reconnects
 * and retries with the same key), and Redis frozen with SIGSTOP mid-sale. No buyer may be told
 * `sold_out` while holding a unit, and every unit must end held by a buyer who was told so.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddToCartAnswer, connect, type LivecartClient, type WebSocketConstructor } from '../../client/src/index.ts';
import { decode } from '../../protocol/src/codec.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { OwnRedis } from '../helpers/redisServer.ts';
import { saleRoom, startTestServer } from '../helpers/server.ts';

const BUYERS = 160;
const UNITS = 60;
const FREEZE_MS = 3000;

/** A real `ws` socket that drops its connection 5 ms after sending its first add-to-cart (once per buyer). */
function droppingWebSocket(): WebSocketConstructor {
  let dropped = false;
  return class DroppingWebSocket extends NodeWebSocket {
    override send(data: Uint8Array): void {
      super.send(data);
      if (dropped || (decode(data) as { t?: string }).t !== 'addToCart') return;
      dropped = true;
      setTimeout(() => this.terminate(), 5);
    }
  };
}

describe('a sale under chaos (two nodes, Redis frozen, sockets dropped after tapping)', () => {
  let redis: OwnRedis;
  const nodes: RunningServer[] = [];
  beforeAll(async () => {
    redis = await OwnRedis.start();
    for (let i = 0; i < 2; i++) {
      nodes.push(await startTestServer({ redis: redis.url, redisPrefix: 'chaos', redisCommandTimeoutMs: 300, storeRetryAfterMs: 200, maxFramesPerSecond: 10_000 }));
    }
  });
  afterAll(async () => {
    redis.resume();
    for (const node of nodes) await node.close();
    await redis.kill();
  });

  it('never tells a buyer "sold out" while it holds a unit, and every unit ends with a buyer who was told so', async () => {
    await saleRoom(nodes[0]!, 'chaos', UNITS);
    const buyers: LivecartClient[] = await Promise.all(Array.from({ length: BUYERS }, async (_, i) => {
      const node = nodes[i % 2]!;
      const token = await node.mintToken({ userId: `buyer-${i}`, name: `Buyer ${i}`, role: 'viewer' });
      const client = connect({
        url: node.wsUrl, token, room: 'chaos',
        reconnect: { baseMs: 20, maxMs: 200 }, retry: { baseMs: 50, maxMs: 400, maxAttempts: 100, maxElapsedMs: 60_000 },
        ...(i % 10 < 3 ? { WebSocket: droppingWebSocket() } : {}),
      });
      await client.ready;
      return client;
    }));
    let reserved = 0;
    for (const b of buyers) b.on('cartAction', (e) => void (e.state === 'reserved' && reserved++));
    const answers = buyers.map((b) => b.addToCart('hot', 1).then((a): AddToCartAnswer | Error => a, (error: Error) => error));
    // Mid-sale: once some units are taken, Redis freezes for a few seconds.
    await waitUntil(() => reserved >= 10, 20_000, 'the sale under way');
    redis.pause();
    await new Promise((r) => setTimeout(r, FREEZE_MS));
    redis.resume();
    const final = await Promise.all(answers);
    for (const b of buyers) b.close();

    const statuses = final.map((a) => (a instanceof Error ? `error ${a.message}` : a.status));
    expect(new Set(statuses), 'every buyer got a definite answer').toEqual(new Set(['reserved', 'sold_out']));
    const now = Date.now();
    let heldByToldReserved = 0;
    for (const [i, answer] of final.entries()) {
      const cart = await nodes[0]!.store.cart('chaos', `buyer-${i}`, now);
      const held = cart.lines.find((l) => l.sku === 'hot')?.quantity ?? 0;
      if (!(answer instanceof Error) && answer.status === 'sold_out') expect(held, `buyer-${i} was told sold_out`).toBe(0);
      if (!(answer instanceof Error) && answer.status === 'reserved') {
        expect(held, `buyer-${i} was told reserved`).toBe(answer.quantity);
        heldByToldReserved += held;
      }
    }
    expect(await nodes[0]!.store.stock('chaos', 'hot')).toEqual({ available: 0, reserved: UNITS, sold: 0 });
    expect(heldByToldReserved).toBe(UNITS);
  }, 90_000);
});
