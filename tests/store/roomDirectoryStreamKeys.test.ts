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
  ['Redis', () => new RedisRoomDirectory(redis, uniquePrefix('keys'), 1000)],
];

describe.each(directories)('room directory stream key generations (%s)', (_name, make) => {
  it('starts at 0, grows by one per rotation, and is undefined for a room that does not exist (which a rotation does not create)', async () => {
    const directory = make();
    expect(await directory.streamKeyGeneration('r')).toBeUndefined();
    expect(await directory.rotateStreamKey('r')).toBeUndefined();
    expect(await directory.streamKeyGeneration('r')).toBeUndefined();
    await directory.create({ id: 'r', title: 'R', streamerId: 's', state: 'live', createdAt: 0 }, 'e1', 10);
    expect(await directory.streamKeyGeneration('r')).toBe(0);
    expect(await directory.rotateStreamKey('r')).toBe(1);
    expect(await directory.rotateStreamKey('r')).toBe(2);
    expect(await directory.streamKeyGeneration('r')).toBe(2);
    expect((await directory.get('r'))!.info.id).toBe('r'); // the record reads as before
  });
});
