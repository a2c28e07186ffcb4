import { describe, expect, it } from 'vitest';
import { AdmissionController, PRIORITY, type Priority, type RoomAdmissionStats } from '../../server/src/admission/AdmissionController.ts';
import type { DegradeLevel } from '../../server/src/fanout/DegradePolicy.ts';
import type { FanoutStats } from '../../server/src/fanout/Fanout.ts';
import { Metrics, type MetricsSources } from '../../server/src/ops/metrics.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import type { GatewayStats } from '../../server/src/transport/WsGateway.ts';
import { must, parsePrometheus, sample } from '../helpers/prometheus.ts';

function admissionStats(roomId: string, admitted: number): RoomAdmissionStats {
  return {
    roomId, queued: 2, inFlight: 0, admitted, completed: admitted, rejected: 1, expired: 0, soldOutFast: 0, deduplicated: 0, drainRate: 0,
    storeLatencyMs: { ewma: 1, p99: 25 }, queueLimit: 100,
  };
}

/** Plain objects standing in for the server's parts; `hosted` is what the room layer reports. */
function fakeSources(hosted: Array<{ roomId: string; members: number; level: DegradeLevel }>): MetricsSources {
  const gateway: GatewayStats = {
    connectionsOpen: 4, connectionsTotal: 9, framesIn: 20, framesDeferred: 6, framesDeferredWaiting: 2, badFrames: 1, framesSent: 30, bytesSent: 3000, slowConsumerCloses: 2, chatterDemotions: 3, movedCloses: 7, messagesIn: { comment: 5 },
  };
  const fanout: FanoutStats = {
    framesPublished: 7, bytesPublished: 700, publishesWithoutSubscribers: 0, framesPaced: 0, framesReplaced: 0, framesWaiting: 0, framesUrgent: 0, turnBudget: 2048, chatterSampled: 4, chatterDropped: 6,
    byLane: { commerce: { frames: 3, bytes: 300 }, chatter: { frames: 4, bytes: 400 } },
  };
  return {
    gateway: { stats: gateway },
    fanout: { stats: fanout },
    rooms: {
      get hostedRoomIds() {
        return hosted.map((room) => room.roomId);
      },
    },
    degrade: { status: () => hosted.map((room) => ({ ...room, signals: { viewerLagMs: 1500 } })) },
    guard: { eventLoopDelayMs: 12, eventLoopMaxMs: 40, overloaded: false, refusedConnections: 0 },
    admission: { limit: 8, inFlight: 1, knownRoomStats: (roomId) => admissionStats(roomId, roomId.length) },
  };
}

