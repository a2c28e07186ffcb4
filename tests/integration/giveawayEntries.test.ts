/**
 * Giveaway entries at the edges: the entrants cap (`--giveaway-max-entrants`: `giveaway_full` for
 * the rest, an entrant's answer stands); a socket that only follows its orders is not in the room
 * (`present` answers `not_eligible`); and entries waiting in the admission queue when their user is
 * kicked on another node are refused KICKED at their turn and never reach the store, while a key
 * answered before the kick keeps its answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import type { ReserveRequest } from '../../server/src/store/Store.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer } from '../helpers/server.ts';

/** A refusal over HTTP: its code's name, or the answer's status. */
const outcome = (reply: { status: number; body: Record<string, any> }) => (reply.status === 200 ? reply.body.status as string : reply.body.error?.name as string);
const result = (reply: ServerMessage) => (reply.t === 'ok' ? reply.result : reply);

describe('giveaway entries: the cap, and a socket that follows its orders (one node)', () => {
  let server: RunningServer;
  const raws: RawClient[] = [];
  beforeAll(async () => {
    server = await startTestServer({ giveawayMaxEntrants: 2, maxFramesPerSecond: 10_000 });
  });
  afterAll(async () => {
    for (const raw of raws) raw.close();
    await server?.close();
  });

  const token = (userId: string) => server.mintToken({ userId, name: userId, role: 'viewer' });
  async function join(roomId: string, userId: string, follow?: 'orders'): Promise<RawClient> {
    const client = await RawClient.open(server.wsUrl);
    raws.push(client);
    const id = client.nextId();
    client.send({ t: 'hello', id, v: 1, token: await token(userId), room: roomId, ...(follow === undefined ? {} : { follow }) });
    const welcome = await client.waitFor((m) => (m.t === 'welcome' || m.t === 'err') && m.id === id);
    if (welcome.t !== 'welcome') throw new Error(JSON.stringify(welcome));
    return client;
  }
  const enter = (client: RawClient, key: string, giveawayId = 'g') => client.request({ t: 'enterGiveaway', key, giveawayId }).then(result);

  it('takes two entrants: the third user hears giveaway_full (its retry too), an entrant\'s retry and new key still stand', async () => {
    const streamer = await saleRoom(server, 'capped', 10);
    expect((await http(server, 'POST', '/api/rooms/capped/giveaways', streamer, { id: 'g', sku: 'hot', winners: 1, durationMs: 60_000 })).status).toBe(201);
    const [ann, bo, cy] = await Promise.all(['cap-ann', 'cap-bo', 'cap-cy'].map((userId) => join('capped', userId)));
    expect(await enter(ann!, 'a1')).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    expect(await enter(bo!, 'b1')).toEqual({ status: 'entered', giveawayId: 'g', entrants: 2 });
    expect(await enter(cy!, 'c1')).toEqual({ status: 'giveaway_full', giveawayId: 'g', entrants: 2 });
    expect(await enter(cy!, 'c1')).toEqual({ status: 'giveaway_full', giveawayId: 'g', entrants: 2 });
    expect(await enter(ann!, 'a1')).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    expect(await enter(ann!, 'a2')).toEqual({ status: 'already_entered', giveawayId: 'g', entrants: 2 });
    // The cap is the server's when the giveaway opened, and the draw has exactly the entrants.
    const ended = await http(server, 'POST', '/api/rooms/capped/giveaways/g/end', streamer);
    expect(ended.body.giveaway).toMatchObject({ status: 'drawn', entrants: 2, result: { entrantsCount: 2 } });
  });

  it('a socket that only follows its orders is not present: not_eligible for a present giveaway, while the user\'s room socket enters', async () => {
    const streamer = await saleRoom(server, 'present-only', 10);
    expect((await http(server, 'POST', '/api/rooms/present-only/giveaways', streamer, { id: 'g', sku: 'hot', winners: 1, durationMs: 60_000 })).status).toBe(201);
    const following = await join('present-only', 'po-ann', 'orders');
    expect(await enter(following, 'f1')).toEqual({ status: 'not_eligible', giveawayId: 'g', eligibility: 'present' });
    const inRoom = await join('present-only', 'po-ann');
    expect(await enter(inRoom, 'r1')).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    // Still not present from the orders socket: the answer says so rather than counting it.
    expect(await enter(following, 'f2')).toEqual({ status: 'not_eligible', giveawayId: 'g', eligibility: 'present' });
    expect((await http(server, 'GET', '/api/rooms/present-only/giveaways/g', await token('po-ann'))).body.giveaway).toMatchObject({ entrants: 1 });
  });

  it('refuses an entrants cap outside its bounds', async () => {
    await expect(startTestServer({ giveawayMaxEntrants: 0 })).rejects.toThrow(/giveawayMaxEntrants|giveaway-max-entrants/);
  });
});

