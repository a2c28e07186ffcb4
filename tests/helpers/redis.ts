import { randomBytes } from 'node:crypto';

/** The Redis these machines start before every session and CI run. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key namespace of its own for each test, so suites run in parallel on one Redis. */
export function uniquePrefix(name: string): string {
  return `lctest:${name}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
