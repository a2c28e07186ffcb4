import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, isLivecartError } from '../../client/src/index.ts';
import { StreamPublisher } from '../../client/src/media.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { eventually, framesDecoded, NODE_HANDLER, syntheticCamera, watch } from '../helpers/webrtc.ts';

describe('WebRTC through mediasoup (real Node peers)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 2 });
  });
  afterAll(() => server.close());

  it('a streamer publishes; three viewers decode frames; a viewer cannot produce; stopping ends every consumer', async () => {
    expect(server.media.available).toBe(true);
    const streamerToken = await saleRoom(server, 'tv', 1);
    const host = connect({ url: server.wsUrl, token: streamerToken, room: 'tv' });
    await host.ready;
    const camera = syntheticCamera();
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER });
    await publisher.publish({ video: camera.track });
    expect(publisher.state).toBe('live');

    const viewers = await Promise.all([1, 2, 3].map(async (n) => watch(server.wsUrl, await viewerToken(server, `tv-${n}`), 'tv')));
    // Decoded frames keep rising (the stream plays, not one stray key frame).
    await eventually(async () => (await Promise.all(viewers.map((v) => framesDecoded(v.viewer)))).every((f) => f >= 15), 'frames decoded by all three viewers');
    for (const { viewer } of viewers) expect(viewer.state).toBe('live');
    expect(server.media.status()).toMatchObject({ producers: 1, consumers: 3 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^livecart_media_consumers 3$/m);
    expect(metrics).toMatch(/^livecart_media_producers 1$/m);
    expect(metrics).toMatch(/^livecart_media_workers 2$/m);
    expect(metrics).toMatch(/^livecart_media_worker_consumers\{worker="\d"\} 3$/m); // all three on the room's one router

    // A viewer may not publish: no send transport, and its receive transport cannot produce.
    const intruder = viewers[0]!.client;
    const refused = await intruder.signal({ t: 'createTransport', direction: 'send' }).catch((e: unknown) => e);
    expect(isLivecartError(refused) && refused.name).toBe('FORBIDDEN');

    // Bad signaling gets typed errors, and the socket and the stream carry on.
    const probe = connect({ url: server.wsUrl, token: await viewerToken(server, 'tv-probe'), room: 'tv' });
    await probe.ready;
    const early = await probe.signal({ t: 'createTransport', direction: 'recv' }).catch((e: unknown) => e);
    expect(isLivecartError(early) && early.name).toBe('MEDIA_NOT_FOUND'); // mediaCapabilities comes first
    await probe.signal({ t: 'mediaCapabilities' });
    const garbage = await probe.signal({ t: 'consume', transportId: 'nope', rtpCapabilities: {} }).catch((e: unknown) => e);
    expect(isLivecartError(garbage) && garbage.name).toBe('MEDIA_NOT_FOUND');
    const recv = await probe.signal({ t: 'createTransport', direction: 'recv' });
    const badCaps = await probe.signal({ t: 'consume', transportId: recv.transportId, rtpCapabilities: { codecs: 'not a list' } }).catch((e: unknown) => e);
    expect(isLivecartError(badCaps) && badCaps.name).toBe('BAD_REQUEST');
    const badDtls = await probe.signal({ t: 'connectTransport', transportId: recv.transportId, dtlsParameters: { fingerprints: [{ algorithm: 'md1', value: 'zz' }] } }).catch((e: unknown) => e);
    expect(isLivecartError(badDtls) && badDtls.name).toBe('BAD_REQUEST');
    // Transports per socket are bounded (default 4): the probe holds 1, three more fit, the fifth is refused.
    for (let n = 0; n < 3; n++) await probe.signal({ t: 'createTransport', direction: 'recv' });
    const tooMany = await probe.signal({ t: 'createTransport', direction: 'recv' }).catch((e: unknown) => e);
    expect(isLivecartError(tooMany) && tooMany.name).toBe('LIMIT_EXCEEDED');
    expect((await probe.comment('still connected')).seq).toBeGreaterThan(0);
    probe.close();
    expect(await framesDecoded(viewers[0]!.viewer)).toBeGreaterThan(0);

    // Mute reaches viewers that joined after the stream went live (their first `stream` update is this one).
    const muted = viewers.map(({ viewer }) => new Promise<boolean>((resolve) => viewer.on('muted', (m) => { if (m.kind === 'video') resolve(m.muted); })));
    await publisher.setMuted('video', true);
    expect(await Promise.all(muted)).toEqual([true, true, true]);
    await publisher.setMuted('video', false);

    const ended = viewers.map(({ viewer }) => new Promise<void>((resolve) => viewer.on('trackEnded', () => resolve())));
    await publisher.stop();
    await Promise.all(ended);
    await eventually(() => viewers.every((v) => v.viewer.state === 'waiting'), 'viewers back to waiting');
    await eventually(() => server.media.status().consumers === 0 && server.media.status().producers === 0, 'consumers closed on the server');

    camera.stop();
    for (const { client, viewer } of viewers) { viewer.dispose(); client.close(); }
    host.close();
  }, 60_000);
});

