import { randomBytes } from 'node:crypto';
import {
  type CartAnswer,
  characterCount,
  CloseCode,
  type DirectMessage,
  encode,
  encodeSequenced,
  type Hello,
  laneOf,
  type Popup,
  PROTOCOL_VERSION,
  type ProductInput,
  type RoomInfo,
  type RoomRequest,
  type RoomState,
  type StateUpdate,
  type UnsequencedEvent,
  type Welcome,
} from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { type Broker, type Delivery, sequencedStep } from '../broker/Broker.ts';
import type { ReplyPriority } from '../util/ReplyPriority.ts';
import type { CommerceRooms, RoomCheck } from '../commerce/CommerceService.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import { type DegradeLevel, type DegradeThresholds, type RoomSignals } from '../fanout/DegradePolicy.ts';
import { Audience, audienceOf, type Fanout } from '../fanout/Fanout.ts';
import type { FrameAudience } from '../fanout/FanoutPacer.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/Store.ts';
import type { Member } from './Member.ts';
import { Room } from './Room.ts';
import type { Ban, RoomDirectory } from '../store/RoomDirectory.ts';
import { TokenBucketLimiter } from './TokenBucketLimiter.ts';

export type RoomSummary = RoomInfo & { viewers: number; likes: number };
export type RequestResult = Record<string, unknown>;

/** Commerce's view of a room's pressure, for the degrade level. */
export type CommerceSignals = (roomId: string) => { queueFill: number; storeLatencyMs: number };

export interface RoomServiceDeps {
  readonly config: Config;
  /** p99 event-loop delay of the node, ms, as it lasted (see `ProcessGuard.sustainedEventLoopDelayMs`). */
  readonly eventLoopDelayMs: () => number;
  readonly broker: Broker;
  readonly directory: RoomDirectory;
  readonly store: Store;
  readonly fanout: Fanout;
  readonly log: Logger;
  readonly now?: () => number;
  /** Tracks a small room's events while they wait for their seq (see `ReplyPriority`). */
  readonly replyPriority?: ReplyPriority;
}

/** How long a directory read of a room this node does not host may be reused for cart checks. */
const VIEW_CACHE_MS = 1000;

/** How long a room stays hosted after its last member on this node left (reconnects are cheap then). */
const UNHOST_AFTER_MS = 30_000;

/**
 * Rooms: registry, membership, roles and every room command. Decides *what* goes to whom; fan-out
 * decides how. Commands write the directory, then publish their event through the broker; the
 * state of a hosted room changes only when events come back (`#onDelivery`): the same path on one
 * node or many.
 *
 * A node *hosts* a room while it has members in it: it is subscribed to the room's events and
 * keeps a `Room` built from the directory and the broker's recent events.
 */
export class RoomService implements CommerceRooms {
  readonly nodeId = randomBytes(6).toString('base64url');
  readonly #config: Config;
  readonly #broker: Broker;
  readonly #replyPriority: ReplyPriority | undefined;
  readonly #directory: RoomDirectory;
  readonly #store: Store;
  readonly #fanout: Fanout;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #hosted = new Map<string, Room>();
  /** Reused by the degrade check for the users' lags (grows to the biggest room). */
  #lagScratch = new Float64Array(1024);
  /** Rooms being bootstrapped: deliveries wait here until the room is built. */
  readonly #bootstrapping = new Map<string, { promise: Promise<Room>; buffer: Delivery[] }>();
  readonly #commentLimiter: TokenBucketLimiter;
  readonly #pendingLikes = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #eventLoopDelayMs: () => number;
  readonly #thresholds: DegradeThresholds;
  /** Directory reads for rooms this node does not host, reused briefly (HTTP-only buyers hit the same room). */
  readonly #views = new Map<string, { room: Room; at: number }>();
  /** Operator overrides, kept for rooms not hosted yet. */
  readonly #overrides = new Map<string, DegradeLevel>();
  #commerceSignals: CommerceSignals = () => ({ queueFill: 0, storeLatencyMs: 0 });
  #releaseKicked: (roomId: string, userId: string) => Promise<number> = async () => 0;
  #onStock: ((roomId: string, sku: string, available: number) => void) | undefined;
  readonly #degradeListeners: Array<(roomId: string, level: DegradeLevel) => void> = [];
  readonly #endedListeners: Array<(roomId: string) => void> = [];
  /** Per room reset here (see `#reset`): resumes from `from` on get a snapshot instead; its sockets saw seqs up to `seenUpTo`. At most `maxRooms`, oldest reset dropped first. */
  readonly #resumeFloors = new Map<string, { from: number; seenUpTo: number }>();

