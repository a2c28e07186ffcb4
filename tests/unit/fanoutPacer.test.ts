import { describe, expect, it } from 'vitest';
import { Fanout, topicOf } from '../../server/src/fanout/Fanout.ts';

/** A fan-out whose turns run only when the test says, recording every topic publish in order. */
function harness(options: { shardSize: number; deliveriesPerTurn: number; maxWaitingFrames?: number }) {
  const published: Array<{ turn: number; topic: string; text: string }> = [];
  const pending: Array<() => void> = [];
  let turn = 0;
  const fanout = new Fanout(
    { publish: (topic, frame) => (published.push({ turn, topic, text: new TextDecoder().decode(frame) }), true) },
    { sampledCommentsPerSecond: 20, maxWaitingFrames: 1000, ...options },
    Date.now,
    (next) => pending.push(next),
  );
  const nextTurn = () => {
    turn++;
    const due = pending.splice(0);
    for (const run of due) run();
  };
  const frame = (text: string) => new TextEncoder().encode(text);
  /** What a socket on `shard` of `roomId` with `role` receives, in order. */
  const receivedBy = (roomId: string, shard: number, role: 'viewer' | 'streamer' = 'viewer') => {
    const topics = new Set([topicOf(roomId, 'commerce', role, shard), topicOf(roomId, 'chatter', role, shard)]);
    return published.filter((p) => topics.has(p.topic)).map((p) => p.text);
  };
  return { fanout, published, nextTurn, frame, receivedBy, pendingTurns: () => pending.length, turn: () => turn };
}

const join = (fanout: Fanout, roomId: string, sockets: number, role: 'viewer' | 'streamer' = 'viewer') =>
  Array.from({ length: sockets }, () => fanout.join(roomId, role));

