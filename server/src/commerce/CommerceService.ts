import type { CartAnswer, CartRequest, Order, Product, ProductInput } from '../../../protocol/src/index.ts';
import type { CartGate } from '../admission/CartGate.ts';
import type { CartRules } from '../admission/CartDesk.ts';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import type { Logger } from '../log.ts';
import { isReplay } from '../store/idempotency.ts';
import { inventorySkusOf } from '../../../protocol/src/index.ts';
import type { ReleasedLine, Store } from '../store/Store.ts';
import { stockIntervalMs } from '../fanout/stateIntervals.ts';
import { StockAnnouncer, type StockPublisher } from './StockAnnouncer.ts';

/** What a cart request asks of its room (see `RoomRules.assertRoom`). */
export interface RoomCheck {
  readonly principal: Principal;
  /**
   * `add` reserves units (addToCart, setQuantity above 0); `release` gives them back (setQuantity
   * 0, removeFromCart); `read` is getCart; `manage` a moderator's inventory, orders and stock.
   */
  readonly operation: 'add' | 'release' | 'read' | 'checkout' | 'manage';
  /** The product of an `add` or `release`. */
  readonly sku?: string;
}

/** What commerce needs from the room layer (`RoomRules`): the room's rules for a cart request, its catalog, and a way to tell its members. */
export interface CommerceRooms extends StockPublisher {
  /** The room's rules, checked first for every cart request (see `RoomRules.assertRoom`). */
  assertRoom(roomId: string, check: RoomCheck): CartAnswer | undefined | Promise<CartAnswer | undefined>;
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  /** The room's catalog, read afresh, for one of its moderators: throws ROOM_NOT_FOUND or FORBIDDEN. */
  catalogFor(principal: Principal, roomId: string): Promise<ReadonlyMap<string, Product>>;
  /** Puts a product in the room's catalog and tells the room. */
  putProduct(roomId: string, product: Product): Promise<void>;
  notifyUser(roomId: string, userId: string, message: { t: 'reservationExpired'; sku: string; quantity: number }): void;
  /** The room's degrade level on this node (0 when not hosted here). */
  degradeLevelOf(roomId: string): number;
  /**
   * Where the room's commerce lives in the store (`commerceScopeOf`): a show linked to its shop
   * sells from the shop's inventory and carts. Absent: every room is its own.
   */
  scopeOf?(roomId: string): string | Promise<string>;
}

export interface CommerceOptions {
  readonly sweepIntervalMs: number;
  readonly sweepBatch: number;
  readonly stockIntervalMs: number;
  /** Stock interval of a room at degrade level 2 or more. */
  readonly degradedStockIntervalMs: number;
  readonly maxProductsPerRoom: number;
}

/** Which cart operation an answer belongs to (removeFromCart is a setQuantity to 0). */
type CartOperation = 'addToCart' | 'setQuantity' | 'checkout';

/**
 * Optional: hears every cart answer (from WebSocket and HTTP alike), for metrics. Called
 * synchronously before the answer is returned; keep it cheap. An idempotent retry that returns the
 * first answer again is heard again.
 */
export type CartObserver = (operation: CartOperation, answer: CartAnswer) => void;

/**
 * The rules and the news of carts: which cart requests a room takes (`check`), what every answer
 * tells the room (stock, sold out) and the operators (metrics, order logs), the sweep of expired
 * reservations, products, orders and inventory for moderators. Cart requests themselves enter through the
 * `CartDesk`, which calls `check` and `answered`. Knows nothing about sockets or HTTP.
 */
export class CommerceService implements CartRules {
  readonly #store: Store;
  readonly #rooms: CommerceRooms;
  readonly #log: Logger;
  readonly #sweepBatch: number;
  readonly #maxProductsPerRoom: number;
  readonly #now: () => number;
  readonly #announcer: StockAnnouncer;
  readonly #gate: Pick<CartGate, 'stockChanged' | 'refuseUser'>;
  readonly #observer: CartObserver | undefined;
  readonly #orders: { placed(order: Order): void } | undefined;
  readonly #coupons: { claimed(roomId: string, couponId: string, left: number): void } | undefined;
  readonly #sweepTimer: NodeJS.Timeout;
  #sweeping = false;

