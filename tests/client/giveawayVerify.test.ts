/**
 * The viewer page's in-browser draw check (client/web/src/giveawayVerify.ts, WebCrypto) run in
 * Node against the server's draw (server/src/giveaways/draw.ts): it accepts what the server
 * publishes for random giveaways, agrees with the server on entrant ids and winners, and refuses a
 * draw with one entrant removed, a changed seed or reordered winners.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { drawWinners as pageDrawWinners, entrantIdOf as pageEntrantId, verifyDraw } from '../../client/web/src/giveawayVerify.ts';
import { commitmentOf, drawWinners, entrantIdOf, newDrawSecrets, publishDraw, type PublishedDraw } from '../../server/src/giveaways/draw.ts';
import type { Giveaway } from '../../server/src/giveaways/giveaway.ts';

function randomDraw(entrants: number, winners: number): PublishedDraw {
  const { seed, salt } = newDrawSecrets();
  const giveaway: Giveaway = { id: 'g', roomId: 'r', sku: 'tote', hostId: 'host', winners, eligibility: 'present', opensAt: 0, closesAt: 60_000, commitment: commitmentOf(seed), salt, maxEntrants: 1_000_000 };
  const users = Array.from({ length: entrants }, (_, i) => `user-${i}-${randomBytes(3).toString('hex')}`);
  return publishDraw(giveaway, seed, users);
}

describe('the page\'s draw check', () => {
  it('accepts the server\'s draws and recomputes the same winners, for random seeds, lists and winner counts', async () => {
    for (const [n, k] of [[1, 1], [2, 5], [7, 3], [51, 51], [300, 10], [1000, 1], [0, 2]] as const) {
      const draw = randomDraw(n, k);
      const check = await verifyDraw(JSON.parse(JSON.stringify(draw)));
      expect(check, `${n} entrants, ${k} winners`).toEqual({ ok: true, winners: [...draw.winners], entrantsCount: n });
      expect(await pageDrawWinners(draw.seed, draw.entrants, k)).toEqual(drawWinners(draw.seed, draw.entrants, k));
    }
  });

  it('follows the documented worked example (zero seed, [a…e], K = 2: e then d)', async () => {
    expect(await pageDrawWinners('00'.repeat(32), ['a', 'b', 'c', 'd', 'e'], 2)).toEqual(['e', 'd']);
  });

  it('names entrants as the server does (HMAC-SHA256 of the user id under the salt)', async () => {
    const salt = randomBytes(16).toString('hex');
    for (const user of ['ann', 'user-42', '张三']) expect(await pageEntrantId(salt, user)).toBe(entrantIdOf(salt, user));
  });

  it('refuses a draw with an entrant removed, another seed, reordered winners, a repeated entrant or another format', async () => {
    const draw = randomDraw(40, 3);
    const loser = draw.entrants.find((id) => !draw.winners.includes(id))!;
    const removed = { ...draw, entrants: draw.entrants.filter((id) => id !== loser), entrantsCount: draw.entrantsCount - 1 };
    expect(await verifyDraw(removed)).toMatchObject({ ok: false, reason: 'winners' });
    expect(await verifyDraw({ ...draw, entrants: draw.entrants.filter((id) => id !== loser) })).toMatchObject({ ok: false, reason: 'count' });
    expect(await verifyDraw({ ...draw, seed: newDrawSecrets().seed })).toMatchObject({ ok: false, reason: 'commitment' });
    expect(await verifyDraw({ ...draw, winners: [...draw.winners].reverse() })).toMatchObject({ ok: false, reason: 'winners' });
    expect(await verifyDraw({ ...draw, entrants: [draw.entrants[0], ...draw.entrants.slice(0, -1)] })).toMatchObject({ ok: false, reason: 'entrants' });
    expect(await verifyDraw({ ...draw, format: 'livecart-giveaway/2' })).toMatchObject({ ok: false, reason: 'format' });
    expect(await verifyDraw('nope')).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
