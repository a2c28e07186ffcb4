import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * Every setting and every limit of the server, in one zod schema. Parsed once from (lowest to
 * highest precedence) defaults, an optional JSON file, `LIVECART_*` env vars and CLI flags, then
 * frozen. No other file reads `process.env`.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ipAddress = z.string().refine((v) => isIP(v) !== 0, 'an IPv4 or IPv6 address');
/** A folder the server writes in: absolute, never the root. */
const folderPath = z.string().refine((p) => isAbsolute(p), 'an absolute path').refine((p) => resolve(p) !== '/', 'not the root folder').refine((p) => !p.includes('\0'), 'no NUL character');
const bool = z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());

const configSchema = z.object({
  host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on (0.0.0.0 for all).'),
  port: int(0, 65535).default(8080).describe('TCP port for HTTP and WebSocket (0 = any free port).'),
  tokenSecret: z.string().min(16).optional().describe('HS256 secret for tokens, at least 16 characters. Unset = dev mode: a random secret, demo tokens printed, /api/dev/token enabled.'),
  tokenTtlSec: int(60, 30 * 86400).default(86400).describe('Lifetime of tokens the server mints (demo and dev tokens).'),
  demoRoom: bool.default(true).describe('In dev mode, create a live "demo" room with two products at start.'),
  maxFrameBytes: int(256, 1 << 20).default(16 * 1024).describe('Largest WebSocket frame accepted; larger closes with 4504. Above 4x, uWS drops the connection without a close frame: the client sees 1006.'),
  maxHttpBodyBytes: int(256, 1 << 20).default(64 * 1024).describe('Largest HTTP request body accepted (413 above).'),
  helloTimeoutMs: int(100, 60_000).default(5000).describe('Time a new socket has to send `hello` before it is closed with 4002.'),
  idleTimeoutSec: int(8, 960).default(60).describe('uWS idle timeout; the server pings idle sockets automatically.'),
  maxFramesPerSecond: int(1, 100_000).default(50).describe('Frames a socket may send per second before it is closed with 4003.'),
  commentMaxLength: int(1, 2000).default(300).describe('Longest comment, in characters (Unicode code points: an emoji such as 😀 is one).'),
  commentRate: z.coerce.number().positive().max(1e9).default(1).describe('Comments per second each user may post in a room (token bucket refill).'),
  commentBurst: int(1, 1e9).default(5).describe('Comments a user may post at once before the rate applies (token bucket size).'),
  historyLength: int(0, 500).default(50).describe('Recent comments a newcomer gets in `welcome`.'),
  resumeRingSize: int(16, 1_000_000).default(2048).describe('Sequenced events a room keeps for resume; older resumes get a "history lost" snapshot.'),
  likeIntervalMs: int(16, 60_000).default(250).describe('A room\'s like counter is broadcast at most once per interval.'),
  viewerCountIntervalMs: int(100, 60_000).default(1000).describe('A room\'s viewer count is broadcast at most once per interval.'),
  forgetIdleRoomsMs: int(1000, 86_400_000).default(60_000).describe('What this node keeps for a room it does not host (admission counters, stock news of HTTP cart requests) goes after this long without a request.'),
  softBufferBytes: int(1024, 1 << 30).default(256 * 1024).describe('Outbound bytes buffered for a socket above which it is dropped from the chatter lane (back at half).'),
  hardBufferBytes: int(4096, 1 << 30).default(4 * 1024 * 1024).describe('Outbound bytes buffered for a socket above which it is closed with 4001 (slow consumer).'),
  backpressureScanMs: int(10, 10_000).default(200).describe('How often each socket\'s buffer is checked against the soft and hard caps (the sockets are checked an eighth at a time, so a sweep of a big node never holds the loop at once).'),
  maxRooms: int(1, 1_000_000).default(10_000).describe('Rooms this node holds at most.'),
  maxProductsPerRoom: int(1, 100_000).default(500).describe('Products in one room\'s catalog at most.'),
  maxMembersPerRoom: int(1, 10_000_000).default(100_000).describe('Sockets in one room on this node at most.'),
  maxSocketsPerUser: int(1, 10_000_000).default(10).describe('Sockets one user (one token\'s sub) may have in one room on this node at once, order followers included; one more is refused with ROOM_FULL (close 4004), so one client cannot take the room\'s seats, its viewer count or its cart queue from the others.'),
  maxMutedPerRoom: int(1, 1_000_000).default(10_000).describe('Muted or kicked users remembered per room at most.'),
  kickBanMs: int(0, 7 * 86400_000).default(600_000).describe('How long a kicked user may neither rejoin the room nor use its cart (a moderator may lift the ban sooner).'),
  maxModeratorsPerRoom: int(0, 1000).default(20).describe('Moderators a streamer may appoint per room at most.'),
  maxFilterWords: int(0, 1000).default(200).describe('Words in a room\'s keyword filter at most (TikTok LIVE allows 200).'),
  filterWordMaxLength: int(1, 64).default(30).describe('Longest word of a room\'s keyword filter, in characters.'),
  helloRate: int(1, 1e9).default(2).describe('Hellos one user may send per second on this node (token bucket refill): each welcome carries the room\'s catalog, so a client reconnecting in a loop would have the node encode and send it without end. Past it the hello is refused with RATE_LIMITED and close 4004, with a retry-after.'),
  helloBurst: int(1, 1e9).default(20).describe('Hellos one user may send at once before --hello-rate applies (token bucket size): every tab of theirs reconnecting after a restart.'),
  httpCartRate: int(1, 1e9).default(50).describe('Cart requests (adds, cart changes, checkouts, claims, entries, bids, cart reads) one user may send over HTTP per second on this node (token bucket refill; a socket is capped by --max-frames-per-second instead); past it RATE_LIMITED (429) with a retry-after, and the store is not asked.'),
  httpCartBurst: int(1, 1e9).default(100).describe('Cart requests one user may send over HTTP at once before --http-cart-rate applies (token bucket size).'),
  rateLimiterMaxKeys: int(1000, 100_000_000).default(1_000_000).describe('Users tracked by each rate limiter (comments, hellos, HTTP cart requests) at most (idle ones are pruned first).'),
  redis: z.string().regex(/^rediss?:\/\/[^,\s]+(,\s*rediss?:\/\/[^,\s]+)*$/, 'a redis:// or rediss:// URL, or several comma-separated (a cluster\'s seed nodes)').optional().describe('Redis URL. Set: inventory, carts and orders live in Redis and several nodes can serve the same rooms. Several comma-separated URLs are seed nodes of a Redis Cluster. Unset: embedded in-memory store, single node.'),
  redisCluster: bool.default(false).describe('The Redis at --redis is a Redis Cluster (implied by several URLs): each room\'s keys live in one slot, and room events use sharded pub/sub (Redis 7).'),
  orderReplicas: int(0, 16).optional().describe('Replicas that must hold an order before its buyer is told `ordered` (Redis WAIT); a buyer otherwise hears UNAVAILABLE and retries (the retry answers the same order). Default: 1 on a Redis Cluster, 0 on one Redis.'),
  orderReplicaTimeoutMs: int(10, 60_000).default(500).describe('How long a checkout waits for --order-replicas to confirm the order.'),
  redisPrefix: z.string().regex(/^[A-Za-z0-9_:.-]+$/).min(1).max(64).default('livecart').describe('Namespace for every Redis key and channel, so deployments and test runs can share one Redis.'),
  sequencerLeaseMs: int(0, 600_000).default(3000).describe('With Redis: a node hosting a room takes the room\'s sequencer lease for this long (renewed while it holds it) when no other node holds it (as it starts hosting the room, or as it publishes there), and issues the room\'s seqs itself: its sockets get an event in the turn that made it, instead of a Redis round trip later (the log append follows, fenced on the lease). Another node publishing in the room asks it to let go first, and waits at most this long if the holder died. 0 = every seq from Redis.'),
  publicUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http:// or https:// URL').optional().describe('The address operators (and the other nodes\' consoles) reach this node at, shown in the node registry. Unset = http://HOST:PORT as it listens (the machine\'s host name when --host is 0.0.0.0).'),
  nodeHeartbeatMs: int(100, 60_000).default(1000).describe('How often a node writes its record (health, rooms, load) into the node registry (Redis, or memory on a single node).'),
  nodeDownAfterBeats: int(2, 1000).default(3).describe('A node whose record is older than this many of its heartbeat intervals shows as down in the registry.'),
  nodeForgetAfterBeats: int(3, 100_000).default(60).describe('A node whose record is older than this many of its heartbeat intervals is dropped from the registry (a node that stops cleanly drops its record at once).'),
  nodeRecordMaxRooms: int(0, 100_000).default(200).describe('Hosted rooms a node lists in its registry record at most (most viewers first); the rest are counted as omitted. Bounds the record each heartbeat writes.'),
  redisCommandTimeoutMs: int(10, 60_000).default(1000).describe('A Redis command slower than this fails as UNAVAILABLE (retry after) instead of hanging.'),
  storeRetryAfterMs: int(10, 60_000).default(1000).describe('Retry-after told to clients while the store is unreachable.'),
  reservationTtlMs: int(1000, 24 * 3600_000).default(600_000).describe('How long add-to-cart holds stock before it returns by itself.'),
  sweepIntervalMs: int(50, 60_000).default(1000).describe('How often expired reservations are returned to stock (and owners told).'),
  sweepBatch: int(1, 100_000).default(1000).describe('Expired reservations released per sweep at most.'),
  idempotencyTtlMs: int(1000, 7 * 86400_000).default(86_400_000).describe('How long the first answer to an idempotency key is remembered.'),
  maxIdempotencyKeys: int(1000, 100_000_000).default(1_000_000).describe('Idempotency records the in-memory store keeps at most (oldest dropped first).'),
  memoryMaxOrders: int(1000, 100_000_000).default(1_000_000).describe('Orders the in-memory store holds at most; beyond, checkout answers UNAVAILABLE (use Redis).'),
  stockIntervalMs: int(16, 60_000).default(250).describe('A product\'s stock is broadcast at most once per interval (sold out is not held back by it).'),
  degradedStockIntervalMs: int(16, 60_000).default(1000).describe('The stock interval of a room at degrade level 2 or 3 (chatter off): during a burst every stock update costs a socket write per viewer. Sold out is not held back by it.'),
  admission: bool.default(true).describe('Admission controller between cart requests and the store (queues, adaptive limit, batching). false = every request straight to the store (for comparison only).'),
  admissionQueueLimit: int(0, 1_000_000).default(5000).describe('Cart requests one room may have waiting; beyond, OVERLOADED with retry-after.'),
  admissionProductQueueLimit: int(1, 1_000_000).default(5000).describe('Cart requests for one product of a room waiting at most.'),
  admissionMaxWaitMs: int(10, 60_000).default(1500).describe('A cart request that waited longer since it arrived, in its room\'s queue, is answered OVERLOADED (retry) instead of being served late.'),
  admissionBatchMax: int(1, 4096).default(128).describe('Add-to-carts of one room sent to the store in one call at most.'),
  admissionInitialLimit: int(1, 4096).default(4).describe('Concurrent store calls at start; then adapted from store latency.'),
  admissionMinLimit: int(1, 4096).default(1).describe('Concurrent store calls at least.'),
  admissionMaxLimit: int(1, 4096).default(64).describe('Concurrent store calls at most.'),
  admissionProgressMs: int(50, 60_000).default(500).describe('How often queued clients are told their position in their room\'s queue and an estimate.'),
  admissionProgressFramesPerTurn: int(1, 1_000_000).default(64).describe('Position notices (`queued` frames) sent per event-loop turn at most; a notice goes out only when it is new to the client (its first, or a place at least a fifth closer to the front).'),
  admissionRetryJitterMs: int(0, 60_000).default(1000).describe('Random spread added to every retry-after, so rejected clients do not return together.'),
  admissionSoldOutAnswersPerTurn: int(1, 1_000_000).default(64).describe('Answers to add-to-carts of sold-out products written per event-loop turn at most (they skip the queue and the concurrency limit, and the store answers each from its record; each answer is a socket write).'),
  admissionSoldOutCacheMs: int(0, 60_000).default(1000).describe('Once a product is known sold out, its add-to-carts skip the room\'s queue for this long and go to the store at once in batches (each key\'s recorded answer wins there; a product back in stock is reserved as usual).'),
  lagDemoteMs: int(100, 600_000).default(3000).describe('A socket whose acks show it this far behind what the node sent it is dropped from chatter (back when under half), even if its uWS buffer looks small. An ack acts on its own socket only: it never moves the room\'s degrade level.'),
  sampledCommentsPerSecond: int(1, 100_000).default(20).describe('Comments per second a room\'s viewers get at degrade level 1.'),
  degradeCheckMs: int(50, 60_000).default(250).describe('How often each room\'s degrade level is re-evaluated.'),
  degradeEventLoopMs: int(1, 600_000).default(100).describe('Event-loop delay p99 that puts the rooms holding a large share of the node\'s sockets at degrade level 1 (level 2 at 2x, 3 at 4x), once it lasted two 500 ms windows in a row: one long pause (a GC, one big write) does not count.'),
  degradeLagMs: int(10, 600_000).default(1000).describe('Fan-out lag that puts a room at level 1 (2 at 2x, 3 at 4x): how long the room\'s broadcasts wait on this node before they are written to its sockets (the value 90 % of the sockets are within), measured by the node itself. Clients\' acks do not count.'),
  degradeBackloggedShare: z.coerce.number().gt(0).max(1).default(0.5).describe('Share of a room\'s users (each counted once) all of whose sockets are past the soft buffer cap that puts it at level 1 (2 at 2x, 3 at 4x): by default half, so a minority that stops reading only loses its own chatter.'),
  degradeQueueFill: z.coerce.number().gt(0).max(1).default(0.1).describe('Queue fill (cart requests waiting in the room\'s queue, over the admission queue limit) that puts a room at level 1 (2 at 2x, 3 at 4x): with the default limit, 500 / 1,000 / 2,000 waiting requests.'),
  degradeStoreLatencyMs: int(1, 600_000).default(100).describe('Store latency p99 that puts a room at level 1 (2 at 2x, 3 at 4x).'),
  degradeDownAfterMs: int(0, 600_000).default(5000).describe('Signals must stay below a level this long before a room steps down one level.'),
  degradeNoticeIntervalMs: int(0, 600_000).default(3000).describe('A room\'s sockets on a node hear its degrade level at most once per interval, the newest level winning (none if it came back to the level they last heard): in a big room every notice costs a socket write per viewer, and a burst moves the level several times. `welcome` always carries the level of the moment.'),
  protectRssMb: int(64, 1_000_000).default(8192).describe('Above this RSS the node refuses new connections (HTTP 503, Retry-After); existing rooms keep working.'),
  protectEventLoopMs: int(10, 600_000).default(1000).describe('Above this event-loop delay p99 the node refuses new connections.'),
  admissionRequestsPerTurn: int(1, 100_000).default(64).describe('Cart requests sent to the store per event-loop turn at most, rooms taking turns (their answers are written right after the turn, so this bounds it).'),
  inboundTurnBudgetMs: z.coerce.number().positive().max(1000).default(2).describe('Viewers\' frames of a room at degrade level 1 or above are read at once but decoded and handled later, this much of them per event-loop turn: a burst\'s clumps of taps then cost the turn their reads only, and a small room\'s frame read in the same turn waits less. Streamers\' and operators\' frames are never held.'),
  inboundMaxHoldMs: int(1, 60_000).default(250).describe('A viewer\'s frame held for a later turn (see --inbound-turn-budget-ms) is handled past the turn budget once it has waited this long: the budget counts CPU per turn, and when turns are slow (a loaded or shared core) held taps would otherwise wait past --admission-max-wait-ms, which counts from the read, and a burst would be answered OVERLOADED whole while the store idles.'),
  replyPriorityMs: z.coerce.number().min(0).max(1000).default(2).describe('While a small room\'s event waits for its seq from Redis, or a reservation batch for Redis\'s answer, the turn\'s deferred work (fan-out pacing, held frames, cart requests, notices) steps aside for at most this long, so the reply is read at the next poll instead of after that work: the comment reaches its room, and the last units of a flash sale are known taken, about a turn sooner. 0 = never step aside. No effect in memory mode.'),
  inboundMaxDeferred: int(0, 10_000_000).default(100_000).describe('Frames held for later turns at most (all rooms); past it a socket with no frame held has its frames handled at once (one with frames held keeps holding, to keep its order; each socket is capped by --max-frames-per-second). 0 = never hold.'),
  fanoutShardSize: int(1, 1_000_000).default(256).describe('Sockets of a room per fan-out shard topic: a big room\'s frame goes out shard by shard, so it can spread over event-loop turns.'),
  fanoutDeliveriesPerTurn: int(1, 100_000_000).default(2048).describe('Socket writes of room broadcasts per event-loop turn at most (at least one shard; while a backlog lasts the budget adapts below this to --fanout-turn-target-ms); the rest waits for the next turn, rooms taking turns, so one big room\'s broadcast cannot hold up the small rooms\' frames.'),
  fanoutTurnTargetMs: int(1, 10_000).default(10).describe('The event-loop turn length the fan-out budget adapts to while a big room\'s broadcasts are waiting: when reads of a burst make turns longer, fewer broadcast writes go per turn (down to one shard), so the small rooms\' frames keep going out within about one such turn.'),
  fanoutMaxWaitingFrames: int(1, 1_000_000).default(1024).describe('Broadcast frames one room may have waiting for later event-loop turns; past it the room\'s backlog goes out at once (nothing is dropped; memory stays bounded).'),
  drainWindowMs: int(0, 3_600_000).default(10_000).describe('Draining (on SIGTERM, or POST /api/ops/drain): the node refuses new sockets, /readyz turns 503, and its open sockets are closed with 4006 MOVED spread evenly over this window, so their clients reconnect to the other nodes gradually, not all at once; each socket first gets the answers to the requests it sent. On SIGTERM the node exits at the end of the window. 0 = all at once.'),
  shutdownGraceMs: int(0, 60_000).default(1000).describe('After the drain window, how long sockets still waiting for answers to their requests, and HTTP requests, are given before the node closes what is left (and, on SIGTERM, exits). On SIGINT: time between closing sockets with 4000 and exiting.'),
  metricsToken: z.string().min(16).optional().describe('Bearer token GET /metrics requires, at least 16 characters. Unset = /metrics is open to anyone who can reach the port (keep it on an internal network).'),
  metricsMaxRooms: int(0, 100_000).default(100).describe('Hosted rooms (most members first) that get their own series on /metrics; the rest are counted in livecart_room_series_omitted.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  media: bool.default(true).describe('WebRTC video through mediasoup workers. false = no video (comments and cart only). When true but no worker can start, the server runs without video and says so in its log, /readyz and to streamers.'),
  mediaWorkerBin: z.string().min(1).optional().describe('Path of the mediasoup-worker binary. Unset = the one `npm install` builds and installs into node_modules/mediasoup (scripts/mediasoup-worker.sh).'),
  mediaWorkers: int(0, 256).default(0).describe('mediasoup worker processes (0 = one per CPU core).'),
  mediaListenIp: z.string().min(1).default('127.0.0.1').describe('IP the WebRTC transports bind to (0.0.0.0 for all interfaces; then set --media-announced-address).'),
  mediaAnnouncedAddress: z.string().min(1).optional().describe('Address (IP or host name) given to clients in ICE candidates, for a server behind NAT or bound to 0.0.0.0.'),
  mediaPortMin: int(1024, 65535).default(40000).describe('Lowest UDP/TCP port for WebRTC and RTP ingest transports (the range is split between the workers).'),
  mediaPortMax: int(1024, 65535).default(49999).describe('Highest UDP/TCP port for WebRTC and RTP ingest transports.'),
  mediaConsumerLimit: int(1, 100_000).default(400).describe('Consumers (one per viewer per audio/video track) a media worker carries at most; a room past it is piped to another worker, and when every worker is full viewers get VIDEO_FULL and retry.'),
  mediaTransportsPerSocket: int(1, 64).default(4).describe('WebRTC transports one socket may hold at once (a streamer needs 1, a viewer 1; more is refused with LIMIT_EXCEEDED).'),
  mediaVideoFullRetryMs: int(100, 600_000).default(3000).describe('Retry-after told to viewers refused with VIDEO_FULL (plus jitter).'),
  mediaMaxIncomingBitrate: int(100_000, 100_000_000).default(3_000_000).describe('Bits per second a streamer may send into one WebRTC transport.'),
  mediaInitialOutgoingBitrate: int(100_000, 100_000_000).default(600_000).describe('Starting bandwidth estimate for a viewer transport, bits/s (mediasoup then adapts it; it picks the simulcast layer).'),
  mediaWorkerRestartMs: int(0, 60_000).default(500).describe('Delay before a died media worker is replaced.'),
  mediaStatsIntervalMs: int(500, 600_000).default(5000).describe('How often worker CPU and transport bitrates are sampled for /metrics and the operator console.'),
  mediaWorkerLogLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn').describe('mediasoup worker log level (its lines go to this server\'s log).'),
  mediaPipeListenIp: ipAddress.optional().describe('IP the pipe transports that carry a room\'s video between nodes bind to (UDP, in the --media-port-min/max range). Unset = --media-listen-ip. With several machines, an address the other nodes reach (or 0.0.0.0 with --media-pipe-announced-ip).'),
  mediaPipeAnnouncedIp: ipAddress.optional().describe('IP the other nodes send a room\'s video to, when it is not --media-pipe-listen-ip (NAT, or bound to 0.0.0.0).'),
  mediaPipeSrtp: bool.default(true).describe('Encrypt video between nodes (SRTP on the pipe transports). false = plain RTP, for a network between nodes that is trusted.'),
  mediaPipesPerRoom: int(1, 1000).default(8).describe('Other nodes one node feeds a room\'s video to directly, at most (each pipe carries every simulcast layer); a node asking past it is sent to the nodes already fed, which feed it in turn (a tree).'),
  mediaPipeKeepaliveMs: int(200, 60_000).default(2000).describe('How often a node fed a room\'s video tells the node feeding it that it still wants it, and checks the room\'s media origin in Redis; a pipe not kept alive for 3 intervals is closed.'),
  mediaPipeTimeoutMs: int(100, 60_000).default(3000).describe('How long a node-to-node media call (open a pipe, consume, keepalive) may take before the node feeding is taken as unreachable.'),
  whipConnectTimeoutMs: int(1000, 600_000).default(15_000).describe('A WHIP session whose publisher has not connected (ICE and DTLS) this long after its answer is closed, so an encoder that never connects does not hold the room\'s stream.'),
  rtmpPort: int(0, 65535).default(0).describe('TCP port of the RTMP listener for encoders without WHIP (rtmp://HOST:PORT/ROOM with the room\'s stream key); 0 = off. Each live RTMP stream runs one ffmpeg that transcodes it to VP8 and Opus.'),
  rtmpMaxConnections: int(1, 10_000).default(16).describe('RTMP connections at once (publishing or still shaking hands); more are closed at once. Each live one runs an ffmpeg.'),
  rtmpPublishTimeoutMs: int(1000, 600_000).default(10_000).describe('Time an RTMP connection has from connecting to an accepted publish (handshake, connect, a valid stream key) before it is closed.'),
  rtmpMaxMessageBytes: int(65_536, 64 << 20).default(4 << 20).describe('Largest RTMP message (one video frame, for example) accepted; a larger one closes the connection.'),
  rtmpVideoBitrate: int(100_000, 50_000_000).default(2_500_000).describe('Bits per second of the VP8 video the RTMP relay makes of an RTMP stream.'),
  rtmpFfmpegBin: z.string().min(1).default('ffmpeg').describe('The ffmpeg the RTMP relay runs (a path, or a name on the PATH).'),
  hls: bool.default(true).describe('An HLS rendition of each stream (ffmpeg on the room\'s media origin), played by viewers past WebRTC capacity (VIDEO_FULL) and servable through a CDN from GET /hls/ROOM/index.m3u8 on any node. false = no HLS: those viewers wait for a seat.'),
  hlsDir: folderPath.default(join(tmpdir(), 'livecart-hls')).describe('Folder the HLS playlists and segments are written to (one subfolder per stream, removed when it ends; recordings keep what they need apart, see --recording-dir). An absolute path; created if missing.'),
  hlsFfmpegBin: z.string().min(1).default('ffmpeg').describe('The ffmpeg program that makes the HLS rendition (Debian\'s ffmpeg package). A path, or a name looked up in PATH.'),
  hlsSegmentSeconds: int(1, 6).default(1).describe('Length of an HLS segment in seconds (a key frame starts each): viewers on HLS are about 3 segments behind live.'),
  hlsListSize: int(3, 30).default(6).describe('Segments an HLS playlist lists (a sliding window; older segments are deleted).'),
  hlsSettleMs: int(0, 10_000).default(300).describe('How long a stream\'s tracks must hold still before ffmpeg starts or restarts on them (an ingest adds video, then audio).'),
  hlsRestartMs: int(100, 60_000).default(2000).describe('Delay before an HLS rendition whose ffmpeg died is started again.'),
  hlsProxyTimeoutMs: int(100, 60_000).default(3000).describe('How long a node may take to fetch a room\'s HLS file, live or recorded, from the node that has it (nodes that are not the room\'s media origin, or did not record its show, proxy it).'),
  hlsProxyCacheEntries: int(0, 10_000).default(64).describe('HLS segments (live or recorded) a node keeps in memory of those it fetched from another node, so its viewers (or CDN pulls) fetch each from there once; 0 = none.'),
  recording: bool.default(true).describe('Record each show for its replay: while a room is live, its media origin keeps every segment of its HLS rendition (so this needs --hls) in a VOD playlist; after the show the viewer page plays it with the products pinned along it. false = no recordings.'),
  recordingDir: folderPath.optional().describe('Folder the shows\' recordings are kept in (a ROOM/SHOW subfolder each: the VOD playlist and its segments, hard links to the HLS segments when both folders are on one file system, else copies). Unset = a "recordings" folder in --hls-dir. An absolute path; created if missing.'),
  recordingRetentionHours: z.coerce.number().positive().max(24 * 3650).default(168).describe('A recording is deleted this long after it last changed (the show\'s end), by a sweep at start and every --recording-sweep-ms. Fractions allowed.'),
  recordingSweepMs: int(100, 86_400_000).default(600_000).describe('How often the recordings older than --recording-retention-hours are looked for and deleted.'),
  replayTimelineMaxPins: int(1, 100_000).default(1000).describe('Pins a room keeps for its replay\'s product timeline, at most (the latest; each pin is one moment on the timeline).'),
  replaySales: bool.default(true).describe('An ended show\'s products stay on sale (its replay is a shop): adds are answered as during the show (stock, limits, sale windows, pop-up offers that ended). false = an ended show takes no new adds (ROOM_ENDED); checkout and removals work either way.'),
  shopShowsKept: int(1, 1000).default(20).describe('Shows linked to a streamer\'s shop (created with shop: true) that the shop keeps track of, the newest: they hear the shop\'s stock news and are listed by GET /api/shops/:streamerId.'),
  shopLinksFreshMs: int(100, 600_000).default(2000).describe('How long a node reuses a shop\'s list of linked shows before reading it again: a show linked on another node hears the shop\'s stock news within this.'),
  ordersPerUser: int(1, 100_000).default(500).describe('A buyer\'s newest orders their list (GET /api/me/orders, the orders page) keeps, at most; older orders stay in the shop\'s records (GET /api/rooms/:id/orders).'),
  maxCouponsPerRoom: int(1, 1000).default(100).describe('Coupons one room holds at most (pinned or not).'),
  auctionSettleGraceMs: int(0, 60_000).default(2000).describe('An auction is settled this long after its end (on each node hosting its room, once across nodes): a bid placed before the end that still waits in admission is decided by its placing time, not lost to the settle.'),
  auctionFollowUpLeaseMs: int(100, 600_000).default(10_000).describe('How long the node that settled an auction has to announce its end and hold the winner\'s line before another node hosting the room takes that over (a settling node that died leaves it unfinished).'),
  auctionHistoryKept: int(1, 100_000).default(1000).describe('Price moves of one auction kept for its bid history (GET /api/rooms/:id/auctions/:aid for moderators), the newest.'),
  giveawayMaxEntrants: int(1, 10_000_000).default(1_000_000).describe('Entrants one giveaway takes at most (fixed as it opens); later entries answer giveaway_full. Bounds the entrants set and the published draw.'),
  demoPayments: bool.optional().describe('Demo mode for the payment step: every order is marked paid right after checkout with a demo payment (`payment: { demo: true }`; no money moves, and the pages say "Demo: no payment taken"). Unset = on in dev mode (no --token-secret), off otherwise. Never with real buyers: then the shop\'s backend confirms payments (POST /api/orders/:id/payment).'),
  webhookUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http:// or https:// URL').optional().describe('The shop backend\'s endpoint: every order event (placed, paid, shipped, delivered, cancelled) is POSTed there as JSON, signed with --webhook-secret, retried with backoff until a 2xx. Unset = no webhooks.'),
  webhookSecret: z.string().min(16).optional().describe('Key of the webhooks\' HMAC-SHA256 signature (header Livecart-Signature: t=…,v1=…), at least 16 characters. Required with --webhook-url.'),
  webhookTimeoutMs: int(100, 120_000).default(10_000).describe('How long a webhook POST may take before the attempt counts as failed.'),
  webhookMaxAttempts: int(1, 100).default(16).describe('Attempts a webhook delivery gets at most; after the last failed one it is logged as failed and dropped.'),
  webhookRetryBaseMs: int(10, 3_600_000).default(2000).describe('Wait after a webhook delivery\'s first failed attempt; each further failure doubles it (with jitter), up to --webhook-retry-max-ms. With the defaults the 16 attempts span 2.5 to 5 hours.'),
  webhookRetryMaxMs: int(10, 86_400_000).default(3_600_000).describe('Longest wait between two attempts of a webhook delivery.'),
  webhookConcurrency: int(1, 1000).default(8).describe('Webhook POSTs one node has under way at once, at most.'),
  webhookPollMs: int(50, 60_000).default(500).describe('How often a node looks for webhook deliveries that are due (retries, other nodes\' events whose node died); its own order events go out at once.'),
  webhookLogSize: int(1, 100_000).default(1000).describe('Deliveries the operators\' webhook log (GET /api/ops/webhooks) keeps, the most recently attempted.'),
  maxRemindersPerRoom: int(1, 10_000_000).default(100_000).describe('Viewers who may set "remind me" for one scheduled show, at most (POST /api/rooms/:id/reminder answers LIMIT_EXCEEDED above). When the show starts, each of them gets a showLive notice on every socket of theirs.'),
  showNoticeTtlMs: int(1000, 7 * 86_400_000).default(6 * 3_600_000).describe('How long a go-live notice is kept for a reminded user who had no socket open when the show started: their next socket (any room, any node) gets it once after its welcome, unless the show has ended or this much time has passed.'),
  showNoticesPerUser: int(1, 1000).default(20).describe('Go-live notices kept per user at most while they are away (the ones expiring last).'),
  showGraceMs: int(1000, 7 * 86_400_000).default(2 * 3_600_000).describe('A scheduled show its streamer has not started this long after its startsAt is ended by the server as missed: its reminders are released, its room\'s sockets told (roomState ended, missed), and it leaves the streamer\'s upcoming shows.'),
}).refine((c) => c.mediaPortMax > c.mediaPortMin, { message: 'mediaPortMax must be above mediaPortMin', path: ['mediaPortMax'] }).refine((c) => c.hardBufferBytes > c.softBufferBytes, { message: 'hardBufferBytes must be larger than softBufferBytes', path: ['hardBufferBytes'] })
  .refine((c) => c.webhookUrl === undefined || c.webhookSecret !== undefined, { message: 'webhooks are signed: set webhookSecret with webhookUrl', path: ['webhookSecret'] })
  .refine((c) => c.webhookRetryMaxMs >= c.webhookRetryBaseMs, { message: 'webhookRetryMaxMs must be at least webhookRetryBaseMs', path: ['webhookRetryMaxMs'] })
  .refine((c) => c.nodeForgetAfterBeats > c.nodeDownAfterBeats, { message: 'nodeForgetAfterBeats must be above nodeDownAfterBeats', path: ['nodeForgetAfterBeats'] })
  .refine((c) => c.mediaPipeAnnouncedIp !== undefined || !isUnspecified(c.mediaPipeListenIp ?? c.mediaListenIp), { message: 'the pipe transports listen on every interface: set mediaPipeAnnouncedIp to the address the other nodes reach this one at', path: ['mediaPipeAnnouncedIp'] })
  .refine((c) => c.mediaPipeListenIp !== undefined || c.mediaPipeAnnouncedIp !== undefined || isIP(c.mediaListenIp) !== 0, { message: 'mediaListenIp is not an IP address: set mediaPipeListenIp for the pipe transports between nodes', path: ['mediaPipeListenIp'] });

/** 0.0.0.0 or ::, which cannot be given to another node as an address. */
function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '::0';
}

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