  constructor(deps: RoomServiceDeps) {
    this.#config = deps.config;
    this.#broker = deps.broker;
    this.#replyPriority = deps.replyPriority;
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#fanout = deps.fanout;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#eventLoopDelayMs = deps.eventLoopDelayMs;
    const c = deps.config;
    this.#thresholds = {
      eventLoopDelayMs: c.degradeEventLoopMs, viewerLagMs: c.degradeLagMs, backloggedShare: c.degradeBackloggedShare,
      queueFill: c.degradeQueueFill, storeLatencyMs: c.degradeStoreLatencyMs, downAfterMs: c.degradeDownAfterMs,
    };
    this.#commentLimiter = new TokenBucketLimiter(this.#config.commentRate, this.#config.commentBurst, this.#config.rateLimiterMaxKeys, this.#now);
    this.#fanout.directSender = (roomId, audience, frame) => this.#sendToMembers(roomId, audience, frame);
    this.#broker.onDelivery((delivery) => this.#onDelivery(delivery));
    this.#broker.onReconnect(() => {
      for (const room of this.#hosted.values()) void this.#resync(room);
    });
    this.#timers.push(setInterval(() => void this.#flushLikes(), this.#config.likeIntervalMs).unref());
    this.#timers.push(setInterval(() => void this.#flushViewers(), this.#config.viewerCountIntervalMs).unref());
    this.#timers.push(setInterval(() => this.checkDegrade(), this.#config.degradeCheckMs).unref());
  }

  #lastDegradeCheckAt = 0;
  #earlyCheckPending = false;

  set commerceSignals(signals: CommerceSignals) {
    this.#commerceSignals = signals;
  }

  /** Gives a kicked user's reservations in the room back to stock (commerce, set by the wiring); resolves with the units. */
  set releaseKicked(release: (roomId: string, userId: string) => Promise<number>) {
    this.#releaseKicked = release;
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    for (const room of this.#hosted.values()) clearTimeout(room.idleTimer);
  }

  /** Rooms this node currently hosts (has members in, or had very recently). */
  get hostedRoomIds(): string[] {
    return [...this.#hosted.keys()];
  }

  // ------------------------------------------------------------------ rooms (HTTP)

  async createRoom(principal: Principal, input: { title: string; id?: string | undefined }): Promise<RoomInfo> {
    if (principal.role === 'viewer') throw new ProtocolError('FORBIDDEN', 'only streamers and operators create rooms');
    const id = input.id ?? `r-${randomBytes(5).toString('base64url')}`;
    const info: RoomInfo = { id, title: input.title, streamerId: principal.userId, state: 'scheduled', createdAt: this.#now() };
    const result = await this.#directory.create(info, randomBytes(6).toString('base64url'), this.#config.maxRooms);
    if (result === 'exists') throw new ProtocolError('ROOM_EXISTS', `room ${id} already exists`);
    if (result === 'full') throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxRooms} rooms`);
    this.#log.info({ roomId: id, streamerId: principal.userId }, 'room created');
    return info;
  }

  async listRooms(): Promise<RoomSummary[]> {
    return (await this.#directory.list()).map((info) => {
      const room = this.#hosted.get(info.id);
      return room === undefined ? { ...info, viewers: 0, likes: 0 } : this.#summary(room);
    });
  }

  async snapshot(roomId: string): Promise<RoomSummary & { popup: Popup | null; products: ProductInput[]; stock: Record<string, number> }> {
    const room = await this.#view(roomId);
    const stock = this.#hosted.has(roomId) ? Object.fromEntries(room.stock) : await this.#store.roomStock(roomId);
    return { ...this.#summary(room), popup: room.popup, products: [...room.catalog.values()], stock };
  }

  async setShowState(principal: Principal, roomId: string, state: Exclude<RoomState, 'scheduled'>): Promise<RoomInfo> {
    const room = await this.#view(roomId);
    this.#mustModerate(principal, room);
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', `room ${roomId} has ended`);
    if (room.info.state !== state) {
      this.#views.delete(roomId);
      await this.#directory.setState(roomId, state);
      await this.#emit(roomId, { t: 'roomState', state });
    }
    return { ...room.info, state };
  }

  async addProduct(principal: Principal, roomId: string, product: ProductInput): Promise<ProductInput> {
    const room = await this.#view(roomId);
    this.#mustModerate(principal, room);
    if (room.catalog.has(product.sku)) throw new ProtocolError('PRODUCT_EXISTS', `product ${product.sku} is already in the catalog`);
    if (room.catalog.size >= this.#config.maxProductsPerRoom) throw new ProtocolError('LIMIT_EXCEEDED', `a room holds at most ${this.#config.maxProductsPerRoom} products`);
    const currency = room.catalog.values().next().value?.currency;
    if (currency !== undefined && currency !== product.currency) throw new ProtocolError('BAD_REQUEST', `this room sells in ${currency}; one cart, one currency`);
    // Inventory first: the store refuses a duplicate sku atomically, even across nodes.
    await this.#store.addProduct(roomId, {
      sku: product.sku, stock: product.stock, priceCents: product.priceCents, currency: product.currency,
      saleStartsAt: product.saleStartsAt, saleEndsAt: product.saleEndsAt, perCustomerLimit: product.perCustomerLimit,
    });
    await this.#directory.putProduct(roomId, product);
    await this.#emit(roomId, { t: 'product', product });
    return product;
  }

  // ------------------------------------------------------------------ membership (WS)

  /** Completes a `hello`: sends `welcome`, replays missed events and subscribes in one tick, so no event slips between. */
  async join(member: Member, hello: Hello): Promise<Room> {
    if (hello.v !== PROTOCOL_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `server speaks protocol ${PROTOCOL_VERSION}, client ${hello.v}`);
    let room = await this.#host(hello.room);
    // The room may have been unhosted while we waited; everything below runs in one tick.
    while (this.#hosted.get(hello.room) !== room) room = await this.#host(hello.room);
    const { principal } = member;
    if (room.isBanned(principal.userId, this.#now())) throw new ProtocolError('KICKED', 'you were removed from this room');
    if (room.memberCount >= this.#config.maxMembersPerRoom) throw new ProtocolError('ROOM_FULL', 'this room is full on this node', 1000);

    let missed: Uint8Array[] | undefined;
    if (hello.resume !== undefined && hello.resume.epoch === room.epoch && hello.resume.seq < this.#resumeFloor(room)) missed = room.ring.since(hello.resume.seq, room.latestSeq);
    const resumed = missed !== undefined;
    clearTimeout(room.idleTimer);
    room.addMember(member);
    // Everything up to here comes with the welcome (and the replay): an ack cannot put it behind that.
    member.ackedSeq = room.latestSeq;
    const welcome: Welcome = {
      t: 'welcome',
      id: hello.id,
      v: PROTOCOL_VERSION,
      room: { ...room.info },
      you: { userId: principal.userId, name: principal.name, role: principal.role },
      seq: room.latestSeq,
      epoch: room.epoch,
      resumed,
      historyLost: hello.resume !== undefined && !resumed,
      comments: resumed ? [] : room.recentComments(),
      popup: room.popup,
      products: [...room.catalog.values()],
      likes: room.likes,
      viewers: Math.max(room.viewers, room.viewerCount),
      muted: [...room.muted],
      stock: Object.fromEntries(room.stock),
      degradeLevel: room.degrade.level,
    };
    member.sendMany([encode(welcome), ...(missed ?? [])]);
    member.subscribeRoom(room.id, this.#fanout.join(room.id, principal.role));
    return room;
  }

  leave(member: Member, roomId: string): void {
    const room = this.#hosted.get(roomId);
    if (room === undefined || !room.removeMember(member)) return;
    this.#fanout.leave(roomId, member.principal.role, member.shard);
    if (room.memberCount === 0) {
      clearTimeout(room.idleTimer);
      room.idleTimer = setTimeout(() => this.#unhost(room), UNHOST_AFTER_MS).unref();
    }
  }

  /**
   * A client's ack: how far behind what this node sent it the client is, measured against when the
   * node delivered the next event. A client may only hurt itself: the seq is held between what the
   * socket had already (its join point, its previous ack) and the last seq its socket was sent, and
   * the lag it shows can only drop this socket from chatter (`lagDemoteMs`); the room's degrade
   * level never listens to acks.
   */
  ack(member: Member, roomId: string, seq: number): void {
    const room = this.#hosted.get(roomId);
    if (room === undefined) return;
    const now = this.#now();
    const sent = Math.max(member.ackedSeq, this.#fanout.sentSeq(roomId, member.principal.role, member.shard));
    const acked = Math.min(Math.max(seq, member.ackedSeq), sent);
    // Behind since the first event after `acked` that was sent to this client (chatter it was not
    // sent, sampled or cut, does not count against it).
    const next = acked < sent ? room.ring.firstDeliveredAfter(acked, audienceOf(member.principal.role, member.inChatter), sent) : undefined;
    member.lagMs = next === undefined ? 0 : Math.max(0, now - next);
    member.lastAckAt = now;
    member.ackedSeq = acked;
    member.lagging = member.lagMs > (member.lagging ? this.#config.lagDemoteMs / 2 : this.#config.lagDemoteMs);
  }

  like(roomId: string, taps: number): void {
    const room = this.#hosted.get(roomId);
    if (room === undefined || room.info.state === 'ended') return;
    this.#pendingLikes.set(roomId, (this.#pendingLikes.get(roomId) ?? 0) + taps);
  }

  // ------------------------------------------------------------------ requests (WS)

  async handle(member: Member, roomId: string, request: RoomRequest): Promise<RequestResult> {
    const room = await this.#view(roomId);
    const { principal } = member;
    switch (request.t) {
      case 'ping':
        return { now: this.#now() };
      case 'comment':
        return { seq: await this.#comment(room, principal, request.text) };
      case 'addProduct':
        return { product: await this.addProduct(principal, roomId, request.product) };
      case 'pin': {
        this.#mustModerate(principal, room);
        const product = room.catalog.get(request.sku);
        if (product === undefined) throw new ProtocolError('PRODUCT_NOT_FOUND', `no product ${request.sku} in this room`);
        const now = this.#now();
        if (request.endsAt !== undefined && request.endsAt <= now) throw new ProtocolError('BAD_REQUEST', 'endsAt must be in the future');
        const popup: Popup = request.endsAt === undefined ? { product, pinnedAt: now } : { product, pinnedAt: now, endsAt: request.endsAt };
        await this.#directory.setPopup(roomId, popup);
        return { seq: await this.#emit(roomId, { t: 'popup', popup }) };
      }
      case 'unpin':
        this.#mustModerate(principal, room);
        if (room.popup === null) return { seq: room.latestSeq };
        await this.#directory.setPopup(roomId, null);
        return { seq: await this.#emit(roomId, { t: 'popup', popup: null }) };
      case 'deleteComment':
        this.#mustModerate(principal, room);
        if (!room.hasComment(request.seq)) throw new ProtocolError('COMMENT_NOT_FOUND', `no recent comment with seq ${request.seq}`);
        return { seq: await this.#emit(roomId, { t: 'commentDeleted', commentSeq: request.seq }) };
      case 'mute':
      case 'unmute': {
        this.#mustModerate(principal, room);
        const muted = request.t === 'mute';
        if (muted && !room.muted.has(request.userId) && room.muted.size >= this.#config.maxMutedPerRoom) {
          throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxMutedPerRoom} muted users per room`);
        }
        if (room.muted.has(request.userId) === muted) return { seq: room.latestSeq };
        await this.#directory.setMuted(roomId, request.userId, muted);
        return { seq: await this.#emit(roomId, { t: 'userMuted', userId: request.userId, muted }) };
      }
      case 'kick': {
        this.#mustModerate(principal, room);
        if (request.userId === room.info.streamerId) throw new ProtocolError('FORBIDDEN', 'the room\'s streamer cannot be kicked');
        if (!room.bans.has(request.userId) && room.bans.size >= this.#config.maxMutedPerRoom) throw new ProtocolError('LIMIT_EXCEEDED', 'too many banned users in this room');
        const until = this.#now() + this.#config.kickBanMs;
        const closedHere = room.membersOf(request.userId).length;
        await this.#directory.setBan(roomId, request.userId, until, room.nameOf(request.userId) ?? request.userId);
        this.#views.delete(roomId);
        await this.#broker.publishKick(roomId, request.userId, until);
        // After the ban is in place, so no add of theirs can start after the release.
        const released = await this.#releaseKicked(roomId, request.userId).catch((error: unknown) => {
          this.#log.warn({ err: error, roomId, userId: request.userId }, 'kicked user\'s reservations not released; they expire by themselves');
          return 0;
        });
        this.#log.info({ roomId, userId: request.userId, by: principal.userId, released }, 'user kicked');
        return { closed: closedHere, released };
      }
      case 'unban':
        return { lifted: await this.liftBan(principal, roomId, request.userId) };
    }
  }

  /** The room's bans in force, for its moderators (names as the users had them when kicked). */
  async bans(principal: Principal, roomId: string): Promise<Ban[]> {
    this.#mustModerate(principal, await this.#view(roomId));
    return this.#directory.bans(roomId, this.#now());
  }

  /** Lets a kicked user back in (and to the cart) at once; resolves whether a ban was in force. */
  async liftBan(principal: Principal, roomId: string, userId: string): Promise<boolean> {
    this.#mustModerate(principal, await this.#view(roomId));
    const lifted = await this.#directory.clearBan(roomId, userId, this.#now());
    this.#views.delete(roomId);
    await this.#broker.publishKick(roomId, userId, 0);
    this.#log.info({ roomId, userId, by: principal.userId, lifted }, 'ban lifted');
    return lifted;
  }

  async #comment(room: Room, principal: Principal, text: string): Promise<number> {
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended');
    if (room.degrade.level === 3 && principal.role === 'viewer') throw new ProtocolError('OVERLOADED', 'the room is busy: commerce only for now', 5000);
    if (room.muted.has(principal.userId)) throw new ProtocolError('MUTED', 'you are muted in this room');
    if (text.trim().length === 0) throw new ProtocolError('BAD_REQUEST', 'comment is empty');
    if (characterCount(text) > this.#config.commentMaxLength) throw new ProtocolError('BAD_REQUEST', `comment longer than ${this.#config.commentMaxLength} characters`);
    const waitMs = this.#commentLimiter.take(`${room.id}\u0000${principal.userId}`);
    if (waitMs > 0) throw new ProtocolError('RATE_LIMITED', 'commenting too fast', waitMs);
    return this.#emit(room.id, { t: 'comment', userId: principal.userId, name: principal.name, text, ts: this.#now() });
  }

  // ------------------------------------------------------------------ for commerce

  /** Synchronous when the room is hosted here or its view is fresh: a hosted room's tap goes on within the turn that read it (and its budget). */
  assertRoom(roomId: string, check: RoomCheck): CartAnswer | undefined | Promise<CartAnswer | undefined> {
    const room = this.#viewAtHand(roomId);
    return room === undefined ? this.#cachedView(roomId).then((view) => this.#cartRules(view, check)) : this.#cartRules(room, check);
  }

  #cartRules(room: Room, check: RoomCheck): CartAnswer | undefined {
    if (check.operation === 'manage') return undefined;
    const now = this.#now();
    if (room.isBanned(check.principal.userId, now)) throw new ProtocolError('KICKED', 'you were removed from this room: its cart is closed to you until the ban ends');
    if (check.operation !== 'add') return undefined;
    // An ended show takes no new adds; what buyers already hold they may still check out or remove.
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended: nothing new can be added (checkout still works)');
    const endsAt = check.sku === undefined ? undefined : room.offerEnds.get(check.sku);
    if (endsAt !== undefined && now >= endsAt) return { status: 'not_on_sale', sku: check.sku!, endsAt };
    return undefined;
  }

  /** Who owns the room and whether it is live (a view up to a few seconds old). */
  async roomInfo(roomId: string): Promise<RoomInfo> {
    return (await this.#cachedView(roomId)).info;
  }

  async canModerate(principal: Principal, roomId: string): Promise<boolean> {
    if (principal.role === 'operator') return true;
    if (principal.role !== 'streamer') return false;
    const room = await this.#cachedView(roomId).catch(() => undefined);
    return room?.info.streamerId === principal.userId;
  }

  notifyUser(roomId: string, userId: string, message: DirectMessage): void {
    this.#broker.publishDirect(roomId, userId, encode(message));
  }

  publishStock(roomId: string, sku: string, available: number): void {
    this.#publishState(roomId, { t: 'stock', sku, available });
  }

  publishSoldOut(roomId: string, sku: string): void {
    this.#emit(roomId, { t: 'soldOut', sku }).catch((error: unknown) => this.#log.warn({ err: error, roomId, sku }, 'sold-out announcement failed'));
  }

  // ------------------------------------------------------------------ hosting

  /** The hosted room, or a fresh read of the directory for a room this node does not host. */
  async #view(roomId: string): Promise<Room> {
    const hosted = this.#hosted.get(roomId);
    if (hosted !== undefined) return hosted;
    const record = await this.#directory.get(roomId);
    if (record === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return new Room(record, { historyLength: 0, resumeRingSize: 16 });
  }

  /**
   * For checks that tolerate a view up to `VIEW_CACHE_MS` old (is the room there, has it ended, who
   * owns it): saves a directory round trip per HTTP cart request. Room commands use `#view`.
   */
  /** The room hosted here, or a view read less than VIEW_CACHE_MS ago. */
  #viewAtHand(roomId: string): Room | undefined {
    const hosted = this.#hosted.get(roomId);
    if (hosted !== undefined) return hosted;
    const cached = this.#views.get(roomId);
    return cached !== undefined && this.#now() - cached.at < VIEW_CACHE_MS ? cached.room : undefined;
  }

  async #cachedView(roomId: string): Promise<Room> {
    const atHand = this.#viewAtHand(roomId);
    if (atHand !== undefined) return atHand;
    const now = this.#now();
    const room = await this.#view(roomId);
    if (this.#views.size >= this.#config.maxRooms) this.#views.clear();
    this.#views.set(roomId, { room, at: now });
    return room;
  }

  #host(roomId: string): Promise<Room> {
    const hosted = this.#hosted.get(roomId);
    if (hosted !== undefined) return Promise.resolve(hosted);
    const pending = this.#bootstrapping.get(roomId);
    if (pending !== undefined) return pending.promise;
    const buffer: Delivery[] = [];
    const promise = this.#bootstrap(roomId, buffer).finally(() => this.#bootstrapping.delete(roomId));
    this.#bootstrapping.set(roomId, { promise, buffer });
    return promise;
  }

  /** Subscribe first, then read: whatever is published meanwhile waits in `buffer` and is applied after. */
  async #bootstrap(roomId: string, buffer: Delivery[]): Promise<Room> {
    await this.#broker.subscribe(roomId);
    try {
      const record = await this.#directory.get(roomId);
      if (record === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
      const [recent, stock] = await Promise.all([this.#broker.recent(roomId), this.#store.roomStock(roomId)]);
      const room = new Room(record, { historyLength: this.#config.historyLength, resumeRingSize: this.#config.resumeRingSize });
      room.loadRecent(recent, this.#now());
      const override = this.#overrides.get(roomId);
      if (override !== undefined) room.degrade.setOverride(override);
      for (const [sku, available] of Object.entries(stock)) room.stock.set(sku, available);
      this.#hosted.set(roomId, room);
      for (const delivery of buffer) this.#deliver(room, delivery);
      this.#log.debug({ roomId, seq: room.latestSeq }, 'room hosted');
      return room;
    } catch (error) {
      await this.#broker.unsubscribe(roomId).catch(() => undefined);
      throw error;
    }
  }

  #unhost(room: Room): void {
    if (room.memberCount > 0 || this.#hosted.get(room.id) !== room) return;
    this.#drop(room);
    this.#log.debug({ roomId: room.id }, 'room unhosted');
  }

  /** The room is no longer hosted here: the next join hosts it afresh from the directory and the broker. */
  #drop(room: Room): void {
    clearTimeout(room.idleTimer);
    this.#hosted.delete(room.id);
    this.#fanout.forget(room.id);
    this.#broker.unsubscribe(room.id).catch((error: unknown) => this.#log.warn({ err: error, roomId: room.id }, 'broker unsubscribe failed'));
  }

  /**
   * A client that may have seen events a reset dropped (resuming from the floor on) gets a snapshot,
   * not a resume. Once the room's ring has moved past every seq those sockets saw, such a resume
   * fails anyway and the floor goes: the map holds only recent resets.
   */
  #resumeFloor(room: Room): number {
    const floor = this.#resumeFloors.get(room.id);
    if (floor === undefined) return Number.POSITIVE_INFINITY;
    if (room.latestSeq - floor.seenUpTo <= this.#config.resumeRingSize) return floor.from;
    this.#resumeFloors.delete(room.id);
    return Number.POSITIVE_INFINITY;
  }

  /**
   * The room's state here may hold events the log lost (see the 'reset' delivery): drop it, close
   * its sockets so their clients come back to a room hosted afresh from the log, and send those that
   * may have seen such events a fresh snapshot instead of a resume.
   */
  #reset(room: Room, fromSeq: number): void {
    this.#log.warn({ roomId: room.id, fromSeq }, 'room reset: its events past the log were dropped');
    const earlier = this.#resumeFloors.get(room.id);
    // Newest last, so the bound below drops the oldest reset (a floor is otherwise pruned only when a resume asks).
    this.#resumeFloors.delete(room.id);
    this.#resumeFloors.set(room.id, { from: Math.min(fromSeq, earlier?.from ?? fromSeq), seenUpTo: Math.max(room.latestSeq, earlier?.seenUpTo ?? 0) });
    if (this.#resumeFloors.size > this.#config.maxRooms) this.#resumeFloors.delete(this.#resumeFloors.keys().next().value!);
    this.#drop(room);
    const members: Member[] = [];
    room.forEachMember((member) => members.push(member));
    for (const member of members) member.close(CloseCode.RESYNC, 'the room was reset on this node; reconnect');
  }

  /** Refills events this node missed (broker reconnect, or a gap in seq), then applies what waited. */
  async #resync(room: Room): Promise<void> {
    if (room.resyncBuffer !== undefined) return;
    const buffer: Delivery[] = [];
    room.resyncBuffer = buffer;
    try {
      const recent = await this.#broker.recent(room.id);
      for (const delivery of recent.events) if (delivery.seq > room.latestSeq) this.#applySequenced(room, delivery);
    } catch (error) {
      this.#log.warn({ err: error, roomId: room.id }, 'resync failed; next event retries');
    } finally {
      room.resyncBuffer = undefined;
      for (const delivery of buffer) this.#deliver(room, delivery);
    }
  }

  // ------------------------------------------------------------------ deliveries

  #onDelivery(delivery: Delivery): void {
    const pending = this.#bootstrapping.get(delivery.roomId);
    if (pending !== undefined) {
      pending.buffer.push(delivery);
      return;
    }
    const room = this.#hosted.get(delivery.roomId);
    if (room !== undefined) this.#deliver(room, delivery);
  }

  #deliver(room: Room, delivery: Delivery): void {
    if (room.resyncBuffer !== undefined) {
      room.resyncBuffer.push(delivery);
      return;
    }
    switch (delivery.kind) {
      case 'direct':
        for (const member of room.membersOf(delivery.userId)) member.send(delivery.frame);
        return;
      case 'kick':
        if (delivery.until === 0) {
          room.bans.delete(delivery.userId); // a lifted ban (`liftBan`)
          return;
        }
        room.bans.set(delivery.userId, delivery.until);
        for (const member of room.membersOf(delivery.userId)) member.close(CloseCode.KICKED, 'kicked by a moderator');
        return;
      case 'reset':
        this.#reset(room, delivery.fromSeq);
        return;
      case 'sequenced':
        // Dropped: already applied (bootstrap overlap, broker reconnect, the broker's copy of an
        // early delivery), or an early copy ahead of other nodes' events (the broker's copy follows them).
        switch (sequencedStep(room.latestSeq, delivery)) {
          case 'apply':
            this.#applySequenced(room, delivery);
            return;
          case 'refill':
            void this.#resync(room).then(() => this.#deliver(room, delivery));
            return;
          case 'drop':
            return;
        }
        return;
      case 'state': {
        const update = delivery.update;
        if (update.t === 'stock') {
          room.stock.set(update.sku, update.available);
          this.#onStock?.(room.id, update.sku, update.available);
        } else if (update.t === 'likes') room.likes = update.total;
        else if (update.t === 'viewers') room.viewers = update.count;
        // A newer value replaces one still waiting to go out to a big room's shards.
        const replaceKey = update.t === 'stock' ? `stock\u0000${update.sku}` : update.t;
        this.#countOut(room, this.#fanout.publish(room.id, delivery.lane, update.t, delivery.frame, room.degrade.level, replaceKey));
        return;
      }
    }
  }

  #applySequenced(room: Room, delivery: Extract<Delivery, { kind: 'sequenced' }>): void {
    room.apply(delivery.event);
    room.latestSeq = delivery.seq;
    if (delivery.event.t === 'soldOut') this.#onStock?.(room.id, delivery.event.sku, 0);
    if (delivery.event.t === 'roomState' && delivery.event.state === 'ended') for (const listener of this.#endedListeners) listener(room.id);
    const audience = this.#fanout.publish(room.id, delivery.lane, delivery.event.t, delivery.frame, room.degrade.level, undefined, delivery.seq);
    room.ring.push(delivery.seq, delivery.frame, this.#now(), audience);
    this.#countOut(room, audience);
  }

  /** A small room's frame, written to each member it is for, as its topics would have (see `DirectSender`). */
  #sendToMembers(roomId: string, audience: FrameAudience, frame: Uint8Array): boolean {
    const room = this.#hosted.get(roomId);
    if (room === undefined) return false;
    room.forEachMember((member) => {
      if (audience === 'commerce' || (member.inChatter && (audience === 'chatter' || member.principal.role !== 'viewer'))) member.send(frame);
    });
    return true;
  }

  /** Deliveries of one fanned-out frame, by who it went to (an estimate: demoted sockets count too). */
  #countOut(room: Room, audience: number): void {
    room.messagesOut += (audience & (Audience.commerce | Audience.viewerChatter)) !== 0 ? room.memberCount : room.staffCount;
  }

  /** A client frame from one of the room's sockets (for the operator console's messages/s). */
  countMessageIn(roomId: string): void {
    const room = this.#hosted.get(roomId);
    if (room !== undefined) room.messagesIn++;
  }

  /** Stock news for the admission controller's local sold-out answers (set by the wiring). */
  onStockNews(listener: (roomId: string, sku: string, available: number) => void): void {
    this.#onStock = listener;
  }

  // ------------------------------------------------------------------ degradation

  /**
   * Waiting work grew past a step (the gateway asks): check the levels now rather than at the next
   * tick, which a busy loop delays further. A burst degrades its room within a few milliseconds,
   * before the chatter queued ahead of it costs the node its first second. At most one early
   * check per fifth of `degradeCheckMs`.
   */
  checkDegradeSoon(): void {
    if (this.#earlyCheckPending || this.#now() - this.#lastDegradeCheckAt < this.#config.degradeCheckMs / 5) return;
    this.#earlyCheckPending = true;
    setImmediate(() => {
      this.#earlyCheckPending = false;
      this.checkDegrade();
    });
  }

  /** Measures each hosted room and moves its degrade level; a change is told to the room's sockets here. */
  checkDegrade(): void {
    const now = this.#now();
    this.#lastDegradeCheckAt = now;
    let sockets = 0;
    for (const room of this.#hosted.values()) sockets += room.memberCount;
    for (const room of this.#hosted.values()) {
      const changed = room.degrade.update(this.#measure(room, sockets).signals, this.#thresholds, now);
      if (changed) this.#announceDegrade(room);
    }
  }

  /**
   * What the node measures itself, robust to a minority of clients: how far behind its own writes
   * to the room's sockets run (the fan-out pacer), the share of the room's users whose every socket
   * is past the soft buffer cap (one user, one voice), the event loop, the cart queue and the store.
   * A slow event loop is the node's problem, but shedding helps only where the load comes from: it
   * counts for rooms holding a large share of the node's sockets, so a hot room degrades while the
   * small rooms next to it keep their chat. Clients' acks are not among the signals (see `ack`):
   * `clientLagMs`, the median over the users of their least-behind socket's ack lag, is for operators only.
   */
  #measure(room: Room, nodeSockets: number): { signals: RoomSignals; clientLagMs: number } {
    const sockets = room.memberCount;
    // Numeric typed-array sort: a 10,000-member room is measured several times a second, during a burst too.
    const lags = this.#lagScratch.length >= sockets ? this.#lagScratch : (this.#lagScratch = new Float64Array(Math.max(sockets, this.#lagScratch.length * 2)));
    let lagCount = 0;
    let users = 0;
    let backlogged = 0;
    const softBufferBytes = this.#config.softBufferBytes;
    room.forEachUser((members) => {
      users++;
      let allBacklogged = true;
      let leastLag = Number.POSITIVE_INFINITY;
      for (const member of members) {
        if (member.bufferedBytes() <= softBufferBytes) allBacklogged = false;
        if (member.lastAckAt !== 0 && member.lagMs < leastLag) leastLag = member.lagMs;
      }
      if (allBacklogged) backlogged++;
      if (leastLag !== Number.POSITIVE_INFINITY) lags[lagCount++] = leastLag;
    });
    const measured = lags.subarray(0, lagCount).sort();
    const commerce = this.#commerceSignals(room.id);
    const bigRoom = sockets >= Math.max(100, nodeSockets * 0.1);
    return {
      signals: {
        eventLoopDelayMs: bigRoom ? this.#eventLoopDelayMs() : 0,
        viewerLagMs: this.#fanout.lagMs(room.id),
        backloggedShare: users === 0 ? 0 : backlogged / users,
        queueFill: commerce.queueFill,
        storeLatencyMs: commerce.storeLatencyMs,
      },
      clientLagMs: lagCount === 0 ? 0 : measured[Math.floor(lagCount / 2)]!,
    };
  }

  /** Hears a hosted room's show ending (on every node that hosts it): the media layer stops its stream. */
  onShowEnded(listener: (roomId: string) => void): void {
    this.#endedListeners.push(listener);
  }

  /** The room's degrade level on this node (0 when not hosted here). */
  degradeLevelOf(roomId: string): DegradeLevel {
    return this.#hosted.get(roomId)?.degrade.level ?? 0;
  }

  /** Hears every degrade level change of a hosted room (the media layer lowers video layers). */
  onDegrade(listener: (roomId: string, level: DegradeLevel) => void): void {
    this.#degradeListeners.push(listener);
  }

  #announceDegrade(room: Room): void {
    for (const listener of this.#degradeListeners) listener(room.id, room.degrade.level);
    const update = { t: 'degrade' as const, level: room.degrade.level, reason: room.degrade.reason };
    this.#log.info({ roomId: room.id, level: update.level, reason: update.reason }, 'degrade level changed');
    if (update.level >= 2) this.#fanout.cutViewerChatter(room.id);
    // Each node judges its own load, so the level goes to this node's sockets only.
    // Latest value wins: a burst moves a room up several levels within a few turns, and each frame is a write per viewer.
    this.#countOut(room, this.#fanout.publish(room.id, 'commerce', 'degrade', encode(update), room.degrade.level, 'degrade'));
  }

  /** Operator control: a fixed level, or `undefined` for automatic. */
  async setDegradeOverride(roomId: string, level: DegradeLevel | undefined): Promise<void> {
    await this.#view(roomId);
    if (level === undefined) this.#overrides.delete(roomId);
    else this.#overrides.set(roomId, level);
    const room = this.#hosted.get(roomId);
    if (room === undefined) return;
    const before = room.degrade.level;
    room.degrade.setOverride(level);
    if (room.degrade.level !== before) this.#announceDegrade(room);
  }

  /** For the operator console: each hosted room's level and what drives it. */
  degradeStatus(): Array<{ roomId: string; level: DegradeLevel; reason: string; override: DegradeLevel | null; members: number; messagesIn: number; messagesOut: number; signals: RoomSignals; clientLagMs: number }> {
    let sockets = 0;
    for (const room of this.#hosted.values()) sockets += room.memberCount;
    return [...this.#hosted.values()].map((room) => {
      const { signals, clientLagMs } = this.#measure(room, sockets);
      return {
        roomId: room.id, level: room.degrade.level, reason: room.degrade.reason, override: room.degrade.override ?? null, members: room.memberCount,
        messagesIn: room.messagesIn, messagesOut: room.messagesOut, signals, clientLagMs,
      };
    });
  }

  // ------------------------------------------------------------------ internals

  /** Encodes once, publishes through the broker; resolves with the issued seq. */
  #emit(roomId: string, event: UnsequencedEvent): Promise<number> {
    const local = this.#broker.sequencesLocally(roomId);
    const published = this.#broker.publishSequenced(roomId, laneOf[event.t], encodeSequenced(event), event);
    // A small room's event is written to its sockets as soon as its seq is back: let the turn's
    // deferred work wait for that reply. A big room's goes out through the pacer over turns anyway.
    const room = this.#hosted.get(roomId);
    if (!local && this.#replyPriority !== undefined && room !== undefined && room.memberCount <= this.#config.fanoutShardSize) this.#replyPriority.track(published);
    return published;
  }

  #publishState(roomId: string, update: StateUpdate): void {
    this.#broker.publishState(roomId, laneOf[update.t], encode(update), update);
  }

  async #flushLikes(): Promise<void> {
    const pending: Array<[string, number]> = [];
    for (const [roomId, taps] of this.#pendingLikes) {
      const room = this.#hosted.get(roomId);
      // A degraded room coalesces likes four times as long.
      if (room !== undefined && room.degrade.level >= 1 && room.likeTicks++ % 4 !== 0) continue;
      pending.push([roomId, taps]);
      this.#pendingLikes.delete(roomId);
    }
    for (const [roomId, taps] of pending) {
      try {
        const total = await this.#directory.addLikes(roomId, taps);
        this.#publishState(roomId, { t: 'likes', total });
      } catch (error) {
        this.#pendingLikes.set(roomId, (this.#pendingLikes.get(roomId) ?? 0) + taps); // keep the taps for the next flush
        this.#log.debug({ err: error, roomId }, 'like flush deferred');
      }
    }
  }

  /** Each node reports its members per hosted room; the total over fresh reports is announced when it changes. */
  async #flushViewers(): Promise<void> {
    const now = this.#now();
    for (const room of [...this.#hosted.values()]) {
      try {
        const total = await this.#directory.reportViewers(room.id, this.nodeId, room.viewerCount, now, this.#config.viewerCountIntervalMs * 3);
        if (total !== room.viewers) this.#publishState(room.id, { t: 'viewers', count: total });
      } catch (error) {
        this.#log.debug({ err: error, roomId: room.id }, 'viewer report deferred');
      }
    }
  }

  #mustModerate(principal: Principal, room: Room): void {
    if (principal.role === 'operator' || (principal.role === 'streamer' && principal.userId === room.info.streamerId)) return;
    throw new ProtocolError('FORBIDDEN', principal.role === 'viewer' ? 'viewers cannot do this' : 'only this room\'s streamer or an operator can do this');
  }

  #summary(room: Room): RoomSummary {
    return { ...room.info, viewers: Math.max(room.viewers, room.viewerCount), likes: room.likes };
  }
}
