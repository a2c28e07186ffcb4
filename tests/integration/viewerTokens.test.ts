import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { http, liveRoom, startTestServer, TEST_SECRET } from '../helpers/server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MARKER = '<!-- example: mint-viewer-token.mjs';

/** The README's example, as a file inside the repository (so `jose` resolves from its node_modules). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(MARKER);
  if (start < 0) throw new Error('README has no mint-viewer-token example');
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(start));
  if (!block) throw new Error('the example has no js block');
  const dir = join(ROOT, 'tests', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mint-viewer-token.mjs');
  writeFileSync(file, block[1]!);
  return file;
}

describe('viewer tokens minted by a shop\'s backend, as the README shows', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('the README\'s Node example mints a token the server accepts, over the WebSocket and HTTP', async () => {
    const script = readmeExample();
    const { stdout } = await promisify(execFile)(process.execPath, [script, 'shop-customer-42', 'Ann 安'], { cwd: ROOT, env: { ...process.env, LIVECART_TOKEN_SECRET: TEST_SECRET } });
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    await liveRoom(server, 'tokens-room');
    const { client, welcome } = await RawClient.join(server.wsUrl, token, 'tokens-room');
    expect(welcome.t === 'welcome' && welcome.you).toEqual({ userId: 'shop-customer-42', name: 'Ann 安', role: 'viewer' });
    client.close();
    expect((await http(server, 'GET', '/api/me/orders', token)).status).toBe(200);
    // Signed with another secret, the same claims are refused.
    const { stdout: forged } = await promisify(execFile)(process.execPath, [script, 'shop-customer-42'], { cwd: ROOT, env: { ...process.env, LIVECART_TOKEN_SECRET: 'another-secret-0123456789' } });
    expect((await http(server, 'GET', '/api/me/orders', forged.trim())).status).toBe(401);
  });
});