describe('a giveaway entry waiting in the admission queue when its user is kicked on another node (Redis)', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const redisPrefix = uniquePrefix('gturnban');
    // One store call at a time, one request each: what waits behind a call held open stays queued.
    const small = { admissionInitialLimit: 1, admissionMinLimit: 1, admissionMaxLimit: 1, admissionBatchMax: 1, admissionMaxWaitMs: 20_000 };
    a = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000, ...small });
    b = await startTestServer({ redis: REDIS_URL, redisPrefix, maxFramesPerSecond: 10_000, ...small });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('is refused KICKED at its turn and never reaches the store; a key answered before the kick keeps its answer', async () => {
    const roomId = 'gturn-ban';
    const streamer = await saleRoom(a, roomId, 10);
    const token = (userId: string) => a.mintToken({ userId, name: userId, role: 'viewer' });
    const [victim, blocker, after] = await Promise.all([token('gt-victim'), token('gt-blocker'), token('gt-after')]);
    // A buyers-only giveaway, so entries over HTTP count: the victim and the later user buy first.
    for (const [buyer, key] of [[victim, 'v'], [after, 'a']] as const) {
      expect(outcome(await http(a, 'POST', `/api/rooms/${roomId}/cart/items`, buyer, { sku: 'hot', quantity: 1, key: `buy-${key}` }))).toBe('reserved');
      expect(outcome(await http(a, 'POST', `/api/rooms/${roomId}/checkout`, buyer, { key: `checkout-${key}` }))).toBe('ordered');
    }
    expect((await http(a, 'POST', `/api/rooms/${roomId}/giveaways`, streamer, { id: 'g', sku: 'hot', winners: 1, durationMs: 60_000, eligibility: 'buyers' })).status).toBe(201);
    const enter = (server: RunningServer, who: string, key: string) => http(server, 'POST', `/api/rooms/${roomId}/giveaways/g/enter`, who, { key });
    expect((await enter(b, victim, 'early')).body).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    // Node b hosts the room (it hears the kick from node a as every hosting node does).
    const { client: watcher } = await RawClient.join(b.wsUrl, after, roomId);
    const { client: victimSocket } = await RawClient.join(b.wsUrl, victim, roomId);

    // Node b's store holds its next reservation call open: the blocker's add is in flight, what follows waits in the queue.
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    const reserveBatch = b.store.reserveBatch.bind(b.store);
    b.store.reserveBatch = async (requests: readonly ReserveRequest[]) => {
      await held;
      return reserveBatch(requests);
    };
    const blocked = http(b, 'POST', `/api/rooms/${roomId}/cart/items`, blocker, { sku: 'hot', quantity: 1, key: 'blocker' });
    await waitUntil(() => b.admission!.roomStats(roomId).inFlight === 1, 5000, 'the blocker in flight');
    const waiting = [
      // A new key of the entered victim: had it reached the store, it would answer already_entered.
      enter(b, victim, 'queued'),
      // A retry of the key answered before the kick: its answer stands.
      enter(b, victim, 'early'),
      enter(b, after, 'after'),
    ];
    await waitUntil(() => b.admission!.roomStats(roomId).queued === 3, 5000, 'three entries queued');

    // Kicked on node a: node b hears it (the victim's socket there closes) while the entries wait.
    const { client: host } = await RawClient.join(a.wsUrl, streamer, roomId);
    expect((await host.request({ t: 'kick', userId: 'gt-victim' })).t).toBe('ok');
    expect((await victimSocket.closed).code).toBe(4505);
    open();
    const [queued, retried, later] = await Promise.all(waiting);
    expect(outcome(queued!)).toBe('KICKED');
    expect(retried!.body).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    expect(later!.body).toEqual({ status: 'entered', giveawayId: 'g', entrants: 2 });
    expect(outcome(await blocked)).toBe('reserved');
    // The queued entry never reached the store: its key has no answer there.
    expect(await b.giveaways.recorded({ userId: 'gt-victim', name: 'gt-victim', role: 'viewer' }, roomId, { t: 'enterGiveaway', id: 0, key: 'queued', giveawayId: 'g' })).toBeUndefined();
    expect(await b.giveaways.recorded({ userId: 'gt-victim', name: 'gt-victim', role: 'viewer' }, roomId, { t: 'enterGiveaway', id: 0, key: 'early', giveawayId: 'g' })).toEqual({ status: 'entered', giveawayId: 'g', entrants: 1 });
    for (const client of [watcher, host]) client.close();
  });
});
