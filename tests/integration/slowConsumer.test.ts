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
    socketOf(slow).pause();

    // Chatter until the server sees the backlog in uWS (past the kernel's buffers) and demotes the socket.
    let sent = 0;
    const text = 'c'.repeat(1900);
    while (server.gateway.stats.chatterDemotions === 0 && sent < 20_000) {
      const batch = [];
      for (let i = 0; i < 100; i++) batch.push(host.request({ t: 'comment', text }));
      await Promise.all(batch);
      sent += 100;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(server.gateway.stats.chatterDemotions).toBe(1);
    // Comments after the demotion do not reach it; the pop-up (commerce) does.
    for (let i = 0; i < 50; i++) await host.request({ t: 'comment', text: 'after demotion' });
    expect((await host.request({ t: 'pin', sku: 'sku-1' })).t).toBe('ok');
    socketOf(slow).resume();
    await slow.waitFor((m) => m.t === 'popup', 15_000);
    expect(slow.of('comment').length).toBeLessThanOrEqual(sent); // what was buffered before the demotion still arrives
    expect(slow.of('comment').some((c) => c.text === 'after demotion')).toBe(false);

    // Once drained it is back in chatter.
    await waitUntil(() => {
      return slow.messages.length > 0 && server.gateway.stats.chatterDemotions === 1;
    });
    await new Promise((r) => setTimeout(r, 200));
    await host.request({ t: 'comment', text: 'welcome back' });
    await slow.waitFor((m) => m.t === 'comment' && m.text === 'welcome back');

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
    // The host, reading normally, is unaffected.
    expect((await host.request({ t: 'ping' })).t).toBe('ok');
    host.close();
  }, 60_000);
});
