import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

/**
 * Stream keys across nodes: two nodes on one Redis (same token secret) agree on a room's key, a
 * rotation on one is in force on the other at once, and only the room's streamer or an operator
 * sees it. The nodes run without video, so a WHIP offer with a good key gets past the key check
 * and stops at MEDIA_UNAVAILABLE, where a bad key stops at UNAUTHORIZED.
 */
describe('stream keys on two nodes', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('stream-keys');
    a = await startTestServer({ redis: REDIS_URL, redisPrefix });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const offer = (server: RunningServer, roomId: string, bearer: string) =>
    fetch(`${server.url}/api/rooms/${roomId}/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: 'v=0\r\n' })
      .then(async (r) => ({ status: r.status, name: ((await r.json()) as { error: { name: string } }).error.name }));

  it('is the same on every node, rotates everywhere at once, and is shown to the room\'s streamer and operators only', async () => {
    const streamer = await saleRoom(a, 'keys', 1);
    const onA = await http(a, 'GET', '/api/rooms/keys/stream-key', streamer);
    const onB = await http(b, 'GET', '/api/rooms/keys/stream-key', streamer);
    expect(onA.status).toBe(200);
    expect(onB.body.key).toBe(onA.body.key);
    const first = onA.body.key as string;
    expect(await offer(b, 'keys', first)).toEqual({ status: 503, name: 'MEDIA_UNAVAILABLE' }); // the key passed on the other node

    const rotated = await http(b, 'POST', '/api/rooms/keys/stream-key/rotate', streamer);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).not.toBe(first);
    expect((await http(a, 'GET', '/api/rooms/keys/stream-key', streamer)).body.key).toBe(rotated.body.key);
    expect(await offer(a, 'keys', first)).toEqual({ status: 401, name: 'UNAUTHORIZED' });
    expect(await offer(a, 'keys', rotated.body.key as string)).toEqual({ status: 503, name: 'MEDIA_UNAVAILABLE' });
    // A key is for its room only.
    const other = await saleRoom(a, 'keys-other', 1);
    expect(await offer(a, 'keys-other', rotated.body.key as string)).toEqual({ status: 401, name: 'UNAUTHORIZED' });

    const operator = await a.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    expect((await http(b, 'GET', '/api/rooms/keys/stream-key', operator)).body.key).toBe(rotated.body.key);
    for (const token of [await viewerToken(a, 'keys-v'), other]) {
      const refused = await http(a, 'GET', '/api/rooms/keys/stream-key', token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.name).toBe('FORBIDDEN');
      expect((await http(a, 'POST', '/api/rooms/keys/stream-key/rotate', token)).status).toBe(403);
    }
    expect((await http(a, 'GET', '/api/rooms/no-such-room/stream-key', operator)).status).toBe(404);
    expect((await http(a, 'GET', '/api/rooms/keys/stream-key')).status).toBe(401);
  });
});
