import type { DirectMessage, Order, OrderStatus } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import type { Logger } from '../log.ts';
import type { OrderAdvance, ReleasedLine, Store } from '../store/Store.ts';

/** What orders need from the room layer (`RoomRules`): who may manage a room's orders, and a way to tell a buyer. */
export interface OrderRooms {
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  /** A frame for the user's sockets in the room, on every node. */
  notifyUser(roomId: string, userId: string, message: DirectMessage): void;
}

/** Tells a room its stock after a cancel gave units back (`CommerceService.restocked`). */
export interface RestockNews {
  restocked(roomId: string, lines: readonly ReleasedLine[]): void;
}

/** The steps the shop's backend asks for by status; `paid` has its own call (the payment step) and `placed` is checkout's. */
export type ShopStep = Extract<OrderStatus, 'shipped' | 'delivered' | 'cancelled'>;

export interface OrderServiceOptions {
  /** Mark every order paid right after checkout with a demo payment (no money moves). */
  readonly demoPayments: boolean;
}

/**
 * Orders after checkout: the shop's steps (the payment hook, shipping, delivery, cancelling), the
 * buyer's list, and what each change tells: the buyer's sockets in the room on every node
 * (`orderUpdated`), the room (stock a cancel gave back) and the webhook dispatcher (an event is in
 * the outbox). Only the room's streamer (the shop) or an operator moves an order; a buyer sees
 * theirs. Knows nothing about sockets or HTTP.
 */
export class OrderService {
  readonly #store: Store;
  readonly #rooms: OrderRooms;
  readonly #stock: RestockNews;
  readonly #webhooks: { wake(): void } | undefined;
  readonly #options: OrderServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: { store: Store; rooms: OrderRooms; stock: RestockNews; webhooks?: { wake(): void } | undefined; options: OrderServiceOptions; log: Logger; now?: () => number }) {
    this.#store = deps.store;
    this.#rooms = deps.rooms;
    this.#stock = deps.stock;
    this.#webhooks = deps.webhooks;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /** The caller's own orders over every room, newest first. */
  myOrders(principal: Principal, limit: number): Promise<Order[]> {
    return this.#store.userOrders(principal.userId, limit);
  }

  /**
   * A checkout made `order` (its first answer, not a replay): the buyer's other sockets in the room
   * hear of it, the webhook goes out, and in demo mode the order is paid at once, as a demo.
   */
  placed(order: Order): void {
    this.#tell(order);
    if (this.#options.demoPayments) {
      this.#store.advanceOrder(order.id, { status: 'paid', at: this.#now(), payment: { demo: true } }).then(
        (advance) => this.#changed(advance),
        (error: unknown) => this.#log.warn({ err: error, orderId: order.id }, 'demo payment not recorded'),
      );
    }
  }

  /** The payment step: the shop's backend confirms the order is paid (with its payment provider's reference). */
  async confirmPayment(principal: Principal, orderId: string, payment: { reference?: string | undefined; note?: string | undefined }): Promise<OrderAdvance> {
    await this.#mustManage(principal, orderId);
    const advance = await this.#store.advanceOrder(orderId, {
      status: 'paid', at: this.#now(), note: payment.note, payment: payment.reference === undefined ? { demo: false } : { demo: false, reference: payment.reference },
    });
    this.#changed(advance);
    return advance;
  }

  /** Ships, delivers or cancels an order (a cancel gives its units back to stock). */
  async advance(principal: Principal, orderId: string, status: ShopStep, note?: string): Promise<OrderAdvance> {
    await this.#mustManage(principal, orderId);
    const advance = await this.#store.advanceOrder(orderId, { status, at: this.#now(), note });
    this.#changed(advance);
    return advance;
  }

  #changed(advance: OrderAdvance): void {
    if (!advance.changed) return;
    const { order } = advance;
    this.#log.info({ roomId: order.roomId, orderId: order.id, status: order.status }, 'order status changed');
    if (advance.restocked.length > 0) this.#stock.restocked(order.roomId, advance.restocked);
    this.#tell(order);
  }

  #tell(order: Order): void {
    this.#rooms.notifyUser(order.roomId, order.userId, { t: 'orderUpdated', order });
    this.#webhooks?.wake();
  }

  /** The room's streamer or an operator; the buyer is FORBIDDEN, anyone else does not learn the order exists. */
  async #mustManage(principal: Principal, orderId: string): Promise<void> {
    const order = await this.#store.order(orderId);
    if (order !== undefined && (await this.#rooms.canModerate(principal, order.roomId))) return;
    if (order !== undefined && order.userId === principal.userId) throw new DomainError('NOT_MODERATOR', 'only the shop (the room\'s streamer) or an operator moves an order');
    throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId} of yours`);
  }
}
