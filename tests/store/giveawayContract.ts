import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitmentOf, newDrawSecrets, publishDraw } from '../../server/src/giveaways/draw.ts';
import type { Giveaway } from '../../server/src/giveaways/giveaway.ts';
import type { EntryRequest, GiveawayStore } from '../../server/src/store/GiveawayStore.ts';
import { recordName } from '../../server/src/store/idempotency.ts';

export interface GiveawayStoreFactory {
  create(): Promise<GiveawayStore>;
  /** A second handle on the same data (another node), when the store has one. */
  sibling?(store: GiveawayStore): Promise<GiveawayStore>;
}

const T0 = 1_800_000_000_000;
const { seed: SEED, salt: SALT } = newDrawSecrets();

function giveaway(extra: Partial<Giveaway> = {}): Giveaway {
  return { id: 'g1', roomId: 'r1', sku: 'tote', hostId: 'host', winners: 3, eligibility: 'present', opensAt: T0, closesAt: T0 + 60_000, commitment: commitmentOf(SEED), salt: SALT, maxEntrants: 1_000_000, ...extra };
}
let keys = 0;
/** An entry; each with its own idempotency key unless `key` is given (a retry). */
const entry = (userId: string, at = T0 + 1000, giveawayId = 'g1', roomId = 'r1', key = `k${++keys}`): EntryRequest => ({ roomId, giveawayId, userId, at, record: recordName(userId, key) });

