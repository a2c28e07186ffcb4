import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StatePacer } from '../../server/src/fanout/StatePacer.ts';

describe('StatePacer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 10_000 }));
  afterEach(() => vi.useRealTimers());

  it('sends a key at once, then at most once per interval, the newest value winning', () => {
    const pacer = new StatePacer();
    const out: string[] = [];
    pacer.offer('r', 'stock:a', 100, () => out.push('a9'));
    pacer.offer('r', 'stock:a', 100, () => out.push('a8'));
    pacer.offer('r', 'stock:a', 100, () => out.push('a7'));
    pacer.offer('r', 'stock:b', 100, () => out.push('b5'));
    expect(out).toEqual(['a9', 'b5']);
    vi.advanceTimersByTime(99);
    expect(out).toEqual(['a9', 'b5']);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(['a9', 'b5', 'a7']);
    // Quiet for longer than an interval: the next goes at once.
    vi.advanceTimersByTime(500);
    pacer.offer('r', 'stock:a', 100, () => out.push('a6'));
    expect(out).toEqual(['a9', 'b5', 'a7', 'a6']);
    pacer.close();
  });

  it('keeps rooms apart and drops what waits for a forgotten room', () => {
    const pacer = new StatePacer();
    const out: string[] = [];
    for (const room of ['r1', 'r2']) {
      pacer.offer(room, 'likes', 250, () => out.push(`${room}:1`));
      pacer.offer(room, 'likes', 250, () => out.push(`${room}:2`));
    }
    expect(out).toEqual(['r1:1', 'r2:1']);
    pacer.forget('r2');
    expect(pacer.roomCount).toBe(1);
    vi.advanceTimersByTime(250);
    expect(out).toEqual(['r1:1', 'r2:1', 'r1:2']);
    pacer.close();
    expect(pacer.roomCount).toBe(0);
  });

  it('drops what waits for a key, and only that key: the next value is paced as before', () => {
    const pacer = new StatePacer();
    const out: string[] = [];
    pacer.offer('r', 'stock:a', 100, () => out.push('a9'));
    pacer.offer('r', 'stock:a', 100, () => out.push('a8'));
    pacer.offer('r', 'stock:b', 100, () => out.push('b5'));
    pacer.offer('r', 'stock:b', 100, () => out.push('b4'));
    pacer.drop('r', 'stock:a');
    pacer.drop('other', 'stock:a');
    vi.advanceTimersByTime(100);
    expect(out).toEqual(['a9', 'b5', 'b4']);
    // The key is paced as before: due again, its next value goes at once.
    pacer.offer('r', 'stock:a', 100, () => out.push('a3'));
    pacer.offer('r', 'stock:a', 100, () => out.push('a2'));
    expect(out).toEqual(['a9', 'b5', 'b4', 'a3']);
    vi.advanceTimersByTime(100);
    expect(out).toEqual(['a9', 'b5', 'b4', 'a3', 'a2']);
    pacer.close();
  });

  it('a key due later does not hold back one due sooner', () => {
    const pacer = new StatePacer();
    const out: string[] = [];
    pacer.offer('r', 'slow', 1000, () => out.push('slow1'));
    pacer.offer('r', 'slow', 1000, () => out.push('slow2'));
    pacer.offer('r', 'fast', 100, () => out.push('fast1'));
    pacer.offer('r', 'fast', 100, () => out.push('fast2'));
    vi.advanceTimersByTime(100);
    expect(out).toEqual(['slow1', 'fast1', 'fast2']);
    vi.advanceTimersByTime(900);
    expect(out).toEqual(['slow1', 'fast1', 'fast2', 'slow2']);
    pacer.close();
  });
});