  /** `gate` hears stock news (the admission controller answers adds of sold-out products apart); `orders` hears of each new order (`OrderService.placed`). */
  constructor(deps: {
    store: Store; rooms: CommerceRooms; options: CommerceOptions; log: Logger; gate: Pick<CartGate, 'stockChanged' | 'refuseUser'>; now?: () => number; observer?: CartObserver;
    orders?: { placed(order: Order): void };
    /** Hears each new coupon claim (`CouponService.claimed`: the room's card shows what is left). */
    coupons?: { claimed(roomId: string, couponId: string, left: number): void };
  }) {
    this.#coupons = deps.coupons;
    this.#store = deps.store;
    this.#observer = deps.observer;
    this.#orders = deps.orders;
    this.#gate = deps.gate;
    this.#rooms = deps.rooms;
    this.#log = deps.log;
    this.#sweepBatch = deps.options.sweepBatch;
    this.#maxProductsPerRoom = deps.options.maxProductsPerRoom;
    this.#now = deps.now ?? Date.now;
    const options = deps.options;
    this.#announcer = new StockAnnouncer(deps.rooms, options.stockIntervalMs, (roomId) => stockIntervalMs(options, deps.rooms.degradeLevelOf(roomId)), this.#now, {
      read: async (scope, sku) => (await this.#store.stock(scope, sku))?.available,
      onError: (error) => this.#log.warn({ err: error }, 'a product\'s stock could not be read back to settle its level'),
    });
    this.#sweepTimer = setInterval(() => void this.sweep(), deps.options.sweepIntervalMs).unref();
  }

  close(): void {
    clearInterval(this.#sweepTimer);
    this.#announcer.close();
  }

  /** A room hosted here heard a product of `scope` announced sold out (see `StockAnnouncer.soldOutHeard`). */
  soldOutHeard(scope: string, sku: string): void {
    this.#announcer.soldOutHeard(scope, sku);
  }

  /** A room hosted here heard a product of `scope` back in stock (see `StockAnnouncer.comeBackHeard`). */
  comeBackHeard(scope: string, sku: string): void {
    this.#announcer.comeBackHeard(scope, sku);
  }

  /** The room is no longer hosted here: what the stock news keeps for it goes (once its pending news is out). */
  forget(roomId: string): void {
    this.#announcer.forget(roomId);
  }

  perRoomState(): Record<string, number> {
    return { stockNews: this.#announcer.roomCount };
  }

  /** Rooms whose stock news has been quiet for `idleForMs`. */
  idleRooms(idleForMs: number): Iterable<string> {
    return this.#announcer.idleRooms(idleForMs);
  }

  /**
   * A new product for the room's catalog, by one of its moderators: its inventory goes into the
   * store first (the store refuses a duplicate sku atomically, even across nodes), then the catalog
   * and the room hear of it. One cart, one currency: a room sells in one. A product with variants
   * has an inventory per variant (its own sku has none).
   *
   * A show linked to its shop sells the shop's products: a sku the shop has already is taken from
   * the shop as it is there (the input's other fields are not used); a new one goes into the shop's
   * inventory and catalog, then the show's.
   */
  async addProduct(principal: Principal, roomId: string, input: ProductInput): Promise<ProductInput> {
    // A product with variants has the stock of its variants.
    const product = input.variants === undefined ? input : { ...input, stock: input.variants.reduce((units, v) => units + v.stock, 0) };
    const catalog = await this.#rooms.catalogFor(principal, roomId);
    const scope = await this.scopeOf(roomId);
    if (catalog.has(product.sku)) throw new DomainError('PRODUCT_EXISTS', `product ${product.sku} is already in the catalog`);
    if (scope === roomId) {
      await this.#register(scope, catalog, product);
      await this.#rooms.putProduct(roomId, product);
      await this.#tellStock(roomId, scope, product);
      return product;
    }
    const shopCatalog = await this.#rooms.catalogFor(principal, scope);
    const inShop = shopCatalog.get(product.sku);
    this.#admissible(catalog, inShop ?? product);
    if (inShop === undefined) {
      await this.#register(scope, shopCatalog, product);
      await this.#rooms.putProduct(scope, product);
    }
    await this.#rooms.putProduct(roomId, inShop ?? product);
    await this.#tellStock(inShop === undefined ? scope : roomId, scope, inShop ?? product);
    return inShop ?? product;
  }

  /**
   * The stock of a product just put in a room's catalog, told to the room (and, for a shop, its
   * shows): the catalog event carries the product's first stock only, and not its variants', and
   * a shop's product put in a show may have sold since.
   */
  async #tellStock(roomId: string, scope: string, product: ProductInput): Promise<void> {
    if (product.variants === undefined && roomId === scope) return;
    for (const sku of inventorySkusOf(product)) {
      const level = await this.#store.stock(scope, sku);
      if (level !== undefined) this.#rooms.publishStock(roomId, sku, level.available);
    }
  }

  /** Where the room's commerce lives in the store (see `CommerceRooms.scopeOf`). */
  scopeOf(roomId: string): string | Promise<string> {
    return this.#rooms.scopeOf?.(roomId) ?? roomId;
  }

  /**
   * Checks the product against the catalog (skus, size, currency), then registers its inventory in
   * the store's `scope`: a product with variants has all of its variants' inventories registered in
   * one atomic step, so a race or a failure never leaves some of them without their product.
   */
  async #register(scope: string, catalog: ReadonlyMap<string, Product>, product: ProductInput): Promise<void> {
    this.#admissible(catalog, product);
    const base = {
      currency: product.currency, listPriceCents: product.listPriceCents,
      saleStartsAt: product.saleStartsAt, saleEndsAt: product.saleEndsAt, perCustomerLimit: product.perCustomerLimit,
    };
    await this.#store.addProduct(scope, product.variants === undefined
      ? { ...base, sku: product.sku, stock: product.stock, priceCents: product.priceCents }
      : { sku: product.sku, variants: product.variants.map((variant) => ({ ...base, sku: variant.sku, stock: variant.stock, priceCents: variant.priceCents ?? product.priceCents })) });
  }

  /** Throws unless the catalog can take the product: no sku of it (its own, its variants') taken, room left, the same currency. */
  #admissible(catalog: ReadonlyMap<string, Product>, product: ProductInput): void {
    const taken = new Set<string>();
    for (const existing of catalog.values()) {
      taken.add(existing.sku);
      for (const sku of inventorySkusOf(existing)) taken.add(sku);
    }
    for (const sku of [product.sku, ...inventorySkusOf(product)]) {
      if (taken.has(sku)) throw new DomainError('PRODUCT_EXISTS', `product ${sku} is already in the catalog`);
    }
    if (catalog.size >= this.#maxProductsPerRoom) throw new DomainError('LIMIT_EXCEEDED', `a room holds at most ${this.#maxProductsPerRoom} products`);
    const currency = catalog.values().next().value?.currency;
    if (currency !== undefined && currency !== product.currency) throw new DomainError('CURRENCY_MISMATCH', `this room sells in ${currency}; one cart, one currency`);
  }

  /** The room's rules for a cart request (see `CommerceRooms.assertRoom`): a refusal thrown, an answer the rules give themselves, or undefined. */
  check(principal: Principal, roomId: string, request: CartRequest): CartAnswer | undefined | Promise<CartAnswer | undefined> {
    switch (request.t) {
      case 'addToCart': return this.#rooms.assertRoom(roomId, { principal, operation: 'add', sku: request.sku });
      case 'setQuantity': return request.quantity === 0 ? this.#rooms.assertRoom(roomId, { principal, operation: 'release', sku: request.sku }) : this.#raiseOrLower(principal, roomId, request.sku, request.quantity);
      case 'removeFromCart': return this.#rooms.assertRoom(roomId, { principal, operation: 'release', sku: request.sku });
      case 'getCart': return this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
      case 'checkout': return this.#rooms.assertRoom(roomId, { principal, operation: 'checkout' });
      // The coupon's own window says when it may be claimed; the room's rules only keep banned users out.
      case 'claimCoupon': return this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
      // Likewise a giveaway's window and eligibility are the giveaway's (GiveawayService).
      case 'enterGiveaway': return this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
      // Likewise the auction's own state answers a bid (ended, not allowed); the room's rules keep banned users out.
      case 'bid': return this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
    }
  }

  /**
   * A new quantity above 0 is an add when it raises the line. When the room refuses adds (the
   * show or the product's offer ended), a quantity at or below what the user holds is a release:
   * a buyer may still hold less.
   */
  #raiseOrLower(principal: Principal, roomId: string, sku: string, quantity: number): CartAnswer | undefined | Promise<CartAnswer | undefined> {
    const orLower = (refused: () => CartAnswer) => this.#ifLowering(principal, roomId, sku, quantity, refused);
    let asAdd: CartAnswer | undefined | Promise<CartAnswer | undefined>;
    try {
      asAdd = this.#rooms.assertRoom(roomId, { principal, operation: 'add', sku });
    } catch (refusal) {
      return orLower(() => {
        throw refusal;
      });
    }
    if (asAdd === undefined) return undefined;
    if (asAdd instanceof Promise) {
      return asAdd.then(
        (answer) => (answer === undefined ? undefined : orLower(() => answer)),
        (refusal: unknown) => orLower(() => {
          throw refusal;
        }),
      );
    }
    const answer = asAdd;
    return orLower(() => answer);
  }

  async #ifLowering(principal: Principal, roomId: string, sku: string, quantity: number, refused: () => CartAnswer): Promise<CartAnswer | undefined> {
    const cart = await this.#store.cart(roomId, principal.userId, this.#now());
    const held = cart.lines.find((line) => line.sku === sku)?.quantity ?? 0;
    if (quantity > held) return refused();
    return this.#rooms.assertRoom(roomId, { principal, operation: 'release', sku });
  }

  /** Tells the room what an answer changed, and the operators what happened. A replayed answer tells the room nothing new. */
  answered(principal: Principal, roomId: string, request: CartRequest, answer: CartAnswer): void {
    if (request.t !== 'getCart' && request.t !== 'claimCoupon' && request.t !== 'enterGiveaway' && request.t !== 'bid') this.#observer?.(request.t === 'removeFromCart' ? 'setQuantity' : request.t, answer);
    if (isReplay(answer)) return;
    if (answer.status === 'coupon_claimed') this.#coupons?.claimed(roomId, answer.coupon.id, answer.left);
    if (answer.status === 'reserved' || answer.status === 'released') {
      this.#announcer.changed(roomId, answer.sku, answer.available, answer.status === 'reserved' && answer.granted > 0);
      if (answer.available > 0) this.#gate.stockChanged(roomId, answer.sku, answer.available);
    } else if (answer.status === 'ordered') {
      this.#log.info({ roomId, orderId: answer.order.id, userId: principal.userId, totalCents: answer.order.totalCents }, 'order placed');
      this.#orders?.placed(answer.order);
    } else if (answer.status === 'expired') {
      void this.#announceStock(roomId, answer.skus);
    }
  }

  /** An order, for its buyer or a moderator of its room. */
  async order(principal: Principal, orderId: string): Promise<Order> {
    const order = await this.#store.order(orderId);
    if (order === undefined || (order.userId !== principal.userId && !(await this.#rooms.canModerate(principal, order.roomId)))) {
      throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId} of yours`);
    }
    return order;
  }

  async roomOrders(principal: Principal, roomId: string): Promise<Order[]> {
    await this.#mustModerate(principal, roomId);
    return this.#store.orders(await this.scopeOf(roomId));
  }

  async inventory(principal: Principal, roomId: string, skus: readonly string[]) {
    await this.#mustModerate(principal, roomId);
    const scope = await this.scopeOf(roomId);
    const out: Record<string, { available: number; reserved: number; sold: number }> = {};
    for (const sku of skus) {
      const level = await this.#store.stock(scope, sku);
      if (level) out[sku] = level;
    }
    return out;
  }

  /** Sets a product's available stock (restock or correction) and tells the room. */
  async setAvailable(principal: Principal, roomId: string, sku: string, available: number) {
    await this.#mustModerate(principal, roomId);
    const scope = await this.scopeOf(roomId);
    const level = await this.#store.setAvailable(scope, sku, available);
    this.#announcer.changed(scope, sku, level.available);
    this.#gate.stockChanged(scope, sku, level.available);
    return level;
  }

  /** A cancelled order's units are back in stock: the room hears it, and adds of a product that was sold out go on. */
  restocked(roomId: string, lines: readonly ReleasedLine[]): void {
    for (const line of lines) {
      this.#announcer.changed(roomId, line.sku, line.available);
      this.#gate.stockChanged(roomId, line.sku, line.available);
    }
  }

  /**
   * A kicked user's reservations in the room go back to stock, and the room hears the new stock;
   * resolves with the units. Their adds still waiting at the gate are refused first and the store
   * calls under way are let finish, so none of them reserves after the release. Safe to run on
   * every node that hears the kick.
   */
  async releaseUser(roomId: string, userId: string): Promise<number> {
    const scope = await this.scopeOf(roomId);
    await this.#gate.refuseUser(scope, userId, new DomainError('KICKED', 'you were removed from this room by a moderator'));
    const released = await this.#store.releaseUser(scope, userId);
    this.restocked(scope, released);
    return released.reduce((units, line) => units + line.quantity, 0);
  }

  /** Returns expired reservations to stock and tells their owners. Safe to run on every node. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    try {
      const expired = await this.#store.sweepExpired(this.#now(), this.#sweepBatch);
      for (const e of expired) {
        this.#rooms.notifyUser(e.roomId, e.userId, { t: 'reservationExpired', sku: e.sku, quantity: e.quantity });
        this.#announcer.changed(e.roomId, e.sku, e.available);
        this.#gate.stockChanged(e.roomId, e.sku, e.available);
      }
      return expired.length;
    } catch (error) {
      this.#log.warn({ err: error }, 'reservation sweep failed; will retry');
      return 0;
    } finally {
      this.#sweeping = false;
    }
  }

  /** Reads and announces the stock of `skus` (after a checkout found expired lines and released them). */
  async #announceStock(roomId: string, skus: readonly string[]): Promise<void> {
    try {
      for (const sku of skus) {
        const level = await this.#store.stock(roomId, sku);
        if (level) this.#announcer.changed(roomId, sku, level.available);
      }
    } catch (error) {
      this.#log.warn({ err: error, roomId }, 'stock announcement after an expired checkout failed');
    }
  }

  async #mustModerate(principal: Principal, roomId: string): Promise<void> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'manage' });
    if (!(await this.#rooms.canModerate(principal, roomId))) throw new DomainError('NOT_MODERATOR', 'only this room\'s streamer or an operator can do this');
  }
}
