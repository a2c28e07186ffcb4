import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Popup } from '../../protocol/src/index.ts';
import { MemoryRecordingDirectory } from '../../server/src/store/MemoryRecordingDirectory.ts';
import { MemoryRoomDirectory } from '../../server/src/store/MemoryRoomDirectory.ts';
import type { RecordingDirectory } from '../../server/src/store/RecordingDirectory.ts';
import { RedisRecordingDirectory } from '../../server/src/store/RedisRecordingDirectory.ts';
import { RedisRoomDirectory } from '../../server/src/store/RedisRoomDirectory.ts';
import type { RoomDirectory } from '../../server/src/store/RoomDirectory.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

/** What a replay is made of, in both implementations: a room's pin log and where its show is recorded. */
const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const popup = (sku: string, pinnedAt: number, endsAt?: number): Popup => ({
  product: { sku, title: sku, priceCents: 100, currency: 'USD', stock: 5 }, pinnedAt, ...(endsAt === undefined ? {} : { endsAt }),
});

describe.each([
  ['memory', () => new MemoryRoomDirectory()],
  ['Redis', () => new RedisRoomDirectory(redis, uniquePrefix('pins'), 1000)],
] as Array<[string, () => RoomDirectory]>)('room pin log (%s)', (_name, make) => {
  it('keeps every pin in order, the latest `keepPins`; unpinning adds nothing; a countdown still sets the offer', async () => {
    const directory = make();
    await directory.create({ id: 'r', title: 'R', streamerId: 's', state: 'live', createdAt: 0 }, 'e1', 10);
    expect(await directory.pins('r')).toEqual([]);
    await directory.setPopup('r', popup('a', 1_000), 3);
    await directory.setPopup('r', popup('b', 2_000, 9_000), 3);
    await directory.setPopup('r', null, 3);
    await directory.setPopup('r', popup('a', 3_000), 3);
    expect(await directory.pins('r')).toEqual([{ sku: 'a', at: 1_000 }, { sku: 'b', at: 2_000 }, { sku: 'a', at: 3_000 }]);
    await directory.setPopup('r', popup('c:1.x', 4_000), 3);
    expect(await directory.pins('r')).toEqual([{ sku: 'b', at: 2_000 }, { sku: 'a', at: 3_000 }, { sku: 'c:1.x', at: 4_000 }]);
    expect((await directory.get('r'))!.offerEnds).toEqual({ b: 9_000 });
    expect(await directory.pins('no-such-room')).toEqual([]);
  });
});

describe.each([
  ['memory', () => new MemoryRecordingDirectory()],
  ['Redis', () => new RedisRecordingDirectory(redis, uniquePrefix('recordings'), 1000)],
] as Array<[string, () => RecordingDirectory]>)('recording directory (%s)', (_name, make) => {
  it('every node reads the latest record; it goes with its retention', async () => {
    const recordings = make();
    expect(await recordings.get('r')).toBeUndefined();
    const record = { nodeId: 'n1', url: 'http://a:1', show: '17', recording: true, parts: [{ at: 1_000, offsetMs: 0, durationMs: 4_000 }] };
    await recordings.put('r', record, 10_000);
    expect(await recordings.get('r')).toEqual(record);
    const closed = { ...record, recording: false, parts: [...record.parts, { at: 9_000, offsetMs: 4_000, durationMs: 2_000 }] };
    await recordings.put('r', closed, 150);
    expect(await recordings.get('r')).toEqual(closed);
    await sleep(250);
    expect(await recordings.get('r')).toBeUndefined();
  });
});
