import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { AdmissionController } from './admission/AdmissionController.ts';
import { CartDesk } from './admission/CartDesk.ts';
import type { CartGate } from './admission/CartGate.ts';
import { DirectGate } from './admission/DirectGate.ts';
import { PositionTeller } from './admission/PositionTeller.ts';
import { NodeSignature } from './auth/NodeSignature.ts';
import type { Principal } from './auth/TokenService.ts';
import { TokenService } from './auth/TokenService.ts';
import type { Broker } from './broker/Broker.ts';
import { LocalBroker } from './broker/LocalBroker.ts';
import { RedisBroker } from './broker/RedisBroker.ts';
import { LocalUserNotices } from './broker/LocalUserNotices.ts';
import { RedisUserNotices } from './broker/RedisUserNotices.ts';
import type { UserNotices } from './broker/UserNotices.ts';
import { CommerceService } from './commerce/CommerceService.ts';
import { AuctionService } from './commerce/AuctionService.ts';
import { CouponService } from './commerce/CouponService.ts';
import { GiveawayService } from './commerce/GiveawayService.ts';
import { OrderService } from './commerce/OrderService.ts';
import { type Config, type ConfigInput, makeConfig } from './config.ts';
import { DegradeMonitor } from './fanout/DegradeMonitor.ts';
import { Fanout } from './fanout/Fanout.ts';
import { createLogger, type Logger } from './log.ts';
import { MediaService } from './media/MediaService.ts';
import { RtmpIngest } from './media/RtmpIngest.ts';
import { WhipIngest } from './media/WhipIngest.ts';
import { Metrics } from './ops/metrics.ts';
import { NodeRegistry } from './ops/NodeRegistry.ts';
import { ProcessGuard } from './ops/ProcessGuard.ts';
import { connectWithin, createRedisClient, redisTarget } from './redis/client.ts';
import { routeRequests } from './requests.ts';
import { RoomCommands } from './rooms/RoomCommands.ts';
import { RoomLifecycle } from './rooms/RoomLifecycle.ts';
import { RoomLikes } from './rooms/RoomLikes.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { ReplayService } from './rooms/ReplayService.ts';
import { RoomRules } from './rooms/RoomRules.ts';
import { ShopLinks } from './rooms/ShopLinks.ts';
import { ShopWindows } from './rooms/ShopWindows.ts';
import { commerceScopeOf } from './commerce/commerceScope.ts';
import type { GiveawayCard, PinnedCoupon } from '../../protocol/src/index.ts';
import type { MediaOriginDirectory } from './store/MediaOriginDirectory.ts';
import { MemoryMediaOriginDirectory } from './store/MemoryMediaOriginDirectory.ts';
import { StreamKeys } from './rooms/StreamKeys.ts';
import { MemoryNodeDirectory } from './store/MemoryNodeDirectory.ts';
import { MemoryRecordingDirectory } from './store/MemoryRecordingDirectory.ts';
import { MemoryRoomDirectory } from './store/MemoryRoomDirectory.ts';
import { MemoryStore } from './store/MemoryStore.ts';
import type { GiveawayStore } from './store/GiveawayStore.ts';
import { MemoryGiveawayStore } from './store/MemoryGiveawayStore.ts';
import { RedisGiveawayStore } from './store/RedisGiveawayStore.ts';
import { MemoryWebhookOutbox } from './store/MemoryWebhookOutbox.ts';
import type { NodeDirectory } from './store/NodeDirectory.ts';
import type { RecordingDirectory } from './store/RecordingDirectory.ts';
import { RedisMediaOriginDirectory } from './store/RedisMediaOriginDirectory.ts';
import { RedisNodeDirectory } from './store/RedisNodeDirectory.ts';
import { RedisRecordingDirectory } from './store/RedisRecordingDirectory.ts';
import { RedisRoomDirectory } from './store/RedisRoomDirectory.ts';
import { RedisStore } from './store/RedisStore.ts';
import { RedisWebhookOutbox } from './store/RedisWebhookOutbox.ts';
import { MemoryReminderDirectory } from './store/MemoryReminderDirectory.ts';
import { RedisReminderDirectory } from './store/RedisReminderDirectory.ts';
import type { ReminderDirectory } from './store/ReminderDirectory.ts';
import { MemoryShowNoticeInbox } from './store/MemoryShowNoticeInbox.ts';
import { RedisShowNoticeInbox } from './store/RedisShowNoticeInbox.ts';
import type { ShowNoticeInbox } from './store/ShowNoticeInbox.ts';
import { ShowService } from './rooms/ShowService.ts';
import { registerShowsHttpApi } from './transport/ShowsHttpApi.ts';
import type { RoomDirectory } from './store/RoomDirectory.ts';
import type { Store } from './store/Store.ts';
import type { WebhookOutbox } from './store/WebhookOutbox.ts';
import { registerClusterOpsApi } from './transport/ClusterOpsApi.ts';
import { registerDrainApi } from './transport/DrainApi.ts';
import { registerHlsHttpApi } from './transport/HlsHttpApi.ts';
import { registerCouponsHttpApi } from './transport/CouponsHttpApi.ts';
import { registerGiveawaysHttpApi } from './transport/GiveawaysHttpApi.ts';
import { registerAuctionsHttpApi } from './transport/AuctionsHttpApi.ts';
import type { AuctionStore } from './store/AuctionStore.ts';
import { MemoryAuctionStore } from './store/MemoryAuctionStore.ts';
import { RedisAuctionStore } from './store/RedisAuctionStore.ts';
import { registerHttpApi } from './transport/HttpApi.ts';
import { pacedDesk } from './transport/HttpCartPacer.ts';
import { TokenBucketLimiter } from './rooms/TokenBucketLimiter.ts';
import { registerModerationHttpApi } from './transport/ModerationHttpApi.ts';
import { JsonRouter } from './transport/JsonRouter.ts';
import { registerMediaHttpApi } from './transport/MediaHttpApi.ts';
import { MediaFileProxy } from './transport/MediaFileProxy.ts';
import { registerMediaPipeApi } from './transport/MediaPipeApi.ts';
import { MediaPipeClient } from './transport/MediaPipeClient.ts';
import { NodeDrain } from './transport/NodeDrain.ts';
import { registerOpsApi } from './transport/OpsApi.ts';
import { registerReplayHttpApi } from './transport/ReplayHttpApi.ts';
import { registerOrdersHttpApi } from './transport/OrdersHttpApi.ts';
import { registerShopHttpApi } from './transport/ShopHttpApi.ts';
import { StaticFiles } from './transport/StaticFiles.ts';
import { registerWhipHttpApi } from './transport/WhipHttpApi.ts';
import { createApp, listen } from './transport/listen.ts';
import { WsGateway } from './transport/WsGateway.ts';
import { ReplyPriority } from './util/ReplyPriority.ts';
import { WebhookDispatcher } from './webhooks/WebhookDispatcher.ts';

