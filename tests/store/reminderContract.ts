import { describe, expect, it } from 'vitest';
import type { UserNotices } from '../../server/src/broker/UserNotices.ts';
import type { ReminderDirectory } from '../../server/src/store/ReminderDirectory.ts';
import { waitUntil } from '../helpers/rawClient.ts';

/**
 * What every reminder directory and user-notice channel must do, memory and Redis alike: reminders
 * are a per-room set (twice counts once, capped, removable), and a notice published by one node
 * reaches every node's listener, its own too.
 */
export function describeReminderContract(name: string, factory: {
  reminders: () => ReminderDirectory | Promise<ReminderDirectory>;
  /** Two nodes' notice channels over one backend (the same object for a single node). */
  notices: () => Promise<[UserNotices, UserNotices]>;
}): void {
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
      await reminders.close();
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
