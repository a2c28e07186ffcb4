import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivecartError, PendingRequests } from '../../client/src/index.ts';

type Frame = { t: string; id: number };

describe('PendingRequests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands out increasing ids and settles by id', async () => {
    const pending = new PendingRequests<Frame>(1000);
    const a = pending.add((id) => ({ t: 'ping', id }));
    const b = pending.add((id) => ({ t: 'ping', id }));
    expect(b.frame.id).toBe(a.frame.id + 1);
    expect(pending.resolve(b.frame.id, { now: 5 })).toBe(true);
    expect(pending.resolve(b.frame.id, { now: 6 })).toBe(false);
    expect(pending.reject(a.frame.id, LivecartError.of('FORBIDDEN', 'no'))).toBe(true);
    await expect(b.promise).resolves.toEqual({ now: 5 });
    await expect(a.promise).rejects.toMatchObject({ name: 'FORBIDDEN', code: 1006, temporary: false });
    expect(pending.size).toBe(0);
  });

  it('rejects with a temporary UNAVAILABLE after the timeout', async () => {
    const pending = new PendingRequests<Frame>(1000);
    const { promise } = pending.add((id) => ({ t: 'ping', id }));
    const settled = expect(promise).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true });
    vi.advanceTimersByTime(1000);
    await settled;
    expect(pending.size).toBe(0);
  });

  it('waiting() pushes the deadline to etaMs + timeout from now, never earlier, and tells the listener', async () => {
    vi.setSystemTime(50_000);
    const pending = new PendingRequests<Frame>(1000);
    const told: Array<[number, number]> = [];
    const { frame, promise } = pending.add((id) => ({ t: 'addToCart', id }), { onWaiting: (position, etaMs) => told.push([position, etaMs]) });
    let settled = false;
    promise.catch(() => undefined).finally(() => (settled = true));
    expect(pending.deadline(frame.id)).toBe(51_000);

    vi.advanceTimersByTime(500);
    expect(pending.waiting(frame.id, 4, 3000)).toBe(frame);
    expect(pending.deadline(frame.id)).toBe(54_500);
    expect(pending.waiting(frame.id, 1, 0)).toBe(frame); // 51 500: earlier, kept at 54 500
    expect(pending.deadline(frame.id)).toBe(54_500);
    expect(told).toEqual([[4, 3000], [1, 0]]);

    vi.advanceTimersByTime(3999);
    await Promise.resolve();
    expect(settled).toBe(false);
    vi.advanceTimersByTime(1);
    await expect(promise).rejects.toMatchObject({ name: 'UNAVAILABLE', temporary: true, message: `request ${frame.id} timed out after 4500 ms` });
    expect(pending.waiting(frame.id, 1, 10)).toBeUndefined(); // gone
    expect(pending.deadline(frame.id)).toBeUndefined();
  });

  it('rejectSent() rejects only sent requests; queued ones wait', async () => {
    const pending = new PendingRequests<Frame>(1000);
    const sent = pending.add((id) => ({ t: 'ping', id }));
    const queued = pending.add((id) => ({ t: 'comment', id }));
    pending.markSent(sent.frame.id);
    expect(pending.queued()).toEqual([queued.frame]);
    pending.rejectSent(() => LivecartError.of('UNAVAILABLE', 'closed', true));
    await expect(sent.promise).rejects.toBeInstanceOf(LivecartError);
    expect(pending.has(queued.frame.id)).toBe(true);
    pending.rejectAll(() => LivecartError.of('UNAVAILABLE', 'stopped', false));
    await expect(queued.promise).rejects.toMatchObject({ message: 'stopped' });
  });
});

describe('LivecartError', () => {
  it('names errors after their code', () => {
    const error = LivecartError.fromErr({ code: 1009, message: 'slow down', temporary: true, retryAfterMs: 250 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'RATE_LIMITED', code: 1009, temporary: true, retryAfterMs: 250, message: 'slow down' });
    expect(LivecartError.fromErr({ code: 1999, message: '?', temporary: false }).name).toBe('UNKNOWN');
  });
});
