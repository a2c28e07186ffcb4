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

    // A viewer may not publish: no send transport, and its receive transport cannot produce.
    const intruder = viewers[0]!.client;
    const refused = await intruder.signal({ t: 'createTransport', direction: 'send' }).catch((e: unknown) => e);
    expect(isLivecartError(refused) && refused.name).toBe('FORBIDDEN');

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
