import type { Cart, CartAnswer, Order, OrderPayment, OrderStatus } from '../../../protocol/src/index.ts';
import type { DomainError } from '../DomainError.ts';
import type { CouponStore } from './CouponStore.ts';

/** `Store.soldOutBatch`'s slot for an add of a product that is back in stock: not answered, reserve it. */
export const BACK_IN_STOCK = 'back_in_stock';

/** What the store must know of a product to sell it. */
export interface InventoryItem {
  readonly sku: string;
  readonly stock: number;
  readonly priceCents: number;
  /** The list price an order line records beside `priceCents` (a sale price's struck-through one). */
  readonly listPriceCents?: number | undefined;
  readonly currency: string;
  readonly saleStartsAt?: number | undefined;
  readonly saleEndsAt?: number | undefined;
  readonly perCustomerLimit?: number | undefined;
}

/**
 * A product with variants, as the store registers it: one inventory per variant; the product's own
 * sku holds none, but is taken with them (no other product or variant may use it).
 */
export interface VariantInventories {
  readonly sku: string;
  readonly variants: readonly InventoryItem[];
}

export interface StockLevel {
  readonly available: number;
  readonly reserved: number;
  readonly sold: number;
}

/** One add-to-cart, as the admission controller batches them. */
export interface ReserveRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly sku: string;
  readonly quantity: number;
  /** Idempotency key, scoped by user: a repeat returns the first answer. */
  readonly key: string;
  /** When the store applies it (set as the request leaves for the store, after any queueing). */
  now: number;
  /** The key's record name and the request's fingerprint (`idempotency.ts`), when the caller spelled them already. */
  readonly record?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly ttlMs: number;
  /**
   * The line's own price instead of the product's (an auction's winning price): the units are held
   * outside any sale window, and the cart and the order price the line at it. A line at its own price
   * takes no more units, and a priced hold on a sku the buyer already holds: both `limit_reached`.
   */
  readonly priceCents?: number | undefined;
}

/** A line given back to stock (a kicked user's reservations). */
export interface ReleasedLine {
  readonly sku: string;
  readonly quantity: number;
  /** Available units of the sku after the release. */
  readonly available: number;
}

export interface ExpiredReservation {
  readonly roomId: string;
  readonly userId: string;
  readonly sku: string;
  readonly quantity: number;
  /** Available units of the sku after the release. */
  readonly available: number;
}

/** A step asked of an order (the legal ones: `orderTransitions`). */
export interface OrderChange {
  readonly status: OrderStatus;
  /** When it happens (epoch ms): the history step's `at`. */
  readonly at: number;
  readonly note?: string | undefined;
  /** The payment step's record, with `paid` only. */
  readonly payment?: OrderPayment | undefined;
}

export interface OrderAdvance {
  /** The order as it is now. */
  readonly order: Order;
  /** False when the order had reached that status already: nothing changed, nothing was told. */
  readonly changed: boolean;
  /** A cancel's units, given back to stock (empty for any other step). */
  readonly restocked: readonly ReleasedLine[];
}

/**
 * The source of truth for stock, carts and orders. Every mutation is atomic: under any
 * interleaving (one node or many), available + reserved + sold of a product equals its stock.
 *
 * Mutations take an idempotency `key`; a second call with the same user and key returns the
 * first answer without changing anything, and one for a different request (another fingerprint,
 * see `idempotency.ts`) fails with IDEMPOTENCY_MISMATCH. Answers are business outcomes (`CartAnswer`); a store
 * that cannot be reached rejects with `DomainError('UNAVAILABLE')`.
 */
export interface Store extends CouponStore {
  /**
   * Registers a product's inventory (stock, price, sale window, limit), or its variants' (one
   * each), in one atomic step: all or none. PRODUCT_EXISTS, and nothing registered, when any of its
   * skus (the product's own among them, or one used twice) is taken in the room already, by an
   * inventory or by a product with variants; two nodes adding overlapping skus at once: one wins whole.
   */
  addProduct(roomId: string, product: InventoryItem | VariantInventories): Promise<void>;
  /** Sets available stock to `available` (restock or correction); reserved and sold are untouched. */
  setAvailable(roomId: string, sku: string, available: number): Promise<StockLevel>;
  stock(roomId: string, sku: string): Promise<StockLevel | undefined>;
  /** Available units for every sku of the room. */
  roomStock(roomId: string): Promise<Record<string, number>>;

