import { describe, expect, it } from 'vitest';
import { Fanout, topicOf } from '../../server/src/fanout/Fanout.ts';
import { FanoutPacer } from '../../server/src/fanout/FanoutPacer.ts';

/** A fan-out whose turns run only when the test says, recording every topic publish in order. */
function harness(options: { shardSize: number; deliveriesPerTurn: number; maxWaitingFrames?: number }) {
  const published: Array<{ turn: number; topic: string; text: string }> = [];
  const pending: Array<() => void> = [];
  let turn = 0;
  const fanout = new Fanout(
    { publish: (topic, frame) => (published.push({ turn, topic, text: new TextDecoder().decode(frame) }), true) },
    { sampledCommentsPerSecond: 20, maxWaitingFrames: 1000, turnTargetMs: 1000, ...options },
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

  it('sends a small room\'s frame at once even when a big room has used the turn\'s budget', () => {
    const h = harness({ shardSize: 100, deliveriesPerTurn: 200 });
    join(h.fanout, 'big', 2000);
    join(h.fanout, 'small', 50);
    join(h.fanout, 'mid', 150); // two shards: paced like any room bigger than one
    for (let i = 0; i < 5; i++) h.fanout.publish('big', 'commerce', 'product', h.frame(`big-${i}`), 0);
    h.nextTurn(); // the big room uses the whole turn
    h.fanout.publish('small', 'chatter', 'comment', h.frame('hello'), 0);
    h.fanout.publish('mid', 'chatter', 'comment', h.frame('mid'), 0);
    expect(h.published.find((p) => p.text === 'hello')?.turn).toBe(1);
    expect(h.published.some((p) => p.text === 'mid')).toBe(false);
    while (h.pendingTurns() > 0) h.nextTurn();
    expect(h.published.filter((p) => p.text === 'mid')).toHaveLength(2);
    expect(h.fanout.waiting('big')).toBe(0);
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

  it('replaces a waiting state update no shard has yet; a shard behind skips one a newer value follows', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 30);
    h.fanout.publish('r', 'commerce', 'product', h.frame('product'), 0); // 30 writes: over the turn's budget, waits
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=9'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=8'), 0, 'stock:a'); // nobody has stock=9 yet: replaced in place
    h.fanout.publish('r', 'commerce', 'stock', h.frame('b=5'), 0, 'stock:b');
    h.nextTurn(); // one shard per turn: shard 0 catches up on all three
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=7'), 0, 'stock:a'); // shard 0 has stock=8: queued behind
    while (h.pendingTurns() > 0) h.nextTurn();
    expect(h.receivedBy('r', 0)).toEqual(['product', 'stock=8', 'b=5', 'stock=7']);
    // Shards 1 and 2 were behind on both values of stock:a and got only the newer one.
    for (const shard of [1, 2]) expect(h.receivedBy('r', shard)).toEqual(['product', 'b=5', 'stock=7']);
    expect(h.fanout.stats.framesReplaced).toBe(3); // once in place, then once per shard that skipped stock=8
  });

  it('a sold-out clears its product\'s waiting level: no shard gets the older level, and a newer one goes after it, not in the older one\'s place', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 30);
    h.fanout.publish('r', 'commerce', 'product', h.frame('product'), 0); // 30 writes: over the turn's budget, waits
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=5'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'soldOut', h.frame('soldOut a'), 0, undefined, 7, 'stock:a');
    // Back in stock (a release) before any shard had the sold-out: last, so every viewer ends on 3.
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=3'), 0, 'stock:a');
    h.fanout.publish('r', 'commerce', 'stock', h.frame('stock=2'), 0, 'stock:a'); // replaces stock=3, after the sold-out
    while (h.pendingTurns() > 0) h.nextTurn();
    for (const shard of [0, 1, 2]) expect(h.receivedBy('r', shard)).toEqual(['product', 'soldOut a', 'stock=2']);
  });

  it('sends a shard everything it is behind on in one visit: a backlog costs a write per socket, not per frame', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'r', 40);
    for (let i = 0; i < 5; i++) h.fanout.publish('r', 'commerce', 'product', h.frame(`p${i}`), 0);
    while (h.pendingTurns() > 0) h.nextTurn();
    for (let shard = 0; shard < 4; shard++) {
      const topic = topicOf('r', 'commerce', 'viewer', shard);
      const turns = new Set(h.published.filter((p) => p.topic === topic).map((p) => p.turn));
      expect(h.receivedBy('r', shard)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
      expect(turns.size).toBe(1); // all five frames in the same turn: uWS corks them into one write per socket
    }
    // One shard per turn (the budget), whatever the number of frames: 4 turns, not 20.
    expect(new Set(h.published.map((p) => p.turn)).size).toBe(4);
    expect(h.fanout.stats.framesWaiting).toBe(0);
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

  it('cuts waiting viewer chatter when the room stops sending it to viewers; staff and commerce keep theirs, in order', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 15 });
    join(h.fanout, 'r', 40);
    const staffShard = h.fanout.join('r', 'streamer');
    h.fanout.publish('r', 'chatter', 'comment', h.frame('c1'), 0);
    h.fanout.publish('r', 'commerce', 'product', h.frame('p1'), 0);
    h.fanout.publish('r', 'chatter', 'comment', h.frame('c2'), 0);
    h.nextTurn(); // the staff's unit, shard 0 and shard 1 catch up (1 + 10 + 10 writes)
    h.fanout.cutViewerChatter('r');
    h.fanout.publish('r', 'commerce', 'product', h.frame('p2'), 0);
    while (h.pendingTurns() > 0) h.nextTurn();
    for (const shard of [0, 1]) expect(h.receivedBy('r', shard)).toEqual(['c1', 'p1', 'c2', 'p2']);
    for (const shard of [2, 3]) expect(h.receivedBy('r', shard)).toEqual(['p1', 'p2']);
    // The streamer (its own unit: commerce and the staff's chatter) still gets every frame, in order.
    expect(h.receivedBy('r', staffShard, 'streamer')).toEqual(['c1', 'p1', 'c2', 'p2']);
    expect(h.fanout.stats.chatterDropped).toBe(2);
    expect(h.fanout.stats.framesWaiting).toBe(0);
  });


  it('adapts the turn budget to the loop: smaller while turns run long, back up when they run short', () => {
    const pending: Array<() => void> = [];
    let clock = 0;
    const pacer = new FanoutPacer({ publish: () => true }, { shardSize: 10, deliveriesPerTurn: 80, turnTargetMs: 10, maxWaitingPerRoom: 1000 }, (next) => pending.push(next), () => clock);
    for (let i = 0; i < 1000; i++) pacer.join('big', 'viewer');
    const turn = (ms: number) => {
      clock += ms;
      for (const run of pending.splice(0)) run();
    };
    for (let i = 0; i < 50; i++) pacer.publish('big', 'commerce', new Uint8Array([i]));
    turn(1);
    expect(pacer.stats.turnBudget).toBe(80);
    for (let i = 0; i < 3; i++) turn(40); // reads are making the loop slow: halve each turn, down to one shard
    expect(pacer.stats.turnBudget).toBe(10);
    turn(40);
    expect(pacer.stats.turnBudget).toBe(10);
    for (let i = 0; i < 12; i++) turn(2); // fast turns again: grows back (x1.25 a turn) to the cap
    expect(pacer.stats.turnBudget).toBe(80);
  });

  it('measures how far behind its own writes to a room run: the oldest frame each socket still waits for, within 90 % of the sockets', () => {
    const pending: Array<() => void> = [];
    let clock = 0;
    const pacer = new FanoutPacer({ publish: () => true }, { shardSize: 10, deliveriesPerTurn: 10, turnTargetMs: 1000, maxWaitingPerRoom: 1000 }, (next) => pending.push(next), () => clock);
    for (let i = 0; i < 100; i++) pacer.join('big', 'viewer'); // 10 shards, one shard per turn
    const turn = (ms: number) => {
      clock += ms;
      for (const run of pending.splice(0)) run();
    };
    expect(pacer.lagMs('big')).toBe(0);
    pacer.publish('big', 'commerce', new Uint8Array([1]), undefined, 7);
    clock += 100;
    expect(pacer.lagMs('big')).toBe(100); // no shard has it yet
    for (let i = 0; i < 8; i++) turn(10); // 8 of 10 shards sent: the two behind are 20 % of the sockets
    expect(pacer.lagMs('big')).toBe(180);
    turn(10); // one shard behind: the tenth of the sockets furthest behind does not count
    expect(pacer.lagMs('big')).toBe(0);
    turn(10);
    expect(pacer.lagMs('big')).toBe(0);
    // Frames a shard is not sent (viewer chatter cut, the staff's chatter) are not waited for.
    pacer.publish('big', 'staffChatter', new Uint8Array([2]), undefined, 8);
    clock += 500;
    expect(pacer.lagMs('big')).toBe(0);
  });

  it('tells up to which seq each unit of a room was sent, paced or not', () => {
    const h = harness({ shardSize: 10, deliveriesPerTurn: 10 });
    join(h.fanout, 'big', 30);
    join(h.fanout, 'small', 5);
    h.fanout.publish('small', 'chatter', 'comment', h.frame('s'), 0, undefined, 4);
    expect(h.fanout.sentSeq('small', 'viewer', 0)).toBe(4); // a small room's frame goes out at once
    h.fanout.publish('big', 'commerce', 'product', h.frame('p'), 0, undefined, 9);
    h.fanout.publish('big', 'commerce', 'stock', h.frame('stock'), 0, 'stock'); // a state update has no seq
    expect([0, 1, 2].map((shard) => h.fanout.sentSeq('big', 'viewer', shard))).toEqual([0, 0, 0]);
    h.nextTurn();
    expect([0, 1, 2].map((shard) => h.fanout.sentSeq('big', 'viewer', shard))).toEqual([9, 0, 0]);
    while (h.pendingTurns() > 0) h.nextTurn();
    expect([0, 1, 2].map((shard) => h.fanout.sentSeq('big', 'viewer', shard))).toEqual([9, 9, 9]);
    expect(h.fanout.sentSeq('nowhere', 'viewer', 0)).toBe(0);
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