type Key = keyof z.infer<typeof configSchema>;
// zod 4 keeps `.refine` on the object itself, so the shape (defaults, descriptions) stays reachable.
const shape: Record<Key, z.ZodType> = configSchema.shape;

const configKeys = Object.keys(shape) as Key[];

/**
 * The options an operator sets, in the order `--help` and the README's table show them. The rest
 * are internals whose defaults fit (event-loop budgets, controller gains, per-turn caps, intervals):
 * `--help-advanced` lists them, and they are validated and settable the same way.
 */
const operatorKeys: readonly Key[] = [
  'host', 'port', 'tokenSecret',
  'redis', 'redisCluster', 'redisPrefix', 'orderReplicas', 'publicUrl',
  'maxFrameBytes', 'commentRate', 'commentBurst', 'commentMaxLength',
  'maxRooms', 'maxMembersPerRoom', 'maxProductsPerRoom',
  'admissionQueueLimit', 'admissionMaxWaitMs',
  'reservationTtlMs', 'idempotencyTtlMs', 'kickBanMs',
  'protectRssMb', 'metricsToken', 'logLevel', 'drainWindowMs',
  'media', 'mediaListenIp', 'mediaAnnouncedAddress', 'mediaPortMin', 'mediaPortMax',
  'rtmpPort',
  'hlsDir',
];
const advancedKeys: readonly Key[] = configKeys.filter((key) => !operatorKeys.includes(key));
const flagOf = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envOf = (key: string): string => `LIVECART_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates and freezes a config from already-typed values (tests, embedding). */
export function makeConfig(input: ConfigInput = {}): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** Reads config from CLI args (after the sub-command), env and an optional `--config file.json`. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { config: Config; help: OptionGroup | undefined } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' }, 'help-advanced': { type: 'boolean' } };
  for (const key of configKeys) options[flagOf(key)] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: withBareSwitches(argv), options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\nRun 'livecart serve --help' for the options.`);
  }
  if (values['help-advanced'] === true) return { config: makeConfig({}), help: 'advanced' };
  if (values.help === true) return { config: makeConfig({}), help: 'operator' };

  const merged: Record<string, unknown> = {};
  const file = typeof values.config === 'string' ? values.config : env.LIVECART_CONFIG;
  if (file) {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    if (fromFile === null || typeof fromFile !== 'object') throw new ConfigError(`config file ${file} must hold a JSON object`);
    for (const [key, value] of Object.entries(fromFile)) {
      if (!configKeys.includes(key as Key)) throw new ConfigError(`config file ${file}: unknown option "${key}"`);
      merged[key] = value;
    }
  }
  for (const key of configKeys) {
    const fromEnv = env[envOf(key)];
    if (fromEnv !== undefined && fromEnv !== '') merged[key] = fromEnv;
    const fromFlag = values[flagOf(key)];
    if (typeof fromFlag === 'string') merged[key] = fromFlag;
  }
  return { config: makeConfig(merged as ConfigInput), help: undefined };
}

