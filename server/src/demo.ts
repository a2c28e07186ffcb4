import type { Principal } from './auth/TokenService.ts';
import type { RunningServer } from './server.ts';

const demoStreamer: Principal = { userId: 'streamer-1', name: 'Demo Streamer', role: 'streamer' };
const demoOperator: Principal = { userId: 'operator-1', name: 'Demo Operator', role: 'operator' };

/**
 * Dev mode: a live room with products, so the first start shows something. The room is linked to
 * the demo streamer's shop (its window at /shop?streamer=streamer-1): the two sell one inventory.
 */
export async function seedDemoRoom(server: RunningServer): Promise<string> {
  const roomId = 'demo';
  await server.commands.createRoom(demoStreamer, { id: roomId, title: 'Demo live sale', shop: true });
  await server.commerce.addProduct(demoStreamer, roomId, {
    sku: 'mug-1', title: 'Enamel mug', priceCents: 1299, listPriceCents: 1899, currency: 'USD', stock: 100,
    description: 'A camp mug of white enamel with a blue rim. Holds 350 ml; fine on a camp stove.',
  });
  await server.commerce.addProduct(demoStreamer, roomId, {
    sku: 'tee-1', title: 'Logo tee', priceCents: 2499, listPriceCents: 2999, currency: 'USD', stock: 30,
    description: 'Heavy cotton tee with the logo on the chest. Pick a size and a colour.',
    variants: [
      { sku: 'tee-1-s-black', options: { size: 'S', colour: 'Black' }, stock: 10 },
      { sku: 'tee-1-m-black', options: { size: 'M', colour: 'Black' }, stock: 10 },
      { sku: 'tee-1-m-white', options: { size: 'M', colour: 'White' }, stock: 10 },
    ],
  });
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
    `  Shop window  ${server.url}/shop?streamer=${demoStreamer.userId}`,
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
