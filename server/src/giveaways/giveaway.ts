import { GIVEAWAY_WINNERS_MAX, giveawayIdSchema, giveawayInputSchema, type GiveawayInput } from '../../../protocol/src/giveaways.ts';

/** The wire's schemas (protocol/src/giveaways.ts), where the server's rules read them. */
export { GIVEAWAY_WINNERS_MAX, giveawayIdSchema, giveawayInputSchema, type GiveawayInput };

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
  /** Most entrants it takes (`--giveaway-max-entrants` when it opened); later entries answer `giveaway_full`. */
  readonly maxEntrants: number;
  /** Its number in the room (1, 2, …), given by the store at opening; absent before. */
  readonly serial?: number;
}
