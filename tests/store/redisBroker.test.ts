import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSequenced, type UnsequencedEvent } from '../../protocol/src/index.ts';
import { type Delivery, type SequencedDelivery, sequencedStep } from '../../server/src/broker/Broker.ts';
import { RedisBroker } from '../../server/src/broker/RedisBroker.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const comment = (text: string): UnsequencedEvent => ({ t: 'comment', userId: 'u1', name: 'U1', text, ts: 1 });

describe('RedisBroker: the publishing node gets its own event early', () => {
  const brokers: RedisBroker[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.close();
  });

  function node(prefix: string) {
    const broker = new RedisBroker(new Redis(REDIS_URL), { url: REDIS_URL, prefix, ringSize: 16, retryAfterMs: 1000 });
    brokers.push(broker);
    const deliveries: SequencedDelivery[] = [];
    broker.onDelivery((delivery: Delivery) => {
      if (delivery.kind === 'sequenced') deliveries.push(delivery);
    });
    return { broker, deliveries };
  }

  it('delivers to the publishing node when the publish returns, flagged early, and the broker copy follows on every node', async () => {
    const prefix = uniquePrefix('broker');
    const a = node(prefix);
    const b = node(prefix);
    await a.broker.subscribe('r1');
    await b.broker.subscribe('r1');
    for (const text of ['one', 'two', 'three']) {
      const event = comment(text);
      const seq = await a.broker.publishSequenced('r1', 'chatter', encodeSequenced(event), event);
      // By the time the publish resolves, its node already has the event, with the issued seq.
      const early = a.deliveries.find((d) => d.seq === seq && d.early === true);
      expect(early?.event).toMatchObject({ t: 'comment', text, seq });
      expect(early?.frame).toEqual(encodeSequenced(event, seq));
    }
    await expect.poll(() => b.deliveries.length).toBe(3);
    await expect.poll(() => a.deliveries.filter((d) => d.early !== true).length).toBe(3);
    // Only the publishing node gets early copies; the broker's copies carry the same seqs in order.
    expect(b.deliveries.map((d) => [d.seq, d.early ?? false])).toEqual([[1, false], [2, false], [3, false]]);
    expect(a.deliveries.filter((d) => d.early !== true).map((d) => d.seq)).toEqual([1, 2, 3]);
  });

  it('sequencedStep: an early copy ahead of a gap is dropped (no refill); the broker copy after a gap refills', () => {
    expect(sequencedStep(4, { seq: 5 })).toBe('apply');
    expect(sequencedStep(4, { seq: 5, early: true })).toBe('apply');
    expect(sequencedStep(4, { seq: 4 })).toBe('drop');
    expect(sequencedStep(5, { seq: 5, early: false })).toBe('drop');
    expect(sequencedStep(4, { seq: 7, early: true })).toBe('drop');
    expect(sequencedStep(4, { seq: 7 })).toBe('refill');
  });
});
