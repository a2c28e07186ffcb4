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
