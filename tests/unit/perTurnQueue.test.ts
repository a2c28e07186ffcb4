import { describe, expect, it } from 'vitest';
import { PerTurnQueue } from '../../server/src/util/PerTurnQueue.ts';

function harness(perTurn: number, budgetMs?: number, itemMs = 0) {
  const turns: Array<() => void> = [];
  const handledIn: number[] = [];
  let turn = 0;
  const queue = new PerTurnQueue<number>(perTurn, (item) => {
    const until = performance.now() + itemMs;
    while (performance.now() < until);
    handledIn.push(turn);
    return item >= 0; // negative items need nothing and do not count
  }, (run) => turns.push(run), budgetMs);
  const nextTurn = () => {
    turn++;
    for (const run of turns.splice(0)) run();
  };
  return { queue, handledIn, nextTurn, pending: () => turns.length };
}

describe('PerTurnQueue', () => {
  it('handles at most perTurn counted items a turn, in order; items that needed nothing do not count', () => {
    const h = harness(2);
    for (const item of [1, -1, 2, 3, -1, 4]) h.queue.push(item);
    while (h.pending() > 0) h.nextTurn();
    expect(h.handledIn).toEqual([1, 1, 1, 2, 2, 2]);
    expect(h.queue.size).toBe(0);
  });

  it('with a time budget, stops a turn once the budget is spent, after one item at least', () => {
    const h = harness(Number.POSITIVE_INFINITY, 3, 2); // 2 ms items, 3 ms a turn: two a turn
    for (let i = 0; i < 5; i++) h.queue.push(i);
    while (h.pending() > 0) h.nextTurn();
    // Two a turn, or one when the machine stalled an item past the budget: never all five at once.
    const perTurn = [...new Set(h.handledIn)].map((t) => h.handledIn.filter((x) => x === t).length);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(2);
    expect(h.handledIn).toHaveLength(5);
    expect(h.handledIn).toEqual([...h.handledIn].sort((a, b) => a - b));
    const slow = harness(Number.POSITIVE_INFINITY, 0.001, 1); // a budget below one item still moves on
    for (let i = 0; i < 3; i++) slow.queue.push(i);
    while (slow.pending() > 0) slow.nextTurn();
    expect(slow.handledIn).toEqual([1, 2, 3]);
  });

  it('handles items that are overdue past the budget, in the same turn, in order', () => {
    const turns: Array<() => void> = [];
    const handled: number[] = [];
    // Items are their enqueue times; an item enqueued at 0 or earlier is overdue.
    // Each item takes longer than the whole budget, so the budget is spent after any item, however fast the machine.
    const slowly = (item: number) => {
      handled.push(item);
      for (const start = performance.now(); performance.now() - start < 0.05;);
      return true;
    };
    const queue = new PerTurnQueue<number>(Number.POSITIVE_INFINITY, slowly, (run) => turns.push(run), 0.001, (item) => item <= 0);
    for (const item of [-3, -2, -1, 0, 1, 2]) queue.push(item);
    for (const run of turns.splice(0)) run();
    // The four overdue ones went in one turn despite a budget below one item; then the budget holds again: one a turn.
    expect(handled).toEqual([-3, -2, -1, 0]);
    for (const run of turns.splice(0)) run();
    expect(handled).toEqual([-3, -2, -1, 0, 1]);
    for (const run of turns.splice(0)) run();
    expect(handled).toEqual([-3, -2, -1, 0, 1, 2]);
  });
});
