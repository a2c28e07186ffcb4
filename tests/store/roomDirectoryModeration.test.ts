import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { MemoryRoomDirectory } from '../../server/src/store/MemoryRoomDirectory.ts';
import { RedisRoomDirectory } from '../../server/src/store/RedisRoomDirectory.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeModerationContract } from './moderationContract.ts';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

describeModerationContract('memory', () => new MemoryRoomDirectory());
describeModerationContract('Redis', () => new RedisRoomDirectory(redis, uniquePrefix('moderation'), 1000));
