import { randomBytes } from 'node:crypto';

/** The Redis the suite talks to: `LIVECART_TEST_REDIS` (a redis:// URL), else the local default. */
export const REDIS_URL = process.env.LIVECART_TEST_REDIS || 'redis://127.0.0.1:6379';

/** A key namespace of its own for each test, so suites run in parallel on one Redis. */
export function uniquePrefix(name: string): string {
  return `lctest:${name}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
