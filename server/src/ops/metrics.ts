import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { clientMessageTypes } from '../../../protocol/src/index.ts';
import type { AdmissionObserver, Priority, RoomAdmissionStats } from '../admission/AdmissionController.ts';
import type { SequencerStats } from '../broker/Broker.ts';
import type { CartObserver } from '../commerce/CommerceService.ts';
import type { DegradeLevel } from '../fanout/DegradePolicy.ts';
import type { FanoutStats } from '../fanout/Fanout.ts';
import type { MediaStatus } from '../media/MediaService.ts';
import type { WebhookStats } from '../webhooks/WebhookDispatcher.ts';

/**
 * Prometheus metrics, all in this file. The other modules keep the plain counters they already
 * have (gateway, fan-out, admission stats, the process guard, the rooms' degrade status); this
 * reads them when scraped. Only what has no counter anywhere is pushed here as it happens: the
 * admission and store-call latency histograms (`admissionObserver`) and the cart answers
 * (`cartObserver`).
 *
 * One `Registry` per server instance, so several servers in one process (tests) never share
 * series. Room labels only for rooms this node hosts, and at most `maxRoomSeries` of them (most
 * members first): an unhosted room's series go away, and the count of hosted rooms left without
 * series is `livecart_room_series_omitted`.
 */

/** The WebSocket gateway's counters, as the metrics read them (the gateway's `stats` is one). */
interface GatewayCounters {
  readonly connectionsOpen: number;
  readonly connectionsTotal: number;
  readonly framesIn: number;
  readonly framesDeferred: number;
  readonly framesDeferredWaiting: number;
  readonly badFrames: number;
  readonly chatterDemotions: number;
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly slowConsumerCloses: number;
  readonly movedCloses: number;
  /** Valid client messages by type. */
  readonly messagesIn: Readonly<Record<string, number>>;
}

/** What the metrics read at scrape time. Structural, so tests can pass plain objects. */
export interface MetricsSources {
  readonly gateway: { readonly stats: GatewayCounters };
  readonly fanout: { readonly stats: FanoutStats };
  readonly rooms: { readonly hostedRoomIds: readonly string[] };
  /** Each hosted room's degrade status (the degrade monitor). */
  readonly degrade: { status(): ReadonlyArray<{ roomId: string; level: DegradeLevel; members: number; signals: { viewerLagMs: number } }> };
  readonly guard: { readonly eventLoopDelayMs: number; readonly eventLoopMaxMs: number; readonly overloaded: boolean; readonly refusedConnections: number };
  readonly admission: { readonly limit: number; readonly inFlight: number; knownRoomStats(roomId: string): RoomAdmissionStats | undefined } | undefined;
  readonly media?: { status(): MediaStatus };
  /** Streams from encoders on this node: WHIP sessions and RTMP relays (each an ffmpeg). */
  readonly encoders?: { readonly whipSessions: number; readonly rtmpRelays: number };
  readonly broker?: { readonly sequencerStats: SequencerStats };
  /** The webhook dispatcher, when the node has a webhook endpoint. */
  readonly webhooks?: { readonly stats: WebhookStats } | undefined;
}

export interface MetricsOptions {
  /** Hosted rooms (most members first) that get their own labelled series. */
  readonly maxRoomSeries: number;
  /** When set, a scrape must carry `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** prom-client's default process and Node.js metrics (RSS, event-loop lag, GC, heap). Default true. */
  readonly defaultMetrics?: boolean;
}

interface RoomRow {
  readonly roomId: string;
  readonly level: number;
  readonly members: number;
  readonly viewerLagMs: number;
  readonly admission: RoomAdmissionStats | undefined;
}

interface RoomSnapshot {
  readonly rows: readonly RoomRow[];
  readonly omitted: number;
}

const priorityName: Record<Priority, string> = { 0: 'change', 1: 'add', 2: 'read' };

