import { commerceScopeOf } from '../commerce/commerceScope.ts';
import { randomBytes } from 'node:crypto';
import {
  CloseCode,
  encode,
  encodeSequenced,
  type Hello,
  type Lane,
  type AuctionCard,
  laneOf,
  PROTOCOL_VERSION,
  type RoomSettings,
  type GiveawayCard,
  type StateUpdate,
  type UnsequencedEvent,
  type Welcome,
} from '../../../protocol/src/index.ts';
import { type Broker, type Delivery, type KeywordFilter, sequencedStep } from '../broker/Broker.ts';
import { CommentFilter } from './CommentFilter.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { DegradeLevel } from '../fanout/DegradePolicy.ts';
import { audienceOf, type Fanout } from '../fanout/Fanout.ts';
import type { FrameAudience } from '../fanout/FanoutPacer.ts';
import type { Logger } from '../log.ts';
import type { StockLevel, Store } from '../store/Store.ts';
import type { ReplyPriority } from '../util/ReplyPriority.ts';
import type { Member } from './Member.ts';
import { Room } from './Room.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { RoomLifecycle } from './RoomLifecycle.ts';
import { likeIntervalMs, stockIntervalMs } from '../fanout/stateIntervals.ts';
import { StatePacer } from '../fanout/StatePacer.ts';

/** Hears every stock level a hosted room learns (the admission controller answers adds of sold-out products apart). */
export interface StockWatcher {
  stockChanged(roomId: string, sku: string, available: number): void;
}

export type RegistryConfig = Pick<Config, 'maxRooms' | 'maxMembersPerRoom' | 'maxSocketsPerUser' | 'historyLength' | 'resumeRingSize' | 'lagDemoteMs' | 'fanoutShardSize' | 'viewerCountIntervalMs' | 'forgetIdleRoomsMs' | 'stockIntervalMs' | 'degradedStockIntervalMs' | 'likeIntervalMs'>;

/** How long a directory read of a room this node does not host may be reused for cart checks. */
const VIEW_CACHE_MS = 1000;

/** How long a room stays hosted after its last member on this node left (reconnects are cheap then). */
const UNHOST_AFTER_MS = 30_000;

/**
 * The rooms this node hosts, and their members. A node *hosts* a room while it has members in it:
 * it is subscribed to the room's events and keeps a `Room` built from the directory and the
 * broker's recent events. The state of a hosted room changes only when its events come back from
 * the broker (`#onDelivery`): the same path on one node or many. Delivers each event to the room's
 * members (through fan-out) and tells the room's lifecycle when it is hosted, ended and unhosted.
 */
export class RoomRegistry {
  readonly nodeId = randomBytes(6).toString('base64url');
  readonly #config: RegistryConfig;
  readonly #broker: Broker;
  readonly #directory: RoomDirectory;
  readonly #store: Pick<Store, 'roomStock' | 'pinnedCoupon' | 'stock'>;
  readonly #fanout: Fanout;
  readonly #statePacer: StatePacer;
  readonly #lifecycle: RoomLifecycle;
  readonly #stockWatcher: StockWatcher | undefined;
  readonly #soldOutHeard: ((scope: string, sku: string) => void) | undefined;
  readonly #comeBackHeard: ((scope: string, sku: string) => void) | undefined;
  readonly #replyPriority: ReplyPriority | undefined;
  readonly #giveawayCards: ((roomId: string) => Promise<GiveawayCard | null>) | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #hosted = new Map<string, Room>();
  /** Rooms being bootstrapped: deliveries wait here until the room is built. */
  readonly #bootstrapping = new Map<string, { promise: Promise<Room>; buffer: Delivery[] }>();
  /** Directory reads for rooms this node does not host, reused briefly (HTTP-only buyers hit the same room). */
  readonly #views = new Map<string, { room: Room; at: number }>();
  /** Directory reads of views under way, by room (`cachedView`). */
  readonly #viewReads = new Map<string, Promise<Room>>();
  /** Per room reset here (see `#reset`): resumes from `from` on get a snapshot instead; its sockets saw seqs up to `seenUpTo`. At most `maxRooms`, oldest reset dropped first. */
  readonly #resumeFloors = new Map<string, { from: number; seenUpTo: number }>();
  readonly #viewerTimer: NodeJS.Timeout;
  /** Levels after a sold-out that the store confirmed (`#confirmComeBack`): they go out as any level. */
  readonly #confirmedComeBacks = new WeakSet<Delivery>();
  /** The room's open auction's card, read as the room is hosted here (set by the server once auctions exist): the welcome carries it. */
  auctionCard: ((roomId: string) => Promise<AuctionCard | null>) | undefined;

