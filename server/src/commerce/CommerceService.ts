import type { Cart, CartAnswer, CartRequest, Order } from '../../../protocol/src/index.ts';
import { type AdmissionController, PRIORITY, type Priority, type Progress } from '../admission/AdmissionController.ts';
import type { Principal } from '../auth/TokenService.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ReserveRequest, Store } from '../store/Store.ts';
import { StockAnnouncer, type StockPublisher } from './StockAnnouncer.ts';

/** What a cart request asks of its room (see `CommerceRooms.assertRoom`). */
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

/** What commerce needs from the room layer: the room's rules for a cart request, and a way to tell its members. */
export interface CommerceRooms extends StockPublisher {
  /**
   * The room's rules, checked first for every cart request (WebSocket and HTTP alike). Throws
   * ROOM_NOT_FOUND; KICKED while the user is banned from the room (any operation but `manage`);
   * ROOM_ENDED for an `add` once the show is over (checkout and releases still work). Resolves with
   * the answer when the rules give it themselves: `not_on_sale` with `endsAt` for an `add` of a
   * product whose pop-up offer ended. Otherwise undefined: go on.
   */
  assertRoom(roomId: string, check: RoomCheck): Promise<CartAnswer | undefined>;
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  notifyUser(roomId: string, userId: string, message: { t: 'reservationExpired'; sku: string; quantity: number }): void;
  /** The room's degrade level on this node (0 when not hosted here). */
  degradeLevelOf(roomId: string): number;
}

export interface CommerceOptions {
  readonly reservationTtlMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatch: number;
  readonly stockIntervalMs: number;
  /** Stock interval of a room at degrade level 2 or more. */
  readonly degradedStockIntervalMs: number;
}

/** Which cart operation an answer belongs to (removeFromCart is a setQuantity to 0). */
export type CartOperation = 'addToCart' | 'setQuantity' | 'checkout';

/**
 * Optional: hears every cart answer (from WebSocket and HTTP alike), for metrics. Called
 * synchronously before the answer is returned; keep it cheap. An idempotent retry that returns the
 * first answer again is heard again.
 */
export type CartObserver = (operation: CartOperation, answer: CartAnswer) => void;

/**
 * Carts, reservations and checkout: the domain rules over the `Store`, plus the two things the
 * store cannot do by itself: announcing stock to rooms and sweeping expired reservations.
 * Knows nothing about sockets or HTTP; both edges call the same methods.
 */
export class CommerceService {
  readonly #store: Store;
  readonly #rooms: CommerceRooms;
  readonly #options: CommerceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #announcer: StockAnnouncer;
  readonly #admission: AdmissionController | undefined;
  readonly #observer: CartObserver | undefined;
  readonly #sweepTimer: NodeJS.Timeout;
  #sweeping = false;

  /** Without `admission`, every request goes straight to the store (the naive mode, for comparison). */
  constructor(deps: { store: Store; rooms: CommerceRooms; options: CommerceOptions; log: Logger; admission?: AdmissionController; now?: () => number; observer?: CartObserver }) {
    this.#store = deps.store;
    this.#observer = deps.observer;
    this.#admission = deps.admission;
    this.#rooms = deps.rooms;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    const { stockIntervalMs, degradedStockIntervalMs } = deps.options;
    this.#announcer = new StockAnnouncer(deps.rooms, stockIntervalMs, (roomId) => (deps.rooms.degradeLevelOf(roomId) >= 2 ? Math.max(stockIntervalMs, degradedStockIntervalMs) : stockIntervalMs));
    this.#sweepTimer = setInterval(() => void this.sweep(), deps.options.sweepIntervalMs).unref();
  }

