import { describe, expect, it } from 'vitest';
import { ReplyPriority } from '../../server/src/util/ReplyPriority.ts';

/** Resolves after `passes` event-loop passes (each a check phase). */
const loopPasses = (passes: number) =>
  new Promise<void>((resolve) => {
    const step = (left: number): void => {
      if (left === 0) resolve();
      else setImmediate(() => step(left - 1));
    };
    step(passes);
  });

function pending() {
  let settle!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

describe('ReplyPriority', () => {
  it('runs scheduled work in the next check phase when no reply is pending', async () => {
    const priority = new ReplyPriority(2);
    let ran = false;
    priority.schedule(() => (ran = true));
    await loopPasses(2);
    expect(ran).toBe(true);
  });

  it('holds scheduled work while a tracked reply is pending, and runs it once the reply settles', async () => {
    let now = 0;
    const priority = new ReplyPriority(2, () => now);
    const reply = pending();
    priority.track(reply.promise);
    let ran = false;
    priority.schedule(() => (ran = true));
    await loopPasses(20);
    expect(priority.waiting).toBe(true);
    expect(ran).toBe(false);
    reply.settle();
    await loopPasses(3);
    expect(priority.waiting).toBe(false);
    expect(ran).toBe(true);
  });

  it('a rejected reply releases the work too, and its rejection stays with the caller', async () => {
    const priority = new ReplyPriority(2, () => 0);
    const reply = pending();
    const tracked = priority.track(reply.promise);
    let ran = false;
    priority.schedule(() => (ran = true));
    reply.fail(new Error('store down'));
    await expect(tracked).rejects.toThrow('store down');
    await loopPasses(3);
    expect(ran).toBe(true);
  });

  it('never holds work longer than maxWaitMs after the oldest pending request, even if the reply never comes', async () => {
    let now = 0;
    const priority = new ReplyPriority(2, () => now);
    priority.track(new Promise<never>(() => undefined));
    let ran = false;
    priority.schedule(() => (ran = true));
    await loopPasses(10);
    expect(ran).toBe(false);
    now = 1.5;
    // A second request while the first is pending does not extend the wait.
    priority.track(new Promise<never>(() => undefined));
    await loopPasses(10);
    expect(ran).toBe(false);
    now = 2;
    await loopPasses(3);
    expect(ran).toBe(true);
  });

  it('with maxWaitMs 0 it never holds work', async () => {
    const priority = new ReplyPriority(0, () => 0);
    priority.track(new Promise<never>(() => undefined));
    let ran = false;
    priority.schedule(() => (ran = true));
    await loopPasses(2);
    expect(priority.waiting).toBe(false);
    expect(ran).toBe(true);
  });
});