export interface RunningServer {
  readonly config: Config;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  /** ws://host:port/ws */
  readonly wsUrl: string;
  readonly tokens: TokenService;
  /** The rooms this node hosts and their members. */
  readonly rooms: RoomRegistry;
  /** What users ask of rooms (HTTP and WebSocket). */
  readonly commands: RoomCommands;
  /** Hosted, ended and unhosted rooms, as events. */
  readonly lifecycle: RoomLifecycle;
  readonly degrade: DegradeMonitor;
  /** This node's record in the node registry, and every node's (`GET /api/ops/nodes`). */
  readonly registry: NodeRegistry;
  readonly commerce: CommerceService;
  /** Orders after checkout: the shop's steps, the buyer's list, the news of each change. */
  readonly orders: OrderService;
  /** Scheduled shows: upcoming lists, reminders, and the go-live notices. */
  readonly shows: ShowService;
  /** Delivers order events to `--webhook-url`; undefined without one. */
  readonly webhooks: WebhookDispatcher | undefined;
  /** The one entry of every cart request (WebSocket and HTTP). */
  readonly desk: CartDesk;
  /** Giveaways: opening, entries' rules and answers, the draw. */
  readonly giveaways: GiveawayService;
  readonly store: Store;
  readonly gateway: WsGateway;
  /** Takes the node out of service gradually (SIGTERM, POST /api/ops/drain). */
  readonly drain: NodeDrain;
  readonly fanout: Fanout;
  readonly guard: ProcessGuard;
  readonly admission: AdmissionController | undefined;
  /** WebRTC media (mediasoup); `media.available` is false when no worker could start. */
  readonly media: MediaService;
  /** WHIP sessions (encoders publishing over WebRTC-HTTP ingest). */
  readonly whip: WhipIngest;
  /** The RTMP listener (`--rtmp-port`), undefined when it is off. */
  readonly rtmp: RtmpIngest | undefined;
  /** This server's Prometheus registry and observers (one per instance). */
  readonly metrics: Metrics;
  readonly log: Logger;
  mintToken(claims: { userId: string; name: string; role: Principal['role'] }): Promise<string>;
  /** Stop accepting, close every socket with 4000 (server restarting), release the port. */
  close(): Promise<void>;
  /**
   * What SIGTERM does: drain over `drainWindowMs` (or go on with a drain under way), wait for the
   * window to end, for every socket to move and for the HTTP answers in flight (at most
   * `shutdownGraceMs` past the window), then `close()`.
   */
  drainAndClose(): Promise<void>;
}

