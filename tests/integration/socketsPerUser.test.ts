/**
 * One token, many sockets: a user may hold only `maxSocketsPerUser` sockets in a room on a node, so
 * one client cannot take the room's seats (and its viewer count, and its share of the cart queue)
 * from everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('sockets per user', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: REDIS_URL, redisPrefix: uniquePrefix('per-user'), maxSocketsPerUser: 3, maxMembersPerRoom: 6 });
    await saleRoom(server, 'seats', 10);
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a user\'s socket past the cap (ROOM_FULL, 4004) and leaves the room\'s seats to others', async () => {
    const hoarder = await viewerToken(server, 'hoarder');
    const held: RawClient[] = [];
    for (let i = 0; i < 3; i++) held.push((await RawClient.join(server.wsUrl, hoarder, 'seats')).client);

    // Following one's orders is a socket too.
    for (const follow of [undefined, 'orders'] as const) {
      const extra = await RawClient.open(server.wsUrl);
      const id = extra.nextId();
      extra.send({ t: 'hello', id, v: 1, token: hoarder, room: 'seats', ...(follow ? { follow } : {}) });
      const refused = await extra.waitFor((m) => (m.t === 'welcome' || m.t === 'err') && m.id === id);
      expect(refused).toMatchObject({ t: 'err', code: 1017, temporary: true });
      expect((await extra.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
    }

    // The room still has seats for other users.
    const others = [];
    for (let i = 0; i < 3; i++) others.push((await RawClient.join(server.wsUrl, await viewerToken(server, `other-${i}`), 'seats')).client);

    // A socket the hoarder closes gives the place back to them.
    const leaving = held.pop()!;
    leaving.close();
    await leaving.closed;
    let back: RawClient | undefined;
    await expect.poll(async () => {
      const client = await RawClient.open(server.wsUrl);
      if ((await client.hello(hoarder, 'seats')).t === 'welcome') back = client;
      return back !== undefined;
    }, { timeout: 5000 }).toBe(true);
    for (const client of [...held, ...others, back!]) client.close();
  });
});
