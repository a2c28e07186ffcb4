import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/src/server.ts';
import { must, parsePrometheus, sample, type Samples } from '../helpers/prometheus.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';

async function scrape(server: RunningServer, token?: string): Promise<Samples> {
  const response = await fetch(`${server.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

/** How far a series moved between two scrapes; an absent series counts as 0 before, and must exist after. */
function delta(before: Samples, after: Samples, name: string, labels: Record<string, string> = {}): number {
  return must(after, name, labels) - (sample(before, name, labels) ?? 0);
}

describe('GET /metrics', () => {
  let server: RunningServer;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    server = await startTestServer({ maxFramesPerSecond: 10_000 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  it('counts connections, messages, cart answers and fan-out for a known sequence', async () => {
    await saleRoom(server, 'metrics-room', 10);
    const before = await scrape(server);

    for (const n of [1, 2, 3]) clients.push((await RawClient.join(server.wsUrl, await viewerToken(server, `m${n}`), 'metrics-room')).client);
    const [ann, bob] = clients as [RawClient, RawClient, RawClient];
    for (const text of ['hello', 'is the mug still there?']) expect((await ann.request({ t: 'comment', text })).t).toBe('ok');
    const adds = [await ann.request({ t: 'addToCart', key: 'add-ann', sku: 'hot', quantity: 1 }), await bob.request({ t: 'addToCart', key: 'add-bob', sku: 'hot', quantity: 2 })];
    expect(adds.map((a) => a.t === 'ok' && (a.result as { status: string }).status)).toEqual(['reserved', 'reserved']);
    const order = await ann.request({ t: 'checkout', key: 'pay-ann' });
    expect(order.t === 'ok' && (order.result as { status: string }).status).toBe('ordered');

    const after = await scrape(server);
    // connections
    expect(delta(before, after, 'livecart_connections_total')).toBe(3);
    expect(delta(before, after, 'livecart_connections_open')).toBe(3);
    expect(must(after, 'livecart_rooms_hosted')).toBeGreaterThanOrEqual(1);
    // messages in, by type
    expect(delta(before, after, 'livecart_messages_in_total', { type: 'hello' })).toBe(3);
    expect(delta(before, after, 'livecart_messages_in_total', { type: 'comment' })).toBe(2);
    expect(delta(before, after, 'livecart_messages_in_total', { type: 'addToCart' })).toBe(2);
    expect(delta(before, after, 'livecart_messages_in_total', { type: 'checkout' })).toBe(1);
    expect(delta(before, after, 'livecart_messages_in_total', { type: 'like' })).toBe(0);
    expect(delta(before, after, 'livecart_frames_in_total')).toBe(8);
    // cart answers
    expect(delta(before, after, 'livecart_reservations_total')).toBe(2);
    expect(delta(before, after, 'livecart_orders_total')).toBe(1);
    expect(delta(before, after, 'livecart_cart_answers_total', { operation: 'addToCart', status: 'reserved' })).toBe(2);
    expect(delta(before, after, 'livecart_cart_answers_total', { operation: 'checkout', status: 'ordered' })).toBe(1);
    // admission: two adds and one checkout, each its own store call (they were sent one after the other)
    expect(delta(before, after, 'livecart_admission_latency_seconds_count', { priority: 'add', outcome: 'ok' })).toBe(2);
    expect(delta(before, after, 'livecart_admission_latency_seconds_count', { priority: 'change', outcome: 'ok' })).toBe(1);
    expect(delta(before, after, 'livecart_admission_latency_seconds_bucket', { priority: 'add', outcome: 'ok', le: '+Inf' })).toBe(2);
    expect(delta(before, after, 'livecart_store_call_duration_seconds_count')).toBe(3);
    expect(must(after, 'livecart_admission_admitted_total', { room: 'metrics-room' })).toBe(3);
    expect(must(after, 'livecart_admission_rejected_total', { room: 'metrics-room' })).toBe(0);
    expect(must(after, 'livecart_admission_queue_depth', { room: 'metrics-room' })).toBe(0);
    expect(must(after, 'livecart_admission_concurrency_limit')).toBeGreaterThanOrEqual(1);
    // the room's own series
    expect(must(after, 'livecart_room_degrade_level', { room: 'metrics-room' })).toBe(0);
    expect(must(after, 'livecart_room_members', { room: 'metrics-room' })).toBe(3);
    expect(must(after, 'livecart_room_series_omitted')).toBe(0);
    // out: replies and welcomes to single sockets; comments fan out on chatter (staff and viewer topics)
    expect(delta(before, after, 'livecart_frames_sent_total')).toBeGreaterThanOrEqual(3 + 5);
    expect(delta(before, after, 'livecart_bytes_sent_total')).toBeGreaterThan(0);
    expect(delta(before, after, 'livecart_fanout_frames_total', { lane: 'chatter' })).toBeGreaterThanOrEqual(2 * 2);
    expect(delta(before, after, 'livecart_fanout_bytes_total', { lane: 'chatter' })).toBeGreaterThan(0);
    expect(must(after, 'livecart_fanout_frames_total', { lane: 'commerce' })).toBeGreaterThanOrEqual(0);
    expect(must(after, 'livecart_chatter_dropped_total')).toBe(0);
    expect(must(after, 'livecart_chatter_sampled_total')).toBe(0);
    expect(must(after, 'livecart_slow_consumer_closes_total')).toBe(0);
    expect(must(after, 'livecart_chatter_demotions_total')).toBe(0);
    // process
    expect(must(after, 'livecart_event_loop_delay_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(must(after, 'livecart_protection_overloaded')).toBe(0);
    expect(must(after, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(must(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('GET /metrics with a token and a room cap', () => {
  let server: RunningServer;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    server = await startTestServer({ metricsToken: token, metricsMaxRooms: 1 });
  });
  afterAll(() => server.close());

  it('wants the token, keeps its own registry and labels only the biggest rooms', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    await saleRoom(server, 'big', 5);
    await saleRoom(server, 'small', 5);
    const joined = [
      (await RawClient.join(server.wsUrl, await viewerToken(server, 'b1'), 'big')).client,
      (await RawClient.join(server.wsUrl, await viewerToken(server, 'b2'), 'big')).client,
      (await RawClient.join(server.wsUrl, await viewerToken(server, 's1'), 'small')).client,
    ];
    const samples = await scrape(server, token);
    // A registry of its own: the other suite's server (same process) does not leak in.
    expect(must(samples, 'livecart_connections_total')).toBe(3);
    expect(must(samples, 'livecart_rooms_hosted')).toBe(2);
    expect(must(samples, 'livecart_room_members', { room: 'big' })).toBe(2);
    expect(must(samples, 'livecart_room_degrade_level', { room: 'big' })).toBe(0);
    expect(sample(samples, 'livecart_room_degrade_level', { room: 'small' })).toBeUndefined();
    expect(sample(samples, 'livecart_room_members', { room: 'small' })).toBeUndefined();
    expect(must(samples, 'livecart_room_series_omitted')).toBe(1);
    for (const client of joined) client.close();
  });
});