/** A yes/no option given bare (`--redis-cluster`, then another flag or nothing) means true. */
function withBareSwitches(argv: readonly string[]): string[] {
  const switches = new Set(configKeys.filter((key) => typeof defaultOf(shape[key]) === 'boolean').map((key) => `--${flagOf(key)}`));
  const out: string[] = [];
  argv.forEach((arg, i) => {
    out.push(arg);
    const next = argv[i + 1];
    if (switches.has(arg) && (next === undefined || next.startsWith('--'))) out.push('true');
  });
  return out;
}

function defaultOf(schema: z.ZodType): unknown {
  const result = schema.safeParse(undefined);
  return result.success ? result.data : undefined;
}

/** The options an operator sets, or the advanced rest. */
export type OptionGroup = 'operator' | 'advanced';

/** One row per option of the group (every option without one): flag, env var, default, description. Used by --help, --help-advanced and the README. */
export function describeOptions(group?: OptionGroup): Array<{ key: string; flag: string; env: string; defaultValue: unknown; description: string }> {
  return (group === undefined ? configKeys : group === 'operator' ? operatorKeys : advancedKeys).map((key) => {
    const schema = shape[key];
    return { key, flag: `--${flagOf(key)}`, env: envOf(key), defaultValue: defaultOf(schema), description: schema.description ?? '' };
  });
}

export function helpText(group: OptionGroup = 'operator'): string {
  const rows = describeOptions(group).map((o) => {
    const def = o.defaultValue === undefined ? '(unset)' : JSON.stringify(o.defaultValue);
    return `  ${o.flag.padEnd(26)} ${o.description}\n  ${''.padEnd(26)} default ${def}; env ${o.env}`;
  });
  const intro = group === 'operator'
    ? ['Options (precedence: flag > env > --config file > default):']
    : ['Advanced options: internals whose defaults fit most deployments; set and validated like the others', '(precedence: flag > env > --config file > default):'];
  return [
    'Usage: livecart serve [options]',
    '',
    ...intro,
    '  --config FILE              JSON file with any option (camelCase keys); env LIVECART_CONFIG',
    '  --help                     Show the options an operator sets',
    `  --help-advanced            Show the ${advancedKeys.length} advanced options`,
    ...rows,
  ].join('\n');
}
