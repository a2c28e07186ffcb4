import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, seqOf } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

describe('comments, rate limits, roles and moderation', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ commentRate: 1, commentBurst: 3, commentMaxLength: 50 });
  });
  afterAll(() => server.close());

  it('rate-limits a commenter with retry-after and keeps the socket open', async () => {
    await liveRoom(server, 'rl');
    const { client } = await RawClient.join(server.wsUrl, await viewerToken(server, 'rl-1'), 'rl');
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await client.request({ t: 'comment', text: `spam ${i}` }));
    expect(replies.slice(0, 3).every((r) => r.t === 'ok')).toBe(true);
    const limited = replies[3]!;
    expect(limited.t).toBe('err');
    if (limited.t !== 'err') return;
    expect(limited.code).toBe(ErrorCode.RATE_LIMITED);
    expect(limited.temporary).toBe(true);
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(1000);
    // still connected and served
    expect((await client.request({ t: 'ping' })).t).toBe('ok');
    await new Promise((r) => setTimeout(r, limited.retryAfterMs! + 50));
    expect((await client.request({ t: 'comment', text: 'after waiting' })).t).toBe('ok');
    // too long and empty comments are typed errors
    const long = await client.request({ t: 'comment', text: 'x'.repeat(51) });
    expect(long.t === 'err' && long.code).toBe(ErrorCode.BAD_REQUEST);
    client.close();
  });

  it('mutes a user: their comments are refused and everyone is told to hide them', async () => {
    const { streamer } = await liveRoom(server, 'mute');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'mute');
    const { client: troll } = await RawClient.join(server.wsUrl, await viewerToken(server, 'troll'), 'mute');
    const { client: other } = await RawClient.join(server.wsUrl, await viewerToken(server, 'nice'), 'mute');
    const posted = await troll.request({ t: 'comment', text: 'before mute' });
    expect(posted.t).toBe('ok');
    expect((await host.request({ t: 'mute', userId: 'viewer-troll' })).t).toBe('ok');
    await other.waitFor((m) => m.t === 'userMuted' && m.userId === 'viewer-troll' && m.muted);
    const refused = await troll.request({ t: 'comment', text: 'after mute' });
    expect(refused.t === 'err' && refused.code).toBe(ErrorCode.MUTED);
    expect(other.of('comment').map((c) => c.text)).toEqual(['before mute']);
    // a newcomer does not see the muted user's comments and learns who is muted
    const { welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'new'), 'mute');
    if (welcome.t !== 'welcome') throw new Error('no welcome');
    expect(welcome.comments.some((c) => c.userId === 'viewer-troll')).toBe(false);
    expect(welcome.muted).toContain('viewer-troll');
    // unmute lets them speak again
    expect((await host.request({ t: 'unmute', userId: 'viewer-troll' })).t).toBe('ok');
    expect((await troll.request({ t: 'comment', text: 'back' })).t).toBe('ok');
    for (const c of [host, troll, other]) c.close();
  });

  it('lets the streamer delete a comment, which viewers are told about', async () => {
    const { streamer } = await liveRoom(server, 'del');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'del');
    const { client: viewer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'del-1'), 'del');
    const posted = await viewer.request({ t: 'comment', text: 'oops' });
    const seq = seqOf(posted);
    expect((await host.request({ t: 'deleteComment', seq })).t).toBe('ok');
    await viewer.waitFor((m) => m.t === 'commentDeleted' && m.commentSeq === seq);
    const missing = await host.request({ t: 'deleteComment', seq: 999_999 });
    expect(missing.t === 'err' && missing.code).toBe(ErrorCode.COMMENT_NOT_FOUND);
    const { welcome } = await RawClient.join(server.wsUrl, await viewerToken(server, 'del-2'), 'del');
    expect(welcome.t === 'welcome' && welcome.comments.length).toBe(0);
    for (const c of [host, viewer]) c.close();
  });

  it('forbids viewers to pin, add products or moderate; another streamer cannot moderate a room it does not own', async () => {
    await liveRoom(server, 'roles');
    const { client: viewer } = await RawClient.join(server.wsUrl, await viewerToken(server, 'roles-1'), 'roles');
    const attempts = [
      { t: 'pin', sku: 'sku-1' },
      { t: 'unpin' },
      { t: 'addProduct', product: { sku: 'x', title: 'X', priceCents: 1, currency: 'USD', stock: 1 } },
      { t: 'deleteComment', seq: 1 },
      { t: 'mute', userId: 'someone' },
      { t: 'kick', userId: 'someone' },
    ];
    for (const attempt of attempts) {
      const reply = await viewer.request(attempt);
      expect(reply.t === 'err' && reply.code, attempt.t).toBe(ErrorCode.FORBIDDEN);
    }
    const stranger = await server.mintToken({ userId: 'other-streamer', name: 'Other', role: 'streamer' });
    const { client: strangerClient } = await RawClient.join(server.wsUrl, stranger, 'roles');
    const reply = await strangerClient.request({ t: 'pin', sku: 'sku-1' });
    expect(reply.t === 'err' && reply.code).toBe(ErrorCode.FORBIDDEN);
    // an operator may moderate every room
    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    const { client: op } = await RawClient.join(server.wsUrl, operator, 'roles');
    expect((await op.request({ t: 'pin', sku: 'sku-1' })).t).toBe('ok');
    await viewer.waitFor((m) => m.t === 'popup');
    for (const c of [viewer, strangerClient, op]) c.close();
  });

  it('kicks a user: their sockets close with 4505 and they cannot rejoin', async () => {
    const { streamer } = await liveRoom(server, 'kick');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'kick');
    const token = await viewerToken(server, 'kicked');
    const { client: victim } = await RawClient.join(server.wsUrl, token, 'kick');
    const reply = await host.request({ t: 'kick', userId: 'viewer-kicked' });
    expect(reply.t === 'ok' && reply.result).toEqual({ closed: 1, released: 0 });
    expect((await victim.closed).code).toBe(4505);
    const again = await RawClient.open(server.wsUrl);
    const refused = await again.hello(token, 'kick');
    expect(refused.t === 'err' && refused.code).toBe(ErrorCode.KICKED);
    expect((await again.closed).code).toBe(4505);
    host.close();
  });
});
