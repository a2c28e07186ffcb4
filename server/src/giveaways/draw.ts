import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { type Giveaway, giveawayInputSchema } from './giveaway.ts';

/**
 * The verifiable draw (docs/giveaway-verification.md; scripts/verify-giveaway.mjs recomputes it
 * with nothing but Node):
 * - at opening, a secret 32-byte seed and a 16-byte salt are drawn; the commitment SHA-256(seed)
 *   and the salt are published;
 * - an entrant's published id is HMAC-SHA256(key = salt, message = user id in UTF-8), hex: stable,
 *   and it names nobody unless one knows their user id;
 * - at the draw, the seed and the entrants' ids, sorted, are published; the winners are the first
 *   K of a Fisher–Yates shuffle of that list driven by the seed's random stream.
 * The random stream: block i (i = 0, 1, …) is SHA-256(seed ‖ i as 4 bytes big-endian); the stream
 * is block 0 ‖ block 1 ‖ …, read 4 bytes at a time as big-endian unsigned integers. A number below
 * n takes the next u with u < 2³² − (2³² mod n) (others are skipped: no modulo bias) and is u mod n.
 * The shuffle: for i = 0 … K − 1, j = i + (a number below n − i), swap entries i and j.
 */

/** The published draw; `format` names this version of the rules. */
export interface PublishedDraw {
  readonly format: 'livecart-giveaway/1';
  readonly roomId: string;
  readonly giveawayId: string;
  readonly prizeSku: string;
  /** K: winners wanted (fewer when fewer entered). */
  readonly winnersWanted: number;
  readonly commitment: string;
  readonly salt: string;
  readonly seed: string;
  readonly entrantsCount: number;
  /** Entrants' ids, sorted ascending. */
  readonly entrants: readonly string[];
  /** Winners' ids, in draw order. */
  readonly winners: readonly string[];
}

export const DRAW_FORMAT = 'livecart-giveaway/1';

/** A new secret seed and its public salt, hex. */
export function newDrawSecrets(): { seed: string; salt: string } {
  return { seed: randomBytes(32).toString('hex'), salt: randomBytes(16).toString('hex') };
}

export function commitmentOf(seedHex: string): string {
  return createHash('sha256').update(Buffer.from(seedHex, 'hex')).digest('hex');
}

export function entrantIdOf(saltHex: string, userId: string): string {
  return createHmac('sha256', Buffer.from(saltHex, 'hex')).update(userId, 'utf8').digest('hex');
}

/** The seed's random stream: numbers below `n`, without bias. */
export function seedStream(seedHex: string): (n: number) => number {
  const seed = Buffer.from(seedHex, 'hex');
  let block = Buffer.alloc(0);
  let counter = 0;
  let offset = 0;
  const next32 = (): number => {
    if (offset + 4 > block.length) {
      const index = Buffer.alloc(4);
      index.writeUInt32BE(counter++);
      block = createHash('sha256').update(seed).update(index).digest();
      offset = 0;
    }
    const u = block.readUInt32BE(offset);
    offset += 4;
    return u;
  };
  return (n: number) => {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const u = next32();
      if (u < limit) return u % n;
    }
  };
}

/** The winners: the first `k` of the seed's Fisher–Yates shuffle of `sortedEntrants`. */
export function drawWinners(seedHex: string, sortedEntrants: readonly string[], k: number): string[] {
  const list = [...sortedEntrants];
  const below = seedStream(seedHex);
  const count = Math.min(k, list.length);
  for (let i = 0; i < count; i++) {
    const j = i + below(list.length - i);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list.slice(0, count);
}

/** The draw of `giveaway` among `userIds` (each once), as it is published: user ids become entrant ids, sorted. */
export function publishDraw(giveaway: Giveaway, seedHex: string, userIds: readonly string[]): PublishedDraw {
  const entrants = [...new Set(userIds)].map((userId) => entrantIdOf(giveaway.salt, userId)).sort();
  return {
    format: DRAW_FORMAT, roomId: giveaway.roomId, giveawayId: giveaway.id, prizeSku: giveaway.sku, winnersWanted: giveaway.winners,
    commitment: giveaway.commitment, salt: giveaway.salt, seed: seedHex, entrantsCount: entrants.length, entrants,
    winners: drawWinners(seedHex, entrants, giveaway.winners),
  };
}

/** The user ids among `userIds` whose entrant ids won: the server tells its winners by them. */
export function winningUsers(draw: PublishedDraw, userIds: readonly string[]): string[] {
  const byId = new Map(userIds.map((userId) => [entrantIdOf(draw.salt, userId), userId]));
  return draw.winners.map((id) => byId.get(id)).filter((userId): userId is string => userId !== undefined);
}

/** The giveaway `input` describes, opened by `hostId` in `roomId` at `now`, with its fresh secret seed (kept in the store until the draw). */
export function openGiveaway(input: z.output<typeof giveawayInputSchema>, roomId: string, hostId: string, now: number, maxEntrants: number): { giveaway: Giveaway; seed: string } {
  const { seed, salt } = newDrawSecrets();
  return {
    giveaway: { id: input.id, roomId, sku: input.sku, hostId, winners: input.winners, eligibility: input.eligibility, opensAt: now, closesAt: now + input.durationMs, commitment: commitmentOf(seed), salt, maxEntrants },
    seed,
  };
}