describe('big rooms spread over workers', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 3, mediaConsumerLimit: 5, mediaVideoFullRetryMs: 300 });
  });
  afterAll(() => server.close());

  it('12 viewers with a limit of 5 consumers per worker land on routers of several workers and all decode frames', async () => {
    const streamerToken = await saleRoom(server, 'big-tv', 1);
    const host = connect({ url: server.wsUrl, token: streamerToken, room: 'big-tv' });
    await host.ready;
    const camera = syntheticCamera(160, 120);
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER });
    await publisher.publish({ video: camera.track });
    const viewers: Array<Awaited<ReturnType<typeof watch>>> = [];
    for (let n = 0; n < 12; n++) viewers.push(await watch(server.wsUrl, await viewerToken(server, `big-${n}`), 'big-tv'));
    await eventually(async () => (await Promise.all(viewers.map((v) => framesDecoded(v.viewer)))).every((f) => f >= 5), 'frames decoded by all 12 viewers', 30_000);
    const status = server.media.status();
    const busy = status.workers.filter((w) => w.consumers > 0);
    expect(busy.length).toBeGreaterThanOrEqual(2);
    for (const w of status.workers) expect(w.consumers).toBeLessThanOrEqual(5);
    expect(busy.reduce((sum, w) => sum + w.consumers, 0)).toBe(12);
    expect(server.media.placement('big-tv')!.workerPids.length).toBeGreaterThanOrEqual(3); // 12 viewers / 5 per worker
    expect(status.consumers).toBe(12);

    // A 16th viewer finds every worker full: it stays in the room, hears "full", and gets in once a seat frees.
    const extra: Array<Awaited<ReturnType<typeof watch>>> = [];
    for (let n = 12; n < 16; n++) extra.push(await watch(server.wsUrl, await viewerToken(server, `big-${n}`), 'big-tv'));
    const waiting = extra.filter((v) => v.viewer.state === 'full');
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(waiting[0]!.client.connected).toBe(true); // still in the room for comments and cart
    const leaving = viewers.splice(0, 4);
    for (const { client, viewer } of leaving) { viewer.dispose(); client.close(); }
    await eventually(() => extra.every((v) => v.viewer.state === 'live'), 'waiting viewers admitted to video as seats free', 20_000);
    await eventually(async () => (await Promise.all(extra.map((v) => framesDecoded(v.viewer)))).every((f) => f > 0), 'frames for the late viewers', 20_000);

    camera.stop();
    for (const { client, viewer } of [...viewers, ...extra]) { viewer.dispose(); client.close(); }
    host.close();
  }, 90_000);
});

describe('a media worker dies', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 2, mediaWorkerRestartMs: 100 });
  });
  afterAll(() => server.close());

  it('the node survives and the room\'s video comes back by itself (streamer republishes, viewers re-consume)', async () => {
    const streamerToken = await saleRoom(server, 'crash-tv', 1);
    const host = connect({ url: server.wsUrl, token: streamerToken, room: 'crash-tv' });
    await host.ready;
    const camera = syntheticCamera(160, 120);
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER, retryMs: 300 });
    await publisher.publish({ video: camera.track });
    const viewers = await Promise.all([1, 2].map(async (n) => watch(server.wsUrl, await viewerToken(server, `crash-${n}`), 'crash-tv')));
    await eventually(async () => (await Promise.all(viewers.map((v) => framesDecoded(v.viewer)))).every((f) => f > 0), 'frames before the crash');

    const origin = server.media.placement('crash-tv')!.originPid!;
    const resets = viewers.map(({ client }) => new Promise<string>((resolve) => client.once('mediaReset', ({ reason }) => resolve(reason))));
    process.kill(origin, 'SIGKILL');
    expect(await resets[0]).toMatch(/worker/);
    await resets[1];
    // Recovery: a new origin on a live worker, the streamer live again, viewers decoding again.
    await eventually(() => server.media.placement('crash-tv')?.originPid !== undefined && server.media.placement('crash-tv')!.originPid !== origin, 'a new origin router');
    await eventually(() => publisher.state === 'live' && viewers.every((v) => v.viewer.state === 'live'), 'publisher and viewers live again', 20_000);
    const after = await Promise.all(viewers.map((v) => framesDecoded(v.viewer)));
    await eventually(async () => (await Promise.all(viewers.map((v) => framesDecoded(v.viewer)))).every((f, i) => f > after[i]! + 5), 'frames rising after the crash', 20_000);
    expect(server.media.status().workerDeaths).toBe(1);
    await eventually(() => server.media.status().workers.length === 2, 'the dead worker replaced');
    expect(server.media.workerPids).not.toContain(origin);
    // The node itself kept serving the room all along.
    expect((await viewers[0]!.client.comment('still here')).seq).toBeGreaterThan(0);

    camera.stop();
    for (const { client, viewer } of viewers) { viewer.dispose(); client.close(); }
    host.close();
  }, 60_000);
});