describe('Fanout pacing', () => {
  it('gives a room shards of at most shardSize sockets and fills freed places first', () => {
    const { fanout } = harness({ shardSize: 3, deliveriesPerTurn: 100 });
    expect(join(fanout, 'r', 7)).toEqual([0, 0, 0, 1, 1, 1, 2]);
    fanout.leave('r', 'viewer', 1);
    expect(fanout.join('r', 'viewer')).toBe(1);
    expect(fanout.join('r', 'viewer')).toBe(2);
  });

  it('publishes a small room at once, and a big room shard by shard within the turn budget', () => {
    const h = harness({ shardSize: 100, deliveriesPerTurn: 250 });
    join(h.fanout, 'big', 1000); // 10 shards
    join(h.fanout, 'small', 50);
    h.fanout.publish('big', 'commerce', 'stock', h.frame('big-1'), 0);
    // Nothing went out in this turn: the whole room (1,000 writes) is over the turn's budget.
    expect(h.published).toHaveLength(0);
    h.fanout.publish('small', 'commerce', 'stock', h.frame('small-1'), 0);
    expect(h.published.map((p) => p.text)).toEqual(['small-1']); // 50 writes fit: at once
    h.nextTurn();
    // A fresh budget of 250 writes: the turn stops after the shard that reached it (3 x 100).
    expect(h.published.filter((p) => p.turn === 1)).toHaveLength(3);
    while (h.pendingTurns() > 0) h.nextTurn();
    expect(h.published.filter((p) => p.text === 'big-1').map((p) => p.topic)).toEqual(Array.from({ length: 10 }, (_, i) => topicOf('big', 'commerce', 'viewer', i)));
    expect(h.fanout.stats.framesPaced).toBe(1);
    expect(h.fanout.stats.framesWaiting).toBe(0);
  });

  it('lets a small room\'s frame out in the next turn while a big room has a backlog', () => {
    const h = harness({ shardSize: 100, deliveriesPerTurn: 200 });
    join(h.fanout, 'big', 2000);
    join(h.fanout, 'small', 50);
    for (let i = 0; i < 5; i++) h.fanout.publish('big', 'commerce', 'product', h.frame(`big-${i}`), 0);
    h.nextTurn(); // the big room uses the whole turn
    h.fanout.publish('small', 'chatter', 'comment', h.frame('hello'), 0);
    expect(h.published.some((p) => p.text === 'hello')).toBe(false);
    h.nextTurn();
    expect(h.published.find((p) => p.text === 'hello')?.turn).toBe(2);
    expect(h.fanout.waiting('big')).toBeGreaterThan(0);
  });

  it('keeps every socket\'s order across frames, lanes and staff chatter', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 15 });
    join(h.fanout, 'r', 39);
    const staffShard = h.fanout.join('r', 'streamer'); // the 40th socket: shard 3
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const lane = i % 3 === 0 ? 'commerce' : 'chatter';
      h.fanout.publish('r', lane, lane === 'commerce' ? 'product' : 'comment', h.frame(`e${i}`), 0);
      sent.push(`e${i}`);
      if (i % 4 === 0) h.nextTurn();
    }
    while (h.pendingTurns() > 0) h.nextTurn();
    for (let shard = 0; shard < 4; shard++) expect(h.receivedBy('r', shard)).toEqual(sent);
    // The streamer's chatter topic is not sharded; with its commerce shard it still sees the order.
    expect(h.receivedBy('r', staffShard, 'streamer')).toEqual(sent);
    expect(h.turn()).toBeGreaterThan(3); // it was paced, not sent at once
  });

  it('replaces a waiting state update with a newer one, never one already going out', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 30);
    h.fanout.publish('r', 'commerce', 'product', h.frame('product'), 0); // fills this turn and waits
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=9'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=8'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'stock', h.frame('b=5'), 0, 'stock:b');
    h.nextTurn(); // one shard per turn: product reaches shard 0
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=7'), 0, 'stock:a'); // still waiting: replaces
    h.nextTurn();
    h.nextTurn(); // product done
    h.nextTurn(); // stock=7 reaches shard 0
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=6'), 0, 'stock:a'); // stock=7 is going out: queued behind
    while (h.pendingTurns() > 0) h.nextTurn();
    for (let shard = 0; shard < 3; shard++) expect(h.receivedBy('r', shard)).toEqual(['product', 'stock=7', 'b=5', 'stock=6']);
    expect(h.fanout.stats.framesReplaced).toBe(2);
  });

  it('sends "sold out" to the whole room in this turn, after the frames that were waiting, in order', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 40);
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=3'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'product', h.frame('product'), 0);
    h.nextTurn(); // stock=3 reaches shard 0 only
    h.fanout.publish('r', 'commerce', 'soldOut', h.frame('soldOut'), 0);
    const turn = h.turn();
    expect(h.published.filter((p) => p.text === 'soldOut').map((p) => p.turn)).toEqual([turn, turn, turn, turn]);
    for (let shard = 0; shard < 4; shard++) expect(h.receivedBy('r', shard)).toEqual(['stock=3', 'product', 'soldOut']);
    expect(h.fanout.stats.framesUrgent).toBe(1);
    expect(h.fanout.stats.framesWaiting).toBe(0);
    // and the room paces again afterwards
    h.fanout.publish('r', 'commerce', 'product', h.frame('later'), 0);
    while (h.pendingTurns() > 0) h.nextTurn();
    for (let shard = 0; shard < 4; shard++) expect(h.receivedBy('r', shard).at(-1)).toBe('later');
  });

  it('bounds a room\'s backlog: the frame that finds it full takes the whole backlog out at once, in order', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10, maxWaitingFrames: 3 });
    join(h.fanout, 'r', 30);
    for (let i = 0; i < 3; i++) h.fanout.publish('r', 'commerce', 'product', h.frame(`p${i}`), 0);
    expect(h.fanout.stats.framesWaiting).toBe(3);
    h.fanout.publish('r', 'commerce', 'product', h.frame('p3'), 0);
    expect(h.fanout.stats.framesWaiting).toBe(0);
    for (let shard = 0; shard < 3; shard++) expect(h.receivedBy('r', shard)).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('forgets a room\'s waiting frames when it is no longer hosted', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 50);
    h.fanout.publish('r', 'commerce', 'product', h.frame('x'), 0);
    h.fanout.forget('r');
    while (h.pendingTurns() > 0) h.nextTurn();
    expect(h.published).toHaveLength(0);
    expect(h.fanout.stats.framesWaiting).toBe(0);
  });
});
