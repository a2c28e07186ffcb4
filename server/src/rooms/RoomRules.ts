import { type CartAnswer, type DirectMessage, encode, type Product, type RoomInfo } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import type { Broker } from '../broker/Broker.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Room } from './Room.ts';
import type { RoomCheck } from '../commerce/CommerceService.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { ShopLinks } from './ShopLinks.ts';
import { commerceScopeOf, isShopId } from '../commerce/commerceScope.ts';

/** Throws FORBIDDEN unless `principal` is an operator or the room's streamer. */
export function mustModerate(principal: Principal, room: Room): void {
  if (principal.role === 'operator' || (principal.role === 'streamer' && principal.userId === room.info.streamerId)) return;
  throw new ProtocolError('FORBIDDEN', principal.role === 'viewer' ? 'viewers cannot do this' : 'only this room\'s streamer or an operator can do this');
}

/**
 * Throws FORBIDDEN unless `principal` may moderate the room's chat: an operator, the room's
 * streamer, or one of the room's moderators (comments, mutes, kicks and bans, the pinned comment,
 * the keyword filter; never products or the show itself).
 */
export function mustModerateChat(principal: Principal, room: Room): void {
  if (room.isModerator(principal.userId)) return;
  mustModerate(principal, room);
}

/** Whether `principal` is the room's streamer or an operator (above its moderators). */
export function ownsRoom(principal: Principal, room: Room): boolean {
  return principal.role === 'operator' || (principal.role === 'streamer' && principal.userId === room.info.streamerId);
}

/**
 * What the other domains ask of a room (commerce and media): its rules for a cart request, who
 * owns it and who may moderate it, its catalog, and the news they have for its members (stock,
 * sold out, a buyer's expired reservation). Reads the room hosted here, or the directory's.
 */
export class RoomRules {
  readonly #registry: RoomRegistry;
  readonly #directory: Pick<RoomDirectory, 'putProduct'>;
  readonly #broker: Pick<Broker, 'publishDirect'>;
  readonly #log: Logger;
  readonly #now: () => number;
  /** An ended show's products stay on sale (`--replay-sales`). */
  readonly #replaySales: boolean;
  /** Per room: variant sku → its product's sku, rebuilt when the catalog grows. */
  readonly #variantIndex = new WeakMap<Room, { size: number; products: Map<string, string> }>();
  /** Who hears a shop's news besides the shop (its linked shows); without it, each room hears its own only. */
  readonly #links: Pick<ShopLinks, 'toAudience' | 'linked'> | undefined;