describe('video follows the room\'s degrade level', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 1, mediaInitialOutgoingBitrate: 3_000_000 });
  });
  afterAll(() => server.close());

  it('viewers drop to the lowest simulcast layer when an operator sets the room to level 2, and come back at 0', async () => {
    const streamerToken = await saleRoom(server, 'layers-tv', 1);
    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    const host = connect({ url: server.wsUrl, token: streamerToken, room: 'layers-tv' });
    await host.ready;
    const camera = syntheticCamera(960, 540); // libwebrtc sends three simulcast layers from 960x540 up
    const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER });
    await publisher.publish({ video: camera.track });
    const { client, viewer } = await watch(server.wsUrl, await viewerToken(server, 'layers-1'), 'layers-tv');
    const layers = () => server.media.videoLayers('layers-tv');
    const preferred = () => layers().map((l) => l.preferred);
    // What the consumer forwards: at most the cap (whatever the sender manages to send).
    const forwardedAtMost = (cap: number) => layers().every((l) => l.current !== undefined && l.current <= cap);
    await eventually(() => preferred().length === 1, 'one video consumer');
    expect(preferred()).toEqual([2]); // level 0: any layer
    await eventually(() => forwardedAtMost(2), 'the consumer forwarding a layer');
    // The server-side cap only: what the viewer then decodes also depends on the sender's CPU
    // (libwebrtc drops its upper layers when its encoder is short of it): `npm run bench:media -- --layers`.
    const setLevel = (level: number | null) => fetch(`${server.url}/api/ops/rooms/layers-tv/degrade`, { method: 'PUT', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ level }) });
    expect((await setLevel(2)).status).toBe(200);
    await eventually(() => preferred()[0] === 0, 'the consumer capped to the lowest layer at level 2');
    await eventually(() => forwardedAtMost(0), 'the lowest layer forwarded at level 2');
    expect((await setLevel(1)).status).toBe(200);
    await eventually(() => preferred()[0] === 1, 'the middle layer at most at level 1');
    await eventually(() => forwardedAtMost(1), 'at most the middle layer forwarded at level 1');
    expect((await setLevel(null)).status).toBe(200);
    await eventually(() => preferred()[0] === 2, 'no cap again at level 0');
    camera.stop();
    viewer.dispose();
    client.close();
    host.close();
  }, 60_000);
});

