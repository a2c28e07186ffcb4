import type { Principal } from './auth/TokenService.ts';
import type { RunningServer } from './server.ts';

const demoStreamer: Principal = { userId: 'streamer-1', name: 'Demo Streamer', role: 'streamer' };
const demoOperator: Principal = { userId: 'operator-1', name: 'Demo Operator', role: 'operator' };

/** Dev mode: a live room with two products, one pinned, so the first start shows something. */
export async function seedDemoRoom(server: RunningServer): Promise<string> {
  const roomId = 'demo';
  await server.commands.createRoom(demoStreamer, { id: roomId, title: 'Demo live sale' });
  await server.commerce.addProduct(demoStreamer, roomId, { sku: 'mug-1', title: 'Enamel mug', priceCents: 1299, currency: 'USD', stock: 100 });
  await server.commerce.addProduct(demoStreamer, roomId, { sku: 'tee-1', title: 'Logo tee', priceCents: 2499, currency: 'USD', stock: 30 });
  await server.commands.setShowState(demoStreamer, roomId, 'live');
  return roomId;
}

export async function demoBanner(server: RunningServer, roomId: string | undefined): Promise<string> {
  const streamer = await server.mintToken(demoStreamer);
  const operator = await server.mintToken(demoOperator);
  const viewers = await Promise.all([1, 2].map((n) => server.mintToken({ userId: `viewer-${n}`, name: `Viewer ${n}`, role: 'viewer' })));
  return [
    '',
    `livecart is running (dev mode: no --token-secret, tokens die with this process)`,
    `  HTTP API     ${server.url}/api/rooms`,
    `  WebSocket    ${server.wsUrl}`,
    `  Viewer       ${server.url}/viewer${roomId ? `?room=${roomId}` : ''}`,
    `  Streamer     ${server.url}/streamer?token=${streamer}${roomId ? `&room=${roomId}` : ''}`,
    `  Operator     ${server.url}/operator?token=${operator}`,
    `  My orders    ${server.url}/orders${server.config.demoPayments === false ? '' : '  (every order is marked paid as a demo: no payment is taken)'}`,
    `  Dev tokens   ${server.url}/api/dev/token?name=Ann  (viewer tokens on demand)`,
    `  Video        ${videoLine(server)}`,
    '',
    `  streamer token (${demoStreamer.userId}): ${streamer}`,
    `  operator token (${demoOperator.userId}): ${operator}`,
    ...viewers.map((token, i) => `  viewer token (viewer-${i + 1}): ${token}`),
    '',
  ].join('\n');
}

function videoLine(server: RunningServer): string {
  const media = server.media.status();
  if (!media.available) return `UNAVAILABLE: ${media.reason ?? 'unknown reason'} (comments and carts work)`;
  return `${media.workers.length} mediasoup worker${media.workers.length === 1 ? '' : 's'}; the streamer page's "Start video" goes on camera`;
}
