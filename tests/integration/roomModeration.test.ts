import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, type ServerMessage } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, seqOf, waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { http, liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const codeOf = (reply: ServerMessage) => (reply.t === 'err' ? reply.code : reply.t);
const resultOf = (reply: ServerMessage) => {
  if (reply.t !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(reply)}`);
  return reply.result as Record<string, any>;
};

describe('room moderation: moderators, keyword filter, pinned comment', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ commentRate: 1000, commentBurst: 1000, maxModeratorsPerRoom: 2, maxFilterWords: 3, filterWordMaxLength: 10 });
  });
  afterAll(() => server.close());

  it('a moderator deletes, mutes, kicks, lifts bans, pins and sets the filter; but adds no product, pins no product, ends no show, appoints nobody and cannot touch the streamer', async () => {
    const { streamer } = await liveRoom(server, 'mods');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'mods');
    const modToken = await viewerToken(server, 'mod');
    const { client: mod } = await RawClient.join(server.wsUrl, modToken, 'mods');
    const { client: troll } = await RawClient.join(server.wsUrl, await viewerToken(server, 'troll'), 'mods');
    const { client: other } = await RawClient.join(server.wsUrl, await viewerToken(server, 'other'), 'mods');

    // Before the appointment the viewer is refused.
    expect(codeOf(await mod.request({ t: 'deleteComment', seq: 1 }))).toBe(ErrorCode.FORBIDDEN);
    expect(codeOf(await mod.request({ t: 'getModeration' }))).toBe(ErrorCode.FORBIDDEN);
    // Only the streamer appoints; the moderator's name is the one the room knows.
    expect(codeOf(await troll.request({ t: 'setModerator', userId: 'viewer-troll', moderator: true }))).toBe(ErrorCode.FORBIDDEN);
    expect(resultOf(await host.request({ t: 'setModerator', userId: 'viewer-mod', moderator: true })).moderators).toEqual([{ userId: 'viewer-mod', name: 'Viewer mod' }]);
    await other.waitFor((m) => m.t === 'moderators' && m.moderators.length === 1);
    await mod.waitFor((m) => m.t === 'moderators');

    // Chat powers.
    const seq = seqOf(await troll.request({ t: 'comment', text: 'buy followers here' }));
    expect(codeOf(await mod.request({ t: 'deleteComment', seq }))).toBe('ok');
    await other.waitFor((m) => m.t === 'commentDeleted' && m.commentSeq === seq);
    const keep = seqOf(await other.request({ t: 'comment', text: 'Ships on Monday' }));
    expect(codeOf(await mod.request({ t: 'pinComment', seq: keep }))).toBe('ok');
    const pinned = await other.waitFor((m) => m.t === 'commentPinned' && m.pinned !== null);
    expect(pinned.t === 'commentPinned' && pinned.pinned).toMatchObject({ seq: keep, userId: 'viewer-other', text: 'Ships on Monday', pinnedBy: 'viewer-mod' });
    expect(codeOf(await mod.request({ t: 'mute', userId: 'viewer-troll' }))).toBe('ok');
    expect(codeOf(await mod.request({ t: 'unmute', userId: 'viewer-troll' }))).toBe('ok');
    expect(resultOf(await mod.request({ t: 'setFilter', words: ['Spam'] })).words).toEqual(['Spam']);
    expect(resultOf(await mod.request({ t: 'kick', userId: 'viewer-troll' })).closed).toBe(1);
    const bans = await http(server, 'GET', '/api/rooms/mods/bans', modToken);
    expect(bans.status).toBe(200);
    expect(bans.body.bans.map((b: { userId: string; name: string }) => [b.userId, b.name])).toEqual([['viewer-troll', 'Viewer troll']]);
    expect((await http(server, 'DELETE', '/api/rooms/mods/bans/viewer-troll', modToken)).body).toEqual({ lifted: true });

    // Limits: no commerce, no show, no appointments, nothing against the streamer.
    const refused = [
      { t: 'addProduct', product: { sku: 'x', title: 'X', priceCents: 1, currency: 'USD', stock: 1 } },
      { t: 'pin', sku: 'sku-1' },
      { t: 'unpin' },
      { t: 'setModerator', userId: 'viewer-other', moderator: true },
      { t: 'kick', userId: 'streamer-mods' },
      { t: 'mute', userId: 'streamer-mods' },
    ];
    for (const request of refused) expect([request.t, codeOf(await mod.request(request))]).toEqual([request.t, ErrorCode.FORBIDDEN]);
    expect((await http(server, 'POST', '/api/rooms/mods/end', modToken)).status).toBe(403);
    expect((await http(server, 'POST', '/api/rooms/mods/products', modToken, { sku: 'y', title: 'Y', priceCents: 1, currency: 'USD', stock: 1 })).status).toBe(403);
    expect((await http(server, 'PUT', '/api/rooms/mods/moderators/viewer-other', modToken)).status).toBe(403);

    // Removed, the moderator loses every power at once.
    expect(resultOf(await host.request({ t: 'setModerator', userId: 'viewer-mod', moderator: false })).moderators).toEqual([]);
    await mod.waitFor((m) => m.t === 'moderators' && m.moderators.length === 0);
    expect(codeOf(await mod.request({ t: 'unpinComment' }))).toBe(ErrorCode.FORBIDDEN);
    for (const c of [host, mod, troll, other]) c.close();
  });

  it('a moderator cannot act on another moderator; the cap on moderators is a typed error', async () => {
    const { streamer } = await liveRoom(server, 'mods-cap');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'mods-cap');
    const { client: a } = await RawClient.join(server.wsUrl, await viewerToken(server, 'cap-a'), 'mods-cap');
    for (const userId of ['viewer-cap-a', 'viewer-cap-b']) expect(codeOf(await host.request({ t: 'setModerator', userId, moderator: true }))).toBe('ok');
    const full = await host.request({ t: 'setModerator', userId: 'viewer-cap-c', moderator: true });
    expect(codeOf(full)).toBe(ErrorCode.LIMIT_EXCEEDED);
    await a.waitFor((m) => m.t === 'moderators' && m.moderators.length === 2);
    expect(codeOf(await a.request({ t: 'kick', userId: 'viewer-cap-b' }))).toBe(ErrorCode.FORBIDDEN);
    expect(codeOf(await a.request({ t: 'mute', userId: 'viewer-cap-b' }))).toBe(ErrorCode.FORBIDDEN);
    // A newcomer learns the moderators in its welcome.
    const { welcome, client: late } = await RawClient.join(server.wsUrl, await viewerToken(server, 'cap-late'), 'mods-cap');
    expect(welcome.t === 'welcome' && welcome.moderators.map((m) => m.userId)).toEqual(['viewer-cap-a', 'viewer-cap-b']);
    // Over HTTP too: the streamer removes one and appoints another.
    expect((await http(server, 'DELETE', '/api/rooms/mods-cap/moderators/viewer-cap-b', streamer)).body.moderators).toEqual([{ userId: 'viewer-cap-a', name: 'Viewer cap-a' }]);
    expect((await http(server, 'PUT', '/api/rooms/mods-cap/moderators/viewer-cap-c', streamer)).status).toBe(200);
    for (const c of [host, a, late]) c.close();
  });

  it('filters comments by keyword (any case, full width, Chinese, anywhere in the text): the author gets COMMENT_FILTERED and nobody sees it', async () => {
    const { streamer } = await liveRoom(server, 'filter');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'filter');
    const { client: author } = await RawClient.join(server.wsUrl, await viewerToken(server, 'f-author'), 'filter');
    const { client: watcher } = await RawClient.join(server.wsUrl, await viewerToken(server, 'f-watcher'), 'filter');
    const set = resultOf(await host.request({ t: 'setFilter', words: [' spam ', 'SPAM', '垃圾', ''] }));
    expect(set.words).toEqual(['spam', '垃圾']);
    for (const text of ['SPAM here', 'no ｓｐａｍ please', '这是垃圾广告', 'antispamming']) {
      const reply = await author.request({ t: 'comment', text });
      expect([text, codeOf(reply)]).toEqual([text, ErrorCode.COMMENT_FILTERED]);
      expect(reply.t === 'err' && reply.temporary).toBe(false);
    }
    const fine = seqOf(await author.request({ t: 'comment', text: 'lovely mug' }));
    await watcher.waitFor((m) => m.t === 'comment' && m.seq === fine);
    expect(watcher.of('comment').map((c) => c.text)).toEqual(['lovely mug']);
    // The streamer is not filtered by their own list.
    expect(codeOf(await host.request({ t: 'comment', text: 'no spam, please' }))).toBe('ok');
    // Limits: words per room and characters per word.
    expect(codeOf(await host.request({ t: 'setFilter', words: ['a', 'b', 'c', 'd'] }))).toBe(ErrorCode.LIMIT_EXCEEDED);
    expect(codeOf(await host.request({ t: 'setFilter', words: ['x'.repeat(11)] }))).toBe(ErrorCode.BAD_REQUEST);
    const read = await http(server, 'GET', '/api/rooms/filter/moderation', streamer);
    expect(read.body).toMatchObject({ filterWords: ['spam', '垃圾'], maxFilterWords: 3, moderators: [], pinnedComment: null });
    expect((await http(server, 'GET', '/api/rooms/filter/moderation', await viewerToken(server, 'f-watcher'))).status).toBe(403);
    // Over HTTP; an empty list clears it.
    expect((await http(server, 'PUT', '/api/rooms/filter/filter', streamer, { words: [] })).body).toEqual({ words: [] });
    expect(codeOf(await author.request({ t: 'comment', text: 'spam is fine now' }))).toBe('ok');
    for (const c of [host, author, watcher]) c.close();
  });

  it('keeps one pinned comment: in the welcome, replayed on resume, cleared when its comment is deleted', async () => {
    const { streamer } = await liveRoom(server, 'pin');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'pin');
    const { client: viewer, welcome: first } = await RawClient.join(server.wsUrl, await viewerToken(server, 'p-1'), 'pin');
    if (first.t !== 'welcome') throw new Error('no welcome');
    expect(first.pinnedComment).toBeNull();
    const seq = seqOf(await viewer.request({ t: 'comment', text: '尺码偏大，建议小一码' }));
    expect(codeOf(await host.request({ t: 'pinComment', seq: 999_999 }))).toBe(ErrorCode.COMMENT_NOT_FOUND);
    expect(codeOf(await viewer.request({ t: 'pinComment', seq }))).toBe(ErrorCode.FORBIDDEN);
    const pinSeq = seqOf(await host.request({ t: 'pinComment', seq }));
    // A newcomer gets it in the welcome.
    const { welcome, client: late } = await RawClient.join(server.wsUrl, await viewerToken(server, 'p-2'), 'pin');
    expect(welcome.t === 'welcome' && welcome.pinnedComment).toMatchObject({ seq, text: '尺码偏大，建议小一码', name: 'Viewer p-1', pinnedBy: 'streamer-pin' });
    // A client resuming from before the pin gets the event replayed.
    const { welcome: resumed, client: back } = await RawClient.join(server.wsUrl, await viewerToken(server, 'p-1'), 'pin', { seq: pinSeq - 1, epoch: first.epoch });
    expect(resumed.t === 'welcome' && resumed.resumed).toBe(true);
    await back.waitFor((m) => m.t === 'commentPinned' && m.seq === pinSeq && m.pinned?.seq === seq);
    // Deleting the comment unpins it.
    expect(codeOf(await host.request({ t: 'deleteComment', seq }))).toBe('ok');
    await late.waitFor((m) => m.t === 'commentPinned' && m.pinned === null);
    const { welcome: after, client: third } = await RawClient.join(server.wsUrl, await viewerToken(server, 'p-3'), 'pin');
    expect(after.t === 'welcome' && after.pinnedComment).toBeNull();
    for (const c of [host, viewer, late, back, third]) c.close();
  });
});

describe('room moderation across two nodes on Redis', () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    const prefix = uniquePrefix('moderation-nodes');
    [a, b] = (await Promise.all([0, 1].map(() => startTestServer({ redis: REDIS_URL, redisPrefix: prefix, commentRate: 1000, commentBurst: 1000 })))) as [RunningServer, RunningServer];
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('a moderator appointed on one node moderates on the other; the filter and the pinned comment hold on both', async () => {
    const { streamer } = await liveRoom(a, 'two');
    const { client: host } = await RawClient.join(a.wsUrl, streamer, 'two');
    const modToken = await viewerToken(a, 'two-mod');
    const { client: mod } = await RawClient.join(b.wsUrl, modToken, 'two');
    const { client: onB } = await RawClient.join(b.wsUrl, await viewerToken(b, 'two-b'), 'two');
    const { client: onA } = await RawClient.join(a.wsUrl, await viewerToken(a, 'two-a'), 'two');

    expect(codeOf(await host.request({ t: 'setModerator', userId: 'viewer-two-mod', moderator: true }))).toBe('ok');
    await mod.waitFor((m) => m.t === 'moderators' && m.moderators.some((x) => x.userId === 'viewer-two-mod'));
    // The moderator (on node b) sets the filter; node a's viewers are filtered once a has it.
    expect(codeOf(await mod.request({ t: 'setFilter', words: ['fake'] }))).toBe('ok');
    await waitUntil(async () => {
      const state = await host.request({ t: 'getModeration' });
      return state.t === 'ok' && (state.result?.filterWords as string[]).includes('fake');
    }, 5000, 'the filter on node a');
    expect(codeOf(await onA.request({ t: 'comment', text: 'FAKE bags here' }))).toBe(ErrorCode.COMMENT_FILTERED);
    // A comment on node a, pinned by the moderator on node b, reaches viewers on both nodes.
    const seq = seqOf(await onA.request({ t: 'comment', text: 'real leather?' }));
    await mod.waitFor((m) => m.t === 'comment' && m.seq === seq);
    expect(codeOf(await mod.request({ t: 'pinComment', seq }))).toBe('ok');
    for (const viewer of [onA, onB]) await viewer.waitFor((m) => m.t === 'commentPinned' && m.pinned?.seq === seq);
    // Kicked on b by the moderator, the viewer on a is closed; the ban list on a has them and b lifts it.
    expect(codeOf(await mod.request({ t: 'kick', userId: 'viewer-two-a' }))).toBe('ok');
    expect((await onA.closed).code).toBe(CloseCode.KICKED);
    const bans = await http(a, 'GET', '/api/rooms/two/bans', modToken);
    expect(bans.body.bans.map((x: { userId: string }) => x.userId)).toEqual(['viewer-two-a']);
    expect((await http(b, 'DELETE', '/api/rooms/two/bans/viewer-two-a', modToken)).body).toEqual({ lifted: true });
    const { welcome, client: rejoined } = await RawClient.join(a.wsUrl, await viewerToken(a, 'two-a'), 'two');
    expect(welcome.t === 'welcome' && welcome.pinnedComment?.seq).toBe(seq);
    expect(welcome.t === 'welcome' && welcome.moderators.map((m) => m.userId)).toEqual(['viewer-two-mod']);
    for (const c of [host, mod, onB, rejoined]) c.close();
  });
});
