import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { RawClient, waitUntil } from '../helpers/rawClient.ts';
import { liveRoom, startTestServer, viewerToken } from '../helpers/server.ts';

const socketOf = (client: RawClient) => (client.ws as unknown as { _socket: Socket })._socket;

describe('slow consumers', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      softBufferBytes: 64 * 1024,
      hardBufferBytes: 1024 * 1024,
      backpressureScanMs: 20,
      commentRate: 1e9,
      commentBurst: 1e9,
      commentMaxLength: 2000,
      maxFramesPerSecond: 100_000,
      maxProductsPerRoom: 100_000,
    });
  });
  afterAll(() => server.close());

  it('drops a viewer that stops reading from chatter, keeps its commerce events, then closes it past the hard cap', async () => {
    const { streamer } = await liveRoom(server, 'slow');
    const { client: host } = await RawClient.join(server.wsUrl, streamer, 'slow');
    const { client: slow } = await RawClient.join(server.wsUrl, await viewerToken(server, 'slow-1'), 'slow');
    const { client: reader } = await RawClient.join(server.wsUrl, await viewerToken(server, 'reader-1'), 'slow');
    socketOf(slow).pause();

    // Numbered comments, so what each viewer got can be compared with what was sent, in order.
    const texts: string[] = [];
    const post = (text: string) => {
      texts.push(text);
      return host.request({ t: 'comment', text });
    };
    const numbered = (i: number) => `${i} `.padEnd(1900, 'c');
    // Chatter until the server sees the backlog in uWS (past the kernel's buffers) and demotes the socket.
    while (server.gateway.stats.chatterDemotions === 0 && texts.length < 20_000) {
      const batch = [];
      for (let i = 0; i < 100; i++) batch.push(post(numbered(texts.length)));
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 25)); // a backpressure scan's turn (every 20 ms)
    }
    expect(server.gateway.stats.chatterDemotions).toBe(1);
    // Comments after the demotion do not reach it; the pop-up (commerce) does.
    for (let i = 0; i < 50; i++) await post(`after demotion ${i}`);
    expect((await host.request({ t: 'pin', sku: 'sku-1' })).t).toBe('ok');
    socketOf(slow).resume();
    await slow.waitFor((m) => m.t === 'popup', 15_000);
    await reader.waitFor((m) => m.t === 'popup', 15_000);
    // A viewer that reads gets every comment, in order; the slow one what was buffered before its
    // demotion (in order, from the first, nothing skipped) and none after it.
    const commentTexts = (client: RawClient) => client.of('comment').map((c) => c.text);
    expect(commentTexts(reader)).toEqual(texts);
    const slowTexts = commentTexts(slow);
    expect(slowTexts).toEqual(texts.slice(0, slowTexts.length));
    expect(slowTexts.some((text) => text.startsWith('after demotion'))).toBe(false);
    expect(server.gateway.stats.chatterDemotions).toBe(1); // the reader was never demoted

    // Once drained it is back in chatter: a comment reaches it again (asked until the next scan promoted it).
    let attempt = 0;
    await waitUntil(async () => {
      await host.request({ t: 'comment', text: `welcome back ${attempt++}` });
      return slow.of('comment').some((c) => c.text.startsWith('welcome back'));
    }, 5000, 'a comment reaching the drained viewer', 50);

    // Stop reading again and flood the commerce lane: past the hard cap the socket is closed as slow.
    socketOf(slow).pause();
    const closesBefore = server.gateway.stats.slowConsumerCloses;
    const imageUrl = `https://img.example/${'i'.repeat(2000)}`;
    let n = 0;
    while (server.gateway.stats.slowConsumerCloses === closesBefore && n < 20_000) {
      const batch = [];
      for (let i = 0; i < 100; i++, n++) {
        batch.push(host.request({ t: 'addProduct', product: { sku: `p-${n}`, title: 'Flood', priceCents: 1, currency: 'USD', stock: 1, imageUrl } }));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(server.gateway.stats.slowConsumerCloses).toBe(closesBefore + 1);
    socketOf(slow).resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(CloseCode.SLOW_CONSUMER);
    // The host and the viewer reading normally are unaffected.
    expect((await host.request({ t: 'ping' })).t).toBe('ok');
    expect((await reader.request({ t: 'ping' })).t).toBe('ok');
    await reader.waitFor((m) => m.t === 'product' && m.product.sku === `p-${n - 1}`, 15_000);
    host.close();
    reader.close();
  }, 60_000);
});
