import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitmentOf, drawWinners, entrantIdOf, newDrawSecrets, openGiveaway, publishDraw, type PublishedDraw, seedStream, winningUsers } from '../../server/src/giveaways/draw.ts';
import { type Giveaway, giveawayInputSchema } from '../../server/src/giveaways/giveaway.ts';

const SCRIPT = join(import.meta.dirname, '../../scripts/verify-giveaway.mjs');
const dir = mkdtempSync(join(tmpdir(), 'livecart-draw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ZERO_SEED = '00'.repeat(32);
const SALT = '0123456789abcdef0123456789abcdef';

function giveaway(seed: string, winners: number, salt = SALT): Giveaway {
  return { id: 'g1', roomId: 'r1', sku: 'tote', hostId: 'host', winners, eligibility: 'present', opensAt: 0, closesAt: 60_000, commitment: commitmentOf(seed), salt, maxEntrants: 1_000_000 };
}

let files = 0;
/** Runs the verification script on `draw` (written to a file, or a string passed as the source) and resolves with its exit code and output. */
async function verify(draw: PublishedDraw | Record<string, unknown> | string, ...extra: string[]): Promise<{ code: number; out: string }> {
  let source = typeof draw === 'string' ? draw : '';
  if (typeof draw !== 'string') {
    source = join(dir, `draw-${++files}.json`);
    writeFileSync(source, JSON.stringify(draw));
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, source, ...extra], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), out: stdout + stderr });
    });
  });
}

describe('the draw function', () => {
  it('commits to the seed\'s bytes and names entrants by an HMAC of their user id under the salt', () => {
    expect(commitmentOf(ZERO_SEED)).toBe('66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
    expect(entrantIdOf(SALT, 'ann')).toMatch(/^[0-9a-f]{64}$/);
    expect(entrantIdOf(SALT, 'ann')).toBe(entrantIdOf(SALT, 'ann'));
    expect(entrantIdOf(SALT, 'ann')).not.toBe(entrantIdOf(SALT, 'bo'));
    expect(entrantIdOf('ff'.repeat(16), 'ann')).not.toBe(entrantIdOf(SALT, 'ann'));
    const { seed, salt } = newDrawSecrets();
    expect([seed.length, salt.length]).toEqual([64, 32]);
    const opened = openGiveaway(giveawayInputSchema.parse({ id: 'g1', sku: 'tote', winners: 2, durationMs: 30_000 }), 'r1', 'host', 1000, 1_000_000);
    expect(opened.giveaway).toMatchObject({ eligibility: 'present', opensAt: 1000, closesAt: 31_000, commitment: commitmentOf(opened.seed) });
    expect(opened.giveaway.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(opened.giveaway)).not.toContain(opened.seed);
    expect(giveawayInputSchema.safeParse({ id: 'g1', sku: 'tote', winners: 0, durationMs: 30_000 }).success).toBe(false);
  });

  it('reads the seed\'s stream without modulo bias: numbers past the last whole multiple are skipped', () => {
    // n = 3·2³⁰: without skipping, u mod n would land in the first third twice as often.
    const n = 3 * 2 ** 30;
    const thirds = [0, 0, 0];
    const below = seedStream(ZERO_SEED);
    for (let i = 0; i < 3000; i++) {
      const x = below(n);
      expect(x).toBeLessThan(n);
      thirds[Math.floor(x / 2 ** 30)]!++;
    }
    for (const count of thirds) expect(count).toBeGreaterThan(850);
    expect(thirds[0]).toBeLessThan(1150);
  });

  it('draws the first K of a Fisher–Yates shuffle: distinct entrants, all of them when fewer than K, the same every time', () => {
    const entrants = Array.from({ length: 50 }, (_, i) => entrantIdOf(SALT, `u${i}`)).sort();
    const winners = drawWinners(ZERO_SEED, entrants, 5);
    expect(winners).toHaveLength(5);
    expect(new Set(winners).size).toBe(5);
    for (const w of winners) expect(entrants).toContain(w);
    expect(drawWinners(ZERO_SEED, entrants, 5)).toEqual(winners);
    expect(drawWinners('11'.repeat(32), entrants, 5)).not.toEqual(winners);
    expect(new Set(drawWinners(ZERO_SEED, entrants.slice(0, 3), 5))).toEqual(new Set(entrants.slice(0, 3)));
    expect(drawWinners(ZERO_SEED, [], 5)).toEqual([]);
    // The worked example of docs/giveaway-verification.md.
    expect(drawWinners(ZERO_SEED, ['a', 'b', 'c', 'd', 'e'], 2)).toEqual(DOC_EXAMPLE);
  });

  it('gives every entrant the same chance', () => {
    const entrants = ['a', 'b', 'c', 'd'];
    const wins = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const seed = i.toString(16).padStart(64, '0');
      const [winner] = drawWinners(seed, entrants, 1);
      wins.set(winner!, (wins.get(winner!) ?? 0) + 1);
    }
    for (const e of entrants) expect(wins.get(e)).toBeGreaterThan(880);
  });

  it('publishes each user once, sorted, and finds the winning users back', () => {
    const draw = publishDraw(giveaway(ZERO_SEED, 2), ZERO_SEED, ['cy', 'ann', 'bo', 'ann']);
    expect(draw.entrantsCount).toBe(3);
    expect(draw.entrants).toEqual([...draw.entrants].sort());
    expect(draw.entrants).toEqual(['ann', 'bo', 'cy'].map((u) => entrantIdOf(SALT, u)).sort());
    const users = winningUsers(draw, ['ann', 'bo', 'cy']);
    expect(users).toHaveLength(2);
    expect(users.map((u) => entrantIdOf(SALT, u))).toEqual(draw.winners);
  });
});

