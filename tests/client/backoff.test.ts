import { describe, expect, it } from 'vitest';
import { Backoff, backoffCeiling, fullJitterDelay } from '../../client/src/index.ts';

const opts = { baseMs: 100, maxMs: 1000 };

describe('backoffCeiling', () => {
  it('doubles from baseMs and caps at maxMs', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffCeiling(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('stays at maxMs for huge attempts (2^attempt overflowing to Infinity)', () => {
    expect(backoffCeiling(5000, opts)).toBe(1000);
  });
});

describe('fullJitterDelay', () => {
  it('spans the whole window [0, ceiling): full jitter, not equal jitter', () => {
    expect(fullJitterDelay(3, opts, () => 0)).toBe(0);
    expect(fullJitterDelay(3, opts, () => 0.999_999)).toBe(799);
    expect(fullJitterDelay(3, opts, () => 0.5)).toBe(400);
  });

  it('keeps every random draw within bounds and uses both halves of the window', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = backoffCeiling(attempt, opts);
      let low = 0;
      let high = 0;
      const outOfBounds: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const delay = fullJitterDelay(attempt, opts);
        if (!Number.isInteger(delay) || delay < 0 || delay >= ceiling) outOfBounds.push(delay);
        if (delay < ceiling / 2) low++;
        else high++;
      }
      expect(outOfBounds).toEqual([]);
      expect(low).toBeGreaterThan(700);
      expect(high).toBeGreaterThan(700);
    }
  });

  it('is 0 when the window is empty', () => {
    expect(fullJitterDelay(4, { baseMs: 0, maxMs: 1000 })).toBe(0);
  });
});

describe('Backoff', () => {
  it('hands out 1-based attempts with growing windows, then resets', () => {
    const draws: number[] = [];
    const backoff = new Backoff(opts, () => 0.999_999);
    for (let i = 0; i < 6; i++) draws.push(backoff.next()!.delayMs);
    expect(draws).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoff.attempt).toBe(6);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toEqual({ attempt: 1, delayMs: 99 });
  });

  it('stops after maxAttempts', () => {
    const backoff = new Backoff({ ...opts, maxAttempts: 2 });
    expect(backoff.next()?.attempt).toBe(1);
    expect(backoff.next()?.attempt).toBe(2);
    expect(backoff.canRetry).toBe(false);
    expect(backoff.next()).toBeUndefined();
  });

  it('fills in defaults and ignores undefined fields', () => {
    const backoff = new Backoff({ baseMs: 50, maxMs: undefined as unknown as number });
    expect(backoff.options).toEqual({ baseMs: 50, maxMs: 30_000, maxAttempts: Number.POSITIVE_INFINITY });
  });

  it('rejects negative settings', () => {
    expect(() => new Backoff({ baseMs: -1 })).toThrow(RangeError);
    expect(() => new Backoff({ maxAttempts: -1 })).toThrow(RangeError);
  });
});