interface Backends {
  store: Store;
  directory: RoomDirectory;
  broker: Broker;
  nodes: NodeDirectory;
  origins: MediaOriginDirectory;
  recordings: RecordingDirectory;
  /** The store's webhook outbox, when `--webhook-url` is set. */
  outbox: WebhookOutbox | undefined;
  reminders: ReminderDirectory;
  /** Go-live notices kept for reminded users who were away. */
  inbox: ShowNoticeInbox;
  notices: UserNotices;
  /** Giveaways beside the room's stock (on Redis, on the store's connection: entries come in a burst, as adds do). */
  giveaways: GiveawayStore;
}

/** Memory on a single node; Redis (store, room directory, broker, node registry, media origins, recordings, webhook outbox) when `--redis` is set. */
async function createBackends(config: Config): Promise<Backends> {
  const webhooks = config.webhookUrl !== undefined;
  if (config.redis === undefined) {
    const outbox = webhooks ? new MemoryWebhookOutbox(config.webhookLogSize) : undefined;
    return {
      store: new MemoryStore({ idempotencyTtlMs: config.idempotencyTtlMs, maxIdempotencyKeys: config.maxIdempotencyKeys, maxOrders: config.memoryMaxOrders, ordersPerUser: config.ordersPerUser }, outbox),
      outbox,
      directory: new MemoryRoomDirectory(),
      broker: new LocalBroker(config.resumeRingSize),
      nodes: new MemoryNodeDirectory(),
      origins: new MemoryMediaOriginDirectory(),
      recordings: new MemoryRecordingDirectory(),
      reminders: new MemoryReminderDirectory(),
      inbox: new MemoryShowNoticeInbox(),
      notices: new LocalUserNotices(),
      giveaways: new MemoryGiveawayStore({ recordTtlMs: config.idempotencyTtlMs }),
    };
  }
  const target = redisTarget(config.redis, config.redisCluster);
  const store = await RedisStore.connect({
    url: target,
    prefix: config.redisPrefix,
    idempotencyTtlMs: config.idempotencyTtlMs,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    retryAfterMs: config.storeRetryAfterMs,
    orderReplicas: config.orderReplicas ?? (target.cluster ? 1 : 0),
    orderReplicaTimeoutMs: config.orderReplicaTimeoutMs,
    sweepHorizonMs: config.reservationTtlMs,
    webhooks,
    ordersPerUser: config.ordersPerUser,
  });
  // Room events and room state get a connection of their own: on the store's, a comment would wait
  // in Redis's pipeline behind a hot room's reservation batches, and every room would feel the burst.
  const roomsRedis = createRedisClient(target, config.redisCommandTimeoutMs);
  try {
    await connectWithin(roomsRedis, config.redis);
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    store,
    directory: new RedisRoomDirectory(roomsRedis, config.redisPrefix, config.storeRetryAfterMs),
    broker: new RedisBroker(roomsRedis, { url: target, prefix: config.redisPrefix, ringSize: config.resumeRingSize, retryAfterMs: config.storeRetryAfterMs, sequencerLeaseMs: config.sequencerLeaseMs }),
    nodes: new RedisNodeDirectory(roomsRedis, config.redisPrefix, config.storeRetryAfterMs),
    origins: new RedisMediaOriginDirectory(roomsRedis, config.redisPrefix, config.storeRetryAfterMs),
    recordings: new RedisRecordingDirectory(roomsRedis, config.redisPrefix, config.storeRetryAfterMs),
    // Off the store's connection: a delivery's claim must not wait behind a flash sale's reservations.
    outbox: webhooks ? new RedisWebhookOutbox(roomsRedis, { prefix: config.redisPrefix, logSize: config.webhookLogSize, retryAfterMs: config.storeRetryAfterMs }) : undefined,
    reminders: new RedisReminderDirectory(roomsRedis, config.redisPrefix, { cluster: target.cluster, retryAfterMs: config.storeRetryAfterMs }),
    inbox: new RedisShowNoticeInbox(roomsRedis, config.redisPrefix, config.storeRetryAfterMs),
    notices: new RedisUserNotices(roomsRedis, { target, prefix: config.redisPrefix, retryAfterMs: config.storeRetryAfterMs }),
    giveaways: new RedisGiveawayStore(store.redis, { prefix: config.redisPrefix, retryAfterMs: config.storeRetryAfterMs, recordTtlMs: config.idempotencyTtlMs }),
  };
}

