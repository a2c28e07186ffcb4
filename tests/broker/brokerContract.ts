import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode, encodeSequenced, type Lane, readSeq, type SequencedEvent, type StateUpdate, type UnsequencedEvent } from '../../protocol/src/index.ts';
import { type Broker, type Delivery, type SequencedDelivery, sequencedStep } from '../../server/src/broker/Broker.ts';
import { waitUntil } from '../helpers/rawClient.ts';

export interface BrokerFactory {
  /** A broker with rooms of its own (no other test's events), keeping `ringSize` events per room. */
  create(ringSize: number): Promise<Broker>;
  /** Another node on the same rooms, when the broker spans nodes. */
  sibling?(broker: Broker, ringSize: number): Promise<Broker>;
  /**
   * Whether a node hosting a room issues its seqs itself once it may (`sequencesLocally`): then a
   * publish there delivers on this node before the call returns.
   */
  readonly sequencesLocally: boolean;
}

const RING = 4;
let textCounter = 0;
const comment = (text = `c${++textCounter}`): UnsequencedEvent => ({ t: 'comment', userId: 'u1', name: 'U1', text, ts: 1_800_000_000_000 });
const product = (sku: string): UnsequencedEvent => ({ t: 'product', product: { sku, title: `Item ${sku}`, priceCents: 1000, currency: 'USD', stock: 5 } });
const textOf = (delivery: SequencedDelivery) => (delivery.event as Extract<SequencedEvent, { t: 'comment' }>).text;

/** A broker and everything it handed to `onDelivery`, in order. */
interface Node {
  readonly broker: Broker;
  readonly deliveries: Delivery[];
}

function record(broker: Broker): Node {
  const deliveries: Delivery[] = [];
  broker.onDelivery((delivery) => deliveries.push(delivery));
  return { broker, deliveries };
}

const sequencedIn = (node: Node, roomId: string) => node.deliveries.filter((d): d is SequencedDelivery => d.kind === 'sequenced' && d.roomId === roomId);
/** The broker's own copies (not the publishing node's early ones). */
const brokerCopies = (node: Node, roomId: string) => sequencedIn(node, roomId).filter((d) => d.early !== true);
const ofRoom = (node: Node, roomId: string) => node.deliveries.filter((d) => d.roomId === roomId);

/** What the room layer makes of a node's deliveries (`sequencedStep` from 0): the seqs it applies, or a thrown gap. */
function applied(node: Node, roomId: string): number[] {
  const seqs: number[] = [];
  for (const delivery of sequencedIn(node, roomId)) {
    const step = sequencedStep(seqs.at(-1) ?? 0, delivery);
    if (step === 'refill') throw new Error(`gap before seq ${delivery.seq} in ${roomId}: ${JSON.stringify(sequencedIn(node, roomId).map((d) => [d.seq, d.early]))}`);
    if (step === 'apply') seqs.push(delivery.seq);
  }
  return seqs;
}

/** A frame as plain bytes: the Redis broker hands out Buffers. */
const bytes = (frame: Uint8Array) => Uint8Array.from(frame);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publish(node: Node, roomId: string, event: UnsequencedEvent = comment(), lane: Lane = 'chatter'): Promise<number> {
  return node.broker.publishSequenced(roomId, lane, encodeSequenced(event), event);
}

/** Waits until every node has the broker's copy of `seq` in the room: deliveries being in order, all before it are in too. */
async function settled(nodes: Node[], roomId: string, seq: number): Promise<void> {
  await waitUntil(() => nodes.every((node) => brokerCopies(node, roomId).some((d) => d.seq === seq)), 5000, `seq ${seq} of ${roomId} on every node`);
}

