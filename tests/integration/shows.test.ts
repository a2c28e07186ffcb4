/**
 * Scheduled shows against real servers, on one node (memory) and on two nodes sharing Redis: a
 * show scheduled for later, its catalog a preview (adds answer `not_on_sale` until the start), a
 * streamer's upcoming list, viewers' reminders (idempotent, counted, capped), and the go-live
 * notice: a viewer with a reminder, connected to node B in another room, is told when the
 * streamer starts the show through node A; nobody else is, and a removed reminder tells nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LivecartClient, type ShowLiveEvent } from '../../client/src/index.ts';
import { myReminders, reminderOf, setReminder, upcomingShows } from '../../client/src/shows.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const MAX_REMINDERS = 3;
const HOUR = 3_600_000;
/** A show not started this long after its startsAt is ended as missed (short here; hours by default). */
const GRACE_MS = 1500;

const clients: LivecartClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

/** A client that records every `showLive` it hears. */
function open(server: RunningServer, token: string, room: string, follow?: 'orders'): LivecartClient & { notices: ShowLiveEvent[] } {
  const client = connect({ url: server.wsUrl, token, room, reconnect: { baseMs: 20, maxMs: 100 }, ...(follow ? { follow } : {}) });
  const notices: ShowLiveEvent[] = [];
  client.on('showLive', (notice) => notices.push(notice));
  clients.push(client);
  return Object.assign(client, { notices });
}

/** A show `roomId` scheduled `inMs` from now by `streamerId`, with one preview product `hot`; returns the streamer's token and the room. */
async function scheduleShow(server: RunningServer, roomId: string, streamerId: string, inMs = HOUR) {
  const streamer = await server.mintToken({ userId: streamerId, name: 'Streamer', role: 'streamer' });
  const startsAt = Date.now() + inMs;
  const created = await http(server, 'POST', '/api/rooms', streamer, { title: `Show ${roomId}`, id: roomId, startsAt });
  expect(created.status).toBe(201);
  const added = await http(server, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'hot', title: 'Hot item', priceCents: 1999, currency: 'USD', stock: 5 });
  expect(added.status).toBe(201);
  return { streamer, startsAt, room: created.body.room };
}

const setups: Array<[string, () => Promise<[RunningServer, RunningServer]>]> = [
  ['memory, one node', async () => {
    const server = await startTestServer({ maxRemindersPerRoom: MAX_REMINDERS, showGraceMs: GRACE_MS });
    return [server, server];
  }],
  ['Redis, two nodes', async () => {
    const redisPrefix = uniquePrefix('shows');
    return [
      await startTestServer({ redis: REDIS_URL, redisPrefix, maxRemindersPerRoom: MAX_REMINDERS, showGraceMs: GRACE_MS }),
      await startTestServer({ redis: REDIS_URL, redisPrefix, maxRemindersPerRoom: MAX_REMINDERS, showGraceMs: GRACE_MS }),
    ];
  }],
];