describe('Metrics', () => {
  it('reads the plain counters at scrape time', async () => {
    const metrics = new Metrics({ maxRoomSeries: 10, defaultMetrics: false });
    expect(sample(parsePrometheus(await metrics.scrape()), 'livecart_room_series_omitted') ?? 0).toBe(0); // nothing watched yet: no failure
    metrics.watch(fakeSources([{ roomId: 'a', members: 3, level: 2 }]));
    const s = parsePrometheus(await metrics.scrape());
    expect(must(s, 'livecart_connections_open')).toBe(4);
    expect(must(s, 'livecart_connections_total')).toBe(9);
    expect(must(s, 'livecart_messages_in_total', { type: 'comment' })).toBe(5);
    expect(must(s, 'livecart_messages_in_total', { type: 'checkout' })).toBe(0); // every message type has a series
    expect(sample(s, 'livecart_messages_in_total', { type: 'bogus' })).toBeUndefined();
    expect(must(s, 'livecart_fanout_frames_total', { lane: 'commerce' })).toBe(3);
    expect(must(s, 'livecart_fanout_bytes_total', { lane: 'chatter' })).toBe(400);
    expect(must(s, 'livecart_chatter_sampled_total')).toBe(4);
    expect(must(s, 'livecart_chatter_dropped_total')).toBe(6);
    expect(must(s, 'livecart_slow_consumer_closes_total')).toBe(2);
    expect(must(s, 'livecart_chatter_demotions_total')).toBe(3);
    expect(must(s, 'livecart_connections_moved_total')).toBe(7);
    expect(must(s, 'livecart_event_loop_delay_p99_seconds')).toBeCloseTo(0.012);
    expect(must(s, 'livecart_room_degrade_level', { room: 'a' })).toBe(2);
    expect(must(s, 'livecart_room_viewer_lag_p90_seconds', { room: 'a' })).toBe(1.5);
    expect(must(s, 'livecart_admission_queue_depth', { room: 'a' })).toBe(2);
    expect(must(s, 'livecart_admission_rejected_total', { room: 'a' })).toBe(1);
    expect(must(s, 'livecart_admission_store_latency_p99_seconds', { room: 'a' })).toBe(0.025);
    expect(sample(s, 'process_resident_memory_bytes')).toBeUndefined(); // default metrics off here
    metrics.close();
  });

  it('labels at most maxRoomSeries hosted rooms, most members first, and drops an unhosted room', async () => {
    const hosted: Array<{ roomId: string; members: number; level: DegradeLevel }> = [
      { roomId: 'small', members: 1, level: 0 }, { roomId: 'big', members: 50, level: 1 }, { roomId: 'mid', members: 10, level: 0 },
    ];
    const metrics = new Metrics({ maxRoomSeries: 2, defaultMetrics: false });
    metrics.watch(fakeSources(hosted));
    let s = parsePrometheus(await metrics.scrape());
    expect(must(s, 'livecart_room_members', { room: 'big' })).toBe(50);
    expect(must(s, 'livecart_room_members', { room: 'mid' })).toBe(10);
    expect(sample(s, 'livecart_room_members', { room: 'small' })).toBeUndefined();
    expect(sample(s, 'livecart_admission_admitted_total', { room: 'small' })).toBeUndefined();
    expect(must(s, 'livecart_room_series_omitted')).toBe(1);
    expect(must(s, 'livecart_rooms_hosted')).toBe(3);

    hosted.splice(1, 1); // "big" is no longer hosted here
    s = parsePrometheus(await metrics.scrape());
    expect(sample(s, 'livecart_room_degrade_level', { room: 'big' })).toBeUndefined();
    expect(sample(s, 'livecart_admission_admitted_total', { room: 'big' })).toBeUndefined();
    expect(must(s, 'livecart_room_degrade_level', { room: 'small' })).toBe(0);
    expect(must(s, 'livecart_room_series_omitted')).toBe(0);
    metrics.close();
  });

  it('observes admission, store latency and cart answers through its hooks', async () => {
    const metrics = new Metrics({ maxRoomSeries: 10, defaultMetrics: false });
    metrics.admissionObserver.answered?.('r', 1, 30, true);
    metrics.admissionObserver.answered?.('r', 0, 2000, false);
    metrics.admissionObserver.storeCall?.('r', 4, 10);
    metrics.cartObserver('addToCart', { status: 'reserved', sku: 'x', quantity: 1, granted: 1, expiresAt: 1, available: 3 });
    metrics.cartObserver('addToCart', { status: 'sold_out', sku: 'x' });
    metrics.cartObserver('checkout', { status: 'cart_not_found' });
    const s = parsePrometheus(await metrics.scrape());
    expect(must(s, 'livecart_admission_latency_seconds_count', { priority: 'add', outcome: 'ok' })).toBe(1);
    expect(must(s, 'livecart_admission_latency_seconds_bucket', { priority: 'add', outcome: 'ok', le: '0.025' })).toBe(0);
    expect(must(s, 'livecart_admission_latency_seconds_bucket', { priority: 'add', outcome: 'ok', le: '0.05' })).toBe(1);
    expect(must(s, 'livecart_admission_latency_seconds_count', { priority: 'change', outcome: 'error' })).toBe(1);
    expect(must(s, 'livecart_store_call_duration_seconds_count')).toBe(1);
    expect(must(s, 'livecart_store_call_duration_seconds_sum')).toBeCloseTo(0.004);
    expect(must(s, 'livecart_reservations_total')).toBe(1);
    expect(must(s, 'livecart_orders_total')).toBe(0);
    expect(must(s, 'livecart_cart_answers_total', { operation: 'addToCart', status: 'sold_out' })).toBe(1);
    expect(must(s, 'livecart_cart_answers_total', { operation: 'checkout', status: 'cart_not_found' })).toBe(1);
    metrics.close();
  });

  it('checks the scrape token when one is set', () => {
    const open = new Metrics({ maxRoomSeries: 1, defaultMetrics: false });
    expect(open.allows('')).toBe(true);
    const locked = new Metrics({ maxRoomSeries: 1, defaultMetrics: false, token: 'scrape-token-0123456789' });
    expect(locked.allows('')).toBe(false);
    expect(locked.allows('Bearer nope')).toBe(false);
    expect(locked.allows('Bearer scrape-token-0123456789')).toBe(true);
    expect(locked.allows('bearer scrape-token-0123456789')).toBe(true);
    open.close();
    locked.close();
  });
});

describe('AdmissionController observer', () => {
  it('tells each answer with its wait and outcome, and each store call with its duration', async () => {
    let now = 1_000;
    const answered: Array<[string, Priority, number, boolean]> = [];
    const storeCalls: Array<[string, number, number]> = [];
    const controller = new AdmissionController({
      store: new MemoryStore({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 1000, maxOrders: 1000 }),
      options: {
        queueLimit: 10, productQueueLimit: 10, maxWaitMs: 1000, batchMax: 8, initialLimit: 1, minLimit: 1, maxLimit: 4,
        progressIntervalMs: 60_000, retryJitterMs: 0, soldOutCacheMs: 1000, soldOutAnswersPerTurn: 256, requestsPerTurn: 256,
      },
      now: () => now,
      observer: { answered: (...a) => answered.push(a), storeCall: (...a) => storeCalls.push(a) },
      queueLimits: (roomId) => (roomId === 'full' ? 0 : undefined), // an operator's limit for one room
    });
    let release: (value: string) => void = () => undefined;
    const first = controller.run('r', PRIORITY.change, () => new Promise<string>((resolve) => (release = resolve)));
    const second = controller.run('r', PRIORITY.read, () => Promise.reject(new Error('store down'))); // waits behind the first (limit 1)
    await new Promise<void>((resolve) => setImmediate(resolve)); // requests made in one turn are dispatched in its check phase
    now += 40;
    release('done');
    expect(await first).toBe('done');
    await expect(second).rejects.toThrow('store down');
    expect(answered).toEqual([['r', PRIORITY.change, 40, true], ['r', PRIORITY.read, 40, false]]);
    expect(storeCalls).toEqual([['r', 40, 1], ['r', 0, 1]]);

    await expect(controller.run('full', PRIORITY.read, async () => 1)).rejects.toThrow(/queue is full/);
    expect(answered.at(-1)).toEqual(['full', PRIORITY.read, 0, false]);
    expect(storeCalls).toHaveLength(2); // refused before the store
    controller.close();
  });
});
