import { describe, expect, it } from 'vitest';
import { PositionTeller } from '../../server/src/admission/PositionTeller.ts';
import { FairScheduler } from '../../server/src/rooms/FairScheduler.ts';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('FairScheduler', () => {
  it('serves rooms in turn: a small room is not stuck behind a hot room\'s backlog', async () => {
    const scheduler = new FairScheduler(5, 1000, 10_000, new PositionTeller(1000, 0));
    const order: string[] = [];
    for (let i = 0; i < 200; i++) scheduler.run('hot', () => void order.push('hot'));
    scheduler.run('small', () => void order.push('small'));
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toHaveLength(201);
    expect(order.indexOf('small')).toBeLessThanOrEqual(1);
  });

  it('returns to I/O after its budget, so other callbacks run between turns', async () => {
    const scheduler = new FairScheduler(5, 1000, 10_000, new PositionTeller(1000, 0));
    let jobsBeforeTimer = -1;
    let done = 0;
    for (let i = 0; i < 50; i++) scheduler.run('hot', () => { busy(1); done++; });
    // Queued right behind the scheduler's first turn (a timer may fire before any turn has run).
    setImmediate(() => (jobsBeforeTimer = done));
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(50);
    expect(jobsBeforeTimer).toBeGreaterThan(0);
    expect(jobsBeforeTimer).toBeLessThan(50); // the timer did not wait for the whole backlog
  });

  it('starts at most jobsPerTurn jobs per turn, so their async continuations stay short', async () => {
    const scheduler = new FairScheduler(1000, 4, 10_000, new PositionTeller(1000, 0));
    let done = 0;
    let seenByTimer = -1;
    for (let i = 0; i < 20; i++) scheduler.run('hot', () => void Promise.resolve().then(() => done++));
    // Queued right behind the scheduler's first turn: it sees what that turn (and its microtasks) did.
    setImmediate(() => (seenByTimer = done));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(20);
    expect(seenByTimer).toBe(4);
  });

  it('caps jobs that start async work per turn, not the ones that finished at once (a sold-out answer)', async () => {
    const scheduler = new FairScheduler(1000, 4, 10_000, new PositionTeller(1000, 0));
    const turns: number[] = [];
    for (let i = 0; i < 8; i++) scheduler.run('r', () => void turns.push(turn)); // async work: 4 a turn
    for (let i = 0; i < 40; i++) scheduler.run('r', () => (turns.push(turn), true)); // answered at once
    // Counts event-loop turns: queued after the scheduler's drain, it runs right after it in each turn.
    let turn = 0;
    const tick = () => {
      if (++turn < 20) setImmediate(tick);
    };
    setImmediate(tick);
    await new Promise((r) => setTimeout(r, 50));
    expect(turns).toEqual([0, 0, 0, 0, 1, 1, 1, 1, ...Array<number>(40).fill(2)]);
  });

  it('refuses work beyond a room\'s queue limit', () => {
    const scheduler = new FairScheduler(5, 1000, 2, new PositionTeller(1000, 0));
    expect(scheduler.run('r', () => undefined)).toBe(true);
    expect(scheduler.run('r', () => undefined)).toBe(true);
    expect(scheduler.run('r', () => undefined)).toBe(false);
    expect(scheduler.run('other', () => undefined)).toBe(true);
    expect(scheduler.queued('r')).toBe(2);
  });

  it('tells waiting jobs their place in the room\'s queue, with an estimate from its drain rate, when it moved', async () => {
    const turns: Array<() => void> = [];
    const teller = new PositionTeller(1000, 0, (run) => turns.push(run));
    const scheduler = new FairScheduler(1000, 2, 10_000, teller);
    const told: Array<[number, number, number]> = [];
    const tellNow = () => {
      scheduler.tellPositions(performance.now());
      for (const run of turns.splice(0)) run();
    };
    for (let i = 0; i < 6; i++) scheduler.run('r', () => undefined, (position, etaMs) => told.push([i, position, etaMs]));
    scheduler.run('r', () => undefined); // no callback: never told
    tellNow();
    expect(told.map(([i, position]) => [i, position])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]]);
    told.length = 0;
    await new Promise((r) => setImmediate(r)); // one turn: two jobs start
    tellNow();
    // Every remaining job moved two places closer: each is told (6 -> 4 is a third closer, 3 -> 1 too).
    expect(told.map(([i, position]) => [i, position])).toEqual([[2, 1], [3, 2], [4, 3], [5, 4]]);
    expect(told.every(([, , etaMs]) => Number.isFinite(etaMs) && etaMs >= 0)).toBe(true);
    told.length = 0;
    tellNow();
    expect(told).toEqual([]); // nothing moved: nobody is told again
  });
});
