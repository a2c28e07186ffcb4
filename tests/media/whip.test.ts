import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/src/index.ts';
import { StreamPublisher } from '../../client/src/media.ts';
import type { MediaKind } from '../../protocol/src/media.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { eventually, framesDecoded, packetsReceived, NODE_HANDLER, syntheticCamera, watch } from '../helpers/webrtc.ts';
import { whipOffer, whipPublish } from '../helpers/whip.ts';

/**
 * WHIP ingest (RFC 9725), with a Node WebRTC peer standing in for OBS: it POSTs an SDP offer to
 * the room's endpoint with the stream key (or the streamer's token) as bearer token, and Node
 * viewers of the room decode what it sends, like a stream from the streamer page.
 */

async function post(url: string, headers: Record<string, string>, body: string) {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as { error: { name: string; message: string } } };
}

describe('WHIP ingest (a Node WebRTC peer as OBS)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 1, whipConnectTimeoutMs: 3000 });
  });
  afterAll(() => server?.close());

  it('publishes with the stream key: viewers decode video and hear audio; DELETE of the resource ends it', async () => {
    expect(server.media.available).toBe(true);
    const streamer = await saleRoom(server, 'obs', 1);
    const settings = await http(server, 'GET', '/api/rooms/obs/stream-key', streamer);
    expect(settings.status).toBe(200);
    const { key, whip } = settings.body as { key: string; whip: { url: string; bearerToken: string } };
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
    expect(whip).toEqual({ url: `${server.url}/api/rooms/obs/whip`, bearerToken: key });
    expect(settings.body.rtmp).toBeNull(); // RTMP is off unless --rtmp-port is set

    const viewers = await Promise.all([1, 2].map(async (n) => watch(server.wsUrl, await viewerToken(server, `obs-${n}`), 'obs')));
    const ended = viewers.map(({ viewer }) => new Promise<void>((resolve) => {
      const kinds = new Set<MediaKind>();
      viewer.on('trackEnded', ({ kind }) => { kinds.add(kind); if (kinds.size === 2) resolve(); });
    }));
    await eventually(() => viewers.every((v) => v.viewer.state === 'waiting'), 'viewers waiting for the stream');

    const publisher = await whipPublish(whip.url, key);
    try {
      expect(publisher.resource).toMatch(new RegExp(`^${server.url}/api/rooms/obs/whip/[0-9a-f-]{36}$`));
      expect(server.whip.size).toBe(1);
      expect(server.media.status()).toMatchObject({ producers: 2 });
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^livecart_whip_sessions 1$/m);
      await eventually(() => viewers.every((v) => v.viewer.state === 'live' && v.viewer.tracks.length === 2), 'both viewers consuming video and audio');
      const decoded = () => Promise.all(viewers.map((v) => framesDecoded(v.viewer)));
      await eventually(async () => (await decoded()).every((f) => f >= 15), 'frames decoded by both viewers', 20_000);
      const before = await decoded();
      await eventually(async () => (await decoded()).every((f, i) => f > before[i]!), 'decoded frames still rising on both viewers');
      await eventually(async () => (await Promise.all(viewers.map((v) => packetsReceived(v.viewer, 'audio')))).every((p) => p > 0), 'audio packets at both viewers');

      // Only the room's streamer (or an operator) may end it, and only a session that exists.
      const intruder = await viewerToken(server, 'obs-intruder');
      expect((await fetch(publisher.resource, { method: 'DELETE', headers: { authorization: `Bearer ${intruder}` } })).status).toBe(403);
      expect((await fetch(`${server.url}/api/rooms/obs/whip/00000000-0000-0000-0000-000000000000`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
      // No trickle ICE: PATCH is refused, as RFC 9725 lets a server without it do.
      const patched = await fetch(publisher.resource, { method: 'PATCH', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates\r\n' });
      expect(patched.status).toBe(405);
      expect(patched.headers.get('allow')).toBe('DELETE, OPTIONS');
      await patched.arrayBuffer();

      expect(await publisher.stop()).toBe(200);
      await Promise.all(ended);
      await eventually(() => viewers.every((v) => v.viewer.state === 'waiting' && v.viewer.tracks.length === 0), 'viewers back to waiting');
      expect(server.media.status().producers).toBe(0);
      expect(server.whip.size).toBe(0);
      await eventually(() => server.media.status().consumers === 0, 'consumers closed on the server');
    } finally {
      publisher.dispose();
      for (const { client, viewer } of viewers) { viewer.dispose(); client.close(); }
    }
  }, 60_000);

  it('takes the streamer\'s token too; simulcast layers become a simulcast producer; a new stream replaces the old; a rotated key stops working', async () => {
    const streamer = await saleRoom(server, 'obs-sim', 1);
    const endpoint = `${server.url}/api/rooms/obs-sim/whip`;
    const { viewer, client } = await watch(server.wsUrl, await viewerToken(server, 'sim-1'), 'obs-sim');
    const first = await whipPublish(endpoint, streamer, { simulcast: true, audio: false });
    let second: Awaited<ReturnType<typeof whipPublish>> | undefined;
    try {
      await eventually(async () => (await framesDecoded(viewer)) >= 10, 'frames of the simulcast stream', 20_000);
      // A simulcast consumer reports its current spatial layer; a plain one has none.
      await eventually(() => server.media.videoLayers('obs-sim').some((l) => l.current !== undefined), 'the viewer on a simulcast layer');
      expect(server.media.videoLayers('obs-sim')[0]!.preferred).toBe(2);

      // The encoder restarts, with a new key: the new session replaces the old one (never two streams), viewers follow.
      const old = (await http(server, 'GET', '/api/rooms/obs-sim/stream-key', streamer)).body.key as string;
      const { key } = (await http(server, 'POST', '/api/rooms/obs-sim/stream-key/rotate', streamer)).body as { key: string };
      expect(key).not.toBe(old);
      second = await whipPublish(endpoint, key);
      expect(server.whip.size).toBe(1);
      expect(server.media.status().producers).toBe(2);
      const before = await framesDecoded(viewer);
      await eventually(async () => viewer.tracks.length === 2 && (await framesDecoded(viewer)) > before + 10, 'the viewer decodes the new stream', 20_000);
      // The first session's DELETE finds nothing left: it was replaced.
      expect(await first.stop(streamer)).toBe(404);

      // The key before the rotation no longer publishes (and the stream on air stays).
      expect((await http(server, 'GET', '/api/rooms/obs-sim/stream-key', streamer)).body.key).toBe(key);
      const { sdp, dispose } = await whipOffer({ audio: false });
      dispose();
      const stale = await post(endpoint, { 'content-type': 'application/sdp', authorization: `Bearer ${old}` }, sdp);
      expect(stale.status).toBe(401);
      expect(stale.json().error.name).toBe('UNAUTHORIZED');
      expect(server.whip.size).toBe(1);
    } finally {
      first.dispose();
      second?.dispose();
      viewer.dispose();
      client.close();
    }
  }, 60_000);

  it('the streamer page and an encoder replace each other\'s stream, never two at once', async () => {
    const streamer = await saleRoom(server, 'obs-page', 1);
    const endpoint = `${server.url}/api/rooms/obs-page/whip`;
    const { viewer, client } = await watch(server.wsUrl, await viewerToken(server, 'page-1'), 'obs-page');
    const host = connect({ url: server.wsUrl, token: streamer, room: 'obs-page' });
    await host.ready;
    const camera = syntheticCamera(160, 120);
    const page = new StreamPublisher(host, { handlerName: NODE_HANDLER });
    const encoder = await whipPublish(endpoint, streamer, { audio: false });
    let again: Awaited<ReturnType<typeof whipPublish>> | undefined;
    try {
      await eventually(async () => (await framesDecoded(viewer)) > 5, 'frames from the encoder');
      // The page goes live: the encoder's session closes, the room has the page's one track.
      await page.publish({ video: camera.track });
      expect(server.whip.size).toBe(0);
      expect(server.media.status().producers).toBe(1);
      const before = await framesDecoded(viewer);
      await eventually(async () => (await framesDecoded(viewer)) > before + 5, 'frames from the page');
      // The encoder comes back: the page's stream stops (its publisher hears it was ended on purpose).
      again = await whipPublish(endpoint, streamer, { audio: false });
      await eventually(() => page.state === 'idle', 'the page publisher stopped');
      expect(server.whip.size).toBe(1);
      expect(server.media.status().producers).toBe(1);
      const after = await framesDecoded(viewer);
      await eventually(async () => (await framesDecoded(viewer)) > after + 5, 'frames from the encoder again');
    } finally {
      encoder.dispose();
      again?.dispose();
      camera.stop();
      host.close();
      viewer.dispose();
      client.close();
    }
  }, 60_000);

  it('refuses with typed errors: bad token or key 401, a viewer 403, malformed SDP 400, an ended room ROOM_ENDED; the live stream is untouched', async () => {
    const streamer = await saleRoom(server, 'obs-bad', 1);
    const endpoint = `${server.url}/api/rooms/obs-bad/whip`;
    const { key } = (await http(server, 'GET', '/api/rooms/obs-bad/stream-key', streamer)).body as { key: string };
    const { sdp, dispose } = await whipOffer();
    dispose();
    const sdpHeaders = (bearer: string) => ({ 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` });

    // CORS preflight: a WHIP client in a page of another origin may POST with a bearer token.
    const preflight = await fetch(endpoint, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(preflight.headers.get('access-control-expose-headers')).toMatch(/Location/);
    expect(preflight.headers.get('accept-post')).toBe('application/sdp');
    await preflight.arrayBuffer();

    const publisher = await whipPublish(endpoint, key, { audio: false });
    try {
      const refusals: Array<[string, Record<string, string>, string, number, string]> = [
        ['no token', { 'content-type': 'application/sdp' }, sdp, 401, 'UNAUTHORIZED'],
        ['a forged token', sdpHeaders('eyJhbGciOiJIUzI1NiJ9.e30.x'), sdp, 401, 'UNAUTHORIZED'],
        ['another room\'s key', sdpHeaders(key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA')), sdp, 401, 'UNAUTHORIZED'],
        ['a viewer', sdpHeaders(await viewerToken(server, 'bad-1')), sdp, 403, 'FORBIDDEN'],
        ['JSON instead of SDP', { ...sdpHeaders(key), 'content-type': 'application/json' }, '{"sdp":"v=0"}', 400, 'BAD_REQUEST'],
        ['not SDP at all', sdpHeaders(key), 'hello', 400, 'BAD_REQUEST'],
        ['no media', sdpHeaders(key), 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n', 400, 'BAD_REQUEST'],
        ['a receive-only offer', sdpHeaders(key), sdp.replace(/a=sendonly/g, 'a=recvonly'), 400, 'BAD_REQUEST'],
        ['no codec the room takes', sdpHeaders(key), sdp.replace(/VP8\/90000/g, 'XYZ/90000').replace(/H264\/90000/g, 'XYZ/90000'), 400, 'BAD_REQUEST'],
        ['no DTLS fingerprint', sdpHeaders(key), sdp.replace(/a=fingerprint:.*\r\n/g, ''), 400, 'BAD_REQUEST'],
        ['no BUNDLE', sdpHeaders(key), sdp.replace(/a=group:BUNDLE.*\r\n/, ''), 400, 'BAD_REQUEST'],
        ['no SSRC and no rid', sdpHeaders(key), sdp.replace(/a=ssrc.*\r\n/g, ''), 400, 'BAD_REQUEST'],
      ];
      for (const [what, headers, body, status, name] of refusals) {
        const answer = await post(endpoint, headers, body);
        expect(answer.status, what).toBe(status);
        expect(answer.json().error.name, what).toBe(name);
        if (status === 400) expect(answer.json().error.message, what).toMatch(/SDP|Content-Type/);
      }
      expect((await post(endpoint, sdpHeaders(key), 'hello')).json().error.message).toBe('SDP offer: the body is not an SDP offer (it must start with "v=0")');
      expect((await post(endpoint, sdpHeaders(key), sdp.replace(/VP8\/90000/g, 'XYZ/90000').replace(/H264\/90000/g, 'XYZ/90000'))).json().error.message).toMatch(/no video codec of the offer can be received: the room takes VP8, H264/);
      // None of that touched the stream on air.
      expect(server.whip.size).toBe(1);
      expect(server.media.status().producers).toBe(1);
      expect(publisher.pc.connectionState === 'connected' || publisher.pc.connectionState === 'connecting').toBe(true);

      // The show ends while nobody is in the room on this node (so this node hears no end): the
      // first one to come finds it ended, and the stream stops then. Neither the key nor the token
      // puts it back on air.
      await http(server, 'POST', '/api/rooms/obs-bad/end', streamer);
      expect(server.whip.size).toBe(1);
      const late = await watch(server.wsUrl, await viewerToken(server, 'bad-2'), 'obs-bad');
      await eventually(() => server.whip.size === 0 && server.media.status().producers === 0, 'the WHIP session closed with the show');
      late.viewer.dispose();
      late.client.close();
      for (const bearer of [key, streamer]) {
        const answer = await post(endpoint, sdpHeaders(bearer), sdp);
        expect(answer.status).toBe(409);
        expect(answer.json().error.name).toBe('ROOM_ENDED');
      }
      const missing = await post(`${server.url}/api/rooms/no-such-room/whip`, sdpHeaders(key), sdp);
      expect(missing.status).toBe(401); // a key never tells which rooms exist
    } finally {
      publisher.dispose();
    }
    await eventually(() => server.media.status().rooms === 0, 'room media released');
  }, 60_000);

  it('closes a session whose publisher never connects, after whipConnectTimeoutMs', async () => {
    const streamer = await saleRoom(server, 'obs-silent', 1);
    const { sdp, dispose } = await whipOffer({ audio: false });
    dispose(); // the answer is never applied: no ICE, no DTLS
    const created = await post(`${server.url}/api/rooms/obs-silent/whip`, { 'content-type': 'application/sdp', authorization: `Bearer ${streamer}` }, sdp);
    expect(created.status).toBe(201);
    expect(created.text).toMatch(/^v=0\r\n/);
    expect(created.text).toMatch(/a=ice-lite/);
    expect(created.text).toMatch(/a=setup:passive/);
    expect(created.text).toMatch(/a=candidate:.* udp /);
    const before = server.whip.size;
    expect(before).toBeGreaterThanOrEqual(1);
    const started = Date.now();
    await eventually(() => server.whip.size === before - 1, 'the silent session closed', 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(server.media.placement('obs-silent')).toBeUndefined(); // nothing of the room's media is left
  }, 30_000);
});
