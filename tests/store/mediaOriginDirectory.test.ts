import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { MediaOriginDirectory } from '../../server/src/store/MediaOriginDirectory.ts';
import { MemoryMediaOriginDirectory } from '../../server/src/store/MemoryMediaOriginDirectory.ts';
import { RedisMediaOriginDirectory } from '../../server/src/store/RedisMediaOriginDirectory.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const video = (producerId: string, paused = false) => ({ producerId, kind: 'video' as const, paused });
const a = { nodeId: 'node-a', url: 'http://a:1' };
const b = { nodeId: 'node-b', url: 'http://b:1' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

describe.each([
  ['memory', () => new MemoryMediaOriginDirectory()],
  ['redis', () => new RedisMediaOriginDirectory(redis, uniquePrefix('media-origin'), 1000)],
] as Array<[string, () => MediaOriginDirectory]>)('media origin directory (%s)', (_, make) => {
  it('a claim is what every node reads; a newer claim wins, and the older claimant can neither refresh nor release it', async () => {
    const origins = make();
    expect(await origins.get('r1')).toBeUndefined();
    const first = await origins.claim('r1', { ...a, producers: [video('p1')] }, 10_000);
    expect(await origins.get('r1')).toEqual({ ...a, version: first, producers: [video('p1')] });
    expect(await origins.refresh('r1', first, { ...a, producers: [video('p1', true), { producerId: 'p2', kind: 'audio', paused: false }] }, 10_000)).toBe(true);
    expect((await origins.get('r1'))?.producers).toEqual([video('p1', true), { producerId: 'p2', kind: 'audio', paused: false }]);

    const second = await origins.claim('r1', { ...b, producers: [video('p3')] }, 10_000);
    expect(second).toBeGreaterThan(first);
    expect(await origins.refresh('r1', first, { ...a, producers: [video('p1')] }, 10_000)).toBe(false);
    await origins.release('r1', first);
    expect(await origins.get('r1')).toEqual({ ...b, version: second, producers: [video('p3')] });
    expect(await origins.get('r2')).toBeUndefined(); // rooms apart
    await origins.release('r1', second);
    expect(await origins.get('r1')).toBeUndefined();
  });

  it('a claim not refreshed runs out; its claimant writes it again at the next refresh', async () => {
    const origins = make();
    const version = await origins.claim('r1', { ...a, producers: [video('p1')] }, 100);
    await sleep(250);
    expect(await origins.get('r1')).toBeUndefined();
    expect(await origins.refresh('r1', version, { ...a, producers: [video('p1')] }, 10_000)).toBe(true);
    expect(await origins.get('r1')).toMatchObject({ nodeId: 'node-a', version });
  });
});
