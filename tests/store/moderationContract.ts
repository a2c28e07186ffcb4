import { describe, expect, it } from 'vitest';
import type { PinnedComment } from '../../protocol/src/index.ts';
import type { RoomDirectory } from '../../server/src/store/RoomDirectory.ts';

/** One contract for a room's moderation in every directory (memory, Redis, Redis Cluster). */
export function describeModerationContract(name: string, make: () => RoomDirectory | Promise<RoomDirectory>): void {
  describe(`room directory moderation (${name})`, () => {
    async function room(): Promise<RoomDirectory> {
      const directory = await make();
      await directory.create({ id: 'r', title: 'R', streamerId: 's', state: 'live', createdAt: 0 }, 'e1', 10);
      return directory;
    }

    it('a new room has no moderators, no filter and no pinned comment', async () => {
      const directory = await room();
      expect((await directory.get('r'))!.moderation).toEqual({ moderators: [], filter: { version: 0, words: [] }, pinnedComment: null });
    });

    it('appoints moderators in order up to the cap, keeps a re-appointed one in place, and removes them', async () => {
      const directory = await room();
      expect(await directory.setModerator('r', { userId: 'm1', name: 'Mia' }, true, 2)).toEqual([{ userId: 'm1', name: 'Mia' }]);
      expect(await directory.setModerator('r', { userId: 'm2', name: '小明' }, true, 2)).toEqual([{ userId: 'm1', name: 'Mia' }, { userId: 'm2', name: '小明' }]);
      expect(await directory.setModerator('r', { userId: 'm3', name: 'Max' }, true, 2)).toBe('full');
      expect(await directory.setModerator('r', { userId: 'm1', name: 'Mia' }, true, 2)).toEqual([{ userId: 'm1', name: 'Mia' }, { userId: 'm2', name: '小明' }]);
      expect(await directory.setModerator('r', { userId: 'm1', name: 'Mia' }, false, 2)).toEqual([{ userId: 'm2', name: '小明' }]);
      expect(await directory.setModerator('r', { userId: 'm3', name: 'Max' }, true, 2)).toEqual([{ userId: 'm2', name: '小明' }, { userId: 'm3', name: 'Max' }]);
      expect((await directory.get('r'))!.moderation.moderators).toEqual([{ userId: 'm2', name: '小明' }, { userId: 'm3', name: 'Max' }]);
    });

    it('replaces the keyword filter, its version growing with each change', async () => {
      const directory = await room();
      expect(await directory.setFilter('r', ['spam', '垃圾'])).toEqual({ version: 1, words: ['spam', '垃圾'] });
      expect(await directory.setFilter('r', ['scam'])).toEqual({ version: 2, words: ['scam'] });
      expect((await directory.get('r'))!.moderation.filter).toEqual({ version: 2, words: ['scam'] });
      expect(await directory.setFilter('r', [])).toEqual({ version: 3, words: [] });
      expect((await directory.get('r'))!.moderation.filter).toEqual({ version: 3, words: [] });
    });

    it('keeps one pinned comment, replaced by the next and cleared by null', async () => {
      const directory = await room();
      const first: PinnedComment = { seq: 4, userId: 'u1', name: 'Ann', text: '尺码偏大 size up', ts: 1000, pinnedAt: 2000, pinnedBy: 's' };
      await directory.setPinnedComment('r', first);
      expect((await directory.get('r'))!.moderation.pinnedComment).toEqual(first);
      const second = { ...first, seq: 9, text: 'ships Monday' };
      await directory.setPinnedComment('r', second);
      expect((await directory.get('r'))!.moderation.pinnedComment).toEqual(second);
      await directory.setPinnedComment('r', null);
      expect((await directory.get('r'))!.moderation.pinnedComment).toBeNull();
    });
  });
}
