import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { LocalUserNotices } from '../../server/src/broker/LocalUserNotices.ts';
import { RedisUserNotices } from '../../server/src/broker/RedisUserNotices.ts';
import { redisTarget } from '../../server/src/redis/client.ts';
import { MemoryReminderDirectory } from '../../server/src/store/MemoryReminderDirectory.ts';
import { MemoryShowNoticeInbox } from '../../server/src/store/MemoryShowNoticeInbox.ts';
import { RedisReminderDirectory } from '../../server/src/store/RedisReminderDirectory.ts';
import { RedisShowNoticeInbox } from '../../server/src/store/RedisShowNoticeInbox.ts';
import type { ReminderDirectory } from '../../server/src/store/ReminderDirectory.ts';
import { failingAfter } from '../helpers/failingRedis.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeReminderContract } from './reminderContract.ts';

// Two connections: two nodes' writes race on the server, not in one connection's queue.
const redis = new Redis(REDIS_URL);
const otherNode = new Redis(REDIS_URL);
afterAll(async () => {
  await redis.quit();
  await otherNode.quit();
});

describeReminderContract('memory', {
  reminders: async () => new MemoryReminderDirectory(),
  inbox: async () => new MemoryShowNoticeInbox(),
  notices: async () => {
    const notices = new LocalUserNotices();
    return [notices, notices];
  },
});

const prefixes = new WeakMap<ReminderDirectory, string>();
const options = { cluster: false, retryAfterMs: 1000 };
describeReminderContract('Redis', {
  reminders: async () => {
    const prefix = uniquePrefix('reminders');
    const reminders = new RedisReminderDirectory(redis, prefix, options);
    prefixes.set(reminders, prefix);
    return reminders;
  },
  sibling: async (of, failAfter) => new RedisReminderDirectory(failAfter === undefined ? otherNode : failingAfter(redis, failAfter), prefixes.get(of)!, options),
  inbox: async () => new RedisShowNoticeInbox(redis, uniquePrefix('inbox'), 1000),
  notices: async () => {
    const prefix = uniquePrefix('notices');
    const options = { target: redisTarget(REDIS_URL), prefix, retryAfterMs: 1000 };
    return [new RedisUserNotices(redis, options), new RedisUserNotices(redis, options)];
  },
});
