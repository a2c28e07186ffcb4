/**
 * Order webhooks against a real receiver (an HTTP server of the test that verifies every
 * signature with its own code): each order event is POSTed signed, with its delivery id and type;
 * a failed attempt is retried with the same id and body; the operators' log and the metrics show
 * it; a delivery whose attempts run out is logged as failed; and with Redis, an event whose
 * receiver was down outlives the node that made it: another node delivers it once the receiver
 * is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Order, WebhookEvent, WebhookLogEntry } from '../../protocol/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { webhookSignature } from '../../server/src/webhooks/webhookSignature.ts';
import { must, parsePrometheus } from '../helpers/prometheus.ts';
import { waitUntil } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { freePort } from '../helpers/redisServer.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { verifySignature, WebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const FAST_RETRIES = { webhookSecret: SECRET, webhookRetryBaseMs: 50, webhookRetryMaxMs: 200, webhookPollMs: 50, webhookTimeoutMs: 2000 };

let keyCounter = 0;
async function buy(server: RunningServer, token: string, room: string): Promise<Order> {
  await http(server, 'POST', `/api/rooms/${room}/cart/items`, token, { sku: 'hot', quantity: 1, key: `wh-add-${++keyCounter}` });
  const ordered = await http(server, 'POST', `/api/rooms/${room}/checkout`, token, { key: `wh-pay-${++keyCounter}` });
  expect(ordered.body.status).toBe('ordered');
  return ordered.body.order as Order;
}

async function webhookLog(server: RunningServer, operator: string): Promise<{ endpoint: string | null; deliveries: WebhookLogEntry[] }> {
  const answer = await http(server, 'GET', '/api/ops/webhooks', operator);
  expect(answer.status).toBe(200);
  return answer.body as { endpoint: string | null; deliveries: WebhookLogEntry[] };
}

const servers: RunningServer[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

describe('order webhooks', () => {
  let receiver: WebhookReceiver;
  let server: RunningServer;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(SECRET, { failFirst: 1 });
    server = await startTestServer({ ...FAST_RETRIES, webhookUrl: receiver.url });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.stop();
  });

  it('POSTs every order event signed; a failed attempt is retried with the same delivery id and body; the receiver verifies each', async () => {
    const streamer = await saleRoom(server, 'hooks', 5);
    const ann = await viewerToken(server, 'hooks-ann');
    const order = await buy(server, ann, 'hooks');
    await http(server, 'POST', `/api/orders/${order.id}/payment`, streamer, { reference: 'pi_42' });
    await http(server, 'POST', `/api/orders/${order.id}/status`, streamer, { status: 'shipped', note: 'DHL 77' });
    // Each event's retry has its own jitter, so they may be handled in any order (as the docs say).
    const handled = await receiver.waitForHandled(3);
    expect(handled.map((e) => e.type).sort()).toEqual(['order.paid', 'order.placed', 'order.shipped']);
    const [placed, paid, shipped] = ['order.placed', 'order.paid', 'order.shipped'].map((type) => handled.find((e) => e.type === type));
    expect(placed!.data.order).toEqual(order);
    expect(paid!.data.order).toMatchObject({ id: order.id, status: 'paid', payment: { demo: false, reference: 'pi_42' } });
    expect(shipped!.data.order.history.at(-1)).toMatchObject({ status: 'shipped', note: 'DHL 77' });
    expect(new Set([placed!.id, paid!.id, shipped!.id]).size).toBe(3);
    for (const event of [placed!, paid!, shipped!]) {
      const attempts = receiver.attemptsOf(event.id);
      // the first attempt answered 500, the retry 200, the same delivery both times
      expect(attempts.map((a) => [a.verified, a.status, a.eventHeader])).toEqual([[true, 500, event.type], [true, 200, event.type]]);
      expect(attempts[0]!.event).toEqual(attempts[1]!.event);
    }
    expect(receiver.requests.every((r) => r.verified)).toBe(true);

    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    await waitUntil(async () => (await webhookLog(server, operator)).deliveries.filter((d) => d.state === 'delivered').length >= 3, 5000, 'the log shows three delivered');
    const log = await webhookLog(server, operator);
    expect(log.endpoint).toBe(receiver.url);
    expect(log.deliveries.map((d) => [d.type, d.state, d.attempts, d.responseStatus])).toEqual([
      ['order.shipped', 'delivered', 2, 200], ['order.paid', 'delivered', 2, 200], ['order.placed', 'delivered', 2, 200],
    ]);
    expect(log.deliveries[2]).toMatchObject({ id: placed!.id, orderId: order.id, roomId: 'hooks' });
    expect((await http(server, 'GET', '/api/ops/webhooks', ann)).status).toBe(403);

    const metrics = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    expect(must(metrics, 'livecart_webhook_attempts_total', { outcome: 'delivered' })).toBe(3);
    expect(must(metrics, 'livecart_webhook_attempts_total', { outcome: 'retrying' })).toBe(3);
  });

  it('the receiver refuses what is not signed with the secret, or signed long ago', () => {
    const body = JSON.stringify({ id: 'whd_x', type: 'order.paid', createdAt: 1, data: {} });
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(SECRET, webhookSignature(SECRET, body, now), body)).toBe(true);
    expect(verifySignature(SECRET, webhookSignature('another-secret-0123456789', body, now), body)).toBe(false);
    expect(verifySignature(SECRET, webhookSignature(SECRET, body, now), body.replace('paid', 'shipped'))).toBe(false);
    expect(verifySignature(SECRET, webhookSignature(SECRET, body, now - 3600), body)).toBe(false);
    expect(verifySignature(SECRET, '', body)).toBe(false);
  });
});

describe('order webhooks that keep failing', () => {
  it('are retried up to the attempts allowed, then logged as failed', async () => {
    const receiver = await WebhookReceiver.start(SECRET, { failFirst: 100 });
    receivers.push(receiver);
    const server = await startTestServer({ ...FAST_RETRIES, webhookUrl: receiver.url, webhookMaxAttempts: 3 });
    servers.push(server);
    await saleRoom(server, 'hooks-fail', 5);
    const order = await buy(server, await viewerToken(server, 'fail-ann'), 'hooks-fail');
    const operator = await server.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    await waitUntil(async () => (await webhookLog(server, operator)).deliveries[0]?.state === 'failed', 10_000, 'the delivery failed for good');
    const [entry] = (await webhookLog(server, operator)).deliveries;
    expect(entry).toMatchObject({ orderId: order.id, type: 'order.placed', state: 'failed', attempts: 3, responseStatus: 500, error: 'HTTP 500' });
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 500]);
    const metrics = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    expect(must(metrics, 'livecart_webhook_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(must(metrics, 'livecart_webhook_attempts_total', { outcome: 'retrying' })).toBe(2);
  });
});

describe('order webhooks with Redis', () => {
  it('outlive the node that made them: the receiver down, the node gone, another node delivers once the receiver is back', async () => {
    const redisPrefix = uniquePrefix('webhooks');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks/livecart`;
    const first = await startTestServer({ ...FAST_RETRIES, redis: REDIS_URL, redisPrefix, webhookUrl: url, webhookRetryMaxMs: 100 });
    servers.push(first);
    await saleRoom(first, 'hooks-redis', 5);
    const order = await buy(first, await viewerToken(first, 'redis-ann'), 'hooks-redis');
    const operator = await first.mintToken({ userId: 'op', name: 'Op', role: 'operator' });
    await waitUntil(async () => ((await webhookLog(first, operator)).deliveries[0]?.attempts ?? 0) >= 2, 10_000, 'two attempts refused');
    const [refused] = (await webhookLog(first, operator)).deliveries;
    expect(refused).toMatchObject({ orderId: order.id, state: 'retrying', error: 'ECONNREFUSED' });
    await first.close();

    const receiver = await WebhookReceiver.start(SECRET, { port });
    receivers.push(receiver);
    const second = await startTestServer({ ...FAST_RETRIES, redis: REDIS_URL, redisPrefix, webhookUrl: url });
    servers.push(second);
    const [event] = await receiver.waitForHandled(1);
    expect(event).toMatchObject({ id: refused!.id, type: 'order.placed' } satisfies Partial<WebhookEvent>);
    expect(event!.data.order.id).toBe(order.id);
    await waitUntil(async () => (await webhookLog(second, operator)).deliveries[0]?.state === 'delivered', 5000, 'the log shows it delivered');
    expect((await webhookLog(second, operator)).deliveries[0]!.attempts).toBeGreaterThanOrEqual(3);
  });
});
