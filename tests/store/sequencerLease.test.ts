import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decode, encodeSequenced, type SequencedEvent, type UnsequencedEvent } from '../../protocol/src/index.ts';
import type { Delivery, SequencedDelivery } from '../../server/src/broker/Broker.ts';
import { RedisBroker } from '../../server/src/broker/RedisBroker.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { roomKey } from '../../server/src/redis/keys.ts';

const comment = (text: string): UnsequencedEvent => ({ t: 'comment', userId: 'u1', name: 'U1', text, ts: 1 });
const textOf = (delivery: SequencedDelivery) => (delivery.event as Extract<SequencedEvent, { t: 'comment' }>).text;

describe('RedisBroker sequencer lease: the node hosting a room issues its seqs', () => {
  const brokers: RedisBroker[] = [];
  const redis = new Redis(REDIS_URL);
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.close();
  });
  afterAll(() => redis.disconnect());

  function node(prefix: string, sequencerLeaseMs = 1000) {
    const broker = new RedisBroker(new Redis(REDIS_URL), { url: REDIS_URL, prefix, ringSize: 64, retryAfterMs: 1000, sequencerLeaseMs });
    brokers.push(broker);
    const deliveries: SequencedDelivery[] = [];
    /** The broker's copies only: an early copy of this node's own publish may run ahead of an earlier seq's (the room layer orders them). */
    const brokerCopies: SequencedDelivery[] = [];
    const resets: Array<Extract<Delivery, { kind: 'reset' }>> = [];
    broker.onDelivery((delivery: Delivery) => {
      if (delivery.kind === 'sequenced' && !deliveries.some((d) => d.seq === delivery.seq)) deliveries.push(delivery);
      if (delivery.kind === 'sequenced' && delivery.early !== true) brokerCopies.push(delivery);
      if (delivery.kind === 'reset') resets.push(delivery);
    });
    return { broker, deliveries, brokerCopies, resets };
  }

  /** Node a hosts r1 and holds its lease; node b hosts it too. */
  async function holderAndOther(prefix: string) {
    const a = node(prefix);
    const b = node(prefix);
    await a.broker.subscribe('r1');
    await waitUntil(() => a.broker.sequencesLocally('r1'), 2000, 'lease taken');
    await b.broker.subscribe('r1');
    return { a, b };
  }

  /** The room's log in Redis: the comments' texts by seq. */
  async function log(prefix: string, roomId: string) {
    const ring = await redis.lrangeBuffer(roomKey(prefix, roomId, 'ring'), 0, -1);
    return { seq: Number(await redis.get(roomKey(prefix, roomId, 'seq'))), texts: ring.map((m) => (decode(m.subarray(2)) as { text: string }).text) };
  }

  it('delivers on the holder in the publishing call, before Redis answers, and the append puts it in the log for every node', async () => {
    const prefix = uniquePrefix('lease');
    const { a, b } = await holderAndOther(prefix);
    expect(b.broker.sequencesLocally('r1')).toBe(false);
    for (const text of ['one', 'two', 'three']) {
      const event = comment(text);
      const published = a.broker.publishSequenced('r1', 'chatter', encodeSequenced(event), event);
      // Synchronously: no Redis reply has been read yet.
      expect(a.deliveries.at(-1)).toMatchObject({ early: true, event: { text } });
      const seq = await published;
      expect(a.deliveries.at(-1)?.seq).toBe(seq);
    }
    expect(a.deliveries.map((d) => d.seq)).toEqual([1, 2, 3]);
    await waitUntil(() => b.deliveries.length === 3, 2000, 'broker copies on the other node');
    expect(b.deliveries.map((d) => [d.seq, textOf(d), d.early])).toEqual([[1, 'one', undefined], [2, 'two', undefined], [3, 'three', undefined]]);
    expect(await log(prefix, 'r1')).toEqual({ seq: 3, texts: ['one', 'two', 'three'] });
    expect((await b.broker.recent('r1')).latestSeq).toBe(3);
  });

  it('another node publishing makes the holder let go; both nodes then see one gap-free order', async () => {
    const prefix = uniquePrefix('lease');
    const { a, b } = await holderAndOther(prefix);
    const publish = (n: typeof a, text: string) => n.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment(text)), comment(text));
    expect(await publish(a, 'a1')).toBe(1);
    const started = Date.now();
    expect(await publish(b, 'b2')).toBe(2);
    expect(Date.now() - started).toBeLessThan(500); // the holder let go: no waiting for its lease to run out
    expect(a.broker.sequencesLocally('r1')).toBe(false);
    expect(a.broker.sequencerStats).toMatchObject({ leasesHeld: 0, sequencedLocally: 1, leasesReleased: 1, resets: 0 });
    const sent = await Promise.all([publish(a, 'a3'), publish(b, 'b4'), publish(a, 'a5')]);
    expect([...sent].sort()).toEqual([3, 4, 5]);
    await waitUntil(() => a.brokerCopies.length === 5 && b.brokerCopies.length === 5, 2000, 'every event on both nodes');
    const order = (n: typeof a) => n.brokerCopies.map((d) => `${d.seq}:${textOf(d)}`);
    expect(order(a)).toEqual(order(b));
    expect(a.brokerCopies.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await log(prefix, 'r1')).texts).toEqual(a.brokerCopies.map(textOf));
  });

  it('a node that only hosts the room does not take a freed lease; one that publishes there does', async () => {
    const prefix = uniquePrefix('lease');
    const a = node(prefix, 300);
    const b = node(prefix, 300);
    await a.broker.subscribe('r1');
    await waitUntil(() => a.broker.sequencesLocally('r1'), 2000, 'lease taken');
    await b.broker.subscribe('r1'); // refused: a holds it
    await a.broker.unsubscribe('r1'); // a stops hosting: its lease is freed
    await waitUntil(async () => (await redis.exists(roomKey(prefix, 'r1', 'lease'))) === 0, 2000, 'lease freed');
    await new Promise((r) => setTimeout(r, 400)); // past b's wait after the refusal, and several renewal ticks
    expect(await redis.exists(roomKey(prefix, 'r1', 'lease'))).toBe(0);
    expect(await b.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('b')), comment('b'))).toBe(1);
    await waitUntil(() => b.broker.sequencesLocally('r1'), 2000, 'the publishing node takes the lease');
  });

  it('a lease held by a node that died runs out, and the others go on', async () => {
    const prefix = uniquePrefix('lease');
    const setAt = Date.now();
    await redis.set(roomKey(prefix, 'r1', 'lease'), 'a-node-that-died', 'PX', 300);
    const b = node(prefix);
    await b.broker.subscribe('r1');
    expect(await b.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('after')), comment('after'))).toBe(1);
    // It went through only once the dead node's lease ran out.
    expect(Date.now() - setAt).toBeGreaterThanOrEqual(280);
    expect((await log(prefix, 'r1')).texts).toEqual(['after']);
  });

  it('a holder fenced off (its lease taken over) fails the publish, keeps it out of the log and resets the room from the first unlogged seq', async () => {
    const prefix = uniquePrefix('lease');
    const a = node(prefix);
    await a.broker.subscribe('r1');
    await waitUntil(() => a.broker.sequencesLocally('r1'), 2000, 'lease taken');
    expect(await a.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('kept')), comment('kept'))).toBe(1);
    // Another node took the room over (a's lease ran out while it stalled, say).
    await redis.set(roomKey(prefix, 'r1', 'lease'), 'the-new-holder', 'PX', 5000);
    const lost = a.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('unlogged')), comment('unlogged'));
    expect(a.deliveries.at(-1)).toMatchObject({ seq: 2, early: true }); // its sockets saw it already
    await expect(lost).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await waitUntil(() => a.resets.length > 0, 2000, 'reset');
    expect(a.resets).toEqual([{ kind: 'reset', roomId: 'r1', fromSeq: 2 }]);
    expect(a.broker.sequencesLocally('r1')).toBe(false);
    expect(await log(prefix, 'r1')).toEqual({ seq: 1, texts: ['kept'] });
  });

  it('a delivery handler that throws does not cost the seq: the event is still appended and the next publish goes on', async () => {
    const prefix = uniquePrefix('lease');
    const a = node(prefix);
    let failNext = false;
    const resets: Delivery[] = [];
    a.broker.onDelivery((delivery) => {
      if (delivery.kind === 'reset') resets.push(delivery);
      if (delivery.kind === 'sequenced' && failNext) {
        failNext = false;
        throw new Error('a bug while applying');
      }
    });
    await a.broker.subscribe('r1');
    await waitUntil(() => a.broker.sequencesLocally('r1'), 2000, 'lease taken');
    failNext = true;
    await expect(a.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('one')), comment('one'))).rejects.toThrow('a bug while applying');
    expect(await a.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('two')), comment('two'))).toBe(2);
    expect(a.broker.sequencesLocally('r1')).toBe(true);
    expect(await log(prefix, 'r1')).toEqual({ seq: 2, texts: ['one', 'two'] });
    expect(resets).toEqual([]);
  });

  it('off (0): every seq comes from Redis, and the publish delivers only once Redis answered', async () => {
    const prefix = uniquePrefix('lease');
    const a = node(prefix, 0);
    await a.broker.subscribe('r1');
    await new Promise((r) => setTimeout(r, 50));
    expect(a.broker.sequencesLocally('r1')).toBe(false);
    const published = a.broker.publishSequenced('r1', 'chatter', encodeSequenced(comment('x')), comment('x'));
    expect(a.deliveries).toEqual([]);
    expect(await published).toBe(1);
    expect(await redis.exists(roomKey(prefix, 'r1', 'lease'))).toBe(0);
  });
});
