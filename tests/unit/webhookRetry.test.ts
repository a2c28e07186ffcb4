import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryWebhookOutbox } from '../../server/src/store/MemoryWebhookOutbox.ts';
import { WebhookDispatcher } from '../../server/src/webhooks/WebhookDispatcher.ts';

const options = { url: 'http://127.0.0.1:9/hooks', secret: 'whsec-unit-0123456789', timeoutMs: 1000, maxAttempts: 16, retryBaseMs: 2000, retryMaxMs: 3_600_000, concurrency: 1, pollMs: 1000 };
const dispatcher = (random: number) => new WebhookDispatcher({ outbox: new MemoryWebhookOutbox(10), options, log: pino({ level: 'silent' }), random: () => random });

describe('webhook retry delays', () => {
  it('double with each failed attempt, between half and all of the step, up to the maximum', () => {
    const low = dispatcher(0);
    const high = dispatcher(1);
    expect([1, 2, 3, 4].map((attempt) => low.retryDelayMs(attempt))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((attempt) => high.retryDelayMs(attempt))).toEqual([2000, 4000, 8000, 16_000]);
    expect(high.retryDelayMs(12)).toBe(3_600_000);
    expect(low.retryDelayMs(100)).toBe(1_800_000);
  });

  it('with the defaults, the 15 waits between 16 attempts span 2.5 to 5 hours', () => {
    const total = (d: WebhookDispatcher) => Array.from({ length: 15 }, (_, i) => d.retryDelayMs(i + 1)).reduce((a, b) => a + b, 0);
    expect(total(dispatcher(0)) / 3_600_000).toBeCloseTo(2.57, 2);
    expect(total(dispatcher(1)) / 3_600_000).toBeCloseTo(5.14, 2);
  });
});