/** Giveaways, every store: one entry per user under concurrency, entries inside the window only, closed once, the first draw kept. */
export function describeGiveawayContract(name: string, factory: GiveawayStoreFactory): void {
  describe(`Giveaway contract: ${name}`, () => {
    let store: GiveawayStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(() => store.close());

    it('opens a giveaway once, one at a time per room, and takes entries inside its window only', async () => {
      expect(await store.latestGiveaway('r1')).toBeNull();
      expect(await store.createGiveaway(giveaway(), SEED)).toEqual({ result: 'created', serial: 1 });
      expect(await store.createGiveaway(giveaway(), SEED)).toEqual({ result: 'exists' });
      expect(await store.createGiveaway(giveaway({ id: 'g2' }), SEED)).toEqual({ result: 'busy' });
      expect(await store.currentGiveaway('r1')).toBe('g1');
      expect(await store.latestGiveaway('r1')).toBe('g1');
      expect(await store.enter([entry('ann'), entry('ann'), entry('bo', T0 - 1), entry('bo', T0 + 60_000), entry('bo'), entry('cy', T0, 'nope')])).toEqual([
        { status: 'entered', entrants: 1 }, { status: 'already_entered', entrants: 1 }, { status: 'not_open' }, { status: 'closed' }, { status: 'entered', entrants: 2 }, { status: 'unknown_giveaway' },
      ]);
      expect(await store.giveaway('r1', 'g1')).toEqual({ giveaway: giveaway({ serial: 1 }), status: 'open', entrants: 2 });
      expect(await store.giveaway('r1', 'nope')).toBeUndefined();
    });

    it('cancels an open giveaway for good (never drawn, entries closed), keeps a closed one closed, and keeps the names winners chose to show', async () => {
      await store.createGiveaway(giveaway(), SEED);
      await store.enter([{ ...entry('ann'), name: 'Ann' }, entry('bo'), { ...entry('ann'), name: 'Changed' }]);
      expect(await store.names('r1', 'g1', ['ann', 'bo', 'nobody'])).toEqual(['Ann', undefined, undefined]);
      expect(await store.closeEntries('r1', 'g1', T0 + 1000, true, true)).toEqual({ result: 'cancelled' });
      expect(await store.closeEntries('r1', 'g1', T0 + 60_000, false)).toEqual({ result: 'cancelled' });
      expect(await store.enter([entry('cy', T0 + 2000)])).toEqual([{ status: 'closed' }]);
      expect(await store.giveaway('r1', 'g1')).toMatchObject({ status: 'cancelled', entrants: 2 });
      expect(await store.currentGiveaway('r1')).toBeNull();
      expect(await store.latestGiveaway('r1')).toBe('g1');
      expect(await store.createGiveaway(giveaway({ id: 'g2' }), SEED)).toEqual({ result: 'created', serial: 2 });
      expect(await store.latestGiveaway('r1')).toBe('g2');
      expect((await store.giveaway('r1', 'g2'))?.giveaway.serial).toBe(2);
      await store.closeEntries('r1', 'g2', T0 + 1000, true);
      expect(await store.closeEntries('r1', 'g2', T0 + 1000, true, true)).toMatchObject({ result: 'already_closed', seed: SEED });
    });

    it('counts 10,000 entries from parallel callers on two nodes once each, however often each user enters', async () => {
      await store.createGiveaway(giveaway(), SEED);
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        // 10,000 users; 2,000 of them enter a second time from another socket.
        const entries = [...Array.from({ length: 10_000 }, (_, i) => entry(`user-${i}`)), ...Array.from({ length: 2000 }, (_, i) => entry(`user-${i * 5}`))];
        const batches = Array.from({ length: 120 }, (_, b) => entries.filter((_, i) => i % 120 === b));
        const answers = (await Promise.all(batches.map((batch, b) => (b % 2 === 0 ? store : other).enter(batch)))).flat();
        expect(answers.filter((a) => a.status === 'entered')).toHaveLength(10_000);
        expect(answers.filter((a) => a.status === 'already_entered')).toHaveLength(2000);
        const counts = answers.flatMap((a) => (a.status === 'entered' ? [a.entrants] : []));
        expect(new Set(counts).size).toBe(10_000);
        expect(Math.max(...counts)).toBe(10_000);
        expect((await other.giveaway('r1', 'g1'))!.entrants).toBe(10_000);
        const closed = await store.closeEntries('r1', 'g1', T0 + 60_000, false);
        expect(closed.result).toBe('closed');
        if (closed.result !== 'closed') return;
        expect(closed.userIds).toHaveLength(10_000);
        expect(new Set(closed.userIds)).toEqual(new Set(entries.map((e) => e.userId)));
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('closes the entries once across nodes, hands the seed and entrants to the draw, and keeps the first draw', async () => {
      await store.createGiveaway(giveaway(), SEED);
      await store.enter([entry('ann'), entry('bo'), entry('cy'), entry('dee')]);
      expect(await store.closeEntries('r1', 'g1', T0 + 59_999, false)).toEqual({ result: 'not_due' });
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store : other).closeEntries('r1', 'g1', T0 + 30_000, true)));
        expect(results.filter((r) => r.result === 'closed')).toHaveLength(1);
        expect(results.filter((r) => r.result === 'already_closed')).toHaveLength(5);
        for (const r of results) expect(r).toMatchObject({ seed: SEED });
        expect(await store.enter([entry('eve', T0 + 40_000)])).toEqual([{ status: 'closed' }]);
        expect(await store.currentGiveaway('r1')).toBeNull();
        expect((await store.giveaway('r1', 'g1'))).toMatchObject({ status: 'closed', entrants: 4 });
        const first = results[0]!;
        if (first.result !== 'closed' && first.result !== 'already_closed') throw new Error('not closed');
        expect([...first.userIds].sort()).toEqual(['ann', 'bo', 'cy', 'dee']);
        const draw = publishDraw(giveaway(), SEED, first.userIds);
        expect(await store.draw('r1', 'g1')).toBeUndefined();
        const kept = await Promise.all([store.recordDraw(draw), other.recordDraw({ ...draw, winners: ['forged'] })]);
        expect(kept[0]).toEqual(kept[1]);
        expect(await store.draw('r1', 'g1')).toEqual(kept[0]);
        // The result shown to the room: the first kept stays, on every node; none for a giveaway that is not there.
        const result = { winners: [{ entrantId: 'ab' }], entrantsCount: 4, seed: SEED, drawUrl: '/draw.json' };
        await Promise.all([store.recordResult('r1', 'g1', result), other.recordResult('r1', 'g1', { ...result, winners: [] })]);
        expect((await other.giveaway('r1', 'g1'))?.result).toEqual((await store.giveaway('r1', 'g1'))?.result);
        await store.recordResult('r1', 'g1', { ...result, seed: 'ff' });
        expect([result, { ...result, winners: [] }]).toContainEqual((await store.giveaway('r1', 'g1'))?.result);
        await store.recordResult('r1', 'none', result);
        expect(await store.giveaway('r1', 'none')).toBeUndefined();
        expect(await store.createGiveaway(giveaway({ id: 'g2' }), SEED)).toEqual({ result: 'created', serial: 2 });
      } finally {
        if (other !== store) await other.close();
      }
      expect(await store.closeEntries('r1', 'none', T0, true)).toEqual({ result: 'unknown' });
    });

    it('keeps each entry\'s answer: a retry of its key gets its first answer, an entered user a new key already_entered, after the close and the cancel too', async () => {
      await store.createGiveaway(giveaway(), SEED);
      expect(await store.enter([entry('ann', T0 + 1000, 'g1', 'r1', 'tap'), entry('bo', T0 + 1000, 'g1', 'r1', 'tap'), entry('ann', T0 + 1100, 'g1', 'r1', 'again')])).toEqual([
        { status: 'entered', entrants: 1 }, { status: 'entered', entrants: 2 }, { status: 'already_entered', entrants: 2 },
      ]);
      await store.enter([entry('cy')]);
      // While open: the key's first answer exactly (its count then), not the count now.
      expect(await store.enter([entry('ann', T0 + 2000, 'g1', 'r1', 'tap'), entry('ann', T0 + 2000, 'g1', 'r1', 'again')])).toEqual([
        { status: 'entered', entrants: 1 }, { status: 'already_entered', entrants: 2 },
      ]);
      expect((await store.closeEntries('r1', 'g1', T0 + 60_000, false)).result).toBe('closed');
      // After the close: the entry stands for whoever entered; only users who had not entered hear closed.
      expect(await store.enter([
        entry('ann', T0 + 61_000, 'g1', 'r1', 'tap'), entry('bo', T0 + 61_000, 'g1', 'r1', 'tap'), entry('bo', T0 + 61_000, 'g1', 'r1', 'late'), entry('dee', T0 + 61_000, 'g1', 'r1', 'tap'),
      ])).toEqual([{ status: 'entered', entrants: 1 }, { status: 'entered', entrants: 2 }, { status: 'already_entered', entrants: 3 }, { status: 'closed' }]);
      expect((await store.giveaway('r1', 'g1'))?.entrants).toBe(3);
      // The desk reads a key's answer alone (what a refusal yields to).
      expect(await store.recorded('r1', 'g1', recordName('ann', 'tap'), T0 + 61_000)).toEqual({ status: 'entered', entrants: 1 });
      expect(await store.recorded('r1', 'g1', recordName('bo', 'late'), T0 + 61_000)).toEqual({ status: 'already_entered', entrants: 3 });
      expect(await store.recorded('r1', 'g1', recordName('dee', 'tap'), T0 + 61_000)).toBeUndefined();
      expect(await store.recorded('r1', 'nope', recordName('ann', 'tap'), T0 + 61_000)).toBeUndefined();
      // A cancelled giveaway's entrants keep their answers as well.
      await store.createGiveaway(giveaway({ id: 'g2' }), SEED);
      expect(await store.enter([entry('ann', T0 + 1000, 'g2', 'r1', 'tap2')])).toEqual([{ status: 'entered', entrants: 1 }]);
      expect(await store.closeEntries('r1', 'g2', T0 + 2000, true, true)).toEqual({ result: 'cancelled' });
      expect(await store.enter([entry('ann', T0 + 3000, 'g2', 'r1', 'tap2'), entry('ann', T0 + 3000, 'g2'), entry('bo', T0 + 3000, 'g2')])).toEqual([
        { status: 'entered', entrants: 1 }, { status: 'already_entered', entrants: 1 }, { status: 'closed' },
      ]);
    });

    it('takes entrants up to the giveaway\'s cap (full for the rest, across nodes; entrants keep their answers), and hands every entrant to the draw', async () => {
      const cap = 150;
      await store.createGiveaway(giveaway({ maxEntrants: cap }), SEED);
      const other = factory.sibling === undefined ? store : await factory.sibling(store);
      try {
        const users = Array.from({ length: 400 }, (_, i) => `cap-${i}`);
        const batches = Array.from({ length: 8 }, (_, b) => users.filter((_, i) => i % 8 === b).map((userId) => entry(userId, T0 + 1000, 'g1', 'r1', `first-${userId}`)));
        const answers = (await Promise.all(batches.map((batch, b) => (b % 2 === 0 ? store : other).enter(batch)))).flat();
        const entered = answers.filter((a) => a.status === 'entered');
        expect(entered).toHaveLength(cap);
        expect(answers.filter((a) => a.status === 'full')).toEqual(Array.from({ length: users.length - cap }, () => ({ status: 'full', entrants: cap })));
        const inside = batches.flat().filter((_, i) => answers[i]!.status === 'entered').map((e) => e.userId);
        const outside = batches.flat().filter((_, i) => answers[i]!.status === 'full').map((e) => e.userId);
        // Full stays full for a new user and for a refused user's retry; an entrant's retry and new key still stand.
        expect(await other.enter([entry('late'), entry(outside[0]!, T0 + 2000, 'g1', 'r1', `first-${outside[0]}`), entry(inside[0]!, T0 + 2000), entry(inside[1]!, T0 + 2000, 'g1', 'r1', `first-${inside[1]}`)])).toEqual([
          { status: 'full', entrants: cap }, { status: 'full', entrants: cap }, { status: 'already_entered', entrants: cap }, answers[batches.flat().findIndex((e) => e.userId === inside[1])],
        ]);
        expect((await store.giveaway('r1', 'g1'))?.entrants).toBe(cap);
        const closed = await other.closeEntries('r1', 'g1', T0 + 60_000, false);
        expect(closed.result).toBe('closed');
        if (closed.result !== 'closed') return;
        expect([...closed.userIds].sort()).toEqual([...inside].sort());
        const again = await store.closeEntries('r1', 'g1', T0 + 60_000, false);
        expect(again.result === 'already_closed' && [...again.userIds].sort()).toEqual([...inside].sort());
      } finally {
        if (other !== store) await other.close();
      }
    });
  });
}
