import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { LocalUserNotices } from '../../server/src/broker/LocalUserNotices.ts';
import { RedisUserNotices } from '../../server/src/broker/RedisUserNotices.ts';
import { redisTarget } from '../../server/src/redis/client.ts';
import { MemoryReminderDirectory } from '../../server/src/store/MemoryReminderDirectory.ts';
import { RedisReminderDirectory } from '../../server/src/store/RedisReminderDirectory.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeReminderContract } from './reminderContract.ts';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

describeReminderContract('memory', {
  reminders: () => new MemoryReminderDirectory(),
  notices: async () => {
    const notices = new LocalUserNotices();
    return [notices, notices];
  },
});

describeReminderContract('Redis', {
  reminders: () => new RedisReminderDirectory(redis, uniquePrefix('reminders'), 1000),
  notices: async () => {
    const prefix = uniquePrefix('notices');
    const options = { target: redisTarget(REDIS_URL), prefix, retryAfterMs: 1000 };
    return [new RedisUserNotices(redis, options), new RedisUserNotices(redis, options)];
  },
});