describe('operators and a node without video', () => {
  it('an operator stops a stream; a viewer stays in the room', async () => {
    const server = await startTestServer({ media: true, mediaWorkers: 1 });
    try {
      const streamerToken = await saleRoom(server, 'op-tv', 1);
      const host = connect({ url: server.wsUrl, token: streamerToken, room: 'op-tv' });
      await host.ready;
      const camera = syntheticCamera(160, 120);
      const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER });
      await publisher.publish({ video: camera.track });
      const { client, viewer } = await watch(server.wsUrl, await viewerToken(server, 'op-v'), 'op-tv');
      await eventually(async () => (await framesDecoded(viewer)) > 0, 'frames');
      const refused = await client.signal({ t: 'stopStream' }).catch((e: unknown) => e);
      expect(isLivecartError(refused) && refused.name).toBe('FORBIDDEN'); // a viewer cannot
      const op = connect({ url: server.wsUrl, token: await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' }), room: 'op-tv' });
      await op.ready;
      const stopped = new Promise<string | undefined>((resolve) => client.on('stream', (s) => { if (!s.live) resolve(s.reason); }));
      await op.signal({ t: 'stopStream' });
      expect(await stopped).toBe('stopped by an operator');
      await eventually(() => viewer.state === 'waiting' && viewer.tracks.length === 0, 'viewer waiting again');
      expect(client.connected).toBe(true);
      // Live again, then the show ends: the stream stops with it.
      await publisher.publish({ video: camera.track });
      await eventually(() => viewer.state === 'live', 'viewer live again');
      const showOver = new Promise<string | undefined>((resolve) => client.on('stream', (s) => { if (!s.live) resolve(s.reason); }));
      expect((await fetch(`${server.url}/api/rooms/op-tv/end`, { method: 'POST', headers: { authorization: `Bearer ${streamerToken}` } })).status).toBe(200);
      expect(await showOver).toBe('the show has ended');
      camera.stop();
      for (const c of [client, host, op]) c.close();
      viewer.dispose();
    } finally {
      await server.close();
    }
  }, 60_000);

  it('an ended show cannot go back on air: the publisher stops with it, and a send transport, produce or ingest is refused', async () => {
    const server = await startTestServer({ media: true, mediaWorkers: 1 });
    try {
      const streamerToken = await saleRoom(server, 'over', 1);
      const host = connect({ url: server.wsUrl, token: streamerToken, room: 'over' });
      await host.ready;
      const camera = syntheticCamera(160, 120);
      const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER, retryMs: 200 });
      const states: string[] = [];
      publisher.on('state', ({ state, reason }) => states.push(`${state}: ${reason ?? ''}`));
      await publisher.publish({ video: camera.track });
      const { client, viewer } = await watch(server.wsUrl, await viewerToken(server, 'over-v'), 'over');
      await eventually(async () => (await framesDecoded(viewer)) > 0, 'frames');
      // A send transport made before the end (a reconnecting publisher's) is refused when it produces.
      await host.signal({ t: 'mediaCapabilities' });
      const early = await host.signal({ t: 'createTransport', direction: 'send' });

      expect((await fetch(`${server.url}/api/rooms/over/end`, { method: 'POST', headers: { authorization: `Bearer ${streamerToken}` } })).status).toBe(200);
      // The publisher hears its stream end and stops there: no retries back on air.
      await eventually(() => publisher.state === 'idle' && !publisher.running, 'publisher stopped');
      expect(states.at(-1)).toBe('idle: the show has ended');
      await eventually(() => viewer.tracks.length === 0, 'viewer\'s tracks ended');

      const refused = await host.signal({ t: 'createTransport', direction: 'send' }).catch((e: unknown) => e);
      expect(isLivecartError(refused) && refused.name).toBe('ROOM_ENDED');
      const produced = await host.signal({ t: 'produce', transportId: early.transportId, kind: 'video', rtpParameters: {} }).catch((e: unknown) => e);
      expect(isLivecartError(produced) && produced.name).toMatch(/^(ROOM_ENDED|MEDIA_NOT_FOUND)$/);
      // Publishing again gives up at once (idle, with the server's reason) rather than retrying.
      await expect(publisher.publish({ video: camera.track })).rejects.toThrow(/idle/);
      expect(states.at(-1)).toMatch(/^idle: the show has ended: it cannot go back on air$/);
      expect(publisher.running).toBe(false);
      const ingest = await fetch(`${server.url}/api/rooms/over/ingest`, { method: 'POST', headers: { authorization: `Bearer ${streamerToken}`, 'content-type': 'application/json' }, body: '{}' });
      expect(ingest.status).toBe(409);
      expect(((await ingest.json()) as { error: { name: string } }).error.name).toBe('ROOM_ENDED');
      expect(server.media.status()).toMatchObject({ producers: 0 });
      camera.stop();
      viewer.dispose();
      for (const c of [client, host]) c.close();
    } finally {
      await server.close();
    }
  }, 60_000);

  it('without a worker the node runs, says why in /readyz, and answers MEDIA_UNAVAILABLE', async () => {
    const server = await startTestServer({ media: true, mediaWorkers: 1, mediaWorkerBin: '/nonexistent/mediasoup-worker' });
    try {
      expect(server.media.available).toBe(false);
      const ready = await (await fetch(`${server.url}/readyz`)).json() as { ready: boolean; media: string };
      expect(ready.ready).toBe(true); // comments and cart still work
      expect(ready.media).toMatch(/^unavailable: no mediasoup worker could start/);
      const streamerToken = await saleRoom(server, 'dark', 1);
      const host = connect({ url: server.wsUrl, token: streamerToken, room: 'dark' });
      await host.ready;
      const publisher = new StreamPublisher(host, { handlerName: NODE_HANDLER, retryMs: 60_000 });
      const states: string[] = [];
      publisher.on('state', ({ state, reason }) => states.push(`${state}: ${reason ?? ''}`));
      await expect(publisher.publish({ video: syntheticCamera(160, 120).track })).rejects.toThrow(/unavailable/);
      expect(states.at(-1)).toMatch(/^unavailable: video unavailable: no mediasoup worker could start/);
      expect(states.at(-1)).not.toContain('/nonexistent'); // the system's words are for the operator's log and /readyz
      expect((await host.comment('no video, still chatting')).seq).toBeGreaterThan(0);
      publisher.dispose();
      host.close();
    } finally {
      await server.close();
    }
  });
});
