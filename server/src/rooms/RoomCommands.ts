import { randomBytes } from 'node:crypto';
import {
  characterCount,
  type Popup,
  type ProductInput,
  type RoomInfo,
  type RoomRequest,
  type RoomSettings,
  type RoomState,
  SHOW_MAX_LEAD_MS,
} from '../../../protocol/src/index.ts';
import { commerceScopeOf, isShopId, SHOP_ID_PREFIX } from '../commerce/commerceScope.ts';
import type { ShopWindows } from './ShopWindows.ts';
import type { Principal } from '../auth/TokenService.ts';
import type { Broker } from '../broker/Broker.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/Store.ts';
import type { Member } from './Member.ts';
import type { Room } from './Room.ts';
import type { Ban, RoomDirectory, RoomSettingsChange } from '../store/RoomDirectory.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import { ModerationCommands, type ModerationConfig } from './ModerationCommands.ts';
import { mustModerate, mustModerateChat, ownsRoom } from './RoomRules.ts';
import { TokenBucketLimiter } from './TokenBucketLimiter.ts';

export type RoomSummary = RoomInfo & { viewers: number; likes: number };
export type RequestResult = Record<string, unknown>;

/** What room commands need from commerce: inventory for a new product, and a kicked user's reservations back to stock. */
export interface RoomCommerce {
  addProduct(principal: Principal, roomId: string, product: ProductInput): Promise<ProductInput>;
  /** Resolves with the units given back. */
  releaseUser(roomId: string, userId: string): Promise<number>;
}

export type CommandsConfig = Pick<Config, 'maxRooms' | 'maxMutedPerRoom' | 'kickBanMs' | 'commentMaxLength' | 'commentRate' | 'commentBurst' | 'rateLimiterMaxKeys' | 'replayTimelineMaxPins'> & ModerationConfig;

/**
 * What users ask of rooms, over HTTP and the WebSocket: create, list and read rooms, start and end
 * the show, comments, pins, moderation and bans. Each command checks who asks, writes the
 * directory, then publishes its event through the registry; hosted rooms change when the event
 * comes back, as on every other node. Products go through commerce (their inventory first).
 */
export class RoomCommands {
  readonly #config: CommandsConfig;
  readonly #registry: RoomRegistry;
  readonly #directory: RoomDirectory;
  readonly #store: Pick<Store, 'roomStock'>;
  readonly #broker: Pick<Broker, 'publishKick' | 'publishSettings'>;
  /** Moderators, keyword filter and pinned comment. */
  readonly moderation: ModerationCommands;
  readonly #commerce: RoomCommerce;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #commentLimiter: TokenBucketLimiter;
  readonly #shops: Pick<ShopWindows, 'open' | 'link'> | undefined;
  /** Told when a room goes from `scheduled` to `live` (the shows' reminders). */
  showWentLive: ((room: RoomInfo) => void) | undefined;

  constructor(deps: {
    config: CommandsConfig;
    registry: RoomRegistry;
    directory: RoomDirectory;
    store: Pick<Store, 'roomStock'>;
    broker: Pick<Broker, 'publishKick' | 'publishSettings' | 'publishFilter'>;
    commerce: RoomCommerce;
    log: Logger;
    now?: () => number;
    /** Streamers' shops, for shows created with `shop: true`. */
    shops?: Pick<ShopWindows, 'open' | 'link'>;
  }) {
    this.#shops = deps.shops;
    this.#config = deps.config;
    this.#registry = deps.registry;
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#broker = deps.broker;
    this.#commerce = deps.commerce;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.moderation = new ModerationCommands({ config: deps.config, registry: deps.registry, directory: deps.directory, broker: deps.broker, log: deps.log, now: this.#now });
    this.#commentLimiter = new TokenBucketLimiter(deps.config.commentRate, deps.config.commentBurst, deps.config.rateLimiterMaxKeys, this.#now);
  }

  // ------------------------------------------------------------------ rooms (HTTP)

