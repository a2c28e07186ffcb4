import {
  CloseCode,
  type DirectMessage,
  encode,
  encodeSequenced,
  type Hello,
  laneOf,
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
import type { Broker, Delivery } from '../broker/Broker.ts';
import type { CommerceRooms } from '../commerce/CommerceService.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { Fanout } from '../fanout/Fanout.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/Store.ts';
import type { Member } from './Member.ts';
import { Room } from './Room.ts';
import { TokenBucketLimiter } from './TokenBucketLimiter.ts';

export type RoomSummary = RoomInfo & { viewers: number; likes: number };
export type RequestResult = Record<string, unknown>;

export interface RoomServiceDeps {
  readonly config: Config;
  readonly broker: Broker;
  readonly store: Store;
  readonly fanout: Fanout;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Rooms: registry, membership, roles, and every room command. Decides *what* goes to whom;
 * fan-out decides how. Commands publish sequenced events through the broker; state changes only
 * when events come back (`#onDelivery`), the same path on one node or many.
 */
export class RoomService implements CommerceRooms {
  readonly #config: Config;
  readonly #broker: Broker;
  readonly #store: Store;
  readonly #fanout: Fanout;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #rooms = new Map<string, Room>();
  readonly #commentLimiter: TokenBucketLimiter;
  readonly #likesDirty = new Set<Room>();
  readonly #viewersDirty = new Set<Room>();
  readonly #timers: NodeJS.Timeout[] = [];
  #nextRoomNumber = 1;

  constructor(deps: RoomServiceDeps) {
    this.#config = deps.config;
    this.#broker = deps.broker;
    this.#store = deps.store;
    this.#fanout = deps.fanout;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#commentLimiter = new TokenBucketLimiter(this.#config.commentRate, this.#config.commentBurst, this.#config.rateLimiterMaxKeys, this.#now);
    this.#broker.onDelivery((delivery) => this.#onDelivery(delivery));
    this.#timers.push(setInterval(() => this.#flushLikes(), this.#config.likeIntervalMs).unref());
    this.#timers.push(setInterval(() => this.#flushViewers(), this.#config.viewerCountIntervalMs).unref());
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
  }

  // ------------------------------------------------------------------ rooms (HTTP)

  createRoom(principal: Principal, input: { title: string; id?: string | undefined }): RoomInfo {
    if (principal.role === 'viewer') throw new ProtocolError('FORBIDDEN', 'only streamers and operators create rooms');
    if (this.#rooms.size >= this.#config.maxRooms) throw new ProtocolError('LIMIT_EXCEEDED', `this node holds at most ${this.#config.maxRooms} rooms`);
    let id = input.id;
    if (id === undefined) {
      do id = `room-${this.#nextRoomNumber++}`;
      while (this.#rooms.has(id));
    } else if (this.#rooms.has(id)) {
      throw new ProtocolError('ROOM_EXISTS', `room ${id} already exists`);
    }
    const room = new Room(
      { id, title: input.title, streamerId: principal.userId, state: 'scheduled', createdAt: this.#now() },
      { historyLength: this.#config.historyLength, resumeRingSize: this.#config.resumeRingSize },
    );
    this.#rooms.set(id, room);
    this.#log.info({ roomId: id, streamerId: principal.userId }, 'room created');
    return { ...room.info };
  }

  listRooms(): RoomSummary[] {
    return [...this.#rooms.values()].map((room) => this.#summary(room));
  }

  snapshot(roomId: string): RoomSummary & { popup: Room['popup']; products: ProductInput[] } {
    const room = this.#room(roomId);
    return { ...this.#summary(room), popup: room.popup, products: [...room.catalog.values()] };
  }

  async setShowState(principal: Principal, roomId: string, state: Exclude<RoomState, 'scheduled'>): Promise<RoomInfo> {
    const room = this.#room(roomId);
    this.#mustModerate(principal, room);
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', `room ${roomId} has ended`);
    if (room.info.state !== state) await this.#emit(room, { t: 'roomState', state });
    return { ...room.info };
  }

  async addProduct(principal: Principal, roomId: string, product: ProductInput): Promise<ProductInput> {
    const room = this.#room(roomId);
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
    await this.#emit(room, { t: 'product', product });
    return product;
  }

  // ------------------------------------------------------------------ membership (WS)

  /** Completes a `hello`: sends `welcome`, replays missed events, subscribes, all in one tick so no event slips between. */
  async join(member: Member, hello: Hello): Promise<Room> {
    if (hello.v !== PROTOCOL_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `server speaks protocol ${PROTOCOL_VERSION}, client ${hello.v}`);
    const room = this.#room(hello.room);
    const { principal } = member;
    if (room.isBanned(principal.userId, this.#now())) throw new ProtocolError('KICKED', 'you were removed from this room');
    if (room.memberCount >= this.#config.maxMembersPerRoom) throw new ProtocolError('LIMIT_EXCEEDED', 'this room is full on this node', );
    if (room.memberCount === 0) await this.#broker.subscribe(room.id);

    let missed: Uint8Array[] | undefined;
    if (hello.resume !== undefined && hello.resume.epoch === room.epoch) missed = room.ring.since(hello.resume.seq, room.latestSeq);
    const resumed = missed !== undefined;
    room.addMember(member);
    this.#viewersDirty.add(room);
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
      viewers: room.memberCount,
      muted: [...room.muted],
      stock: Object.fromEntries(room.stock),
    };
    member.sendMany([encode(welcome), ...(missed ?? [])]);
    member.subscribeRoom(room.id);
    return room;
  }

  leave(member: Member, roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined || !room.removeMember(member)) return;
    this.#viewersDirty.add(room);
    if (room.memberCount === 0) {
      this.#broker.unsubscribe(room.id).catch((error: unknown) => this.#log.warn({ err: error, roomId }, 'broker unsubscribe failed'));
    }
  }

  like(roomId: string, taps: number): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.info.state === 'ended') return;
    room.likes += taps;
    this.#likesDirty.add(room);
  }

  // ------------------------------------------------------------------ requests (WS)

  async handle(member: Member, roomId: string, request: RoomRequest): Promise<RequestResult> {
    const room = this.#room(roomId);
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
        const popup = request.endsAt === undefined ? { product, pinnedAt: now } : { product, pinnedAt: now, endsAt: request.endsAt };
        return { seq: await this.#emit(room, { t: 'popup', popup }) };
      }
      case 'unpin':
        this.#mustModerate(principal, room);
        return { seq: room.popup === null ? room.latestSeq : await this.#emit(room, { t: 'popup', popup: null }) };
      case 'deleteComment':
        this.#mustModerate(principal, room);
        if (!room.hasComment(request.seq)) throw new ProtocolError('COMMENT_NOT_FOUND', `no recent comment with seq ${request.seq}`);
        return { seq: await this.#emit(room, { t: 'commentDeleted', commentSeq: request.seq }) };
      case 'mute':
      case 'unmute': {
        this.#mustModerate(principal, room);
        const muted = request.t === 'mute';
        if (muted && !room.muted.has(request.userId) && room.muted.size >= this.#config.maxMutedPerRoom) {
          throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxMutedPerRoom} muted users per room`);
        }
        if (room.muted.has(request.userId) === muted) return { seq: room.latestSeq };
        return { seq: await this.#emit(room, { t: 'userMuted', userId: request.userId, muted }) };
      }
      case 'kick': {
        this.#mustModerate(principal, room);
        if (request.userId === room.info.streamerId) throw new ProtocolError('FORBIDDEN', 'the room\'s streamer cannot be kicked');
        if (room.bans.size >= this.#config.maxMutedPerRoom) this.#pruneBans(room);
        room.bans.set(request.userId, this.#now() + this.#config.kickBanMs);
        const targets = room.membersOf(request.userId);
        for (const target of targets) target.close(CloseCode.KICKED, 'kicked by a moderator');
        this.#log.info({ roomId, userId: request.userId, by: principal.userId }, 'user kicked');
        return { closed: targets.length };
      }
    }
  }

  async #comment(room: Room, principal: Principal, text: string): Promise<number> {
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended');
    if (room.muted.has(principal.userId)) throw new ProtocolError('MUTED', 'you are muted in this room');
    if (text.trim().length === 0) throw new ProtocolError('BAD_REQUEST', 'comment is empty');
    if (text.length > this.#config.commentMaxLength) throw new ProtocolError('BAD_REQUEST', `comment longer than ${this.#config.commentMaxLength} characters`);
    const waitMs = this.#commentLimiter.take(`${room.id}\u0000${principal.userId}`);
    if (waitMs > 0) throw new ProtocolError('RATE_LIMITED', 'commenting too fast', waitMs);
    return this.#emit(room, { t: 'comment', userId: principal.userId, name: principal.name, text, ts: this.#now() });
  }

  // ------------------------------------------------------------------ for commerce

  assertRoom(roomId: string, forSale: boolean): void {
    const room = this.#room(roomId);
    if (forSale && room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended');
  }

  canModerate(principal: Principal, roomId: string): boolean {
    const room = this.#rooms.get(roomId);
    return room !== undefined && (principal.role === 'operator' || (principal.role === 'streamer' && principal.userId === room.info.streamerId));
  }

  notifyUser(roomId: string, userId: string, message: DirectMessage): void {
    this.#broker.publishDirect(roomId, userId, encode(message));
  }

  publishStock(roomId: string, sku: string, available: number): void {
    const room = this.#rooms.get(roomId);
    if (room !== undefined) this.#publishState(room, { t: 'stock', sku, available });
  }

  publishSoldOut(roomId: string, sku: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    this.#emit(room, { t: 'soldOut', sku }).catch((error: unknown) => this.#log.warn({ err: error, roomId, sku }, 'sold-out announcement failed'));
  }

  // ------------------------------------------------------------------ internals

  /** Encodes once, publishes through the broker; resolves with the issued seq. */
  #emit(room: Room, event: UnsequencedEvent): Promise<number> {
    return this.#broker.publishSequenced(room.id, laneOf[event.t], encodeSequenced(event), event);
  }

  #onDelivery(delivery: Delivery): void {
    const room = this.#rooms.get(delivery.roomId);
    if (room === undefined) return;
    switch (delivery.kind) {
      case 'direct':
        for (const member of room.membersOf(delivery.userId)) member.send(delivery.frame);
        return;
      case 'sequenced':
        if (delivery.seq <= room.latestSeq) return; // duplicate after a broker reconnect
        room.apply(delivery.event);
        room.latestSeq = delivery.seq;
        room.ring.push(delivery.seq, delivery.frame);
        break;
      case 'state':
        if (delivery.update.t === 'stock') room.stock.set(delivery.update.sku, delivery.update.available);
        break;
    }
    this.#fanout.publish(room.id, delivery.lane, delivery.frame);
  }

  #publishState(room: Room, update: StateUpdate): void {
    this.#broker.publishState(room.id, laneOf[update.t], encode(update), update);
  }

  #flushLikes(): void {
    for (const room of this.#likesDirty) this.#publishState(room, { t: 'likes', total: room.likes });
    this.#likesDirty.clear();
  }

  #flushViewers(): void {
    for (const room of this.#viewersDirty) this.#publishState(room, { t: 'viewers', count: room.memberCount });
    this.#viewersDirty.clear();
  }

  #pruneBans(room: Room): void {
    const now = this.#now();
    for (const userId of room.bans.keys()) room.isBanned(userId, now);
    if (room.bans.size >= this.#config.maxMutedPerRoom) throw new ProtocolError('LIMIT_EXCEEDED', 'too many banned users in this room');
  }

  #room(roomId: string): Room {
    const room = this.#rooms.get(roomId);
    if (room === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return room;
  }

  #mustModerate(principal: Principal, room: Room): void {
    if (this.canModerate(principal, room.id)) return;
    throw new ProtocolError('FORBIDDEN', principal.role === 'viewer' ? 'viewers cannot do this' : 'only this room\'s streamer or an operator can do this');
  }

  #summary(room: Room): RoomSummary {
    return { ...room.info, viewers: room.memberCount, likes: room.likes };
  }
}
