import { z } from 'zod';

/** A giveaway's id: letters, digits, `_` and `-`, unique in its room. */
export const giveawayIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'giveaway id: letters, digits, _ and - only').min(1).max(32);

/** Most winners one giveaway draws. */
export const GIVEAWAY_WINNERS_MAX = 1000;

/** A giveaway as a streamer opens it. Entering never needs a purchase; `eligibility` says who may enter. */
export const giveawayInputSchema = z.object({
  id: giveawayIdSchema,
  /** The prize: each winner's zero-price cart line. */
  sku: z.string().min(1).max(64),
  winners: z.number().int().min(1).max(GIVEAWAY_WINNERS_MAX),
  /** The entry window, from opening. */
  durationMs: z.number().int().min(5000).max(86_400_000),
  /** `present`: anyone in the room; `buyers`: viewers who bought in this room; `followers`: the streamer's followers. */
  eligibility: z.enum(['present', 'buyers', 'followers']).default('present'),
}).strict();
export type GiveawayInput = z.input<typeof giveawayInputSchema>;

/** A giveaway as the server keeps and publishes it at opening (the seed stays secret until the draw). */
export interface Giveaway {
  readonly id: string;
  readonly roomId: string;
  readonly sku: string;
  readonly hostId: string;
  readonly winners: number;
  readonly eligibility: 'present' | 'buyers' | 'followers';
  readonly opensAt: number;
  /** Entries are taken before this. */
  readonly closesAt: number;
  /** SHA-256 of the secret seed, hex (draw.ts). */
  readonly commitment: string;
  /** The salt of the entrants' published ids, hex (draw.ts). */
  readonly salt: string;
}