/** One contract, every broker: the same tests run unchanged against the in-process and the Redis broker. */
export function describeBrokerContract(name: string, factory: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    const brokers: Broker[] = [];
    afterEach(async () => {
      for (const broker of brokers.splice(0)) await broker.close();
    });

    async function node(): Promise<Node> {
      const broker = await factory.create(RING);
      brokers.push(broker);
      return record(broker);
    }

    async function siblingOf(first: Node): Promise<Node> {
      const broker = await factory.sibling!(first.broker, RING);
      brokers.push(broker);
      return record(broker);
    }

    const itCrossNode = factory.sibling ? it : it.skip;

    it('issues seqs per room from 1, in order, and stamps each into the frame and the event', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const events = [comment('one'), product('p1'), comment('three')];
      const lanes: Lane[] = ['chatter', 'commerce', 'chatter'];
      const seqs: number[] = [];
      for (const [i, event] of events.entries()) seqs.push(await publish(a, 'r1', event, lanes[i]));
      expect(seqs).toEqual([1, 2, 3]);
      await settled([a], 'r1', 3);
      for (const delivery of sequencedIn(a, 'r1')) {
        const i = delivery.seq - 1;
        expect(delivery).toMatchObject({ kind: 'sequenced', roomId: 'r1', lane: lanes[i], event: { ...events[i], seq: delivery.seq } });
        expect(readSeq(delivery.frame)).toBe(delivery.seq);
        expect(bytes(delivery.frame)).toEqual(bytes(encodeSequenced(events[i]!, delivery.seq)));
        expect(decode(delivery.frame)).toEqual({ ...events[i], seq: delivery.seq });
      }
    });

    it('concurrent publishes get distinct gap-free seqs, each delivered with its own event', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const texts = range(1, 20).map((i) => `t${i}`);
      const seqs = await Promise.all(texts.map((text) => publish(a, 'r1', comment(text))));
      expect([...seqs].sort((x, y) => x - y)).toEqual(range(1, 20));
      await settled([a], 'r1', 20);
      const textBySeq = new Map(seqs.map((seq, i) => [seq, texts[i]]));
      for (const delivery of sequencedIn(a, 'r1')) {
        expect(textOf(delivery)).toBe(textBySeq.get(delivery.seq));
        expect(readSeq(delivery.frame)).toBe(delivery.seq);
      }
    });

    it('delivers each sequenced event to the subscribed node once, in seq order; any early copy is the publisher\'s own and never breaks the order', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) seqs.push(await publish(a, 'r1'));
      seqs.push(...(await Promise.all(range(1, 5).map(() => publish(a, 'r1')))));
      await settled([a], 'r1', 10);
      expect(brokerCopies(a, 'r1').map((d) => d.seq)).toEqual(range(1, 10));
      expect(applied(a, 'r1')).toEqual(range(1, 10));
      const early = sequencedIn(a, 'r1').filter((d) => d.early === true).map((d) => d.seq);
      expect(new Set(early).size).toBe(early.length);
      for (const seq of early) expect(seqs).toContain(seq);
    });

    it(`${factory.sequencesLocally ? 'sequences locally: a publish delivers here before the call returns' : 'does not sequence locally: a publish delivers only after Redis answered'}`, async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      if (factory.sequencesLocally) await waitUntil(() => a.broker.sequencesLocally('r1'), 5000, 'sequencing locally');
      else expect(a.broker.sequencesLocally('r1')).toBe(false);
      for (const text of ['x', 'y', 'z']) {
        const pending = publish(a, 'r1', comment(text));
        const now = sequencedIn(a, 'r1').find((d) => textOf(d) === text);
        if (factory.sequencesLocally) expect(now?.seq).toBe(await pending);
        else {
          expect(now).toBeUndefined();
          await pending;
        }
      }
    });

    it('delivers nothing for a room the node is not subscribed to', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      await publish(a, 'r2');
      a.broker.publishState('r2', 'chatter', encode({ t: 'likes', total: 1 }), { t: 'likes', total: 1 });
      a.broker.publishDirect('r2', 'u1', encode({ t: 'reservationExpired', sku: 'a', quantity: 1 }));
      await a.broker.publishKick('r2', 'u1', 1);
      // Published after the others, on the same path: once it is in, they would have been.
      await publish(a, 'r1');
      await settled([a], 'r1', 1);
      a.broker.publishState('r1', 'chatter', encode({ t: 'likes', total: 2 }), { t: 'likes', total: 2 });
      await waitUntil(() => ofRoom(a, 'r1').some((d) => d.kind === 'state'), 5000, 'the state update in r1');
      expect(ofRoom(a, 'r2')).toEqual([]);
    });

    it('delivers nothing for a room after unsubscribe, and its events again once subscribed anew', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      await a.broker.subscribe('r2');
      await publish(a, 'r1');
      await settled([a], 'r1', 1);
      await a.broker.unsubscribe('r1');
      const before = a.deliveries.length;
      await publish(a, 'r1');
      a.broker.publishState('r1', 'commerce', encode({ t: 'stock', sku: 'a', available: 3 }), { t: 'stock', sku: 'a', available: 3 });
      a.broker.publishDirect('r1', 'u1', encode({ t: 'reservationExpired', sku: 'a', quantity: 1 }));
      await a.broker.publishKick('r1', 'u1', 1);
      await publish(a, 'r2');
      await settled([a], 'r2', 1);
      expect(ofRoom(a, 'r1').every((d) => d.kind === 'sequenced' && d.seq === 1)).toBe(true);
      expect(a.deliveries.slice(before).map((d) => d.roomId)).toEqual(a.deliveries.slice(before).map(() => 'r2'));
      await a.broker.subscribe('r1');
      expect(await publish(a, 'r1')).toBe(3);
      await settled([a], 'r1', 3);
      expect(brokerCopies(a, 'r1').map((d) => d.seq)).toEqual([1, 3]);
    });

    it('recent: an unknown room is empty at seq 0; a room holds its last ring-size events and its latest seq', async () => {
      const a = await node();
      expect(await a.broker.recent('r1')).toEqual({ latestSeq: 0, events: [] });
      await a.broker.subscribe('r1');
      const texts = range(1, RING + 3).map((i) => `e${i}`);
      for (const [i, text] of texts.entries()) await publish(a, 'r1', comment(text), i % 2 === 0 ? 'chatter' : 'commerce');
      const recent = await a.broker.recent('r1');
      expect(recent.latestSeq).toBe(RING + 3);
      expect(recent.events.map((d) => d.seq)).toEqual(range(4, RING + 3));
      for (const delivery of recent.events) {
        const i = delivery.seq - 1;
        expect(delivery).toMatchObject({ kind: 'sequenced', roomId: 'r1', lane: i % 2 === 0 ? 'chatter' : 'commerce', event: { ...comment(texts[i]), seq: delivery.seq } });
        expect(delivery.early).not.toBe(true);
        expect(bytes(delivery.frame)).toEqual(bytes(encodeSequenced(comment(texts[i]), delivery.seq)));
      }
      // Also for a node that does not host the room (it reads before it subscribes).
      expect(await (await node()).broker.recent('r1')).toEqual({ latestSeq: 0, events: [] });
    });

    it('delivers state updates with their lane, frame and update', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const likes: StateUpdate = { t: 'likes', total: 42 };
      const stock: StateUpdate = { t: 'stock', sku: 'sku-1', available: 7 };
      a.broker.publishState('r1', 'chatter', encode(likes), likes);
      a.broker.publishState('r1', 'commerce', encode(stock), stock);
      await waitUntil(() => ofRoom(a, 'r1').length >= 2, 5000, 'two state updates');
      expect(ofRoom(a, 'r1')).toEqual([
        { kind: 'state', roomId: 'r1', lane: 'chatter', frame: expect.anything(), update: likes },
        { kind: 'state', roomId: 'r1', lane: 'commerce', frame: expect.anything(), update: stock },
      ]);
      expect(ofRoom(a, 'r1').map((d) => bytes((d as { frame: Uint8Array }).frame))).toEqual([bytes(encode(likes)), bytes(encode(stock))]);
    });

    it('delivers direct frames with the user they are for', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const frame = encode({ t: 'reservationExpired', sku: 'a', quantity: 2 });
      a.broker.publishDirect('r1', 'Üser-1', frame);
      a.broker.publishDirect('r1', 'u2', encode({ t: 'reservationExpired', sku: 'b', quantity: 1 }));
      await waitUntil(() => ofRoom(a, 'r1').length >= 2, 5000, 'two direct frames');
      const [first, second] = ofRoom(a, 'r1');
      expect(first).toMatchObject({ kind: 'direct', roomId: 'r1', userId: 'Üser-1' });
      expect(bytes((first as { frame: Uint8Array }).frame)).toEqual(bytes(frame));
      expect(second).toMatchObject({ kind: 'direct', roomId: 'r1', userId: 'u2' });
      expect(decode((second as { frame: Uint8Array }).frame)).toEqual({ t: 'reservationExpired', sku: 'b', quantity: 1 });
    });

    it('delivers kicks with the user and until (0 lifts the ban)', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const until = 1_800_000_123_456;
      await a.broker.publishKick('r1', 'Üser-1', until);
      await a.broker.publishKick('r1', 'u2', 0);
      await waitUntil(() => ofRoom(a, 'r1').length >= 2, 5000, 'two kicks');
      expect(ofRoom(a, 'r1')).toEqual([
        { kind: 'kick', roomId: 'r1', userId: 'Üser-1', until },
        { kind: 'kick', roomId: 'r1', userId: 'u2', until: 0 },
      ]);
    });

    it('delivers a room\'s settings to the nodes hosting it, and nowhere else', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const fixed = { version: 3, degradeOverride: 2 as const, queueLimit: 0 };
      const cleared = { version: 4, degradeOverride: null, queueLimit: null };
      await a.broker.publishSettings('r2', fixed); // not hosted here
      await a.broker.publishSettings('r1', fixed);
      await a.broker.publishSettings('r1', cleared);
      await waitUntil(() => ofRoom(a, 'r1').length >= 2, 5000, 'two settings deliveries');
      expect(ofRoom(a, 'r1')).toEqual([
        { kind: 'settings', roomId: 'r1', settings: fixed },
        { kind: 'settings', roomId: 'r1', settings: cleared },
      ]);
      expect(ofRoom(a, 'r2')).toEqual([]);
    });

    itCrossNode('delivers a room\'s settings published by one node to another node hosting it', async () => {
      const a = await node();
      const b = await siblingOf(a);
      await b.broker.subscribe('r1');
      const settings = { version: 1, degradeOverride: 3 as const, queueLimit: 7 };
      await a.broker.publishSettings('r1', settings);
      await waitUntil(() => ofRoom(b, 'r1').length >= 1, 5000, 'settings on the other node');
      expect(ofRoom(b, 'r1')).toEqual([{ kind: 'settings', roomId: 'r1', settings }]);
      expect(ofRoom(a, 'r1')).toEqual([]); // a does not host the room
    });

    itCrossNode('delivers a room\'s keyword filter published by one node to another node hosting it, and nowhere else', async () => {
      const a = await node();
      const b = await siblingOf(a);
      await b.broker.subscribe('r1');
      const filter = { version: 2, words: ['spam', '垃圾', 'ＡＢＣ'] };
      await a.broker.publishFilter('r2', { version: 1, words: ['x'] }); // hosted nowhere
      await a.broker.publishFilter('r1', filter);
      await waitUntil(() => ofRoom(b, 'r1').length >= 1, 5000, 'the filter on the other node');
      expect(ofRoom(b, 'r1')).toEqual([{ kind: 'filter', roomId: 'r1', filter }]);
      expect(ofRoom(b, 'r2')).toEqual([]);
      expect(ofRoom(a, 'r1')).toEqual([]); // a does not host the room
    });

    it('delivers a room\'s keyword filter to the node hosting it', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      const filter = { version: 1, words: ['spam'] };
      await a.broker.publishFilter('r1', filter);
      await waitUntil(() => ofRoom(a, 'r1').length >= 1, 5000, 'the filter');
      expect(ofRoom(a, 'r1')).toEqual([{ kind: 'filter', roomId: 'r1', filter }]);
    });

    itCrossNode('tells the nodes hosting a room that its media origin changed, and nowhere else', async () => {
      const a = await node();
      const b = await siblingOf(a);
      await b.broker.subscribe('r1');
      a.broker.publishMedia('r2'); // hosted nowhere
      a.broker.publishMedia('r1');
      await waitUntil(() => ofRoom(b, 'r1').length >= 1, 5000, 'the media notice on the other node');
      expect(ofRoom(b, 'r1')).toEqual([{ kind: 'media', roomId: 'r1' }]);
      expect(ofRoom(b, 'r2')).toEqual([]);
      expect(ofRoom(a, 'r1')).toEqual([]); // a does not host the room
    });

    it('keeps rooms apart: seqs, deliveries and rings of one room never show in another', async () => {
      const a = await node();
      // A room id that is the other's prefix.
      await a.broker.subscribe('r1');
      await a.broker.subscribe('r10');
      const seqs: Array<[string, number]> = [];
      for (let i = 0; i < 3; i++) {
        seqs.push(['r1', await publish(a, 'r1', comment(`r1-${i}`))]);
        seqs.push(['r10', await publish(a, 'r10', comment(`r10-${i}`))]);
      }
      expect(seqs).toEqual([['r1', 1], ['r10', 1], ['r1', 2], ['r10', 2], ['r1', 3], ['r10', 3]]);
      a.broker.publishState('r10', 'chatter', encode({ t: 'viewers', count: 9 }), { t: 'viewers', count: 9 });
      a.broker.publishDirect('r10', 'u1', encode({ t: 'reservationExpired', sku: 'a', quantity: 1 }));
      await a.broker.publishKick('r10', 'u1', 5);
      await settled([a], 'r1', 3);
      await settled([a], 'r10', 3);
      await waitUntil(() => ofRoom(a, 'r10').some((d) => d.kind === 'kick'), 5000, 'the kick in r10');
      expect(applied(a, 'r1')).toEqual([1, 2, 3]);
      expect(applied(a, 'r10')).toEqual([1, 2, 3]);
      expect(sequencedIn(a, 'r1').map(textOf).every((text) => text.startsWith('r1-'))).toBe(true);
      expect(sequencedIn(a, 'r10').map(textOf).every((text) => text.startsWith('r10-'))).toBe(true);
      expect(ofRoom(a, 'r1').every((d) => d.kind === 'sequenced')).toBe(true);
      const r1 = await a.broker.recent('r1');
      expect({ latestSeq: r1.latestSeq, texts: r1.events.map(textOf), rooms: [...new Set(r1.events.map((d) => d.roomId))] }).toEqual({ latestSeq: 3, texts: ['r1-0', 'r1-1', 'r1-2'], rooms: ['r1'] });
    });

    // ---------------------------------------------------------------- across nodes

    itCrossNode('every node hosting the room gets every event once, in the same order, whichever node published it', async () => {
      const a = await node();
      const b = await siblingOf(a);
      await a.broker.subscribe('r1');
      await b.broker.subscribe('r1');
      const sent: Array<[string, number]> = [];
      for (let i = 0; i < 3; i++) {
        sent.push([`a${i}`, await publish(a, 'r1', comment(`a${i}`))]);
        sent.push([`b${i}`, await publish(b, 'r1', comment(`b${i}`))]);
      }
      const publisherOf = new Map<string, Node>(sent.map(([text]) => [text, text.startsWith('a') ? a : b]));
      for (const i of range(1, 6)) publisherOf.set(`x${i}`, i % 2 === 0 ? a : b);
      const together = await Promise.all(range(1, 6).map((i) => publish(publisherOf.get(`x${i}`)!, 'r1', comment(`x${i}`))));
      expect(sent.map(([, seq]) => seq)).toEqual(range(1, 6));
      expect([...together].sort((x, y) => x - y)).toEqual(range(7, 12));
      await settled([a, b], 'r1', 12);
      for (const n of [a, b]) {
        expect(brokerCopies(n, 'r1').map((d) => d.seq)).toEqual(range(1, 12));
        expect(applied(n, 'r1')).toEqual(range(1, 12));
      }
      expect(brokerCopies(a, 'r1').map(textOf)).toEqual(brokerCopies(b, 'r1').map(textOf));
      expect(brokerCopies(a, 'r1').slice(0, 6).map(textOf)).toEqual(sent.map(([text]) => text));
      // Early copies only on the node that published the event.
      for (const n of [a, b]) {
        for (const d of sequencedIn(n, 'r1').filter((d) => d.early === true)) expect(publisherOf.get(textOf(d)) === n, textOf(d)).toBe(true);
      }
    });

    itCrossNode('a node joining later continues after the room\'s latest seq and reads the same ring', async () => {
      const a = await node();
      await a.broker.subscribe('r1');
      for (let i = 0; i < 3; i++) await publish(a, 'r1');
      const b = await siblingOf(a);
      expect((await b.broker.recent('r1')).latestSeq).toBe(3);
      await b.broker.subscribe('r1');
      expect(await publish(b, 'r1', comment('late'))).toBe(4);
      await settled([a, b], 'r1', 4);
      expect(applied(a, 'r1')).toEqual([1, 2, 3, 4]);
      expect(brokerCopies(b, 'r1').map((d) => [d.seq, textOf(d)])).toEqual([[4, 'late']]);
      const [ra, rb] = await Promise.all([a.broker.recent('r1'), b.broker.recent('r1')]);
      expect(rb.latestSeq).toBe(4);
      expect(rb.events.map((d) => [d.seq, textOf(d)])).toEqual(ra.events.map((d) => [d.seq, textOf(d)]));
    });

    itCrossNode('state updates, direct frames and kicks reach the other nodes hosting the room, and only them', async () => {
      const a = await node();
      const b = await siblingOf(a);
      const c = await siblingOf(a);
      await a.broker.subscribe('r1');
      await b.broker.subscribe('r1');
      await c.broker.subscribe('r2');
      const stock: StateUpdate = { t: 'stock', sku: 'a', available: 1 };
      const direct = encode({ t: 'reservationExpired', sku: 'a', quantity: 1 });
      a.broker.publishState('r1', 'commerce', encode(stock), stock);
      a.broker.publishDirect('r1', 'u1', direct);
      await a.broker.publishKick('r1', 'u2', 99);
      await publish(a, 'r1');
      await publish(a, 'r2');
      await settled([a, b], 'r1', 1);
      await settled([c], 'r2', 1);
      await waitUntil(() => ofRoom(b, 'r1').length >= 4, 5000, 'everything on b');
      expect(ofRoom(b, 'r1').map((d) => d.kind)).toEqual(['state', 'direct', 'kick', 'sequenced']);
      expect(ofRoom(b, 'r1').slice(0, 3)).toMatchObject([
        { kind: 'state', roomId: 'r1', lane: 'commerce', update: stock },
        { kind: 'direct', roomId: 'r1', userId: 'u1' },
        { kind: 'kick', roomId: 'r1', userId: 'u2', until: 99 },
      ]);
      expect(bytes((ofRoom(b, 'r1')[1] as { frame: Uint8Array }).frame)).toEqual(bytes(direct));
      expect(ofRoom(b, 'r2')).toEqual([]);
      expect(ofRoom(c, 'r1')).toEqual([]);
      expect(c.deliveries.map((d) => d.kind)).toEqual(['sequenced']);
    });
  });
}