/**
 * Wires the parts together: the one place that picks concrete classes. Reads as the plan of the
 * process: create the parts (each gets what it calls through its constructor), connect the ones
 * that hear another's events, start, listen; `close` stops them in reverse order.
 */
export async function startServer(input: ConfigInput | Config = {}, log?: Logger): Promise<RunningServer> {
  const config = Object.isFrozen(input) ? (input as Config) : makeConfig(input);
  const logger = log ?? createLogger(config);

  // ---------------------------------------------------------------- create
  const tokens = new TokenService(config.tokenSecret, config.tokenTtlSec);
  const { store, directory, broker, nodes, origins, recordings, outbox, reminders, inbox, notices, giveaways: giveawayStore } = await createBackends(config);
  // Nodes of one deployment share the token secret; in dev mode (a random one) nodes cannot call each other.
  const nodeSignature = new NodeSignature(config.tokenSecret ?? randomBytes(32).toString('base64url'));
  const app = createApp();
  const metrics = new Metrics({ maxRoomSeries: config.metricsMaxRooms, token: config.metricsToken });
  const guard = new ProcessGuard({ protectRssMb: config.protectRssMb, protectEventLoopMs: config.protectEventLoopMs, windowMs: 500 });
  // Every per-turn queue of deferred work steps aside while a small room's event waits for its seq
  // from Redis. In memory mode the seq is issued in the call: nothing to wait for, so it is off.
  const replyPriority = new ReplyPriority(config.redis === undefined ? 0 : config.replyPriorityMs);
  const { schedule } = replyPriority;
  const fanout = new Fanout({ publish: (topic, frame) => app.publish(topic, frame, true) }, {
    sampledCommentsPerSecond: config.sampledCommentsPerSecond, shardSize: config.fanoutShardSize, deliveriesPerTurn: config.fanoutDeliveriesPerTurn, turnTargetMs: config.fanoutTurnTargetMs, maxWaitingFrames: config.fanoutMaxWaitingFrames,
  }, Date.now, schedule);
  const teller = new PositionTeller(config.admissionProgressFramesPerTurn, config.admissionProgressMs, schedule);
  const admissionLog = logger.child({ part: 'admission' });
  const admission = config.admission
    ? new AdmissionController({
        store,
        teller,
        options: {
          queueLimit: config.admissionQueueLimit, productQueueLimit: config.admissionProductQueueLimit, maxWaitMs: config.admissionMaxWaitMs,
          batchMax: config.admissionBatchMax, initialLimit: config.admissionInitialLimit, minLimit: config.admissionMinLimit, maxLimit: config.admissionMaxLimit,
          progressIntervalMs: config.admissionProgressMs, retryJitterMs: config.admissionRetryJitterMs, soldOutCacheMs: config.admissionSoldOutCacheMs, soldOutAnswersPerTurn: config.admissionSoldOutAnswersPerTurn,
          requestsPerTurn: config.admissionRequestsPerTurn,
        },
        observer: metrics.admissionObserver,
        schedule,
        trackReply: (reply) => replyPriority.track(reply),
        // Every quarter of what puts a room at level 1, its degrade level is checked at once: a flash sale's queue is no noise.
        backlogEvery: Math.max(1, Math.floor((config.degradeQueueFill * config.admissionQueueLimit) / 4)),
        onListenerError: (error, event) => admissionLog.error({ err: error, event }, 'an admission listener threw'),
        // An operator's limit for the room, the same on every node (set before any request comes).
        queueLimits: (roomId) => rooms.queueLimitOf(roomId),
        // A buyer banned while their request waited is refused at its turn, on whichever node it waits.
        turnRefusal: (scope, roomId, userId) => rules.refusalAtTurn(scope, roomId, userId),
      })
    : undefined;
  const gate: CartGate = admission ?? new DirectGate(store);
  const roomsLog = logger.child({ part: 'rooms' });
  const lifecycle = new RoomLifecycle(roomsLog);
  // The giveaway and commerce services come later (they publish through the rooms): hosting a room asks the one for the card, a sold-out is told to the other.
  const rooms = new RoomRegistry({
    config, broker, directory, store, fanout, lifecycle, stockWatcher: gate, replyPriority, log: roomsLog,
    giveawayCards: (roomId: string): Promise<GiveawayCard | null> => giveaways.welcomeCard(roomId),
    soldOutHeard: (scope, sku) => commerce.soldOutHeard(scope, sku),
    comeBackHeard: (scope, sku) => commerce.comeBackHeard(scope, sku),
  });
  const shopLinks = new ShopLinks({ directory, freshMs: config.shopLinksFreshMs, keep: config.shopShowsKept, log: roomsLog });
  const rules = new RoomRules({ registry: rooms, directory, broker, replaySales: config.replaySales, log: roomsLog, links: shopLinks });
  const shops = new ShopWindows({ registry: rooms, directory, store, links: shopLinks, options: config, log: roomsLog });
  const webhooks = outbox === undefined || config.webhookUrl === undefined || config.webhookSecret === undefined ? undefined : new WebhookDispatcher({
    outbox,
    options: {
      url: config.webhookUrl, secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, maxAttempts: config.webhookMaxAttempts,
      retryBaseMs: config.webhookRetryBaseMs, retryMaxMs: config.webhookRetryMaxMs, concurrency: config.webhookConcurrency, pollMs: config.webhookPollMs,
    },
    log: logger.child({ part: 'webhooks' }),
  });
  const commerceLog = logger.child({ part: 'commerce' });
  /** The pin is its scope's: the pinning room hears it first (its seq is the answer), then the scope's other rooms. */
  const announceCoupon = (scope: string, roomId: string, pinned: PinnedCoupon): Promise<number> => {
    const event = { t: 'coupon', card: pinned.card, version: pinned.version } as const;
    const seq = rooms.emit(roomId, event);
    rules.forScope(scope, (id) => {
      if (id !== roomId) rooms.emit(id, event).catch((error: unknown) => commerceLog.warn({ err: error, roomId: id }, 'coupon card announcement failed'));
    });
    return seq;
  };
  const coupons = new CouponService({
    store,
    rooms: { canModerate: (principal, roomId) => rules.canModerate(principal, roomId), assertRoom: (roomId, check) => rules.assertRoom(roomId, check), announceCoupon: (scope, roomId, pinned) => announceCoupon(scope, roomId, pinned), scopeOf: (roomId) => rules.scopeOf(roomId) },
    options: { maxCouponsPerRoom: config.maxCouponsPerRoom, stockIntervalMs: config.stockIntervalMs, pinnedCacheMs: 5000, cardReadMs: 1000 },
    log: commerceLog,
  });
  const commerce: CommerceService = new CommerceService({
    store, rooms: rules, options: config, gate, log: commerceLog, observer: metrics.cartObserver, orders: { placed: (order) => orders.placed(order) }, coupons,
  });
  // Dev mode pays every order as a demo unless told otherwise: the pages say so.
  const orders = new OrderService({ store, rooms: rules, stock: commerce, webhooks, options: { demoPayments: config.demoPayments ?? config.tokenSecret === undefined }, log: commerceLog });
  const giveaways = new GiveawayService({
    giveaways: giveawayStore,
    store,
    rooms: {
      canModerate: (principal, roomId) => rules.canModerate(principal, roomId), assertRoom: (roomId, check) => rules.assertRoom(roomId, check), scopeOf: (roomId) => rules.scopeOf(roomId),
      publishState: (roomId, update) => rooms.publishState(roomId, update), notifyUser: (roomId, userId, message) => rules.notifyUser(roomId, userId, message),
    },
    options: { entrantsIntervalMs: config.stockIntervalMs, ordersLookedAt: config.ordersPerUser, maxEntrants: config.giveawayMaxEntrants },
    orders: { placed: (order) => orders.placed(order) },
    stock: commerce,
    log: commerceLog,
  });
  // Auctions beside the room's stock (on Redis, on the store's connection: bids come in a burst, as adds do).
  const auctionStore: AuctionStore = store instanceof RedisStore
    ? new RedisAuctionStore(store.redis, { prefix: config.redisPrefix, historyKept: config.auctionHistoryKept, retryAfterMs: config.storeRetryAfterMs })
    : new MemoryAuctionStore(config.auctionHistoryKept);
  const auctions = new AuctionService({
    auctions: auctionStore,
    store,
    rooms: {
      canModerate: (principal, roomId) => rules.canModerate(principal, roomId), assertRoom: (roomId, check) => rules.assertRoom(roomId, check), scopeOf: (roomId) => rules.scopeOf(roomId),
      roomInfo: (roomId) => rules.roomInfo(roomId), publishState: (roomId, update) => rooms.publishState(roomId, update), emit: (roomId, event) => rooms.emit(roomId, event),
      notifyUser: (roomId, userId, message) => rules.notifyUser(roomId, userId, message),
    },
    options: { cardIntervalMs: config.stockIntervalMs, settleGraceMs: config.auctionSettleGraceMs, followUpLeaseMs: config.auctionFollowUpLeaseMs, reservationTtlMs: config.reservationTtlMs, labelSecret: config.tokenSecret ?? randomBytes(16).toString('hex') },
    stock: commerce,
    pressure: (scope) => admission?.pressureOf(scope).queueFill ?? 0,
    log: commerceLog,
  });
  rooms.auctionCard = (roomId) => auctions.currentCard(roomId);
  const desk = new CartDesk({ store, gate, rules: commerce, reservationTtlMs: config.reservationTtlMs, entries: giveaways, bids: auctions });
  const commands = new RoomCommands({ config, registry: rooms, directory, store, broker, commerce, log: roomsLog, shops });
  const shows = new ShowService({ config, directory, registry: rooms, reminders, inbox, notices, log: roomsLog });
  const replays = new ReplayService({ registry: rooms, directory, recordings, store, onSale: config.replaySales });
  const likes = new RoomLikes({ registry: rooms, directory, intervalMs: config.likeIntervalMs, log: roomsLog });
  const degrade = new DegradeMonitor({
    rooms,
    fanout,
    // A show linked to its shop waits in the shop's queue.
    pressure: admission && { pressureOf: (roomId: string) => admission.pressureOf(commerceScopeOf(rooms.hosted(roomId)?.info ?? { id: roomId })) },
    eventLoopDelayMs: () => guard.sustainedEventLoopDelayMs,
    options: {
      checkMs: config.degradeCheckMs, softBufferBytes: config.softBufferBytes, noticeIntervalMs: config.degradeNoticeIntervalMs,
      thresholds: {
        eventLoopDelayMs: config.degradeEventLoopMs, viewerLagMs: config.degradeLagMs, backloggedShare: config.degradeBackloggedShare,
        queueFill: config.degradeQueueFill, storeLatencyMs: config.degradeStoreLatencyMs, downAfterMs: config.degradeDownAfterMs,
      },
    },
    log: logger.child({ part: 'degrade' }),
  });
  const media = await MediaService.start(config, rules, logger.child({ part: 'media' }), availableParallelism(), {
    nodeId: rooms.nodeId, origins, notices: broker, link: new MediaPipeClient(nodeSignature, config.mediaPipeTimeoutMs), recordings,
  });
  const streamKeys = new StreamKeys({ secret: config.tokenSecret, directory, rooms: rules });
  const whip = new WhipIngest(media, { connectTimeoutMs: config.whipConnectTimeoutMs, maxIncomingBitrate: config.mediaMaxIncomingBitrate }, logger.child({ part: 'whip' }));
  const gateway = new WsGateway(app, { config, tokens, rooms, requests: routeRequests(commands, likes, desk, media, coupons, giveaways, auctions), guard, schedule, log: logger.child({ part: 'ws' }) });
  const drain = new NodeDrain({ gateway, graceMs: config.shutdownGraceMs, log: logger.child({ part: 'drain' }) });
  const registry = new NodeRegistry({
    directory: nodes,
    nodeId: rooms.nodeId,
    sources: { rooms, gateway, guard, admission, drain },
    options: { heartbeatMs: config.nodeHeartbeatMs, downAfterBeats: config.nodeDownAfterBeats, forgetAfterBeats: config.nodeForgetAfterBeats, maxRooms: config.nodeRecordMaxRooms },
    log: logger.child({ part: 'registry' }),
  });

  // ---------------------------------------------------------------- connect
  lifecycle.on('hosted', (room) => degrade.hosted(room));
  lifecycle.on('settingsChanged', (room) => degrade.settingsChanged(room));
  lifecycle.on('ended', (roomId) => {
    media.stopStream(roomId, 'the show has ended');
    // An encoder may publish on a node where nobody is in the room (it hears no end): its node is told.
    media.stopStreamEverywhere(roomId, 'the show has ended').catch((error: unknown) => logger.warn({ err: error, roomId }, 'the ended show\'s stream could not be stopped on its node'));
  });
  lifecycle.on('mediaChanged', (roomId) => media.originChanged(roomId));
  // A stream published from outside a socket (WHIP, RTMP, RTP ingest) into a room nobody here was
  // in heard no end: the room's first member here finds it ended, and the stream stops then.
  lifecycle.on('hosted', (room) => {
    if (room.info.state === 'ended') media.stopStream(room.id, 'the show has ended');
  });
  if (admission !== undefined) lifecycle.forgetWhenUnhosted(admission);
  lifecycle.forgetWhenUnhosted(commerce);
  lifecycle.forgetWhenUnhosted(coupons);
  lifecycle.forgetWhenUnhosted(giveaways);
  lifecycle.forgetWhenUnhosted(auctions);
  lifecycle.forgetWhenUnhosted(shopLinks);
  admission?.events.on('backlog', () => degrade.checkSoon());
  degrade.events.on('levelChanged', ({ roomId, level }) => media.setDegradeLevel(roomId, level));
  // A socket's user hears the go-live notices they missed while away, right after its welcome.
  lifecycle.on('joined', (member) => void shows.joined(member));
  commands.showWentLive = (room) => {
    shows.wentLive(room).catch((error: unknown) => roomsLog.warn({ err: error, roomId: room.id }, 'the show\'s reminders could not be sent'));
  };

  // ---------------------------------------------------------------- routes
  const router = new JsonRouter(app, tokens, config.maxHttpBodyBytes, logger.child({ part: 'http' }));
  const httpDesk = pacedDesk(desk, new TokenBucketLimiter(config.httpCartRate, config.httpCartBurst, config.rateLimiterMaxKeys));
  registerHttpApi(router, { tokens, rooms: commands, commerce, desk: httpDesk });
  registerModerationHttpApi(router, { moderation: commands.moderation });
  registerCouponsHttpApi(router, { coupons, desk: httpDesk });
  registerGiveawaysHttpApi(router, { giveaways, desk: httpDesk });
  registerAuctionsHttpApi(router, { auctions, desk: httpDesk });
  registerShopHttpApi(router, { shops, commerce });
  registerOrdersHttpApi(router, { orders, outbox, limits: config, webhookUrl: config.webhookUrl });
  registerShowsHttpApi(router, { shows });
  registerMediaHttpApi(router, { rooms: rules, media, streamKeys, urls: { publicUrl: config.publicUrl, rtmpPort: config.rtmpPort } });
  registerMediaPipeApi(router, { pipes: media.pipes, signature: nodeSignature });
  registerWhipHttpApi(router, { whip, streamKeys, rooms: rules });
  metrics.watch({ gateway, fanout, rooms, degrade, guard, admission, media, broker, webhooks, encoders: { get whipSessions() { return whip.size; }, get rtmpRelays() { return rtmp?.relays ?? 0; } } });
  // Live renditions and recordings other nodes hold are fetched through one proxy, one segment cache.
  const mediaFiles = new MediaFileProxy({ nodeId: rooms.nodeId, timeoutMs: config.hlsProxyTimeoutMs, cacheEntries: config.hlsProxyCacheEntries }, logger.child({ part: 'hls-http' }));
  registerHlsHttpApi(app, { hls: media.hls, nodeId: rooms.nodeId, origins, proxy: mediaFiles });
  registerReplayHttpApi(router, { replays, local: media.recordings, recordings, nodeId: rooms.nodeId, proxy: mediaFiles });
  registerOpsApi(router, {
    rooms, admission, guard, gateway, fanout, store, metrics, media, broker,
    perRoomState: { rooms, likes, admission, commerce, fanout, media, auctions, degrade },
    drain,
  });
  registerDrainApi(router, drain, config.drainWindowMs);
  registerClusterOpsApi(router, { registry, commands, degrade, admission, broker, giveaways, auctions });
  new StaticFiles(undefined, logger.child({ part: 'web' })).register(app);
  router.notFound();

  // ---------------------------------------------------------------- start
  // Before the node takes requests: a show started through it must reach its own sockets too.
  await notices.start();
  shows.start();
  degrade.start();
  const rtmp = config.rtmpPort === 0 ? undefined : await RtmpIngest.start({
    host: config.host, port: config.rtmpPort, maxConnections: config.rtmpMaxConnections, publishTimeoutMs: config.rtmpPublishTimeoutMs,
    maxMessageBytes: config.rtmpMaxMessageBytes, videoBitrate: config.rtmpVideoBitrate, ffmpegBin: config.rtmpFfmpegBin,
  }, { media, streamKeys, rooms: rules }, logger.child({ part: 'rtmp' }));
  const listener = await listen(app, config.host, config.port);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const nodeUrl = config.publicUrl ?? `http://${advertisedHost(config.host)}:${listener.port}`;
  registry.start(nodeUrl);
  media.listening(nodeUrl);
  webhooks?.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // ------------------------------------------------------------ stop, in reverse
    listener.close();
    // The node's record goes while Redis is still at hand: operators see it gone at once.
    const unregistered = registry.close();
    drain.close();
    gateway.shutdown();
    rtmp?.close();
    const webhooksStopped = webhooks?.close();
    media.close();
    degrade.close();
    shows.close();
    likes.close();
    commerce.close();
    coupons.close();
    giveaways.close();
    auctions.close();
    rooms.close();
    gate.close();
    guard.close();
    metrics.close();
    await unregistered;
    await webhooksStopped;
    await notices.close();
    await broker.close();
    await directory.close();
    await giveawayStore.close();
    await auctionStore.close();
    await store.close();
  };
  return {
    config,
    port: listener.port,
    url: `http://${host}:${listener.port}`,
    wsUrl: `ws://${host}:${listener.port}/ws`,
    tokens,
    rooms,
    commands,
    lifecycle,
    degrade,
    registry,
    commerce,
    orders,
    shows,
    webhooks,
    desk,
    giveaways,
    store,
    gateway,
    drain,
    fanout,
    guard,
    admission,
    media,
    whip,
    rtmp,
    metrics,
    log: logger,
    mintToken: ({ userId, name, role }) => tokens.mint({ userId, name, role }),
    close,
    drainAndClose: async () => {
      drain.start(config.drainWindowMs);
      const windowEndsAt = drain.windowEndsAt!;
      // A drain an operator started long ago still gives what is in flight its grace.
      const deadline = Math.max(windowEndsAt, Date.now()) + config.shutdownGraceMs;
      await drain.whenDrained(deadline);
      // The load balancer gets the whole window to see /readyz answer 503 before the port goes.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, windowEndsAt - Date.now())));
      listener.close();
      await router.whenIdle(deadline);
      await close();
    },
  };
}

/** The host other machines reach a node at when it listens on every interface: the machine's name. */
function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return hostname();
  return host.includes(':') ? `[${host}]` : host;
}