/** drawWinners(32 zero bytes, [a, b, c, d, e], 2), worked by hand in the doc. */
const DOC_EXAMPLE = ['e', 'd'];

describe('scripts/verify-giveaway.mjs', () => {
  const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  const seed = 'c0ffee'.padEnd(64, '7');
  const published = publishDraw(giveaway(seed, 3), seed, users);

  it('agrees with the server\'s draw on every size, and checks a user\'s own entry', async () => {
    for (const [i, count] of [[1, 1], [2, 2], [3, 7], [4, 100], [5, 1000]] as const) {
      const { seed: s, salt } = newDrawSecrets();
      const draw = publishDraw(giveaway(s, i * 2 - 1, salt), s, users.slice(0, count));
      const result = await verify(draw);
      expect(result, result.out).toMatchObject({ code: 0 });
      expect(result.out).toContain(`${draw.winners.length} winner(s) among ${count} entrant(s)`);
    }
    const winner = winningUsers(published, users)[0]!;
    expect((await verify(published, '--entrant', winner)).out).toContain(`${winner} (id ${entrantIdOf(SALT, winner)}): entered, and WON`);
    expect((await verify(published, '--entrant', 'user-999')).code).toBe(0);
    const stranger = await verify(published, '--entrant', 'not-a-user');
    expect(stranger.code).toBe(1);
    expect(stranger.out).toContain('not-a-user');
  });

  it('fails when one entrant is removed, whether it won or not, and whether the count was fixed or not', async () => {
    const loser = published.entrants.findIndex((id) => !published.winners.includes(id));
    const winner = published.entrants.indexOf(published.winners[0]!);
    for (const removed of [loser, winner]) {
      const entrants = published.entrants.filter((_, i) => i !== removed);
      const counted = await verify({ ...published, entrants });
      expect(counted.code).toBe(1);
      expect(counted.out).toContain('the list has 999 entrants, the announced count is 1000');
      const recounted = await verify({ ...published, entrants, entrantsCount: 999 });
      expect(recounted.code, recounted.out).toBe(1);
      expect(recounted.out).toContain('the winners do not follow from the seed and the entrants');
    }
  });

  it('fails when the seed was changed, with or without a matching commitment, and on a broken file', async () => {
    const other = 'd0'.repeat(32);
    const changed = await verify({ ...published, seed: other });
    expect(changed.code).toBe(1);
    expect(changed.out).toContain('the seed does not match the commitment');
    const recommitted = await verify({ ...published, seed: other, commitment: commitmentOf(other) });
    expect(recommitted.code).toBe(1);
    expect(recommitted.out).toContain('the winners do not follow');
    const unsorted = await verify({ ...published, entrants: [...published.entrants].reverse() });
    expect(unsorted.out).toContain('not sorted');
    const missing = await verify(join(dir, 'none.json'));
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.out).toContain('cannot read');
    expect((await verify({ ...published, format: 'other/9' })).out).toContain('unknown format');
    const usage = await verify(published, '--entrant');
    expect(usage.code).toBe(2);
  });

  it('reads the published draw from a URL', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/draw.json') res.end(JSON.stringify(published));
      else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await verify(`${base}/draw.json`)).toMatchObject({ code: 0 });
      const gone = await verify(`${base}/gone.json`);
      expect(gone.code).toBe(1);
      expect(gone.out).toContain('HTTP 404');
    } finally {
      server.close();
    }
  });
});