  close(): void {
    clearInterval(this.#sweepTimer);
    this.#announcer.close();
    this.#admission?.close();
  }

  get admission(): AdmissionController | undefined {
    return this.#admission;
  }

  /** Stock news from the room (possibly from another node): keeps the local sold-out answers honest. */
  stockNews(roomId: string, sku: string, available: number): void {
    this.#admission?.stockChanged(roomId, sku, available);
  }

  /** A cart request from a socket; the answer is the `ok` result. `progress` hears about queueing. */
  async handle(principal: Principal, roomId: string, request: CartRequest, progress?: Progress): Promise<CartAnswer> {
    switch (request.t) {
      case 'addToCart': return this.addToCart(principal, roomId, request.sku, request.quantity, request.key, progress);
      case 'setQuantity': return this.setQuantity(principal, roomId, request.sku, request.quantity, request.key, progress);
      case 'removeFromCart': return this.removeFromCart(principal, roomId, request.sku, request.key, progress);
      case 'getCart': return { status: 'cart', cart: await this.cart(principal, roomId, progress) };
      case 'checkout': return this.checkout(principal, roomId, request.key, progress);
    }
  }

  /** The answer to a cart request that needs no store and no queue (a known sold-out product), if any. */
  answerNow(roomId: string, request: CartRequest): CartAnswer | undefined {
    if (request.t !== 'addToCart' || this.#admission === undefined) return undefined;
    const answer = this.#admission.soldOutAnswer(roomId, request.sku);
    if (answer !== undefined) this.#observer?.('addToCart', answer);
    return answer;
  }

  async addToCart(principal: Principal, roomId: string, sku: string, quantity: number, key: string, progress?: Progress): Promise<CartAnswer> {
    const ruled = await this.#rooms.assertRoom(roomId, { principal, operation: 'add', sku });
    if (ruled !== undefined) {
      this.#observer?.('addToCart', ruled);
      return ruled;
    }
    const request = this.#request(principal, roomId, sku, quantity, key);
    const answer = this.#admission === undefined ? await this.#store.reserve(request) : await this.#admission.reserve(request, progress);
    this.#observer?.('addToCart', answer);
    return this.#announce(roomId, answer);
  }

  async setQuantity(principal: Principal, roomId: string, sku: string, quantity: number, key: string, progress?: Progress): Promise<CartAnswer> {
    const ruled = await this.#rooms.assertRoom(roomId, { principal, operation: quantity > 0 ? 'add' : 'release', sku });
    if (ruled !== undefined) {
      this.#observer?.('setQuantity', ruled);
      return ruled;
    }
    const request = this.#request(principal, roomId, sku, quantity, key);
    const answer = await this.#gate(roomId, PRIORITY.change, () => this.#store.setQuantity(request), progress);
    this.#observer?.('setQuantity', answer);
    return this.#announce(roomId, answer);
  }

  removeFromCart(principal: Principal, roomId: string, sku: string, key: string, progress?: Progress): Promise<CartAnswer> {
    return this.setQuantity(principal, roomId, sku, 0, key, progress);
  }

  async cart(principal: Principal, roomId: string, progress?: Progress): Promise<Cart> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
    return this.#gate(roomId, PRIORITY.read, () => this.#store.cart(roomId, principal.userId, this.#now()), progress);
  }

  async checkout(principal: Principal, roomId: string, key: string, progress?: Progress): Promise<CartAnswer> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'checkout' });
    const answer = await this.#gate(roomId, PRIORITY.change, () => this.#store.checkout(roomId, principal.userId, key, this.#now()), progress);
    this.#observer?.('checkout', answer);
    if (answer.status === 'ordered') this.#log.info({ roomId, orderId: answer.order.id, userId: principal.userId, totalCents: answer.order.totalCents }, 'order placed');
    if (answer.status === 'expired') {
      for (const sku of answer.skus) {
        const level = await this.#store.stock(roomId, sku);
        if (level) this.#announcer.changed(roomId, sku, level.available);
      }
    }
    return answer;
  }

  /** An order, for its buyer or a moderator of its room. */
  async order(principal: Principal, orderId: string): Promise<Order> {
    const order = await this.#store.order(orderId);
    if (order === undefined || (order.userId !== principal.userId && !(await this.#rooms.canModerate(principal, order.roomId)))) {
      throw new ProtocolError('BAD_REQUEST', `no order ${orderId} of yours`);
    }
    return order;
  }

  async roomOrders(principal: Principal, roomId: string): Promise<Order[]> {
    await this.#mustModerate(principal, roomId);
    return this.#store.orders(roomId);
  }

  async inventory(principal: Principal, roomId: string, skus: readonly string[]) {
    await this.#mustModerate(principal, roomId);
    const out: Record<string, { available: number; reserved: number; sold: number }> = {};
    for (const sku of skus) {
      const level = await this.#store.stock(roomId, sku);
      if (level) out[sku] = level;
    }
    return out;
  }

  /** Sets a product's available stock (restock or correction) and tells the room. */
  async setAvailable(principal: Principal, roomId: string, sku: string, available: number) {
    await this.#mustModerate(principal, roomId);
    const level = await this.#store.setAvailable(roomId, sku, available);
    this.#announcer.changed(roomId, sku, level.available);
    this.#admission?.stockChanged(roomId, sku, level.available);
    return level;
  }

  /** A kicked user's reservations in the room go back to stock, and the room hears the new stock; resolves with the units. */
  async releaseUser(roomId: string, userId: string): Promise<number> {
    let units = 0;
    for (const line of await this.#store.releaseUser(roomId, userId)) {
      units += line.quantity;
      this.#announcer.changed(roomId, line.sku, line.available);
      this.#admission?.stockChanged(roomId, line.sku, line.available);
    }
    return units;
  }

  /** Returns expired reservations to stock and tells their owners. Safe to run on every node. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    try {
      const expired = await this.#store.sweepExpired(this.#now(), this.#options.sweepBatch);
      for (const e of expired) {
        this.#rooms.notifyUser(e.roomId, e.userId, { t: 'reservationExpired', sku: e.sku, quantity: e.quantity });
        this.#announcer.changed(e.roomId, e.sku, e.available);
        this.#admission?.stockChanged(e.roomId, e.sku, e.available);
      }
      return expired.length;
    } catch (error) {
      this.#log.warn({ err: error }, 'reservation sweep failed; will retry');
      return 0;
    } finally {
      this.#sweeping = false;
    }
  }

  /** Stock news from an answer: every answer that moved stock carries the new available count. */
  #announce(roomId: string, answer: CartAnswer): CartAnswer {
    if (answer.status === 'reserved' || answer.status === 'released') {
      this.#announcer.changed(roomId, answer.sku, answer.available);
      if (answer.available > 0) this.#admission?.stockChanged(roomId, answer.sku, answer.available);
    }
    return answer;
  }

  /** Through the admission controller's queues when there is one. */
  #gate<T>(roomId: string, priority: Priority, task: () => Promise<T>, progress: Progress | undefined): Promise<T> {
    return this.#admission === undefined ? task() : this.#admission.run(roomId, priority, task, progress);
  }

  #request(principal: Principal, roomId: string, sku: string, quantity: number, key: string): ReserveRequest {
    return { roomId, userId: principal.userId, sku, quantity, key, now: this.#now(), ttlMs: this.#options.reservationTtlMs };
  }

  async #mustModerate(principal: Principal, roomId: string): Promise<void> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'manage' });
    if (!(await this.#rooms.canModerate(principal, roomId))) throw new ProtocolError('FORBIDDEN', 'only this room\'s streamer or an operator can do this');
  }
}
