import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryRoomDirectory } from '../../server/src/store/MemoryRoomDirectory.ts';
import { RedisRoomDirectory } from '../../server/src/store/RedisRoomDirectory.ts';
import type { RoomDirectory } from '../../server/src/store/RoomDirectory.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

const directories: Array<[string, () => RoomDirectory]> = [
  ['memory', () => new MemoryRoomDirectory()],
  ['Redis', () => new RedisRoomDirectory(redis, uniquePrefix('bans'), 1000)],
];

describe.each(directories)('room directory bans (%s)', (_name, make) => {
  it('holds only bans in force: a new ban takes the ended ones (and their names) out of storage', async () => {
    const directory = make();
    await directory.create({ id: 'r', title: 'R', streamerId: 's', state: 'live', createdAt: 0 }, 'e1', 10);
    await directory.setBan('r', 'early', 1_000, 'Early', 0);
    await directory.setBan('r', 'late', 5_000, 'Late', 0);
    expect(Object.keys((await directory.get('r'))!.bans).sort()).toEqual(['early', 'late']);

    await directory.setBan('r', 'new', 9_000, 'New', 2_000); // 'early' ended at 1,000
    expect(Object.keys((await directory.get('r'))!.bans).sort()).toEqual(['late', 'new']);
    expect(await directory.bans('r', 2_000)).toEqual([
      { userId: 'late', name: 'Late', until: 5_000 },
      { userId: 'new', name: 'New', until: 9_000 },
    ]);
    expect(await directory.clearBan('r', 'early', 2_000)).toBe(false);
  });
});