describe.each(setups)('scheduled shows (%s)', (_name, setup) => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    [a, b] = await setup();
  });
  afterAll(async () => {
    await a?.close();
    if (b !== a) await b?.close();
  });

  it('schedules a show only in the future; the room stays scheduled with its startsAt, its catalog a preview', async () => {
    const streamer = await a.mintToken({ userId: 'sched-s', name: 'S', role: 'streamer' });
    const past = await http(a, 'POST', '/api/rooms', streamer, { title: 'Too late', id: 'sched-past', startsAt: Date.now() - 1000 });
    expect([past.status, past.body.error.name]).toEqual([400, 'BAD_REQUEST']);
    const tooFar = await http(a, 'POST', '/api/rooms', streamer, { title: 'Too far', id: 'sched-far', startsAt: Date.now() + 400 * 24 * HOUR });
    expect([tooFar.status, tooFar.body.error.name]).toEqual([400, 'BAD_REQUEST']);

    const { startsAt } = await scheduleShow(a, 'sched-ok', 'sched-s');
    const snapshot = await http(b, 'GET', '/api/rooms/sched-ok');
    expect(snapshot.body).toMatchObject({ id: 'sched-ok', state: 'scheduled', startsAt, products: [{ sku: 'hot' }] });
    const viewer = open(b, await viewerToken(b, 'sched-v'), 'sched-ok');
    const welcome = await viewer.ready;
    expect(welcome.room).toMatchObject({ state: 'scheduled', startsAt, title: 'Show sched-ok' });
    expect(welcome.products.map((p) => p.sku)).toEqual(['hot']);
  });

  it('answers adds before the start not_on_sale with startsAt (HTTP and WebSocket, either node); sells once the show starts', async () => {
    const { streamer, startsAt } = await scheduleShow(a, 'presale', 'presale-s');
    const ann = await viewerToken(a, 'presale-ann');
    const byHttp = await http(b, 'POST', '/api/rooms/presale/cart/items', ann, { sku: 'hot', quantity: 1, key: 'presale-1' });
    expect(byHttp.body).toEqual({ status: 'not_on_sale', sku: 'hot', startsAt });
    const viewer = open(b, ann, 'presale');
    await viewer.ready;
    expect(await viewer.addToCart('hot')).toEqual({ status: 'not_on_sale', sku: 'hot', startsAt });

    expect((await http(a, 'POST', '/api/rooms/presale/start', streamer)).status).toBe(200);
    await waitUntil(() => viewer.state.room?.state === 'live', 5000, 'the room page turned live');
    // Other nodes' short-lived views of the room catch up within a second.
    await waitUntil(async () => (await http(b, 'POST', '/api/rooms/presale/cart/items', ann, { sku: 'hot', quantity: 1, key: `presale-${Date.now()}` })).body.status === 'reserved', 5000, 'an add reserved');
  });

  it('lists a streamer\'s live then upcoming shows, soonest first, with reminder counts; ended and unscheduled rooms are left out', async () => {
    const later = await scheduleShow(a, 'list-later', 'list-s', 3 * HOUR);
    const sooner = await scheduleShow(a, 'list-sooner', 'list-s', HOUR);
    await saleRoom(a, 'list-live', 1); // another streamer's
    const ended = await scheduleShow(a, 'list-ended', 'list-s', 2 * HOUR);
    await http(a, 'POST', '/api/rooms/list-ended/end', ended.streamer);
    await http(a, 'POST', '/api/rooms', later.streamer, { title: 'No time given', id: 'list-plain' });
    const live = await scheduleShow(a, 'list-now', 'list-s', 4 * HOUR);
    await http(a, 'POST', '/api/rooms/list-now/start', live.streamer);

    const ann = await viewerToken(a, 'list-ann');
    expect((await http(b, 'POST', '/api/rooms/list-later/reminder', ann)).body).toEqual({ roomId: 'list-later', reminded: true, reminders: 1 });
    const anonymous = await upcomingShows({ baseUrl: b.url }, 'list-s');
    expect(anonymous.map((s) => [s.id, s.state, s.reminders, s.reminded])).toEqual([
      ['list-now', 'live', 0, undefined],
      ['list-sooner', 'scheduled', 0, undefined],
      ['list-later', 'scheduled', 1, undefined],
    ]);
    expect(anonymous[1]!.startsAt).toBe(sooner.startsAt);
    const asAnn = await upcomingShows({ baseUrl: a.url, token: ann }, 'list-s');
    expect(asAnn.map((s) => [s.id, s.reminded])).toEqual([['list-now', false], ['list-sooner', false], ['list-later', true]]);
    // The streamer sees how many viewers wait for each show.
    expect((await upcomingShows({ baseUrl: a.url, token: later.streamer }, 'list-s')).find((s) => s.id === 'list-later')!.reminders).toBe(1);
    expect(await upcomingShows({ baseUrl: a.url }, 'nobody')).toEqual([]);
    expect((await http(a, 'GET', '/api/streamers/list-s/shows', 'not-a-token')).status).toBe(401);
  });

  it('counts a reminder set twice once, removes it idempotently, caps a show\'s reminders, and refuses them where no show is to come', async () => {
    const { streamer } = await scheduleShow(a, 'remind', 'remind-s');
    const [ann, bo, cy, di] = (await Promise.all(['ann', 'bo', 'cy', 'di'].map((n) => viewerToken(a, `remind-${n}`)))) as [string, string, string, string];
    expect(await setReminder({ baseUrl: a.url, token: ann }, 'remind', true)).toEqual({ roomId: 'remind', reminded: true, reminders: 1 });
    expect(await setReminder({ baseUrl: b.url, token: ann }, 'remind', true)).toEqual({ roomId: 'remind', reminded: true, reminders: 1 });
    expect(await reminderOf({ baseUrl: b.url, token: ann }, 'remind')).toEqual({ roomId: 'remind', reminded: true, reminders: 1 });
    expect(await reminderOf({ baseUrl: b.url, token: bo }, 'remind')).toEqual({ roomId: 'remind', reminded: false, reminders: 1 });
    await setReminder({ baseUrl: a.url, token: bo }, 'remind', true);
    await setReminder({ baseUrl: a.url, token: cy }, 'remind', true);
    const full = await http(b, 'POST', '/api/rooms/remind/reminder', di);
    expect([full.status, full.body.error.name]).toEqual([409, 'LIMIT_EXCEEDED']);
    expect((await http(b, 'POST', '/api/rooms/remind/reminder', cy)).body.reminders).toBe(MAX_REMINDERS); // one already set still answers
    expect(await setReminder({ baseUrl: b.url, token: cy }, 'remind', false)).toEqual({ roomId: 'remind', reminded: false, reminders: 2 });
    expect(await setReminder({ baseUrl: a.url, token: cy }, 'remind', false)).toEqual({ roomId: 'remind', reminded: false, reminders: 2 });
    expect((await setReminder({ baseUrl: a.url, token: di }, 'remind', true)).reminders).toBe(3);
    // Each user's shows still to come, for their pages to follow.
    expect((await myReminders({ baseUrl: b.url, token: ann })).map((s) => [s.id, s.reminders, s.reminded])).toEqual([['remind', 3, true]]);
    expect((await http(b, 'GET', '/api/me/reminders', cy)).body.shows).toEqual([]);
    expect((await http(b, 'GET', '/api/me/reminders')).status).toBe(401);

    expect((await http(a, 'POST', '/api/rooms/remind/reminder')).status).toBe(401);
    expect((await http(a, 'POST', '/api/rooms/no-such-show/reminder', ann)).body.error.name).toBe('ROOM_NOT_FOUND');
    await http(a, 'POST', '/api/rooms', streamer, { title: 'Plain', id: 'remind-plain' });
    expect((await http(a, 'POST', '/api/rooms/remind-plain/reminder', ann)).body.error).toMatchObject({ name: 'BAD_REQUEST', message: expect.stringContaining('startsAt') });
    await http(a, 'POST', '/api/rooms/remind/start', streamer);
    expect((await http(a, 'GET', '/api/me/reminders', ann)).body.shows).toEqual([]); // live now: nothing to wait for
    expect((await http(b, 'POST', '/api/rooms/remind/reminder', ann)).body.error).toMatchObject({ name: 'BAD_REQUEST', message: expect.stringContaining('live') });
  });

  it('tells a viewer with a reminder, on another node and in another room, when the show goes live; nobody else, and not after the reminder is removed', async () => {
    const { streamer, startsAt } = await scheduleShow(a, 'golive', 'golive-s');
    const next = await scheduleShow(a, 'golive-next', 'golive-s');
    await saleRoom(a, 'golive-elsewhere', 5);
    const [ann, bo, cy] = (await Promise.all(['ann', 'bo', 'cy'].map((n) => viewerToken(a, `golive-${n}`)))) as [string, string, string];
    await setReminder({ baseUrl: a.url, token: ann }, 'golive', true);
    await setReminder({ baseUrl: a.url, token: cy }, 'golive', true);
    await setReminder({ baseUrl: a.url, token: cy }, 'golive', false);
    for (const token of [ann, bo, cy]) await setReminder({ baseUrl: a.url, token }, 'golive-next', true);

    // On node B: Ann in another room and on a "My orders" socket, Bo (no reminder) and Cy (removed hers) in that room, Ann's friend in the show's own room.
    const annRoom = open(b, ann, 'golive-elsewhere');
    const annOrders = open(b, ann, 'golive-elsewhere', 'orders');
    const boRoom = open(b, bo, 'golive-elsewhere');
    const cyRoom = open(b, cy, 'golive-elsewhere');
    const inShow = open(b, await viewerToken(b, 'golive-early'), 'golive');
    await Promise.all([annRoom.ready, annOrders.ready, boRoom.ready, cyRoom.ready, inShow.ready]);

    expect((await http(a, 'POST', '/api/rooms/golive/start', streamer)).body.room.state).toBe('live');
    const expected = { id: 'live:golive', roomId: 'golive', title: 'Show golive', streamerId: 'golive-s', startsAt };
    await waitUntil(() => annRoom.notices.length > 0 && annOrders.notices.length > 0, 5000, 'Ann\'s sockets heard the show went live');
    expect(annRoom.notices).toEqual([expected]);
    expect(annOrders.notices).toEqual([expected]);
    await waitUntil(() => inShow.state.room?.state === 'live', 5000, 'the show\'s own page turned live');
    expect(inShow.notices).toEqual([]);

    // A later notice on the same channel reaches everyone: what Bo and Cy heard before it is all they will hear of the first.
    await http(a, 'POST', '/api/rooms/golive-next/start', next.streamer);
    await waitUntil(() => [annRoom, boRoom, cyRoom].every((c) => c.notices.some((n) => n.roomId === 'golive-next')), 5000, 'everyone heard the next show');
    expect(boRoom.notices.map((n) => n.roomId)).toEqual(['golive-next']);
    expect(cyRoom.notices.map((n) => n.roomId)).toEqual(['golive-next']);
    expect(annRoom.notices.map((n) => n.roomId)).toEqual(['golive', 'golive-next']);

    // Starting a live show again tells nobody again; a show started through both nodes at once tells its users once.
    const twice = await scheduleShow(a, 'golive-twice', 'golive-s');
    await setReminder({ baseUrl: a.url, token: ann }, 'golive-twice', true);
    await Promise.all([http(a, 'POST', '/api/rooms/golive-twice/start', twice.streamer), http(b, 'POST', '/api/rooms/golive-twice/start', twice.streamer)]);
    await waitUntil(() => annRoom.notices.some((n) => n.roomId === 'golive-twice'), 5000, 'the notice of the show started twice');
    await http(a, 'POST', '/api/rooms/golive/start', streamer);
    const probe = await scheduleShow(a, 'golive-probe', 'golive-s');
    await setReminder({ baseUrl: a.url, token: ann }, 'golive-probe', true);
    await http(a, 'POST', '/api/rooms/golive-probe/start', probe.streamer);
    await waitUntil(() => annRoom.notices.some((n) => n.roomId === 'golive-probe'), 5000, 'the probe notice');
    expect(annRoom.notices.map((n) => n.roomId)).toEqual(['golive', 'golive-next', 'golive-twice', 'golive-probe']);
  });

  it('keeps the go-live notice for a reminded user who was away: their next socket, on either node, hears it once; one who heard it live never again', async () => {
    const show = await scheduleShow(a, 'away', 'away-s');
    const [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => viewerToken(a, `away-${n}`)))) as [string, string];
    await saleRoom(a, 'away-elsewhere', 5);
    for (const token of [ann, bo]) await setReminder({ baseUrl: a.url, token }, 'away', true);

    // Bo is online at go-live (on node B); Ann has no socket open.
    const boRoom = open(b, bo, 'away-elsewhere');
    await boRoom.ready;
    await http(a, 'POST', '/api/rooms/away/start', show.streamer);
    await waitUntil(() => boRoom.notices.length === 1, 5000, 'Bo heard it live');
    expect(boRoom.notices[0]).not.toHaveProperty('replayed');

    // Ann opens a page afterwards, on node B: the notice follows her welcome, marked replayed.
    const annLater = open(b, ann, 'away-elsewhere', 'orders');
    await annLater.ready;
    await waitUntil(() => annLater.notices.length === 1, 5000, 'Ann heard the show she missed');
    expect(annLater.notices).toEqual([{ id: 'live:away', roomId: 'away', title: 'Show away', streamerId: 'away-s', startsAt: show.startsAt, replayed: true }]);
    annLater.close();
    boRoom.close();

    // A show that went live and ended while they were away is not told; a probe show still live is,
    // and it comes in the same read of their inbox as anything else kept: nothing else came with it.
    const ended = await scheduleShow(a, 'away-ended', 'away-s');
    const probe = await scheduleShow(a, 'away-probe', 'away-s');
    const next = await scheduleShow(a, 'away-next', 'away-s');
    const watch = await viewerToken(a, 'away-watch');
    for (const token of [ann, bo, watch]) {
      await setReminder({ baseUrl: a.url, token }, 'away-ended', true);
      await setReminder({ baseUrl: a.url, token }, 'away-probe', true);
      await setReminder({ baseUrl: a.url, token }, 'away-next', true);
    }
    // A third user stays online: once they heard a show, its notices are kept for those away (kept first, then published).
    const watcher = open(a, watch, 'away-elsewhere');
    await watcher.ready;
    await http(a, 'POST', '/api/rooms/away-ended/start', ended.streamer);
    await waitUntil(() => watcher.notices.some((n) => n.roomId === 'away-ended'), 5000, 'the ended show went out');
    await http(a, 'POST', '/api/rooms/away-ended/end', ended.streamer);
    await http(a, 'POST', '/api/rooms/away-probe/start', probe.streamer);
    await waitUntil(() => watcher.notices.some((n) => n.roomId === 'away-probe'), 5000, 'the probe show went out');
    for (const token of [ann, bo]) {
      const again = open(a, token, 'away-elsewhere');
      await again.ready;
      await waitUntil(() => again.notices.length > 0, 5000, 'the probe notice after the welcome');
      expect(again.notices.map((n) => [n.roomId, n.replayed])).toEqual([['away-probe', true]]);
      again.close();
    }

    // Told once: Ann's next socket (node B) hears only a newer show, not the probe again.
    await http(a, 'POST', '/api/rooms/away-next/start', next.streamer);
    await waitUntil(() => watcher.notices.some((n) => n.roomId === 'away-next'), 5000, 'the next show went out');
    const last = open(b, ann, 'away-elsewhere');
    await waitUntil(() => last.notices.length > 0, 5000, 'the next show\'s notice');
    expect(last.notices.map((n) => n.roomId)).toEqual(['away-next']);
  });

  it('ends a show its streamer never started once the grace after startsAt has passed: its page is told, its reminders go, it leaves the upcoming list', async () => {
    const lead = 400;
    const late = await scheduleShow(a, 'late', 'late-s', lead);
    const lateButStarted = await scheduleShow(a, 'late-started', 'late-s', lead);
    const ann = await viewerToken(a, 'late-ann');
    await setReminder({ baseUrl: a.url, token: ann }, 'late', true);
    const viewer = open(b, await viewerToken(b, 'late-bo'), 'late');
    const states: Array<{ state: string; missed?: true }> = [];
    viewer.on('roomState', ({ state, missed }) => states.push({ state, ...(missed ? { missed } : {}) }));
    await viewer.ready;

    // Past startsAt, within the grace: still scheduled, still listed, and the streamer may still start.
    await waitUntil(() => Date.now() > late.startsAt + 50, 5000, 'startsAt passed');
    expect((await http(b, 'GET', '/api/rooms/late')).body.state).toBe('scheduled');
    expect((await upcomingShows({ baseUrl: a.url, token: late.streamer }, 'late-s')).map((s) => s.id)).toEqual(['late', 'late-started']);
    expect((await http(a, 'POST', '/api/rooms/late-started/start', lateButStarted.streamer)).body.room.state).toBe('live');

    // Past the grace: ended as missed, told to the room's page once (both nodes look for late shows).
    await waitUntil(() => viewer.state.room?.state === 'ended', GRACE_MS + 5000, 'the missed show\'s page was told');
    expect(viewer.state.room).toMatchObject({ state: 'ended', missed: true });
    const snapshot = await http(a, 'GET', '/api/rooms/late');
    expect(snapshot.body).toMatchObject({ state: 'ended', missed: true });
    const latecomer = open(a, ann, 'late');
    expect((await latecomer.ready).room).toMatchObject({ state: 'ended', missed: true });
    expect(states).toEqual([{ state: 'ended', missed: true }]);
    expect((await upcomingShows({ baseUrl: b.url }, 'late-s')).map((s) => s.id)).toEqual(['late-started']);
    expect(await reminderOf({ baseUrl: b.url, token: ann }, 'late')).toEqual({ roomId: 'late', reminded: false, reminders: 0 });
    expect(await myReminders({ baseUrl: a.url, token: ann })).toEqual([]);
    // Too late now: no start, no reminder.
    const start = await http(a, 'POST', '/api/rooms/late/start', late.streamer);
    expect([start.status, start.body.error.name]).toEqual([409, 'ROOM_ENDED']);
    expect((await http(b, 'POST', '/api/rooms/late/reminder', ann)).body.error).toMatchObject({ name: 'ROOM_ENDED', message: expect.stringContaining('did not take place') });
    // Its preview never went on sale, and does not now.
    expect((await http(b, 'POST', '/api/rooms/late/cart/items', ann, { sku: 'hot', quantity: 1, key: 'after-missed' })).body.error).toMatchObject({ name: 'ROOM_ENDED', message: expect.stringContaining('did not take place') });
    // The show started in time is not touched.
    expect((await http(b, 'GET', '/api/rooms/late-started')).body.state).toBe('live');
  });
});
