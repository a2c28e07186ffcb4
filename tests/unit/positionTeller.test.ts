import { describe, expect, it } from 'vitest';
import { type Notice, PositionTeller } from '../../server/src/admission/PositionTeller.ts';

function harness(perTurn: number, minEtaMs = 0) {
  const turns: Array<() => void> = [];
  const teller = new PositionTeller(perTurn, minEtaMs, (run) => turns.push(run));
  const told: Array<[string, number, number]> = [];
  const waiter = (name: string): Notice & { waiting: boolean } => ({
    progress: (position, etaMs) => told.push([name, position, etaMs]), waiting: true, toldPosition: 0, duePosition: 0, dueEtaMs: 0,
  });
  const nextTurn = () => {
    for (const run of turns.splice(0)) run();
  };
  return { teller, told, waiter, nextTurn, pendingTurns: () => turns.length };
}

describe('PositionTeller', () => {
  it('sends at most perTurn notices per event-loop turn, front of the line first', () => {
    const h = harness(3);
    const waiters = Array.from({ length: 7 }, (_, i) => h.waiter(`w${i}`));
    waiters.forEach((w, i) => h.teller.offer(w, i + 1, (i + 1) * 10));
    expect(h.told).toEqual([]); // nothing in the caller's turn
    h.nextTurn();
    expect(h.told.map(([name]) => name)).toEqual(['w0', 'w1', 'w2']);
    h.nextTurn();
    h.nextTurn();
    expect(h.told.map(([name, position]) => `${name}@${position}`)).toEqual(['w0@1', 'w1@2', 'w2@3', 'w3@4', 'w4@5', 'w5@6', 'w6@7']);
    expect(h.pendingTurns()).toBe(0);
    expect(h.teller.stats.told).toBe(7);
  });

  it('tells again only what is new: a place at least a fifth closer (at least one place)', () => {
    const h = harness(100);
    const far = h.waiter('far');
    const near = h.waiter('near');
    h.teller.offer(far, 1000, 5000);
    h.teller.offer(near, 3, 15);
    h.nextTurn();
    h.told.length = 0;
    h.teller.offer(far, 900, 4500); // a tenth closer: not worth a write
    h.teller.offer(near, 3, 15); // did not move
    h.nextTurn();
    expect(h.told).toEqual([]);
    h.teller.offer(far, 800, 4000);
    h.teller.offer(near, 2, 10);
    h.nextTurn();
    expect(h.told).toEqual([['far', 800, 4000], ['near', 2, 10]]);
  });

  it('sends the newest position of a notice still due, once, and none to a request that left its queue', () => {
    const h = harness(1);
    const a = h.waiter('a');
    const b = h.waiter('b');
    const c = h.waiter('c');
    h.teller.offer(a, 1, 10);
    h.teller.offer(b, 10, 100);
    h.teller.offer(c, 11, 110);
    h.teller.offer(b, 5, 50); // still due: the newer place replaces it, no second notice
    c.waiting = false; // answered before its notice went out
    for (let i = 0; i < 5; i++) h.nextTurn();
    expect(h.told).toEqual([['a', 1, 10], ['b', 5, 50]]);
    expect(h.teller.due).toBe(0);
  });

  it('does not tell a request that will be served sooner than minEtaMs: its answer is the news', () => {
    const h = harness(10, 500);
    h.teller.offer(h.waiter('soon'), 3, 120);
    h.teller.offer(h.waiter('later'), 900, 4000);
    h.nextTurn();
    expect(h.told).toEqual([['later', 900, 4000]]);
  });

  it('never tells a request that has nobody to tell', () => {
    const h = harness(10);
    h.teller.offer({ progress: undefined, waiting: true, toldPosition: 0, duePosition: 0, dueEtaMs: 0 }, 1, 10);
    expect(h.pendingTurns()).toBe(0);
  });
});