/** Queue wait plus store call; the default `--admission-max-wait-ms` is 1.5 s. */
const admissionBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10];
const storeBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  /** Pass to the AdmissionController: admission latency and store-call latency histograms. */
  readonly admissionObserver: AdmissionObserver;
  /** Pass to the CommerceService: cart answers, reservations, orders. */
  readonly cartObserver: CartObserver;
  readonly #options: MetricsOptions;
  readonly #tokenDigest: Buffer | undefined;
  #sources: MetricsSources | undefined;
  /** Set for the duration of one scrape, so every per-room metric sees the same room selection. */
  #snapshot: RoomSnapshot | undefined;

  constructor(options: MetricsOptions) {
    this.#options = options;
    this.#tokenDigest = options.token === undefined ? undefined : digest(options.token);
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // ---------------------------------------------------------------- pushed as it happens
    const admissionLatency = new Histogram({
      name: 'livecart_admission_latency_seconds',
      help: 'Time from a cart request reaching the admission controller to its answer (queue wait plus store call), by priority class and outcome (ok, or refused/failed).',
      labelNames: ['priority', 'outcome'] as const,
      buckets: admissionBuckets,
      registers,
    });
    const storeLatency = new Histogram({
      name: 'livecart_store_call_duration_seconds',
      help: 'Duration of one store call made by the admission controller (a batch of add-to-carts or one other cart operation).',
      buckets: storeBuckets,
      registers,
    });
    // A burst observes every answer: the labelled series are looked up once, not hashed per call.
    const latencyOf = labelled((priority: Priority, outcome: string) => admissionLatency.labels(priorityName[priority], outcome));
    this.admissionObserver = {
      answered: (_roomId, priority, waitedMs, ok) => latencyOf(priority, ok ? 'ok' : 'error').observe(waitedMs / 1000),
      storeCall: (_roomId, ms) => storeLatency.observe(ms / 1000),
    };

    const cartAnswers = new Counter({
      name: 'livecart_cart_answers_total',
      help: 'Cart answers by operation (addToCart, setQuantity, checkout) and status (reserved, released, sold_out, limit_reached, not_on_sale, cart_not_found, ordered, expired). Idempotent retries count again.',
      labelNames: ['operation', 'status'] as const,
      registers,
    });
    const reservations = new Counter({ name: 'livecart_reservations_total', help: 'Cart answers "reserved" (add-to-cart, or a quantity raised).', registers });
    const orders = new Counter({ name: 'livecart_orders_total', help: 'Checkout answers "ordered".', registers });
    const answersOf = labelled((operation: string, status: string) => cartAnswers.labels(operation, status));
    this.cartObserver = (operation, answer) => {
      answersOf(operation, answer.status).inc();
      if (answer.status === 'reserved') reservations.inc();
      else if (answer.status === 'ordered') orders.inc();
    };

    // ---------------------------------------------------------------- read at scrape time
    const gateway = () => this.#sources?.gateway.stats;
    const fanout = () => this.#sources?.fanout.stats;
    const guard = () => this.#sources?.guard;
    const admission = () => this.#sources?.admission;

    gaugeOf(registers, 'livecart_connections_open', 'WebSocket connections open now.', () => gateway()?.connectionsOpen);
    counterOf(registers, 'livecart_connections_total', 'WebSocket connections accepted since start.', () => gateway()?.connectionsTotal);
    counterOf(registers, 'livecart_connections_refused_total', 'WebSocket upgrades refused by process protection (HTTP 503).', () => guard()?.refusedConnections);
    gaugeOf(registers, 'livecart_rooms_hosted', 'Rooms this node hosts (has members in, or had very recently).', () => this.#sources?.rooms.hostedRoomIds.length);

    counterOf(registers, 'livecart_frames_in_total', 'WebSocket frames received, valid or not.', () => gateway()?.framesIn);
    counterOf(registers, 'livecart_frames_deferred_total', 'Viewers\' frames of hot rooms (degrade level 1+) read in one event-loop turn and handled in a later one (--inbound-turn-budget-ms).', () => gateway()?.framesDeferred);
    gaugeOf(registers, 'livecart_frames_deferred_waiting', 'Frames read and waiting to be handled now.', () => gateway()?.framesDeferredWaiting);
    counterOf(registers, 'livecart_bad_frames_total', 'Frames refused: not MessagePack, invalid, too large, or flooding.', () => gateway()?.badFrames);
    labelledCounterOf(registers, 'livecart_messages_in_total', 'Valid client messages received, by type.', 'type', () => {
      const byType = gateway()?.messagesIn;
      return byType === undefined ? undefined : [...clientMessageTypes].map((type) => [type, byType[type] ?? 0]);
    });
    counterOf(registers, 'livecart_frames_sent_total', 'Frames the gateway sent to single sockets (replies, welcomes, direct messages; fan-out not included).', () => gateway()?.framesSent);
    counterOf(registers, 'livecart_bytes_sent_total', 'Bytes of those frames.', () => gateway()?.bytesSent);
    const byLane = (field: 'frames' | 'bytes') => () => {
      const lanes = fanout()?.byLane;
      return lanes === undefined ? undefined : Object.entries(lanes).map(([lane, counts]): [string, number] => [lane, counts[field]]);
    };
    labelledCounterOf(registers, 'livecart_fanout_frames_total', 'Frames published to room topics by lane (each once, however many subscribers; chatter counts its staff and viewer topics).', 'lane', byLane('frames'));
    labelledCounterOf(registers, 'livecart_fanout_bytes_total', 'Bytes published to room topics by lane (each frame once, however many subscribers).', 'lane', byLane('bytes'));
    counterOf(registers, 'livecart_fanout_publishes_without_subscribers_total', 'Publishes to a topic nobody on this node was subscribed to.', () => fanout()?.publishesWithoutSubscribers);
    counterOf(registers, 'livecart_fanout_frames_paced_total', 'Room frames that waited for a later event-loop turn (a big room\'s share of the turn was used up, or the room had frames waiting).', () => fanout()?.framesPaced);
    counterOf(registers, 'livecart_fanout_frames_replaced_total', 'Waiting state updates (stock, likes, viewers) replaced by a newer value before they went out.', () => fanout()?.framesReplaced);
    counterOf(registers, 'livecart_fanout_frames_urgent_total', 'Room frames sent to the whole room at once, past the turn\'s budget (a room whose backlog was full).', () => fanout()?.framesUrgent);
    gaugeOf(registers, 'livecart_fanout_frames_waiting', 'Room frames waiting for a later event-loop turn now.', () => fanout()?.framesWaiting);
    gaugeOf(registers, 'livecart_fanout_turn_budget', 'Socket writes of room broadcasts one event-loop turn may publish now (adapted to --fanout-turn-target-ms while a backlog lasts).', () => fanout()?.turnBudget);
    counterOf(registers, 'livecart_chatter_sampled_total', 'Comments not sent to viewers because their room was sampling (degrade level 1).', () => fanout()?.chatterSampled);
    counterOf(registers, 'livecart_chatter_dropped_total', 'Chatter not sent to viewers because their room was at degrade level 2 or 3.', () => fanout()?.chatterDropped);
    counterOf(registers, 'livecart_slow_consumer_closes_total', 'Sockets closed as slow consumers (4001).', () => gateway()?.slowConsumerCloses);
    counterOf(registers, 'livecart_connections_moved_total', 'Sockets closed with 4006 MOVED: sent to another node while this one drains.', () => gateway()?.movedCloses);
    counterOf(registers, 'livecart_chatter_demotions_total', 'Sockets dropped from the chatter lane (buffer past the soft cap, or acks lagging).', () => gateway()?.chatterDemotions);

    gaugeOf(registers, 'livecart_event_loop_delay_p99_seconds', 'Event-loop delay p99 over the process guard\'s last window (what protection and degradation act on).', () => seconds(guard()?.eventLoopDelayMs));
    gaugeOf(registers, 'livecart_event_loop_delay_max_seconds', 'Event-loop delay max over the process guard\'s last window.', () => seconds(guard()?.eventLoopMaxMs));
    gaugeOf(registers, 'livecart_protection_overloaded', '1 while the node refuses new connections (RSS or event-loop delay over the protection watermarks), else 0.', () => {
      const g = guard();
      return g === undefined ? undefined : g.overloaded ? 1 : 0;
    });

    const sequencer = () => this.#sources?.broker?.sequencerStats;
    gaugeOf(registers, 'livecart_sequencer_leases', 'Rooms whose seqs this node issues itself now (it holds their sequencer lease in Redis).', () => sequencer()?.leasesHeld);
    counterOf(registers, 'livecart_sequencer_local_events_total', 'Room events this node sequenced itself: delivered here in the turn that made them, appended to Redis after.', () => sequencer()?.sequencedLocally);
    counterOf(registers, 'livecart_sequencer_lease_releases_total', 'Sequencer leases this node let go because another node published in the room.', () => sequencer()?.leasesReleased);
    counterOf(registers, 'livecart_sequencer_resets_total', 'Rooms reset on this node (state dropped, sockets closed with RESYNC) because an append of an event it had sequenced failed.', () => sequencer()?.resets);

    gaugeOf(registers, 'livecart_admission_concurrency_limit', 'Concurrent store calls the admission controller allows now (adapted from store latency).', () => admission()?.limit);
    gaugeOf(registers, 'livecart_admission_in_flight', 'Store calls in flight from the admission controller.', () => admission()?.inFlight);

    const webhooks = () => this.#sources?.webhooks?.stats;
    labelledCounterOf(registers, 'livecart_webhook_attempts_total', 'Webhook POSTs this node made, by outcome: delivered (2xx), retrying (failed, another attempt follows) or failed (the last attempt failed: the delivery was dropped).', 'outcome', () => {
      const stats = webhooks();
      return stats === undefined ? undefined : [['delivered', stats.delivered], ['retrying', stats.retrying], ['failed', stats.failed]];
    });
    gaugeOf(registers, 'livecart_webhook_in_flight', 'Webhook POSTs under way on this node now.', () => webhooks()?.inFlight);

    // ---------------------------------------------------------------- media (mediasoup)
    const media = () => this.#sources?.media?.status();
    gaugeOf(registers, 'livecart_media_available', '1 when this node can serve video (at least one mediasoup worker runs), else 0.', () => {
      const m = media();
      return m === undefined ? undefined : m.available ? 1 : 0;
    });
    gaugeOf(registers, 'livecart_media_workers', 'mediasoup worker processes alive.', () => media()?.workers.length);
    counterOf(registers, 'livecart_media_worker_deaths_total', 'mediasoup workers that died (each is replaced; its rooms rebuild their media).', () => media()?.workerDeaths);
    gaugeOf(registers, 'livecart_media_routers', 'mediasoup routers (one per room per worker it is spread over).', () => media()?.routers);
    gaugeOf(registers, 'livecart_media_transports', 'WebRTC and RTP ingest transports open.', () => media()?.transports);
    gaugeOf(registers, 'livecart_media_producers', 'Producers (streamers\' tracks) live.', () => media()?.producers);
    gaugeOf(registers, 'livecart_media_consumers', 'Consumers (viewers\' tracks) open.', () => media()?.consumers);
    labelledGaugeOf(registers, 'livecart_media_worker_consumers', 'Consumers a worker carries (reserved or open), by worker index.', 'worker', () => media()?.workers.map((w) => [String(w.index), w.consumers]));
    labelledGaugeOf(registers, 'livecart_media_worker_cpu_ratio', 'CPU a worker used over the last --media-stats-interval-ms, as a share of one core.', 'worker', () => media()?.workers.map((w) => [String(w.index), w.cpu]));
    gaugeOf(registers, 'livecart_media_pipes_served', 'Pipes feeding rooms\' streams from this node to other nodes (each carries every simulcast layer of the room).', () => media()?.pipesServed);
    gaugeOf(registers, 'livecart_media_hls_renditions', 'Rooms whose HLS rendition this node makes (one ffmpeg each; the node is their media origin).', () => media()?.hlsRenditions);
    gaugeOf(registers, 'livecart_media_rooms_relayed', 'Rooms whose stream this node pipes in from another node (the room\'s origin, or a node it feeds).', () => media()?.roomsRelayed);
    gaugeOf(registers, 'livecart_media_bitrate_in_bps', 'Bits per second received by all media transports (last sample).', () => media()?.bitrateInBps);
    gaugeOf(registers, 'livecart_whip_sessions', 'WHIP sessions open (encoders publishing into rooms over WebRTC-HTTP ingest).', () => this.#sources?.encoders?.whipSessions);
    gaugeOf(registers, 'livecart_rtmp_relays', 'RTMP streams relayed into rooms (one ffmpeg each).', () => this.#sources?.encoders?.rtmpRelays);
    gaugeOf(registers, 'livecart_media_bitrate_out_bps', 'Bits per second sent by all media transports (last sample).', () => media()?.bitrateOutBps);

    // ---------------------------------------------------------------- per hosted room
    gaugeOf(registers, 'livecart_room_series_omitted', 'Hosted rooms left without per-room series (beyond --metrics-max-rooms, fewest members first).', () => (this.#sources === undefined ? undefined : this.#rooms().omitted));
    this.#roomGauge('livecart_room_degrade_level', 'Degrade level of a hosted room: 0 normal, 1 comments sampled, 2 chatter cut for viewers, 3 commerce only.', (row) => row.level);
    this.#roomGauge('livecart_room_members', 'Sockets in a hosted room on this node.', (row) => row.members);
    this.#roomGauge('livecart_room_viewer_lag_p90_seconds', 'How far behind this node\'s writes to a hosted room\'s sockets run (its fan-out lag), p90 over the sockets.', (row) => row.viewerLagMs / 1000);
    this.#roomGauge('livecart_admission_queue_depth', 'Cart requests waiting in a room\'s admission queues.', (row) => row.admission?.queued);
    this.#roomGauge('livecart_admission_store_latency_p99_seconds', 'Store latency p99 of a room\'s recent store calls.', (row) => seconds(row.admission?.storeLatencyMs.p99));
    this.#roomCounter('livecart_admission_admitted_total', 'Cart requests of a room sent to the store.', (a) => a.admitted);
    this.#roomCounter('livecart_admission_rejected_total', 'Cart requests of a room refused OVERLOADED at once (queue full, product queue full, or shed for more important ones).', (a) => a.rejected);
    this.#roomCounter('livecart_admission_expired_total', 'Cart requests of a room answered OVERLOADED because they waited past --admission-max-wait-ms.', (a) => a.expired);
    this.#roomCounter('livecart_admission_sold_out_fast_total', 'Add-to-carts of a room answered sold out locally, without the store.', (a) => a.soldOutFast);
    this.#roomCounter('livecart_admission_deduplicated_total', 'Add-to-carts of a room that joined the same user\'s pending one for the product.', (a) => a.deduplicated);
  }

  /** Starts reading the server's parts; before this, the scrape-time metrics read 0 or are absent. */
  watch(sources: MetricsSources): void {
    this.#sources = sources;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** True when the scrape may proceed: no token configured, or `Authorization: Bearer <token>` matches. */
  allows(authorization: string): boolean {
    if (this.#tokenDigest === undefined) return true;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    return match !== null && timingSafeEqual(digest(match[1]!), this.#tokenDigest);
  }

  /** The text exposition of every metric. */
  async scrape(): Promise<string> {
    this.#snapshot = this.#takeSnapshot();
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  close(): void {
    this.#sources = undefined;
    this.registry.clear();
  }

  #rooms(): RoomSnapshot {
    return this.#snapshot ?? this.#takeSnapshot();
  }

  /** The hosted rooms that get series: the `maxRoomSeries` with the most members. */
  #takeSnapshot(): RoomSnapshot {
    const sources = this.#sources;
    if (sources === undefined) return { rows: [], omitted: 0 };
    const status = [...sources.degrade.status()].sort((a, b) => b.members - a.members || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
    const chosen = status.slice(0, this.#options.maxRoomSeries);
    return {
      rows: chosen.map((room) => ({
        roomId: room.roomId, level: room.level, members: room.members, viewerLagMs: room.signals.viewerLagMs, admission: sources.admission?.knownRoomStats(room.roomId),
      })),
      omitted: status.length - chosen.length,
    };
  }

  #roomGauge(name: string, help: string, read: (row: RoomRow) => number | undefined): void {
    const rooms = () => this.#rooms().rows;
    new Gauge({
      name, help, labelNames: ['room'] as const, registers: [this.registry],
      collect() {
        this.reset();
        for (const row of rooms()) {
          const value = read(row);
          if (value !== undefined) this.set({ room: row.roomId }, value);
        }
      },
    });
  }

  #roomCounter(name: string, help: string, read: (stats: RoomAdmissionStats) => number): void {
    const rooms = () => this.#rooms().rows;
    new Counter({
      name, help, labelNames: ['room'] as const, registers: [this.registry],
      collect() {
        this.reset();
        for (const row of rooms()) if (row.admission !== undefined) this.inc({ room: row.roomId }, read(row.admission));
      },
    });
  }
}

/** A counter whose value is a running total kept elsewhere (the counters there only grow). */
function counterOf(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name, help, registers,
    collect() {
      this.reset();
      const value = read();
      if (value !== undefined) this.inc(value);
    },
  });
}

/** A counter with one label whose values are read at scrape time. */
function labelledCounterOf(registers: Registry[], name: string, help: string, label: string, read: () => Iterable<readonly [string, number]> | undefined): void {
  new Counter({
    name, help, registers, labelNames: [label],
    collect() {
      this.reset();
      for (const [value, count] of read() ?? []) this.inc({ [label]: value }, count);
    },
  });
}

/** A gauge with one label whose values are read at scrape time (label values that vanish go away). */
function labelledGaugeOf(registers: Registry[], name: string, help: string, label: string, read: () => Iterable<readonly [string, number]> | undefined): void {
  new Gauge({
    name, help, registers, labelNames: [label],
    collect() {
      this.reset();
      for (const [value, amount] of read() ?? []) this.set({ [label]: value }, amount);
    },
  });
}

function gaugeOf(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name, help, registers,
    collect() {
      const value = read();
      if (value !== undefined) this.set(value);
    },
  });
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** Fixed-length digests, so comparing tokens of different lengths is constant-time too. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Memoizes a metric's labelled series by its two label values (bounded sets: priorities, operations, outcomes, statuses). */
function labelled<A extends string | number, B extends string, T>(make: (a: A, b: B) => T): (a: A, b: B) => T {
  const cache = new Map<string, T>();
  return (a, b) => {
    const key = `${a}\u0000${b}`;
    let series = cache.get(key);
    if (series === undefined) cache.set(key, (series = make(a, b)));
    return series;
  };
}
