import { describe, expect, it } from 'vitest';
import { DegradeState, levelFromSignals, type RoomSignals } from '../../server/src/fanout/DegradePolicy.ts';

const thresholds = { eventLoopDelayMs: 100, viewerLagMs: 1000, backloggedShare: 0.05, queueFill: 0.25, storeLatencyMs: 100, downAfterMs: 1000 };
const calm: RoomSignals = { eventLoopDelayMs: 5, viewerLagMs: 0, backloggedShare: 0, queueFill: 0, storeLatencyMs: 1 };

describe('degrade policy', () => {
  it('maps each signal to levels at 1x, 2x and 4x its threshold and names the loudest', () => {
    expect(levelFromSignals(calm, thresholds)).toEqual({ level: 0, reason: 'normal' });
    expect(levelFromSignals({ ...calm, eventLoopDelayMs: 150 }, thresholds).level).toBe(1);
    expect(levelFromSignals({ ...calm, queueFill: 0.5 }, thresholds).level).toBe(2);
    const loud = levelFromSignals({ ...calm, viewerLagMs: 5000, queueFill: 0.3 }, thresholds);
    expect(loud.level).toBe(3);
    expect(loud.reason).toMatch(/^viewerLagMs/);
  });

  it('goes up after two measurements agree, steps down one level per calm period, and obeys an override', () => {
    const state = new DegradeState();
    const hot = { ...calm, eventLoopDelayMs: 500 };
    expect(state.update(hot, thresholds, 0)).toBe(false); // one noisy sample is not enough
    expect(state.update(calm, thresholds, 100)).toBe(false);
    expect(state.update(hot, thresholds, 200)).toBe(false);
    expect(state.update(hot, thresholds, 300)).toBe(true);
    expect(state.level).toBe(3);
    expect(state.update(calm, thresholds, 400)).toBe(false);
    expect(state.update(calm, thresholds, 1399)).toBe(false);
    expect(state.update(calm, thresholds, 1400)).toBe(true);
    expect(state.level).toBe(2);
    state.update(calm, thresholds, 2400);
    state.update(calm, thresholds, 3400);
    expect(state.level).toBe(0);
    state.setOverride(3);
    expect(state.level).toBe(3);
    expect(state.reason).toBe('operator');
    state.setOverride(undefined);
    expect(state.level).toBe(0);
  });

  it('believes a count of waiting work at once, while a timing signal still needs a second measurement', () => {
    const state = new DegradeState();
    expect(state.update({ ...calm, queueFill: 0.6 }, thresholds, 0)).toBe(true); // a queue is no noise
    expect(state.level).toBe(2);
    expect(state.reason).toMatch(/^queueFill/);
    expect(state.update({ ...calm, queueFill: 0.6, eventLoopDelayMs: 500 }, thresholds, 100)).toBe(false); // the delay once: not yet 3
    expect(state.level).toBe(2);
    expect(state.update({ ...calm, queueFill: 0.6, eventLoopDelayMs: 500 }, thresholds, 200)).toBe(true);
    expect(state.level).toBe(3);
    expect(state.reason).toMatch(/^eventLoopDelayMs/);
    const backlog = new DegradeState();
    expect(backlog.update({ ...calm, backloggedShare: 0.06 }, thresholds, 0)).toBe(true);
    expect(backlog.level).toBe(1);
  });
});
