import { z } from 'zod';

/** The largest amount an auction handles, in cents: every sum of two amounts stays an exact integer in JavaScript and in Redis's Lua. */
export const AUCTION_CENTS_MAX = 1_000_000_000;

/** Most tiers one increment schedule has. */
export const INCREMENT_TIERS_MAX = 20;

const cents = z.number().int().min(1).max(AUCTION_CENTS_MAX);

/**
 * A bid-increment schedule, for example +1 up to 50, +5 up to 200, +10 above, written
 * `[{ belowCents: 5000, stepCents: 100 }, { belowCents: 20000, stepCents: 500 }, { stepCents: 1000 }]`.
 * A price below a tier's `belowCents` (and at or above the tier before) steps by its `stepCents`;
 * the last tier has no bound. Bounds rise strictly and steps never fall, so a higher price never
 * asks a smaller next bid (proxy bidding relies on it).
 */
export const incrementScheduleSchema = z
  .array(z.object({ belowCents: cents.optional(), stepCents: cents }).strict())
  .min(1)
  .max(INCREMENT_TIERS_MAX)
  .superRefine((tiers, ctx) => {
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last !== (tier.belowCents === undefined)) {
        ctx.addIssue({ code: 'custom', path: [i, 'belowCents'], message: last ? 'the last tier has no belowCents' : 'every tier but the last has a belowCents' });
      }
      const before = tiers[i - 1];
      if (before === undefined) return;
      if (tier.belowCents !== undefined && before.belowCents !== undefined && tier.belowCents <= before.belowCents) {
        ctx.addIssue({ code: 'custom', path: [i, 'belowCents'], message: 'belowCents must rise from tier to tier' });
      }
      if (tier.stepCents < before.stepCents) ctx.addIssue({ code: 'custom', path: [i, 'stepCents'], message: 'stepCents must not fall from tier to tier' });
    });
  });
export type IncrementSchedule = z.infer<typeof incrementScheduleSchema>;

/** The step above `priceCents`: the first tier whose bound is above it, else the last tier's. */
export function stepAt(schedule: IncrementSchedule, priceCents: number): number {
  for (const tier of schedule) {
    if (tier.belowCents === undefined || priceCents < tier.belowCents) return tier.stepCents;
  }
  return schedule[schedule.length - 1]!.stepCents;
}

/** The next `count` bids a buyer can tap, from `minNextCents` up, each one step above the one before. */
export function nextBids(schedule: IncrementSchedule, minNextCents: number, count: number): number[] {
  const out: number[] = [];
  for (let price = minNextCents; out.length < count && price <= AUCTION_CENTS_MAX; price += stepAt(schedule, price)) out.push(price);
  return out;
}