  /** Adds units to the user's reservation (partial when stock is short); refreshes the line's expiry. */
  reserve(request: ReserveRequest): Promise<CartAnswer>;
  /**
   * Many reservations in one round trip, answered in order, with the same semantics as `reserve`
   * one by one. A request that fails alone (unknown product) gets its error in its slot; a store
   * failure rejects the whole batch.
   */
  reserveBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError>>;
  /**
   * The first answer recorded for the user's key in the room, or undefined when the key has none.
   * Throws IDEMPOTENCY_MISMATCH when the key answered a request with another fingerprint
   * (`fingerprintOf`). Keys are scoped to a user and a room: the room's data stays in one place.
   */
  recorded(roomId: string, userId: string, key: string, fingerprint: string): Promise<CartAnswer | undefined>;
  /**
   * Add-to-carts of a product the caller believes sold out, in one round trip: each key's recorded
   * answer when it has one (IDEMPOTENCY_MISMATCH in its slot for another request's key); else, while
   * the product's available stock is 0, `sold_out`, recorded as the key's answer; else
   * `BACK_IN_STOCK` and nothing recorded: the product came back since the caller last heard (through
   * a node whose news it does not get), and the caller reserves it as any add. Reads the product's
   * level only, none of the cart's.
   */
  soldOutBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError | typeof BACK_IN_STOCK>>;
  /** Sets the line to `quantity` (0 removes it), reserving or releasing the difference. */
  setQuantity(request: ReserveRequest): Promise<CartAnswer>;
  cart(roomId: string, userId: string, now: number): Promise<Cart>;
  /**
   * Turns all of the user's reservations in the room into one order, atomically, or none. The
   * order is priced with a coupon the user claimed in the room (protocol/src/coupons.ts): the one
   * named by `couponId` (`coupon_not_applicable` and no order when it does not apply), else the one
   * with the largest discount (ties: the smaller id), if any applies; the coupon is marked used by
   * the order in the same step. A checkout naming a coupon has its own fingerprint (`checkoutFingerprint`).
   */
  checkout(roomId: string, userId: string, key: string, now: number, couponId?: string): Promise<CartAnswer>;
  /**
   * A giveaway's prize: one unit of `sku` straight from available stock into an order of total 0
   * for `userId` (no cart, no reservation; the line's price is 0, its list price the product's),
   * atomically with the stock and the buyer's bought count, recorded under `key` (`prizeFingerprint`):
   * a second call answers the first order. `sold_out` when no unit is left; PRODUCT_NOT_FOUND for an unknown sku.
   */
  grantPrize(roomId: string, userId: string, sku: string, key: string, now: number): Promise<CartAnswer>;
  /** Returns every line the user holds in the room to stock (expired or not), atomically; answers what went back. */
  releaseUser(roomId: string, userId: string): Promise<ReleasedLine[]>;
  /** Releases reservations that expired at `now` (at most `limit`), returning what was released. */
  sweepExpired(now: number, limit: number): Promise<ExpiredReservation[]>;
  order(orderId: string): Promise<Order | undefined>;
  orders(roomId: string): Promise<Order[]>;
  /**
   * Moves an order to `change.status`, atomically with its history, the webhook outbox (when the
   * store keeps one) and, for a cancel, its units going back to stock (and off the buyer's bought
   * count) and its coupon back to its buyer (claimed, unused; the coupon's pool is unchanged). A status the order reached before is answered with the order unchanged (`changed`
   * false): every step is idempotent. Throws ORDER_NOT_FOUND, or ORDER_STATUS_CONFLICT for a step
   * `orderTransitions` does not allow.
   */
  advanceOrder(orderId: string, change: OrderChange): Promise<OrderAdvance>;
  /**
   * The user's orders over every room, newest first, at most `limit` (the store lists a user's
   * newest `ordersPerUser` at most). The list is an index written after each order's own atomic
   * step (see the implementations): an order whose checkout was answered is in it.
   */
  userOrders(userId: string, limit: number): Promise<Order[]>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
