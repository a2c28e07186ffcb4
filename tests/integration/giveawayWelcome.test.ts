/**
 * The room's giveaway in `welcome`, on two nodes sharing Redis: a viewer joining on the node that
 * did not open it sees the open giveaway (with its entrants count) at once, the SDK's state has it
 * without `getGiveaway`; after the draw a resumed viewer gets the drawn card; another node's late
 * news of an older card (an open card once drawn, the previous giveaway once the next opened)
 * changes no viewer and no welcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type GiveawayCard, type LivecartClient } from '../../client/src/index.ts';
import type { ServerMessage } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { saleRoom, startTestServer } from '../helpers/server.ts';

describe('the room\'s giveaway in welcome (two nodes, Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  const redisPrefix = uniquePrefix('giveaway-welcome');
  const clients: LivecartClient[] = [];
  const raws: RawClient[] = [];
  beforeAll(async () => {
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20, maxFramesPerSecond: 10_000 });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20, maxFramesPerSecond: 10_000 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const raw of raws) raw.close();
    await a?.close();
    await b?.close();
  });

  const token = (server: RunningServer, userId: string) => server.mintToken({ userId, name: userId, role: 'viewer' });
  async function join(server: RunningServer, roomId: string, userId: string, resume?: { seq: number; epoch: string }) {
    const joined = await RawClient.join(server.wsUrl, await token(server, userId), roomId, resume);
    raws.push(joined.client);
    if (joined.welcome.t !== 'welcome') throw new Error('not welcomed');
    return { client: joined.client, welcome: joined.welcome };
  }
  async function sdk(server: RunningServer, roomId: string, userId: string): Promise<LivecartClient> {
    const client = connect({ url: server.wsUrl, token: await token(server, userId), room: roomId, reconnect: { baseMs: 20, maxMs: 50 } });
    clients.push(client);
    await client.ready;
    return client;
  }
  const ok = (reply: ServerMessage) => {
    if (reply.t !== 'ok') throw new Error(JSON.stringify(reply));
    return reply.result as Record<string, unknown>;
  };
  /** Node b's broker publishes `update` as another node's late news would, then a marker: once a socket hears the marker, the news went by. */
  async function lateNews(roomId: string, card: GiveawayCard, listeners: RawClient[], marker: number): Promise<void> {
    b.rooms.publishState(roomId, { t: 'giveaway', giveaway: card });
    b.rooms.publishState(roomId, { t: 'giveawayEntrants', giveawayId: 'marker', entrants: marker });
    for (const listener of listeners) await listener.waitFor((m) => m.t === 'giveawayEntrants' && m.giveawayId === 'marker' && m.entrants === marker);
  }

  it('a viewer joining on the other node sees the open giveaway and its entrants; a resumed viewer gets the drawn card; older cards never replace newer ones', async () => {
    const roomId = 'giveaway-welcome';
    const streamer = await saleRoom(a, roomId, 10);
    const { client: host } = await RawClient.join(a.wsUrl, streamer, roomId);
    raws.push(host);
    // Node b does not host the room: its first viewer's welcome says there is no giveaway.
    const { client: early, welcome: none } = await join(b, roomId, 'gw-early');
    expect(none.giveaway).toBeNull();
    const opened = ok(await host.request({ t: 'openGiveaway', giveaway: { id: 'g1', sku: 'hot', winners: 1, durationMs: 60_000 } })).giveaway as GiveawayCard;
    expect(opened).toMatchObject({ id: 'g1', status: 'open', serial: 1 });
    await early.waitFor((m) => m.t === 'giveaway' && m.giveaway.id === 'g1');

    // Three entries on node a; node b's welcome carries the count once its news is out.
    for (const userId of ['gw-1', 'gw-2', 'gw-3']) {
      const { client } = await join(a, roomId, userId);
      expect(ok(await client.request({ t: 'enterGiveaway', key: `enter-${userId}`, giveawayId: 'g1' }))).toMatchObject({ status: 'entered' });
    }
    await early.waitFor((m) => m.t === 'giveawayEntrants' && m.giveawayId === 'g1' && m.entrants === 3);
    const { client: joined, welcome } = await join(b, roomId, 'gw-late');
    expect(welcome.giveaway).toEqual({ ...opened, entrants: 3 });
    const viewer = await sdk(b, roomId, 'gw-sdk');
    expect(viewer.state.giveaway).toEqual({ ...opened, entrants: 3 });
    // Node a (where it opened) welcomes with the same card.
    const { client: fresh, welcome: hostedAfresh } = await join(a, roomId, 'gw-a');
    expect(hostedAfresh.giveaway).toMatchObject({ id: 'g1', status: 'open', entrants: 3, serial: 1 });
    fresh.close();

    // Drawn (ended early on node a); the viewer on node b who left comes back with a resume: its welcome has the drawn card.
    const resume = { seq: welcome.seq, epoch: welcome.epoch };
    joined.close();
    const drawn = ok(await host.request({ t: 'endGiveaway', giveawayId: 'g1' })).giveaway as GiveawayCard;
    expect(drawn).toMatchObject({ id: 'g1', status: 'drawn', entrants: 3, serial: 1, result: { entrantsCount: 3 } });
    await early.waitFor((m) => m.t === 'giveaway' && m.giveaway.status === 'drawn');
    const { welcome: resumed } = await join(b, roomId, 'gw-late', resume);
    expect(resumed.resumed).toBe(true);
    expect(resumed.giveaway).toEqual(drawn);
    await waitUntil(() => viewer.state.giveaway?.status === 'drawn', 5000, 'the SDK hears the draw');
    // A node that hosts the room afresh reads the drawn card (the result kept at the draw) from the store.
    const c = await startTestServer({ redis: REDIS_URL, redisPrefix, stockIntervalMs: 20, maxFramesPerSecond: 10_000 });
    try {
      expect((await join(c, roomId, 'gw-c')).welcome.giveaway).toEqual(drawn);
    } finally {
      await c.close();
    }

    // Another node's late news of the open card: dropped by the rooms, so no viewer hears it and no welcome shows it.
    await lateNews(roomId, { ...opened, entrants: 4 }, [early], 1);
    expect(early.messages.filter((m) => m.t === 'giveaway').map((m) => m.t === 'giveaway' && m.giveaway.status)).toEqual(['open', 'drawn']);
    for (const server of [a, b]) expect((await join(server, roomId, `gw-after-${server === a ? 'a' : 'b'}`)).welcome.giveaway).toEqual(drawn);
    expect(viewer.state.giveaway).toEqual(drawn);

    // The next giveaway opens: late news of the first one's draw does not replace it anywhere.
    const next = ok(await host.request({ t: 'openGiveaway', giveaway: { id: 'g2', sku: 'hot', winners: 1, durationMs: 60_000 } })).giveaway as GiveawayCard;
    expect(next).toMatchObject({ id: 'g2', status: 'open', serial: 2 });
    await waitUntil(() => viewer.state.giveaway?.id === 'g2', 5000, 'the SDK hears the next giveaway');
    await lateNews(roomId, drawn, [early], 2);
    expect(early.messages.filter((m) => m.t === 'giveaway').map((m) => m.t === 'giveaway' && `${m.giveaway.id}:${m.giveaway.status}`)).toEqual(['g1:open', 'g1:drawn', 'g2:open']);
    for (const server of [a, b]) expect((await join(server, roomId, `gw-next-${server === a ? 'a' : 'b'}`)).welcome.giveaway).toEqual(next);
    expect(viewer.state.giveaway).toEqual(next);
  });
});
