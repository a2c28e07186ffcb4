import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { shopIdOf } from '../../server/src/commerce/commerceScope.ts';
import { ShopLinks } from '../../server/src/rooms/ShopLinks.ts';

/** A directory whose show lists answer when the test says so. */
function directory(lists: Record<string, string[]>) {
  const reads: Array<{ shopId: string; answer: () => void; fail: (error: Error) => void }> = [];
  return {
    reads,
    shows(shopId: string): Promise<string[]> {
      return new Promise((resolve, reject) => reads.push({ shopId, answer: () => resolve([...(lists[shopId] ?? [])]), fail: reject }));
    },
  };
}

const SHOP = shopIdOf('mia');

describe('ShopLinks: who hears a shop\'s news', () => {
  it('derives a shop id safe for room ids and keys from any user id', () => {
    for (const id of ['mia', 'a/b c:{x}', '😀'.repeat(40)]) expect(shopIdOf(id)).toMatch(/^shop-[A-Za-z0-9_-]{22}$/);
    expect(shopIdOf('mia')).toBe(SHOP);
    expect(shopIdOf('mib')).not.toBe(SHOP);
  });

  it('a room that is no shop hears its own news only, at once', () => {
    const dir = directory({});
    const links = new ShopLinks({ directory: dir, freshMs: 1000, keep: 20, log: pino({ level: 'silent' }) });
    const sent: string[] = [];
    links.toAudience('room-1', (id) => sent.push(id));
    expect(sent).toEqual(['room-1']);
    expect(dir.reads).toHaveLength(0);
  });

  it('a shop\'s first news waits for its show list (in order), later news goes at once; a re-read never holds news back', async () => {
    const dir = directory({ [SHOP]: ['show-b', 'show-a'] });
    let now = 0;
    const links = new ShopLinks({ directory: dir, freshMs: 1000, keep: 20, log: pino({ level: 'silent' }), now: () => now });
    const sent: string[] = [];
    links.toAudience(SHOP, (id) => sent.push(`1:${id}`));
    links.toAudience(SHOP, (id) => sent.push(`2:${id}`));
    expect(sent).toEqual([`1:${SHOP}`, `2:${SHOP}`]);
    expect(dir.reads).toHaveLength(1);
    dir.reads[0]!.answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([`1:${SHOP}`, `2:${SHOP}`, '1:show-b', '1:show-a', '2:show-b', '2:show-a']);
    sent.length = 0;
    now = 5000; // stale: used at once, and read again in the background
    links.toAudience(SHOP, (id) => sent.push(id));
    expect(sent).toEqual([SHOP, 'show-b', 'show-a']);
    expect(dir.reads).toHaveLength(2);
    links.toAudience(SHOP, (id) => sent.push(id));
    expect(sent).toEqual([SHOP, 'show-b', 'show-a', SHOP, 'show-b', 'show-a']);
  });

  it('a show linked here (or seen in a request) hears the shop at once, before any read of the list', () => {
    const dir = directory({ [SHOP]: ['show-new'] });
    const links = new ShopLinks({ directory: dir, freshMs: 1000, keep: 20, log: pino({ level: 'silent' }) });
    links.linked(SHOP, 'show-new');
    const sent: string[] = [];
    links.toAudience(SHOP, (id) => sent.push(id));
    expect(sent).toEqual([SHOP, 'show-new']);
    links.linked(SHOP, 'show-new');
    links.linked(SHOP, 'show-2');
    sent.length = 0;
    links.toAudience(SHOP, (id) => sent.push(id));
    expect(sent).toEqual([SHOP, 'show-2', 'show-new']);
  });

  it('a failed read leaves the news at the shop and is tried again at the next news', async () => {
    const dir = directory({ [SHOP]: ['show-a'] });
    const links = new ShopLinks({ directory: dir, freshMs: 1000, keep: 20, log: pino({ level: 'silent' }) });
    const sent: string[] = [];
    links.toAudience(SHOP, (id) => sent.push(id));
    dir.reads[0]!.fail(new Error('redis down'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([SHOP]);
    links.toAudience(SHOP, (id) => sent.push(id));
    dir.reads[1]!.answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([SHOP, SHOP, 'show-a']);
  });

  it('keeps a shop\'s newest `keep` shows, and lets a shop idle here go', () => {
    const dir = directory({});
    let now = 0;
    const links = new ShopLinks({ directory: dir, freshMs: 1000, keep: 2, log: pino({ level: 'silent' }), now: () => now });
    for (const show of ['s1', 's2', 's3']) links.linked(SHOP, show);
    const sent: string[] = [];
    links.toAudience(SHOP, (id) => sent.push(id));
    expect(sent).toEqual([SHOP, 's3', 's2']);
    expect(links.perRoomState()).toEqual({ shopLinks: 1 });
    now = 5000;
    expect([...links.idleRooms(60_000)]).toEqual([]);
    now = 70_000;
    dir.reads.splice(0);
    expect([...links.idleRooms(60_000)]).toEqual([SHOP]);
    links.forget(SHOP);
    expect(links.size).toBe(0);
  });
});