  /**
   * With `shop: true` the show is linked to the streamer's shop (opened on first use): it sells the shop's products from the shop's inventory.
   * With `startsAt` the room is a scheduled show (shows.ts): it must be in the future, at most `SHOW_MAX_LEAD_MS` ahead.
   */
  async createRoom(principal: Principal, input: { title: string; id?: string | undefined; shop?: boolean | undefined; startsAt?: number | undefined }): Promise<RoomInfo> {
    if (principal.role === 'viewer') throw new ProtocolError('FORBIDDEN', 'only streamers and operators create rooms');
    const id = input.id ?? `r-${randomBytes(5).toString('base64url')}`;
    if (isShopId(id)) throw new ProtocolError('BAD_REQUEST', `id: room ids starting with ${SHOP_ID_PREFIX} are kept for shops`);
    if (input.shop === true && this.#shops === undefined) throw new ProtocolError('BAD_REQUEST', 'shop: this server has no shops');
    const now = this.#now();
    if (input.startsAt !== undefined && (input.startsAt <= now || input.startsAt - now > SHOW_MAX_LEAD_MS)) throw new ProtocolError('BAD_REQUEST', 'startsAt must be in the future, at most a year ahead');
    const shopId = input.shop === true ? await this.#shops!.open(principal) : undefined;
    const info: RoomInfo = {
      id, title: input.title, streamerId: principal.userId, state: 'scheduled', createdAt: now,
      ...(shopId === undefined ? {} : { shopId }), ...(input.startsAt === undefined ? {} : { startsAt: input.startsAt }),
    };
    const result = await this.#directory.create(info, randomBytes(6).toString('base64url'), this.#config.maxRooms);
    if (result === 'exists') throw new ProtocolError('ROOM_EXISTS', `room ${id} already exists`);
    if (result === 'full') throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxRooms} rooms`);
    if (shopId !== undefined) await this.#shops!.link(shopId, id);
    this.#log.info({ roomId: id, streamerId: principal.userId }, 'room created');
    return info;
  }

  async listRooms(): Promise<RoomSummary[]> {
    return (await this.#directory.list()).map((info) => {
      const room = this.#registry.hosted(info.id);
      return room === undefined ? { ...info, viewers: 0, likes: 0 } : summary(room);
    });
  }

  async snapshot(roomId: string): Promise<RoomSummary & { popup: Popup | null; products: ProductInput[]; stock: Record<string, number> }> {
    const room = await this.#registry.view(roomId);
    const stock = this.#registry.hosted(roomId) !== undefined ? Object.fromEntries(room.stock) : await this.#store.roomStock(commerceScopeOf(room.info));
    return { ...summary(room), popup: room.popup, products: [...room.catalog.values()], stock };
  }

  async setShowState(principal: Principal, roomId: string, state: Exclude<RoomState, 'scheduled'>): Promise<RoomInfo> {
    const room = await this.#registry.view(roomId);
    mustModerate(principal, room);
    if (room.info.kind === 'shop') throw new ProtocolError('BAD_REQUEST', 'a shop is always open: it has no show to start or end');
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', `room ${roomId} has ended`);
    const before = room.info.state;
    if (before !== state) {
      this.#registry.forgetView(roomId);
      // A show the server ended as missed while this request was on its way stays ended.
      if (!(await this.#directory.setState(roomId, state))) throw new ProtocolError('ROOM_ENDED', `room ${roomId} has ended`);
      await this.#registry.emit(roomId, { t: 'roomState', state });
      if (state === 'live' && before === 'scheduled') this.showWentLive?.({ ...room.info, state });
    }
    return { ...room.info, state };
  }

  /** The room's bans in force, for its moderators (names as the users had them when kicked). */
  async bans(principal: Principal, roomId: string): Promise<Ban[]> {
    mustModerateChat(principal, await this.#registry.view(roomId));
    return this.#directory.bans(roomId, this.#now());
  }

  /**
   * Lets a kicked user back in (and to the cart) at once; resolves whether a ban was in force. In a
   * show linked to its shop, the shop's ban that the kick put there goes too (`#kick`).
   */
  async liftBan(principal: Principal, roomId: string, userId: string): Promise<boolean> {
    const room = await this.#registry.view(roomId);
    mustModerateChat(principal, room);
    const scope = commerceScopeOf(room.info);
    let lifted = false;
    for (const id of scope === roomId ? [roomId] : [roomId, scope]) {
      const liftedHere = await this.#directory.clearBan(id, userId, this.#now());
      lifted ||= liftedHere;
      this.#registry.forgetView(id);
      await this.#broker.publishKick(id, userId, 0);
    }
    this.#log.info({ roomId, userId, by: principal.userId, lifted }, 'ban lifted');
    return lifted;
  }

  /**
   * An operator's change to the room's settings (degrade override, queue limit), for every node:
   * kept in the directory (nodes that start hosting the room read it there), taken here at once,
   * then told to the nodes hosting the room. Throws ROOM_NOT_FOUND; a failed announcement throws
   * UNAVAILABLE with the change kept (set it again to tell the nodes).
   */
  async changeSettings(principal: Principal, roomId: string, change: RoomSettingsChange): Promise<RoomSettings> {
    if (principal.role !== 'operator') throw new ProtocolError('FORBIDDEN', 'operators only');
    const settings = await this.#directory.updateSettings(roomId, change);
    if (settings === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    this.#registry.takeSettings(roomId, settings);
    await this.#broker.publishSettings(roomId, settings);
    this.#log.info({ roomId, by: principal.userId, settings }, 'room settings changed');
    return settings;
  }

  // ------------------------------------------------------------------ requests (WS)

  async handle(member: Member, roomId: string, request: RoomRequest): Promise<RequestResult> {
    const room = await this.#registry.view(roomId);
    const { principal } = member;
    switch (request.t) {
      case 'ping':
        return { now: this.#now() };
      case 'comment':
        return { seq: await this.#comment(room, principal, request.text) };
      case 'addProduct':
        return { product: await this.#commerce.addProduct(principal, roomId, request.product) };
      case 'pin': {
        mustModerate(principal, room);
        const product = room.catalog.get(request.sku);
        if (product === undefined) throw new ProtocolError('PRODUCT_NOT_FOUND', `no product ${request.sku} in this room`);
        const now = this.#now();
        if (request.endsAt !== undefined && request.endsAt <= now) throw new ProtocolError('BAD_REQUEST', 'endsAt must be in the future');
        const popup: Popup = request.endsAt === undefined ? { product, pinnedAt: now } : { product, pinnedAt: now, endsAt: request.endsAt };
        await this.#directory.setPopup(roomId, popup, this.#config.replayTimelineMaxPins);
        return { seq: await this.#registry.emit(roomId, { t: 'popup', popup }) };
      }
      case 'unpin':
        mustModerate(principal, room);
        if (room.popup === null) return { seq: room.latestSeq };
        await this.#directory.setPopup(roomId, null, this.#config.replayTimelineMaxPins);
        return { seq: await this.#registry.emit(roomId, { t: 'popup', popup: null }) };
      case 'deleteComment': {
        mustModerateChat(principal, room);
        if (!room.hasComment(request.seq)) throw new ProtocolError('COMMENT_NOT_FOUND', `no recent comment with seq ${request.seq}`);
        const seq = await this.#registry.emit(roomId, { t: 'commentDeleted', commentSeq: request.seq });
        await this.moderation.unpinComment(principal, room, request.seq); // a deleted comment stays pinned nowhere
        return { seq };
      }
      case 'mute':
      case 'unmute': {
        mustModerateChat(principal, room);
        this.moderation.mustActOn(principal, room, request.userId);
        const muted = request.t === 'mute';
        if (muted && !room.muted.has(request.userId) && room.muted.size >= this.#config.maxMutedPerRoom) {
          throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxMutedPerRoom} muted users per room`);
        }
        if (room.muted.has(request.userId) === muted) return { seq: room.latestSeq };
        await this.#directory.setMuted(roomId, request.userId, muted);
        return { seq: await this.#registry.emit(roomId, { t: 'userMuted', userId: request.userId, muted }) };
      }
      case 'kick':
        return this.#kick(principal, room, request.userId);
      case 'unban':
        return { lifted: await this.liftBan(principal, roomId, request.userId) };
      case 'setModerator':
        return { moderators: await this.moderation.setModerator(principal, roomId, request.userId, request.moderator) };
      case 'setFilter':
        return { words: await this.moderation.setFilter(principal, roomId, request.words) };
      case 'pinComment':
        return { seq: await this.moderation.pinComment(principal, room, request.seq) };
      case 'unpinComment':
        return { seq: await this.moderation.unpinComment(principal, room) };
      case 'getModeration':
        return { ...(await this.moderation.state(principal, roomId)) };
    }
  }

  async #kick(principal: Principal, room: Room, userId: string): Promise<RequestResult> {
    mustModerateChat(principal, room);
    this.moderation.mustActOn(principal, room, userId);
    const roomId = room.id;
    if (userId === room.info.streamerId) throw new ProtocolError('FORBIDDEN', 'the room\'s streamer cannot be kicked');
    const now = this.#now();
    // Bans that ended do not count against the cap.
    room.pruneExpiredBans(now);
    if (!room.bans.has(userId) && room.bans.size >= this.#config.maxMutedPerRoom) throw new ProtocolError('LIMIT_EXCEEDED', 'too many banned users in this room');
    const until = now + this.#config.kickBanMs;
    const closedHere = room.membersOf(userId).length;
    // A show linked to its shop sells the shop's: the kick bans the user from the shop too (its
    // window, its carts and coupons, and so every show of the shop's commerce) for as long.
    const scope = commerceScopeOf(room.info);
    for (const id of scope === roomId ? [roomId] : [roomId, scope]) {
      await this.#directory.setBan(id, userId, until, room.nameOf(userId) ?? userId, now);
      this.#registry.forgetView(id);
      await this.#broker.publishKick(id, userId, until);
    }
    // After the ban is in place, so no add of theirs can start after the release.
    const released = await this.#commerce.releaseUser(roomId, userId).catch((error: unknown) => {
      this.#log.warn({ err: error, roomId, userId }, 'kicked user\'s reservations not released; they expire by themselves');
      return 0;
    });
    this.#log.info({ roomId, userId, by: principal.userId, released }, 'user kicked');
    return { closed: closedHere, released };
  }

  async #comment(room: Room, principal: Principal, text: string): Promise<number> {
    if (room.info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended');
    if (room.degrade.level === 3 && principal.role === 'viewer') throw new ProtocolError('OVERLOADED', 'the room is busy: commerce only for now', 5000);
    if (room.muted.has(principal.userId)) throw new ProtocolError('MUTED', 'you are muted in this room');
    if (text.trim().length === 0) throw new ProtocolError('BAD_REQUEST', 'comment is empty');
    if (characterCount(text) > this.#config.commentMaxLength) throw new ProtocolError('BAD_REQUEST', `comment longer than ${this.#config.commentMaxLength} characters`);
    const waitMs = this.#commentLimiter.take(`${room.id}\u0000${principal.userId}`);
    if (waitMs > 0) throw new ProtocolError('RATE_LIMITED', 'commenting too fast', waitMs);
    // After the rate limit, so probing the filter costs as much as commenting. Those who set it are not filtered.
    if (room.filter.matches(text) && !room.isModerator(principal.userId) && !ownsRoom(principal, room)) throw new ProtocolError('COMMENT_FILTERED', 'your comment was not posted: it contains a word this room does not allow');
    return this.#registry.emit(room.id, { t: 'comment', userId: principal.userId, name: principal.name, text, ts: this.#now() });
  }
}

function summary(room: Room): RoomSummary {
  return { ...room.info, viewers: Math.max(room.viewers, room.viewerCount), likes: room.likes };
}
