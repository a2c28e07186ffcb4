import type { ConfigInput } from '../../server/src/config.ts';
import { type RunningServer, startServer } from '../../server/src/server.ts';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789';

/**
 * Automatic degradation reacts to machine load (event-loop delay, lag), which on a shared CI box is
 * noise: tests that are not about degradation switch it off; the degradation tests set their own.
 */
export const NO_AUTO_DEGRADE: ConfigInput = {
  degradeEventLoopMs: 600_000, degradeLagMs: 600_000, degradeBackloggedShare: 1, degradeQueueFill: 1, degradeStoreLatencyMs: 600_000,
  // Likewise the process guard's event-loop watermark: a loaded test machine passed it and pages saw sockets refused (503).
  protectEventLoopMs: 600_000,
};

/** A real server on a free port, quiet logs. */
export function startTestServer(overrides: ConfigInput = {}): Promise<RunningServer> {
  // Video off unless a test asks for it: mediasoup workers are separate processes, started only where media is tested.
  // HLS (an ffmpeg encoding each stream) likewise: only the HLS tests turn it on.
  return startServer({ port: 0, host: '127.0.0.1', tokenSecret: TEST_SECRET, logLevel: 'silent', media: false, hls: false, ...NO_AUTO_DEGRADE, ...overrides });
}

export async function http(server: RunningServer, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A streamer token, a live room and one product. */
export async function liveRoom(server: RunningServer, roomId: string, streamerId = `streamer-${roomId}`) {
  const streamer = await server.mintToken({ userId: streamerId, name: 'Streamer', role: 'streamer' });
  const created = await http(server, 'POST', '/api/rooms', streamer, { title: `Room ${roomId}`, id: roomId });
  if (created.status !== 201) throw new Error(`room create failed: ${JSON.stringify(created)}`);
  await http(server, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'sku-1', title: 'Mug', priceCents: 1299, currency: 'USD', stock: 10 });
  await http(server, 'POST', `/api/rooms/${roomId}/start`, streamer);
  return { streamer };
}

export function viewerToken(server: RunningServer, n: number | string) {
  return server.mintToken({ userId: `viewer-${n}`, name: `Viewer ${n}`, role: 'viewer' });
}

/** A live room (titled `title`) with one product `hot` of `stock` units (plus any product fields in `extra`); returns the streamer's token. */
export async function saleRoom(server: RunningServer, roomId: string, stock: number, extra: Record<string, unknown> = {}, title = roomId): Promise<string> {
  const streamer = await server.mintToken({ userId: `s-${roomId}`, name: 'S', role: 'streamer' });
  await http(server, 'POST', '/api/rooms', streamer, { title, id: roomId });
  const added = await http(server, 'POST', `/api/rooms/${roomId}/products`, streamer, { sku: 'hot', title: 'Hot item', priceCents: 1999, currency: 'USD', stock, ...extra });
  if (added.status !== 201) throw new Error(JSON.stringify(added));
  await http(server, 'POST', `/api/rooms/${roomId}/start`, streamer);
  return streamer;
}
