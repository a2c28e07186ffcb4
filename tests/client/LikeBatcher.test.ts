import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LikeBatcher } from '../../client/src/index.ts';

describe('LikeBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the taps of one window as one notice', () => {
    const sent: number[] = [];
    const batcher = new LikeBatcher((n) => (sent.push(n), true));
    for (let i = 0; i < 7; i++) batcher.add();
    vi.advanceTimersByTime(99);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([7]);
    batcher.add();
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([7, 1]);
  });

  it('caps notices at 100 taps and spills the rest into later windows', () => {
    const sent: number[] = [];
    const batcher = new LikeBatcher((n) => (sent.push(n), true));
    batcher.add(250);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([100]);
    vi.advanceTimersByTime(200);
    expect(sent).toEqual([100, 100, 50]);
    expect(batcher.pending).toBe(0);
  });

  it('keeps taps it cannot send until flush()', () => {
    let online = false;
    const sent: number[] = [];
    const batcher = new LikeBatcher((n) => (online ? (sent.push(n), true) : false));
    batcher.add(3);
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([]);
    expect(batcher.pending).toBe(3);
    online = true;
    batcher.flush();
    expect(sent).toEqual([3]);
  });

  it('bounds held taps and ignores nonsense counts', () => {
    const batcher = new LikeBatcher(() => false, { maxPending: 10 });
    batcher.add(8);
    batcher.add(8);
    batcher.add(0);
    batcher.add(-3);
    batcher.add(Number.NaN);
    expect(batcher.pending).toBe(10);
    batcher.clear();
    expect(batcher.pending).toBe(0);
  });
});
