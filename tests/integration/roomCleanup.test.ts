import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { http, startTestServer, viewerToken } from '../helpers/server.ts';

const ROOMS = 10_000;
/** Rooms set up at once (each: create, a socket joins, end, the socket leaves). */
const BATCH = 250;
/** Every SHOP_EVERY-th room also sells out its one unit over the WebSocket before it ends (admission, sold-out memory, stock news). */
const SHOP_EVERY = 10;
/** Every HTTP_EVERY-th room also gets a room next to it that no socket ever joins: buyers add to cart over HTTP only. */
const HTTP_EVERY = 50;

describe('rooms clean up after themselves', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it(`hosts and closes ${ROOMS.toLocaleString('en')} rooms, and every per-room map on the node is back to its size before`, async () => {
    // A degrade check every 50 ms measures every hosted room many times while they are hosted.
    // What the node keeps for rooms it never hosts goes after a second without a request.
    // One viewer token stands in for every room's viewer: the per-user paces of hellos and HTTP cart requests are lifted.
    server = await startTestServer({ maxRooms: ROOMS * 2, degradeCheckMs: 50, forgetIdleRoomsMs: 1000, helloRate: 1e9, helloBurst: 1e9, httpCartRate: 1e9, httpCartBurst: 1e9 });
    const s = server;
    const operator = await s.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    const streamer = await s.mintToken({ userId: 'streamer', name: 'Streamer', role: 'streamer' });
    const viewer = await viewerToken(s, 1);
    const node = async () => (await http(s, 'GET', '/api/ops/node', operator)).body;
    const before = await node();
    expect(before.perRoomState).toMatchObject({ rooms: { hosted: 0 }, admission: { rooms: 0, soldOut: 0 }, commerce: { stockNews: 0 }, fanout: { pacedRooms: 0 } });

    let during: Record<string, Record<string, number>> = {};
    let httpDuring: Record<string, Record<string, number>> = {};
    const hostAndClose = async (i: number) => {
      const roomId = `gone-${i}`;
      const created = await http(s, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId });
      if (created.status !== 201) throw new Error(JSON.stringify(created));
      const shop = i % SHOP_EVERY === 0;
      if (shop) await http(s, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 1 });
      const { client } = await RawClient.join(s.wsUrl, viewer, roomId);
      if (shop) {
        const reply = await client.request({ t: 'addToCart', sku: 'hot', quantity: 1, key: `k-${i}` });
        if (reply.t !== 'ok') throw new Error(JSON.stringify(reply));
        // The operator overrides a few rooms' level: kept with the room, nothing on the node once it goes.
        if (i % (SHOP_EVERY * 10) === 0) expect((await http(s, 'PUT', `/api/ops/rooms/${roomId}/degrade`, operator, { level: 1 })).status).toBe(200);
        // Something is kept per room while it is there (else this test would prove nothing).
        if (i === 0) during = (await node()).perRoomState;
      }
      expect((await http(s, 'POST', `/api/rooms/${roomId}/end`, streamer)).status).toBe(200);
      client.close();
      await client.closed;
      if (i % HTTP_EVERY === 0) {
        const httpRoom = `http-only-${i}`;
        expect((await http(s, 'POST', '/api/rooms', streamer, { title: httpRoom, id: httpRoom })).status).toBe(201);
        expect((await http(s, 'POST', `/api/rooms/${httpRoom}/products`, streamer, { sku: 'hot', title: 'Hot', priceCents: 100, currency: 'USD', stock: 1 })).status).toBe(201);
        const added = await http(s, 'POST', `/api/rooms/${httpRoom}/cart/items`, viewer, { sku: 'hot', quantity: 1, key: `h-${i}` });
        if (added.body.status !== 'reserved') throw new Error(JSON.stringify(added));
        if (i === 0) httpDuring = (await node()).perRoomState;
      }
    };

    for (let start = 0; start < ROOMS; start += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, ROOMS - start) }, (_, k) => hostAndClose(start + k)));
    }
    // The HTTP-only room is not hosted, and the node keeps its admission and stock news for a while.
    expect(httpDuring['admission']?.['rooms'] ?? 0, 'admission state of a room no socket joined').toBeGreaterThan(0);
    expect(httpDuring['commerce']?.['stockNews'] ?? 0, 'stock news of a room no socket joined').toBeGreaterThan(0);
    const kept = (part: string, map: string) => during[part]?.[map] ?? 0;
    for (const [part, map] of [['rooms', 'hosted'], ['admission', 'rooms'], ['admission', 'soldOut'], ['commerce', 'stockNews'], ['fanout', 'pacedRooms']] as const) {
      expect(kept(part, map), `${part}.${map} while a room was there`).toBeGreaterThan(0);
    }

    // Unhosting and the last answers take a moment; on a timeout the comparison below shows what stayed.
    await waitUntil(async () => JSON.stringify((await node()).perRoomState) === JSON.stringify(before.perRoomState), 15_000, 'every per-room map back to its size', 50).catch(() => undefined);
    const after = await node();
    expect(after.perRoomState).toEqual(before.perRoomState);
    expect(after.hostedRooms).toBe(before.hostedRooms);
    // The rooms themselves are still there (ended), in the directory.
    expect((await http(s, 'GET', '/api/rooms')).body.rooms).toHaveLength(ROOMS + ROOMS / HTTP_EVERY);
  }, 240_000);
});
