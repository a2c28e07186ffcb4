/**
 * A node refuses a port another process listens on: sharing it (SO_REUSEPORT, uWS's default) would
 * split clients between two nodes silently, each with its own store and secret.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { startTestServer } from '../helpers/server.ts';

/** A port free now: the kernel shares a port only when it was asked for by number (port 0 binds are never shared). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('the listening port', () => {
  let first: RunningServer;
  beforeAll(async () => {
    first = await startTestServer({ port: await freePort() });
  });
  afterAll(() => first.close());

  it('is refused to a second node while the first holds it', async () => {
    await expect(startTestServer({ port: first.port })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+/);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
