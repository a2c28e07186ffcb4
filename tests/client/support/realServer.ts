import { afterAll, afterEach, beforeAll } from 'vitest';
import type { LivecartClient } from '../../../client/src/index.ts';
import type { ConfigInput } from '../../../server/src/config.ts';
import type { RunningServer } from '../../../server/src/server.ts';
import { waitUntil } from '../../helpers/rawClient.ts';
import { startTestServer } from '../../helpers/server.ts';

/**
 * One real server for a test file, and the SDK clients its tests open (closed after each test).
 * Register it at the top of the file: its `beforeAll` runs before the file's own.
 */
export function useRealServer(overrides: ConfigInput = {}): { readonly server: RunningServer; readonly clients: LivecartClient[] } {
  let server: RunningServer | undefined;
  const clients: LivecartClient[] = [];
  beforeAll(async () => {
    server = await startTestServer(overrides);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server(): RunningServer {
      if (server === undefined) throw new Error('the server starts in beforeAll');
      return server;
    },
    clients,
  };
}

export const until = (check: () => boolean, what: string, timeoutMs = 5000): Promise<void> => waitUntil(check, timeoutMs, what);
