import { describe, expect, it } from 'vitest';
import type { ShowLive } from '../../protocol/src/index.ts';
import type { UserNotices } from '../../server/src/broker/UserNotices.ts';
import type { ReminderDirectory } from '../../server/src/store/ReminderDirectory.ts';
import type { ShowNoticeInbox } from '../../server/src/store/ShowNoticeInbox.ts';
import { waitUntil } from '../helpers/rawClient.ts';

/**
 * What every reminder directory, go-live inbox and user-notice channel must do, memory and Redis
 * alike: reminders are a per-room set (twice counts once, capped, removable) and each user's list
 * of rooms agrees with those sets however writes race or are cut short; a user's kept notices are
 * taken once, bounded and expiring; and a notice published by one node reaches every node's
 * listener, its own too.
 */
export function describeReminderContract(name: string, factory: {
  reminders: () => Promise<ReminderDirectory>;
  /**
   * Another node's directory over `of`'s keys. With `failAfter`, its connection fails every call
   * after that many (a node dying between two writes). Absent where a write is one step (memory).
   */
  sibling?: (of: ReminderDirectory, failAfter?: number) => Promise<ReminderDirectory>;
  inbox: () => Promise<ShowNoticeInbox>;
  /** Two nodes' notice channels over one backend (the same object for a single node). */
  notices: () => Promise<[UserNotices, UserNotices]>;
}): void {
  /** Each user's list holds exactly the rooms whose set holds them, and each room counts exactly those users. */
  async function expectAgreement(reminders: ReminderDirectory, users: readonly string[], rooms: readonly string[]): Promise<void> {
    const held = await Promise.all(users.map((user) => reminders.remindedOf(rooms, user)));
    for (const [u, user] of users.entries()) {
      const listed = (await reminders.roomsOf(user)).filter((room) => rooms.includes(room)).sort();
      expect({ user, listed }).toEqual({ user, listed: rooms.filter((_, r) => held[u]![r]).sort() });
      for (const [r, room] of rooms.entries()) expect({ room, user, reminded: (await reminders.status(room, user)).reminded }).toEqual({ room, user, reminded: held[u]![r] });
    }
    expect(await reminders.counts(rooms)).toEqual(rooms.map((_, r) => held.filter((of) => of[r]).length));
  }

  describe(`reminders (${name})`, () => {
    it('sets a reminder once however often asked, counts users per room, and removes idempotently', async () => {
      const reminders = await factory.reminders();
      expect(await reminders.add('show', 'ann', 10)).toEqual({ result: 'added', count: 1 });
      expect(await reminders.add('show', 'ann', 10)).toEqual({ result: 'exists', count: 1 });
      expect(await reminders.add('show', 'bo', 10)).toEqual({ result: 'added', count: 2 });
      expect(await reminders.add('other', 'ann', 10)).toEqual({ result: 'added', count: 1 });
      expect(await reminders.status('show', 'ann')).toEqual({ reminded: true, count: 2 });
      expect(await reminders.status('show', 'cy')).toEqual({ reminded: false, count: 2 });
      expect(await reminders.counts(['other', 'show', 'none'])).toEqual([1, 2, 0]);
      expect(await reminders.remindedOf(['show', 'none', 'other'], 'ann')).toEqual([true, false, true]);
      expect((await reminders.users('show')).sort()).toEqual(['ann', 'bo']);
      expect(await reminders.remove('show', 'ann')).toEqual({ removed: true, count: 1 });
      expect(await reminders.remove('show', 'ann')).toEqual({ removed: false, count: 1 });
      expect(await reminders.users('show')).toEqual(['bo']);
      expect(await reminders.users('none')).toEqual([]);
      expect((await reminders.roomsOf('ann')).sort()).toEqual(['other']);
      expect(await reminders.roomsOf('bo')).toEqual(['show']);
      expect(await reminders.roomsOf('nobody')).toEqual([]);
      expect(await reminders.remove('none', 'ann')).toEqual({ removed: false, count: 0 });
      await reminders.close();
    });

    it('gives a room\'s go-live notice to one claim only, however many race for it', async () => {
      const reminders = await factory.reminders();
      const claims = await Promise.all(Array.from({ length: 10 }, () => reminders.claimNotice('live-show')));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await reminders.claimNotice('live-show')).toBe(false);
      expect(await reminders.claimNotice('other-show')).toBe(true);
      await reminders.close();
    });

    it('holds at most the cap per room: a user already counted is still answered as set', async () => {
      const reminders = await factory.reminders();
      expect(await reminders.add('capped', 'u1', 2)).toEqual({ result: 'added', count: 1 });
      expect(await reminders.add('capped', 'u2', 2)).toEqual({ result: 'added', count: 2 });
      expect(await reminders.add('capped', 'u3', 2)).toEqual({ result: 'full', count: 2 });
      expect(await reminders.roomsOf('u3')).toEqual([]);
      expect(await reminders.add('capped', 'u2', 2)).toEqual({ result: 'exists', count: 2 });
      // Racing adds never pass the cap.
      const raced = await Promise.all(Array.from({ length: 20 }, (_, i) => reminders.add('race', `r${i}`, 5)));
      expect(raced.filter((r) => r.result === 'added')).toHaveLength(5);
      expect((await reminders.counts(['race']))[0]).toBe(5);
      await expectAgreement(reminders, Array.from({ length: 20 }, (_, i) => `r${i}`), ['race']);
      await reminders.close();
    });

    it('keeps each user\'s list and each room\'s set in agreement while sets and removes race from two nodes', async () => {
      const one = await factory.reminders();
      const two = factory.sibling === undefined ? one : await factory.sibling(one);
      const users = ['ra', 'rb', 'rc', 'rd'];
      const rooms = ['race-1', 'race-2', 'race-3'];
      for (let round = 0; round < 6; round++) {
        const writes: Array<Promise<unknown>> = [];
        for (const [u, user] of users.entries()) {
          for (const [r, room] of rooms.entries()) {
            // Each pair is set on one node and removed on the other at once, in an order that changes by round.
            const [first, second] = (round + u + r) % 2 === 0 ? [one, two] : [two, one];
            const set = () => first.add(room, user, 100);
            const remove = () => second.remove(room, user);
            writes.push(...((round + u) % 3 === 0 ? [remove(), set()] : [set(), remove()]));
          }
        }
        await Promise.all(writes);
        await expectAgreement(one, users, rooms);
        await expectAgreement(two, users, rooms);
      }
      await one.close();
      if (two !== one) await two.close();
    });

    it.runIf(factory.sibling !== undefined)('leaves the list and the count agreeing when a node dies partway through a set or a remove', async () => {
      const healthy = await factory.reminders();
      const users: string[] = [];
      for (let budget = 0; budget <= 4; budget++) {
        const cut = await factory.sibling!(healthy, budget);
        const adder = `cut-add-${budget}`;
        users.push(adder);
        await cut.add('cut-show', adder, 100).catch(() => undefined);
        await cut.close();
        const remover = `cut-remove-${budget}`;
        users.push(remover);
        await healthy.add('cut-show', remover, 100);
        const cutRemove = await factory.sibling!(healthy, budget);
        await cutRemove.remove('cut-show', remover).catch(() => undefined);
        await cutRemove.close();
      }
      await expectAgreement(healthy, users, ['cut-show']);
      // Whatever was cut short, setting and removing again is whole.
      for (const user of users) await healthy.add('cut-show', user, 100);
      expect((await healthy.roomsOf('cut-add-0'))).toEqual(['cut-show']);
      await expectAgreement(healthy, users, ['cut-show']);
      for (const user of users) await healthy.remove('cut-show', user);
      expect(await healthy.roomsOf('cut-add-1')).toEqual([]);
      await expectAgreement(healthy, users, ['cut-show']);
      await healthy.close();
    });

    it('releases every reminder of a show: its count, its users and each user\'s list', async () => {
      const reminders = await factory.reminders();
      await reminders.add('gone', 'ann', 10);
      await reminders.add('gone', 'bo', 10);
      await reminders.add('stays', 'ann', 10);
      await reminders.release('gone');
      expect(await reminders.counts(['gone', 'stays'])).toEqual([0, 1]);
      expect(await reminders.users('gone')).toEqual([]);
      expect(await reminders.roomsOf('ann')).toEqual(['stays']);
      expect(await reminders.roomsOf('bo')).toEqual([]);
      await expectAgreement(reminders, ['ann', 'bo'], ['gone', 'stays']);
      await reminders.release('never-had-any');
      await reminders.close();
    });
  });

  describe(`go-live inboxes (${name})`, () => {
    const notice = (roomId: string): ShowLive => ({ t: 'showLive', id: `live:${roomId}`, roomId, title: `Show ${roomId}`, streamerId: 'mia', startsAt: 1_767_225_600_000 });

    it('keeps a notice for each user until taken, once: a second take, or one racing it, finds none', async () => {
      const inbox = await factory.inbox();
      const now = Date.now();
      await inbox.put(['ann', 'bö 😀'], notice('a'), now + 60_000, 5);
      await inbox.put(['ann'], notice('a'), now + 60_000, 5); // the same notice again: still one
      expect(await inbox.take('ann', now)).toEqual([notice('a')]);
      expect(await inbox.take('ann', now)).toEqual([]);
      await inbox.put(['cy'], notice('b'), now + 60_000, 5);
      const raced = await Promise.all(Array.from({ length: 5 }, () => inbox.take('cy', now)));
      expect(raced.flat()).toEqual([notice('b')]);
      expect(await inbox.take('bö 😀', now)).toEqual([notice('a')]);
      expect(await inbox.take('nobody', now)).toEqual([]);
      await inbox.close();
    });

    it('forgets a notice its user heard live, one expired, and past the cap the ones expiring first', async () => {
      const inbox = await factory.inbox();
      const now = Date.now();
      await inbox.put(['ann', 'bo'], notice('heard'), now + 60_000, 5);
      await inbox.delivered(['ann'], 'live:heard');
      await inbox.delivered(['nobody'], 'live:heard');
      expect(await inbox.take('ann', now)).toEqual([]);
      expect(await inbox.take('bo', now)).toEqual([notice('heard')]);

      await inbox.put(['cy'], notice('soon'), now + 1000, 5);
      await inbox.put(['cy'], notice('later'), now + 60_000, 5);
      expect(await inbox.take('cy', now + 2000)).toEqual([notice('later')]);

      for (let i = 0; i < 5; i++) await inbox.put(['di'], notice(`n${i}`), now + 10_000 + i, 3);
      expect(await inbox.take('di', now)).toEqual([notice('n2'), notice('n3'), notice('n4')]);
      await inbox.close();
    });
  });

  describe(`user notices (${name})`, () => {
    it('hands a notice to every node\'s listener with its users and frame intact', async () => {
      const [one, two] = await factory.notices();
      const heard: Array<[string, string[], number[]]> = [];
      one.onNotice((userIds, frame) => heard.push(['one', [...userIds], [...frame]]));
      if (two !== one) two.onNotice((userIds, frame) => heard.push(['two', [...userIds], [...frame]]));
      await Promise.all([one.start(), two.start()]);
      const users = ['ann', 'bö 😀', 'x'.repeat(128)];
      await one.publish(users, new Uint8Array([1, 2, 3, 250]));
      await two.publish([], new Uint8Array([9]));
      const listeners = two === one ? 1 : 2;
      await waitUntil(() => heard.length === 2 * listeners, 5000, 'every listener heard both notices');
      for (const node of two === one ? ['one'] : ['one', 'two']) {
        expect(heard.filter((h) => h[0] === node).map((h) => [h[1], h[2]])).toEqual([[users, [1, 2, 3, 250]], [[], [9]]]);
      }
      await one.close();
      if (two !== one) await two.close();
    });
  });
}