  constructor(deps: { registry: RoomRegistry; directory: Pick<RoomDirectory, 'putProduct'>; broker: Pick<Broker, 'publishDirect'>; replaySales: boolean; log: Logger; now?: () => number; links?: Pick<ShopLinks, 'toAudience' | 'linked'> }) {
    this.#registry = deps.registry;
    this.#links = deps.links;
    this.#replaySales = deps.replaySales;
    this.#directory = deps.directory;
    this.#broker = deps.broker;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * The room's rules, checked first for every cart request (WebSocket and HTTP alike). Throws
   * ROOM_NOT_FOUND; KICKED while the user is banned from the room or, for a show linked to its
   * shop, from the shop (a kick in any of the shop's shows bans there too: `RoomCommands`), for any
   * operation but `manage`;
   * ROOM_ENDED for an `add` once the show is over, unless its replay sells (checkout and releases
   * always work). Resolves with
   * the answer when the rules give it themselves: `not_on_sale` with `startsAt` for an `add` in a
   * scheduled show not started yet, with `endsAt` for an `add` of a product whose pop-up offer
   * ended. Otherwise undefined: go on.
   *
   * Synchronous when the room (and a linked show's shop) is hosted here or its view is fresh: a
   * hosted room's tap goes on within the turn that read it (and its budget).
   */
  assertRoom(roomId: string, check: RoomCheck): CartAnswer | undefined | Promise<CartAnswer | undefined> {
    const room = this.#registry.viewAtHand(roomId);
    if (room === undefined) return this.#registry.cachedView(roomId).then((view) => this.#shopRules(view, check));
    return this.#shopRules(room, check);
  }

  /**
   * A request queued for its turn, checked again as it goes to the store (the admission gate's
   * `turnRefusal`): KICKED when its user was banned meanwhile, in the room or in the scope it buys
   * from. Reads what is at hand only (rooms hosted here hear bans at once; views are up to a second old).
   */
  refusalAtTurn(scope: string, roomId: string, userId: string): ProtocolError | undefined {
    const now = this.#now();
    if (this.#registry.viewAtHand(roomId)?.isBanned(userId, now) === true) return kicked();
    if (scope !== roomId && this.#registry.viewAtHand(scope)?.isBanned(userId, now) === true) return kicked();
    return undefined;
  }

  /** The room's rules, after the shop's ban list when the room is a show linked to its shop (its view, at hand or read). */
  #shopRules(room: Room, check: RoomCheck): CartAnswer | undefined | Promise<CartAnswer | undefined> {
    const scope = commerceScopeOf(room.info);
    if (check.operation === 'manage' || scope === room.id) return this.#cartRules(room, check);
    const shop = this.#registry.viewAtHand(scope);
    if (shop !== undefined) {
      if (shop.isBanned(check.principal.userId, this.#now())) throw kicked();
      return this.#cartRules(room, check);
    }
    return this.#registry.cachedView(scope).then((view) => {
      if (view.isBanned(check.principal.userId, this.#now())) throw kicked();
      return this.#cartRules(room, check);
    });
  }

  /**
   * Where the room's commerce lives in the store (`commerceScopeOf`: a show linked to its shop sells
   * from the shop's). Synchronous when the room is hosted here or its view is fresh.
   */
  scopeOf(roomId: string): string | Promise<string> {
    if (isShopId(roomId)) return roomId;
    const room = this.#registry.viewAtHand(roomId);
    return room === undefined ? this.#registry.cachedView(roomId).then((view) => this.#scopeOfShow(view)) : this.#scopeOfShow(room);
  }

  /** A show linked to its shop hears the shop's news from the first request of it seen here on. */
  #scopeOfShow(room: Room): string {
    const scope = commerceScopeOf(room.info);
    if (scope !== room.id) this.#links?.linked(scope, room.id);
    return scope;
  }

  /** Who owns the room and whether it is live (a view up to a few seconds old). */
  async roomInfo(roomId: string): Promise<RoomInfo> {
    return (await this.#registry.cachedView(roomId)).info;
  }

  async canModerate(principal: Principal, roomId: string): Promise<boolean> {
    if (principal.role === 'operator') return true;
    if (principal.role !== 'streamer') return false;
    const room = await this.#registry.cachedView(roomId).catch(() => undefined);
    return room?.info.streamerId === principal.userId;
  }

  /** The room's catalog, read afresh, for one of its moderators: throws ROOM_NOT_FOUND or FORBIDDEN. */
  async catalogFor(principal: Principal, roomId: string): Promise<ReadonlyMap<string, Product>> {
    const room = await this.#registry.view(roomId);
    mustModerate(principal, room);
    return room.catalog;
  }

  /** Puts a product in the room's catalog (its inventory is in the store already) and tells the room. */
  async putProduct(roomId: string, product: Product): Promise<void> {
    await this.#directory.putProduct(roomId, product);
    await this.#registry.emit(roomId, { t: 'product', product });
  }

  /** The room's degrade level on this node (0 when not hosted here). */
  degradeLevelOf(roomId: string): number {
    return this.#registry.degradeLevelOf(roomId);
  }

  notifyUser(roomId: string, userId: string, message: DirectMessage): void {
    const frame = encode(message);
    this.#toAudience(roomId, (id) => this.#broker.publishDirect(id, userId, frame));
  }

  publishStock(roomId: string, sku: string, available: number): void {
    const update = { t: 'stock', sku, available } as const;
    this.#toAudience(roomId, (id) => this.#registry.publishState(id, update));
  }

  publishSoldOut(roomId: string, sku: string): void {
    this.#toAudience(roomId, (id) => {
      this.#registry.emit(id, { t: 'soldOut', sku }).catch((error: unknown) => this.#log.warn({ err: error, roomId: id, sku }, 'sold-out announcement failed'));
    });
  }

  /** The product a variant's sku belongs to (the pop-up's countdown ends its variants' offer too); the sku itself otherwise. */
  #productOf(room: Room, sku: string): string {
    let index = this.#variantIndex.get(room);
    if (index === undefined || index.size !== room.catalog.size) {
      const products = new Map<string, string>();
      for (const product of room.catalog.values()) for (const variant of product.variants ?? []) products.set(variant.sku, product.sku);
      this.#variantIndex.set(room, (index = { size: room.catalog.size, products }));
    }
    return index.products.get(sku) ?? sku;
  }

  /** Calls `send` for the commerce scope and, when it is a shop, for the shows linked to it (`ShopLinks.toAudience`). */
  forScope(scopeId: string, send: (roomId: string) => void): void {
    this.#toAudience(scopeId, send);
  }

  /** The room, and the shows linked to it when it is a shop. */
  #toAudience(roomId: string, send: (roomId: string) => void): void {
    if (this.#links === undefined) send(roomId);
    else this.#links.toAudience(roomId, send);
  }

  #cartRules(room: Room, check: RoomCheck): CartAnswer | undefined {
    if (check.operation === 'manage') return undefined;
    const now = this.#now();
    if (room.isBanned(check.principal.userId, now)) throw kicked();
    if (check.operation !== 'add') return undefined;
    // An ended show's replay sells on the same terms as the show did (pop-up offers that ended stay
    // ended); a shop closed with the show takes no new adds, and what buyers hold they may still pay for.
    if (room.info.state === 'ended' && !this.#replaySales) throw new ProtocolError('ROOM_ENDED', 'the show has ended: nothing new can be added (checkout still works)');
    // A show that never took place never put its preview on sale: its cancellation does not either.
    if (room.info.state === 'ended' && room.info.missed === true) throw new ProtocolError('ROOM_ENDED', 'the show did not take place: its products were never on sale');
    // A scheduled show's catalog is its preview: on sale once the streamer starts it.
    if (room.info.state === 'scheduled' && room.info.startsAt !== undefined) return { status: 'not_on_sale', sku: check.sku!, startsAt: room.info.startsAt };
    const endsAt = check.sku === undefined || room.offerEnds.size === 0 ? undefined : room.offerEnds.get(check.sku) ?? room.offerEnds.get(this.#productOf(room, check.sku));
    if (endsAt !== undefined && now >= endsAt) return { status: 'not_on_sale', sku: check.sku!, endsAt };
    return undefined;
  }
}

/** A banned user's refusal (the room's or its shop's ban). */
function kicked(): ProtocolError {
  return new ProtocolError('KICKED', 'you were removed from this room: its cart is closed to you until the ban ends');
}