  constructor(deps: {
    config: RegistryConfig;
    broker: Broker;
    directory: RoomDirectory;
    store: Pick<Store, 'roomStock' | 'pinnedCoupon' | 'stock'>;
    fanout: Fanout;
    lifecycle: RoomLifecycle;
    stockWatcher?: StockWatcher | undefined;
    /** Tracks a small room's events while they wait for their seq (see `ReplyPriority`). */
    replyPriority?: ReplyPriority | undefined;
    /** Hears each sold-out a hosted room applies, by commerce scope (the stock news of this node: `StockAnnouncer.soldOutHeard`). */
    soldOutHeard?: ((scope: string, sku: string) => void) | undefined;
    /** Hears each come-back after a sold-out that a hosted room confirmed, by commerce scope (`StockAnnouncer.comeBackHeard`). */
    comeBackHeard?: ((scope: string, sku: string) => void) | undefined;
    /** The room's giveaway card for `welcome` (the giveaway service's `welcomeCard`), read as a room is hosted. */
    giveawayCards?: (roomId: string) => Promise<GiveawayCard | null>;
    log: Logger;
    now?: () => number;
  }) {
    this.#config = deps.config;
    this.#broker = deps.broker;
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#fanout = deps.fanout;
    this.#lifecycle = deps.lifecycle;
    this.#stockWatcher = deps.stockWatcher;
    this.#soldOutHeard = deps.soldOutHeard;
    this.#comeBackHeard = deps.comeBackHeard;
    this.#replyPriority = deps.replyPriority;
    this.#giveawayCards = deps.giveawayCards;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#statePacer = new StatePacer(this.#now);
    this.#fanout.directSender = (roomId, audience, frame) => this.#sendToMembers(roomId, audience, frame);
    this.#broker.onDelivery((delivery) => this.#onDelivery(delivery));
    this.#broker.onReconnect(() => {
      for (const room of this.#hosted.values()) void this.#resync(room);
    });
    this.#viewerTimer = setInterval(() => {
      this.#pruneViews();
      this.#lifecycle.forgetIdleNotHosted((roomId) => this.#hosted.has(roomId), this.#config.forgetIdleRoomsMs);
      void this.#flushViewers();
    }, this.#config.viewerCountIntervalMs).unref();
  }

  close(): void {
    clearInterval(this.#viewerTimer);
    this.#statePacer.close();
    for (const room of this.#hosted.values()) clearTimeout(room.idleTimer);
  }

  /** Rooms this node currently hosts (has members in, or had very recently). */
  get hostedRoomIds(): string[] {
    return [...this.#hosted.keys()];
  }

  hostedRooms(): IterableIterator<Room> {
    return this.#hosted.values();
  }

  hosted(roomId: string): Room | undefined {
    return this.#hosted.get(roomId);
  }

  perRoomState(): Record<string, number> {
    return { hosted: this.#hosted.size, bootstrapping: this.#bootstrapping.size, views: this.#views.size, resumeFloors: this.#resumeFloors.size, statePacedRooms: this.#statePacer.roomCount };
  }

  /** The room's degrade level on this node (0 when not hosted here). */
  degradeLevelOf(roomId: string): DegradeLevel {
    return this.#hosted.get(roomId)?.degrade.level ?? 0;
  }

  // ------------------------------------------------------------------ views

  /** The hosted room, or a fresh read of the directory for a room this node does not host. */
  async view(roomId: string): Promise<Room> {
    const hosted = this.#hosted.get(roomId);
    if (hosted !== undefined) return hosted;
    const record = await this.#directory.get(roomId);
    if (record === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return new Room(record, { historyLength: 0, resumeRingSize: 16 });
  }

  /** Resolves when the room exists, hosted here or not; throws ROOM_NOT_FOUND. */
  async assertExists(roomId: string): Promise<void> {
    await this.view(roomId);
  }

  /** The room hosted here, or a view read less than `VIEW_CACHE_MS` ago. */
  viewAtHand(roomId: string): Room | undefined {
    const hosted = this.#hosted.get(roomId);
    if (hosted !== undefined) return hosted;
    const cached = this.#views.get(roomId);
    return cached !== undefined && this.#now() - cached.at < VIEW_CACHE_MS ? cached.room : undefined;
  }

  /**
   * For checks that tolerate a view up to `VIEW_CACHE_MS` old (is the room there, has it ended, who
   * owns it): saves a directory round trip per HTTP cart request. Room commands use `view`.
   */
  async cachedView(roomId: string): Promise<Room> {
    const atHand = this.viewAtHand(roomId);
    if (atHand !== undefined) return atHand;
    // One read at a time per room: a burst of taps in a show whose shop's view went stale waits for one read, not one each.
    const reading = this.#viewReads.get(roomId);
    if (reading !== undefined) return reading;
    const now = this.#now();
    const read: Promise<Room> = this.view(roomId).then(
      (room) => {
        // Kept only when no command changed the room while it was read (`forgetView`).
        if (this.#viewReads.get(roomId) !== read) return room;
        this.#viewReads.delete(roomId);
        if (this.#views.size >= this.#config.maxRooms) this.#views.clear();
        this.#views.set(roomId, { room, at: now });
        return room;
      },
      (error: unknown) => {
        if (this.#viewReads.get(roomId) === read) this.#viewReads.delete(roomId);
        throw error;
      },
    );
    this.#viewReads.set(roomId, read);
    return read;
  }

  /** Views too old to be used again go: a room an HTTP buyer asked about once keeps nothing here. */
  #pruneViews(): void {
    const now = this.#now();
    for (const [roomId, view] of this.#views) if (now - view.at >= VIEW_CACHE_MS) this.#views.delete(roomId);
  }

  /** A command changed the room's record: the next check reads it afresh. */
  forgetView(roomId: string): void {
    this.#views.delete(roomId);
    this.#viewReads.delete(roomId);
  }

  /**
   * An operator's settings for the room (from this node's command, or another's through the
   * broker): a hosted room takes them if they are newer than its own, and its lifecycle tells the
   * parts that apply them. A view of a room not hosted here is read afresh next time.
   */
  takeSettings(roomId: string, settings: RoomSettings): void {
    this.#views.delete(roomId);
    const room = this.#hosted.get(roomId);
    if (room === undefined || settings.version <= room.settings.version) return;
    room.settings = settings;
    this.#lifecycle.emit('settingsChanged', room);
  }

  /** A moderator's keyword filter for the room (from this node's command or another's): a hosted room takes it if newer than its own. */
  takeFilter(roomId: string, filter: KeywordFilter): void {
    this.#views.delete(roomId);
    const room = this.#hosted.get(roomId);
    if (room !== undefined && filter.version > room.filter.version) room.filter = new CommentFilter(filter);
  }

  /** The room's queue limit an operator set (a hosted room's, or a fresh view's), or undefined: the node's default. */
  queueLimitOf(roomId: string): number | undefined {
    return this.viewAtHand(roomId)?.settings.queueLimit ?? undefined;
  }

  // ------------------------------------------------------------------ publishing

  /** Encodes once, publishes through the broker; resolves with the issued seq. */
  emit(roomId: string, event: UnsequencedEvent): Promise<number> {
    const local = this.#broker.sequencesLocally(roomId);
    const published = this.#broker.publishSequenced(roomId, laneOf[event.t], encodeSequenced(event), event);
    // A small room's event is written to its sockets as soon as its seq is back: let the turn's
    // deferred work wait for that reply. A big room's goes out through the pacer over turns anyway.
    const room = this.#hosted.get(roomId);
    if (!local && this.#replyPriority !== undefined && room !== undefined && room.memberCount <= this.#config.fanoutShardSize) this.#replyPriority.track(published);
    return published;
  }

  publishState(roomId: string, update: StateUpdate): void {
    this.#broker.publishState(roomId, laneOf[update.t], encode(update), update);
  }

  // ------------------------------------------------------------------ membership

  /** Completes a `hello`: sends `welcome`, replays missed events and subscribes in one tick, so no event slips between. */
  async join(member: Member, hello: Hello): Promise<Room> {
    if (hello.v !== PROTOCOL_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `server speaks protocol ${PROTOCOL_VERSION}, client ${hello.v}`);
    let room = await this.#host(hello.room);
    // The room may have been unhosted while we waited; everything below runs in one tick.
    while (this.#hosted.get(hello.room) !== room) room = await this.#host(hello.room);
    const following = hello.follow === 'orders';
    // A kicked buyer may still follow their orders in the room.
    if (!following && room.isBanned(member.principal.userId, this.#now())) throw new ProtocolError('KICKED', 'you were removed from this room');
    if (room.memberCount + room.followerCount >= this.#config.maxMembersPerRoom) throw new ProtocolError('ROOM_FULL', 'this room is full on this node', 1000);
    // Without a cap one token could hold every seat of the room (and inflate its viewer count).
    const userId = member.principal.userId;
    if (room.membersOf(userId).length + room.followersOf(userId).length >= this.#config.maxSocketsPerUser) {
      throw new ProtocolError('ROOM_FULL', `you have ${this.#config.maxSocketsPerUser} sockets in this room on this node already`, 1000);
    }
    clearTimeout(room.idleTimer);
    if (following) {
      // The user's own news only: no broadcasts, no resume.
      room.addFollower(member);
      member.send(encode(this.#welcome(room, member, hello, false)));
      this.#lifecycle.emit('joined', member);
      return room;
    }

    let missed: Uint8Array[] | undefined;
    if (hello.resume !== undefined && hello.resume.epoch === room.epoch && hello.resume.seq < this.#resumeFloor(room)) missed = room.ring.since(hello.resume.seq, room.latestSeq);
    room.addMember(member);
    // Everything up to here comes with the welcome (and the replay): an ack cannot put it behind that.
    member.ackedSeq = room.latestSeq;
    member.sendMany([encode(this.#welcome(room, member, hello, missed !== undefined)), ...(missed ?? [])]);
    member.subscribeRoom(room.id, this.#fanout.join(room.id, member.principal.role));
    this.#lifecycle.emit('joined', member);
    return room;
  }

  #welcome(room: Room, member: Member, hello: Hello, resumed: boolean): Welcome {
    const { principal } = member;
    return {
      t: 'welcome',
      id: hello.id,
      v: PROTOCOL_VERSION,
      room: { ...room.info },
      you: { userId: principal.userId, name: principal.name, role: principal.role },
      seq: room.latestSeq,
      epoch: room.epoch,
      resumed,
      historyLost: hello.resume !== undefined && !resumed && hello.follow === undefined,
      comments: resumed ? [] : room.recentComments(),
      popup: room.popup,
      products: [...room.catalog.values()],
      likes: room.likes,
      viewers: Math.max(room.viewers, room.viewerCount),
      muted: [...room.muted],
      stock: Object.fromEntries(room.stock),
      degradeLevel: room.degrade.level,
      moderators: [...room.moderators],
      pinnedComment: room.pinnedComment,
      coupon: room.coupon,
      auction: room.auctionCard,
      giveaway: welcomeGiveaway(room),
    };
  }

  leave(member: Member, roomId: string): void {
    const room = this.#hosted.get(roomId);
    if (room === undefined) return;
    if (room.removeMember(member)) this.#fanout.leave(roomId, member.principal.role, member.shard);
    else if (!room.removeFollower(member)) return;
    if (room.isEmpty) this.#unhostWhenIdle(room);
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

  /** A client frame from one of the room's sockets (for the operator console's messages/s). */
  countMessageIn(roomId: string): void {
    const room = this.#hosted.get(roomId);
    if (room !== undefined) room.messagesIn++;
  }

  // ------------------------------------------------------------------ hosting

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
      const scope = commerceScopeOf(record.info);
      const [recent, stock, coupon, auction, giveaway] = await Promise.all([
        this.#broker.recent(roomId), this.#store.roomStock(scope), this.#store.pinnedCoupon(scope),
        // A room hosts without its card rather than not at all: the next card brings it.
        this.auctionCard?.(roomId).catch(() => null) ?? null,
        this.#giveawayCard(roomId),
      ]);
      const room = new Room(record, { historyLength: this.#config.historyLength, resumeRingSize: this.#config.resumeRingSize });
      room.loadRecent(recent, this.#now());
      room.pruneExpiredBans(this.#now());
      for (const [sku, available] of Object.entries(stock)) room.stock.set(sku, available);
      room.coupon = coupon;
      room.auctionCard = auction;
      room.giveaway = giveaway;
      this.#hosted.set(roomId, room);
      this.#views.delete(roomId);
      this.#lifecycle.emit('hosted', room);
      for (const delivery of buffer) this.#deliver(room, delivery);
      this.#log.debug({ roomId, seq: room.latestSeq }, 'room hosted');
      return room;
    } catch (error) {
      await this.#broker.unsubscribe(roomId).catch(() => undefined);
      throw error;
    }
  }

  /** The room's giveaway card as it is hosted; a read that fails leaves it to the room's next `giveaway` update (and `getGiveaway`). */
  async #giveawayCard(roomId: string): Promise<GiveawayCard | null> {
    if (this.#giveawayCards === undefined) return null;
    try {
      return await this.#giveawayCards(roomId);
    } catch (error) {
      this.#log.warn({ err: error, roomId }, 'the room\'s giveaway could not be read for its welcome');
      return null;
    }
  }

  /**
   * Nobody is left in the room on this node: a live show stays hosted a while (reconnects are cheap
   * then), an ended one goes once the current work is done (nobody comes back to watch it).
   */
  #unhostWhenIdle(room: Room): void {
    clearTimeout(room.idleTimer);
    room.idleTimer = setTimeout(() => this.#unhost(room), room.info.state === 'ended' ? 0 : UNHOST_AFTER_MS).unref();
  }

  #unhost(room: Room): void {
    if (!room.isEmpty || this.#hosted.get(room.id) !== room) return;
    this.#drop(room);
    this.#log.debug({ roomId: room.id }, 'room unhosted');
  }

  /** The room is no longer hosted here: the next join hosts it afresh from the directory and the broker. */
  #drop(room: Room): void {
    clearTimeout(room.idleTimer);
    this.#hosted.delete(room.id);
    this.#fanout.forget(room.id);
    this.#statePacer.forget(room.id);
    this.#broker.unsubscribe(room.id).catch((error: unknown) => this.#log.warn({ err: error, roomId: room.id }, 'broker unsubscribe failed'));
    this.#lifecycle.emit('unhosted', room.id);
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
    room.forEachFollower((member) => members.push(member));
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

  /**
   * Each node reports its members per hosted room and tells its own members the total over fresh
   * reports when it changed. Not published through the broker: every node of the room computes the
   * total each interval, so a room on N nodes would hear N counts per interval.
   */
  async #flushViewers(): Promise<void> {
    const now = this.#now();
    for (const room of [...this.#hosted.values()]) {
      try {
        const total = await this.#directory.reportViewers(room.id, this.nodeId, room.viewerCount, now, this.#config.viewerCountIntervalMs * 3);
        if (total === room.viewers || this.#hosted.get(room.id) !== room) continue;
        const update = { t: 'viewers', count: total } as const;
        this.#deliver(room, { kind: 'state', roomId: room.id, lane: laneOf.viewers, frame: encode(update), update });
      } catch (error) {
        this.#log.debug({ err: error, roomId: room.id }, 'viewer report deferred');
      }
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
        for (const member of room.followersOf(delivery.userId)) member.send(delivery.frame);
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
      case 'settings':
        this.takeSettings(room.id, delivery.settings);
        return;
      case 'media':
        this.#lifecycle.emit('mediaChanged', room.id);
        return;
      case 'filter':
        this.takeFilter(room.id, delivery.filter);
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
        if (update.t === 'viewers' || update.t === 'degrade') {
          // This node's own news, told at its own pace (#flushViewers, the degrade monitor).
          if (update.t === 'viewers') room.viewers = update.count;
          room.countOut(this.#fanout.publish(room.id, delivery.lane, update.t, delivery.frame, room.degrade.level, update.t));
          return;
        }
        if (update.t === 'stock') {
          if (room.stock.get(update.sku) === 0 && update.available > 0 && !this.#confirmedComeBacks.has(delivery)) {
            void this.#confirmComeBack(room, update.sku, delivery.lane);
            return;
          }
          this.#stockWatcher?.stockChanged(commerceScopeOf(room.info), update.sku, update.available);
        }
        if (!room.take(update)) return;
        // A newer value replaces one still waiting, here and in a big room's shards. A giveaway's card goes at once; its entrants count and an auction's card as stock does.
        const replaceKey = update.t === 'stock' ? stockKey(update.sku) : update.t === 'giveawayEntrants' ? `giveawayEntrants\u0000${update.giveawayId}` : update.t;
        const intervalMs = update.t === 'stock' || update.t === 'giveawayEntrants' || update.t === 'auction' ? stockIntervalMs(this.#config, room.degrade.level) : update.t === 'giveaway' ? 0 : likeIntervalMs(this.#config, room.degrade.level);
        this.#statePacer.offer(room.id, replaceKey, intervalMs, () => {
          if (this.#hosted.get(room.id) === room) room.countOut(this.#fanout.publish(room.id, delivery.lane, update.t, delivery.frame, room.degrade.level, replaceKey));
        });
        return;
      }
    }
  }

  /**
   * A level above 0 after the sold-out is either a come-back or a level read before the last unit
   * went, published by a node that had not heard the sold-out yet: the two cannot be told apart on
   * the way, so the store decides. Its level goes out unless a sold-out came in meanwhile (the read
   * may be older than it); a come-back after that one announces itself again.
   */
  async #confirmComeBack(room: Room, sku: string, lane: Lane): Promise<void> {
    const soldOuts = room.soldOuts.get(sku);
    let level: StockLevel | undefined;
    try {
      level = await this.#store.stock(commerceScopeOf(room.info), sku);
    } catch (error) {
      // The node's own settle read-back tells the level once the store answers again.
      this.#log.debug({ err: error, roomId: room.id, sku }, 'a level after a sold-out could not be checked');
      return;
    }
    if (level === undefined || level.available === 0 || room.soldOuts.get(sku) !== soldOuts || this.#hosted.get(room.id) !== room) return;
    this.#comeBackHeard?.(commerceScopeOf(room.info), sku);
    const update = { t: 'stock', sku, available: level.available } as const;
    const delivery: Delivery = { kind: 'state', roomId: room.id, lane, frame: encode(update), update };
    this.#confirmedComeBacks.add(delivery);
    this.#deliver(room, delivery);
  }

  #applySequenced(room: Room, delivery: Extract<Delivery, { kind: 'sequenced' }>): void {
    room.apply(delivery.event);
    room.latestSeq = delivery.seq;
    // A level waiting to go out is older than the sold-out: after it, it would show a count that is gone.
    const soldOutKey = delivery.event.t === 'soldOut' ? stockKey(delivery.event.sku) : undefined;
    if (delivery.event.t === 'soldOut') {
      this.#statePacer.drop(room.id, soldOutKey!);
      this.#stockWatcher?.stockChanged(commerceScopeOf(room.info), delivery.event.sku, 0);
      this.#soldOutHeard?.(commerceScopeOf(room.info), delivery.event.sku);
    }
    const ended = delivery.event.t === 'roomState' && delivery.event.state === 'ended';
    if (ended) this.#lifecycle.emit('ended', room.id);
    const audience = this.#fanout.publish(room.id, delivery.lane, delivery.event.t, delivery.frame, room.degrade.level, undefined, delivery.seq, soldOutKey);
    room.ring.push(delivery.seq, delivery.frame, this.#now(), audience);
    room.countOut(audience);
    if (ended && room.isEmpty) this.#unhostWhenIdle(room);
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
}

/** A product's level: the key its `stock` updates are paced and replaced by. */
function stockKey(sku: string): string {
  return `stock\u0000${sku}`;
}

/** The room's giveaway card for `welcome`, with the largest entrants count heard while it is open. */
function welcomeGiveaway(room: Room): GiveawayCard | null {
  const card = room.giveaway;
  if (card === null || card.status !== 'open') return card;
  const heard = room.giveawayEntrants.get(card.id) ?? 0;
  return heard > card.entrants ? { ...card, entrants: heard } : card;
}
