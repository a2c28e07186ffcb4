import type { Cart, CartAnswer, CartLine, Coupon, CouponCard, CouponClaim, Order, PinnedCoupon } from '../../../protocol/src/index.ts';
import { DomainError } from '../DomainError.ts';
import { Deque } from '../util/Deque.ts';
import { BACK_IN_STOCK, type ExpiredReservation, type InventoryItem, type OrderAdvance, type OrderChange, type ReleasedLine, type ReserveRequest, type StockLevel, type Store, type VariantInventories } from './Store.ts';
import type { ClaimRequest } from './CouponStore.ts';
import { checkoutFingerprint, claimFingerprint, IDEMPOTENCY_MISMATCH_MESSAGE, fingerprintOf, prizeFingerprint, recordName, replayOf } from './idempotency.ts';
import { MemoryCoupons } from './MemoryCoupons.ts';
import type { MemoryWebhookOutbox } from './MemoryWebhookOutbox.ts';
import { newOrderId } from './orderIds.ts';
import { stepOrder } from './orderSteps.ts';
import { deliveryOf, newDeliveryId } from './WebhookOutbox.ts';

interface Inventory extends StockLevel {
  item: InventoryItem;
  available: number;
  reserved: number;
  sold: number;
}

interface Line {
  quantity: number;
  expiresAt: number;
  /** The line's own price (ReserveRequest's `priceCents`); the product's when absent. */
  readonly priceCents?: number | undefined;
}

export interface MemoryStoreLimits {
  /** Idempotency records older than this are forgotten. */
  readonly idempotencyTtlMs: number;
  /** At most this many idempotency records; the oldest go first. */
  readonly maxIdempotencyKeys: number;
  /** Orders held in memory at most; checkout answers UNAVAILABLE beyond (use Redis for real volume). */
  readonly maxOrders: number;
  /** A user's newest orders listed by `userOrders`, at most. */
  readonly ordersPerUser?: number | undefined;
}

const sep = '\u0000';

/**
 * The embedded single-node store. JavaScript runs one callback at a time, so each method body is
 * atomic as long as it does not await; none does.
 */
export class MemoryStore implements Store {
  readonly #inventory = new Map<string, Map<string, Inventory>>(); // room → sku → inventory
  /** room → the skus of its products with variants (taken, holding no inventory). */
  readonly #variantProducts = new Map<string, Set<string>>();
  readonly #carts = new Map<string, Map<string, Line>>(); // room␀user → sku → line
  readonly #bought = new Map<string, number>(); // room␀user␀sku → units
  readonly #idempotency = new Map<string, { answer: CartAnswer; fingerprint: string; at: number }>(); // room + ' ' + recordName(user, key): a key is scoped to its user and room
  /** Record names in insertion (age) order, for pruning: iterating the map from its head would skip every deleted entry there. */
  readonly #idempotencyAge = new Deque<{ name: string; at: number }>();
  readonly #orders = new Map<string, Order>();
  readonly #ordersByRoom = new Map<string, string[]>();
  /** Each user's order ids, oldest first, the newest `ordersPerUser` at most. */
  readonly #ordersByUser = new Map<string, string[]>();
  readonly #outbox: MemoryWebhookOutbox | undefined;
  readonly #coupons = new MemoryCoupons();

  /** With an `outbox`, every order event (placed, each status change) is appended to it in the step that makes it. */
  constructor(readonly limits: MemoryStoreLimits, outbox?: MemoryWebhookOutbox) {
    this.#outbox = outbox;
  }

  async addProduct(roomId: string, product: InventoryItem | VariantInventories): Promise<void> {
    const items = 'variants' in product ? product.variants : [product];
    const room = this.#inventory.get(roomId);
    const variantProducts = this.#variantProducts.get(roomId);
    // Every sku is checked before anything is written: all or none.
    const skus = new Set<string>();
    for (const sku of 'variants' in product ? [product.sku, ...items.map((i) => i.sku)] : [product.sku]) {
      if (skus.has(sku) || room?.has(sku) === true || variantProducts?.has(sku) === true) throw new DomainError('PRODUCT_EXISTS', `product ${sku} already has inventory`);
      skus.add(sku);
    }
    let inventory = room;
    if (inventory === undefined) this.#inventory.set(roomId, (inventory = new Map()));
    for (const item of items) inventory.set(item.sku, { item: { ...item }, available: item.stock, reserved: 0, sold: 0 });
    if (!('variants' in product)) return;
    if (variantProducts === undefined) this.#variantProducts.set(roomId, new Set([product.sku]));
    else variantProducts.add(product.sku);
  }

  async setAvailable(roomId: string, sku: string, available: number): Promise<StockLevel> {
    const inv = this.#inv(roomId, sku);
    inv.available = available;
    return level(inv);
  }

  async stock(roomId: string, sku: string): Promise<StockLevel | undefined> {
    const inv = this.#inventory.get(roomId)?.get(sku);
    return inv && level(inv);
  }

  async roomStock(roomId: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [sku, inv] of this.#inventory.get(roomId) ?? []) out[sku] = inv.available;
    return out;
  }

  async reserve(request: ReserveRequest): Promise<CartAnswer> {
    return this.#once(request, 'add', () => this.#reserve(request, request.quantity));
  }

  async reserveBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError>> {
    return requests.map((r) => {
      try {
        return this.#once(r, 'add', () => this.#reserve(r, r.quantity));
      } catch (error) {
        if (error instanceof DomainError) return error;
        throw error;
      }
    });
  }

  async soldOutBatch(requests: readonly ReserveRequest[]): Promise<Array<CartAnswer | DomainError | typeof BACK_IN_STOCK>> {
    return requests.map((r) => {
      try {
        const name = `${r.roomId} ${r.record ?? recordName(r.userId, r.key)}`;
        const seen = this.#seen(name, r.fingerprint ?? fingerprintOf('add', r.roomId, r.sku, r.quantity));
        if (seen !== undefined) return seen;
        if ((this.#inventory.get(r.roomId)?.get(r.sku)?.available ?? 0) > 0) return BACK_IN_STOCK;
        return this.#once(r, 'add', () => ({ status: 'sold_out', sku: r.sku }));
      } catch (error) {
        if (error instanceof DomainError) return error;
        throw error;
      }
    });
  }

  async setQuantity(request: ReserveRequest): Promise<CartAnswer> {
    return this.#once(request, 'set', () => {
      const inv = this.#inv(request.roomId, request.sku);
      const cart = this.#carts.get(request.roomId + sep + request.userId);
      const line = this.#liveLine(cart, request.roomId, request.userId, request.sku, request.now);
      if (line === undefined) return { status: 'cart_not_found' };
      if (request.quantity > line.quantity) return this.#reserve(request, request.quantity - line.quantity);
      const released = line.quantity - request.quantity;
      inv.available += released;
      inv.reserved -= released;
      line.quantity = request.quantity;
      if (line.quantity === 0) this.#dropLine(request.roomId, request.userId, request.sku);
      return { status: 'released', sku: request.sku, quantity: request.quantity, available: inv.available };
    });
  }

  async cart(roomId: string, userId: string, now: number): Promise<Cart> {
    const cart = this.#carts.get(roomId + sep + userId);
    const lines: CartLine[] = [];
    let currency: string | undefined;
    let totalCents = 0;
    for (const [sku, line] of cart ?? []) {
      if (line.expiresAt <= now) continue; // the sweeper returns it to stock
      const inv = this.#inv(roomId, sku);
      const priceCents = line.priceCents ?? inv.item.priceCents;
      lines.push({ sku, quantity: line.quantity, priceCents, expiresAt: line.expiresAt });
      currency = inv.item.currency;
      totalCents += line.quantity * priceCents;
    }
    return currency === undefined ? { roomId, lines, totalCents } : { roomId, lines, currency, totalCents };
  }

  async checkout(roomId: string, userId: string, key: string, now: number, couponId?: string): Promise<CartAnswer> {
    return this.#record(roomId, recordName(userId, key), checkoutFingerprint(roomId, couponId), () => {
      const cartKey = roomId + sep + userId;
      const cart = this.#carts.get(cartKey);
      if (cart === undefined || cart.size === 0) return { status: 'cart_not_found' };
      const expired = [...cart].filter(([, line]) => line.expiresAt <= now).map(([sku]) => sku);
      if (expired.length > 0) {
        for (const sku of expired) this.#release(roomId, userId, sku);
        return { status: 'expired', skus: expired };
      }
      if (this.#orders.size >= this.limits.maxOrders) throw new DomainError('UNAVAILABLE', 'the in-memory store is full of orders', { retryAfterMs: 60_000 });
      let subtotalCents = 0;
      for (const [sku, line] of cart) subtotalCents += line.quantity * (line.priceCents ?? this.#inv(roomId, sku).item.priceCents);
      const pricing = this.#coupons.price(roomId, userId, subtotalCents, now, couponId);
      if ('refusal' in pricing) return pricing.refusal;
      const lines: Order['lines'] = [];
      let currency = '';
      for (const [sku, line] of cart) {
        const inv = this.#inv(roomId, sku);
        inv.reserved -= line.quantity;
        inv.sold += line.quantity;
        const boughtKey = cartKey + sep + sku;
        this.#bought.set(boughtKey, (this.#bought.get(boughtKey) ?? 0) + line.quantity);
        const { listPriceCents } = inv.item;
        const priceCents = line.priceCents ?? inv.item.priceCents;
        lines.push(listPriceCents === undefined ? { sku, quantity: line.quantity, priceCents } : { sku, quantity: line.quantity, priceCents, listPriceCents });
        currency = inv.item.currency;
      }
      this.#carts.delete(cartKey);
      const id = newOrderId(roomId);
      const order: Order = {
        id, roomId, userId, lines, totalCents: subtotalCents - pricing.discountCents, subtotalCents, discountCents: pricing.discountCents,
        ...(pricing.couponId === undefined ? {} : { couponId: pricing.couponId }),
        currency, createdAt: now, status: 'placed', history: [{ status: 'placed', at: now }],
      };
      if (pricing.couponId !== undefined) this.#coupons.use(roomId, userId, pricing.couponId, id);
      this.#keepOrder(order, now);
      return { status: 'ordered', order };
    });
  }

  async grantPrize(roomId: string, userId: string, sku: string, key: string, now: number): Promise<CartAnswer> {
    return this.#record(roomId, recordName(userId, key), prizeFingerprint(roomId, sku), () => {
      const inv = this.#inv(roomId, sku);
      if (inv.available <= 0) return { status: 'sold_out', sku };
      if (this.#orders.size >= this.limits.maxOrders) throw new DomainError('UNAVAILABLE', 'the in-memory store is full of orders', { retryAfterMs: 60_000 });
      inv.available -= 1;
      inv.sold += 1;
      const boughtKey = roomId + sep + userId + sep + sku;
      this.#bought.set(boughtKey, (this.#bought.get(boughtKey) ?? 0) + 1);
      const order: Order = {
        id: newOrderId(roomId), roomId, userId, lines: [{ sku, quantity: 1, priceCents: 0, listPriceCents: inv.item.listPriceCents ?? inv.item.priceCents }],
        totalCents: 0, subtotalCents: 0, discountCents: 0, currency: inv.item.currency, createdAt: now, status: 'placed', history: [{ status: 'placed', at: now }],
      };
      this.#keepOrder(order, now);
      return { status: 'ordered', order };
    });
  }

  /** A new order: kept, listed for its room and its buyer (the newest `ordersPerUser`), and queued for the webhooks. */
  #keepOrder(order: Order, now: number): void {
    this.#orders.set(order.id, order);
    let ids = this.#ordersByRoom.get(order.roomId);
    if (ids === undefined) this.#ordersByRoom.set(order.roomId, (ids = []));
    ids.push(order.id);
    let mine = this.#ordersByUser.get(order.userId);
    if (mine === undefined) this.#ordersByUser.set(order.userId, (mine = []));
    mine.push(order.id);
    if (mine.length > (this.limits.ordersPerUser ?? Number.POSITIVE_INFINITY)) mine.shift();
    this.#outbox?.append(deliveryOf(newDeliveryId(), order, now), now);
  }

  async createCoupon(roomId: string, coupon: Coupon, maxPerRoom: number): Promise<void> {
    this.#coupons.create(roomId, coupon, maxPerRoom);
  }

  async coupon(roomId: string, couponId: string): Promise<CouponCard | undefined> {
    return this.#coupons.card(roomId, couponId);
  }

  async roomCoupons(roomId: string): Promise<CouponCard[]> {
    return this.#coupons.cards(roomId);
  }

  async claimCoupons(requests: readonly ClaimRequest[]): Promise<Array<CartAnswer | DomainError>> {
    return requests.map((r) => {
      try {
        return this.#record(r.roomId, recordName(r.userId, r.key), claimFingerprint(r.roomId, r.couponId), () => this.#coupons.claim(r.roomId, r.userId, r.couponId, r.now));
      } catch (error) {
        if (error instanceof DomainError) return error;
        throw error;
      }
    });
  }

  async userClaims(roomId: string, userId: string): Promise<CouponClaim[]> {
    return this.#coupons.claims(roomId, userId);
  }

  async pinCoupon(roomId: string, couponId: string | null): Promise<number> {
    return this.#coupons.pin(roomId, couponId);
  }

  async pinnedCoupon(roomId: string): Promise<PinnedCoupon> {
    return this.#coupons.pinned(roomId);
  }

  async releaseUser(roomId: string, userId: string): Promise<ReleasedLine[]> {
    const cart = this.#carts.get(roomId + sep + userId);
    const out: ReleasedLine[] = [];
    for (const [sku, line] of [...(cart ?? [])]) {
      const quantity = line.quantity;
      out.push({ sku, quantity, available: this.#release(roomId, userId, sku) });
    }
    return out;
  }

  async sweepExpired(now: number, limit: number): Promise<ExpiredReservation[]> {
    const out: ExpiredReservation[] = [];
    for (const [cartKey, cart] of this.#carts) {
      for (const [sku, line] of cart) {
        if (out.length >= limit) return out;
        if (line.expiresAt > now) continue;
        const [roomId, userId] = cartKey.split(sep) as [string, string];
        const quantity = line.quantity;
        const available = this.#release(roomId, userId, sku);
        out.push({ roomId, userId, sku, quantity, available });
      }
    }
    return out;
  }

  async order(orderId: string): Promise<Order | undefined> {
    return this.#orders.get(orderId);
  }

  async orders(roomId: string): Promise<Order[]> {
    return (this.#ordersByRoom.get(roomId) ?? []).map((id) => this.#orders.get(id)!);
  }

  async advanceOrder(orderId: string, change: OrderChange): Promise<OrderAdvance> {
    const order = this.#orders.get(orderId);
    if (order === undefined) throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId}`);
    const next = stepOrder(order, change);
    if (next === undefined) return { order, changed: false, restocked: [] };
    const restocked: ReleasedLine[] = [];
    if (next.status === 'cancelled') {
      for (const line of order.lines) {
        const inv = this.#inv(order.roomId, line.sku);
        inv.available += line.quantity;
        inv.sold -= line.quantity;
        const boughtKey = order.roomId + sep + order.userId + sep + line.sku;
        this.#bought.set(boughtKey, (this.#bought.get(boughtKey) ?? 0) - line.quantity);
        restocked.push({ sku: line.sku, quantity: line.quantity, available: inv.available });
      }
      if (order.couponId !== undefined) this.#coupons.giveBack(order.roomId, order.userId, order.couponId, order.id);
    }
    this.#orders.set(orderId, next);
    this.#outbox?.append(deliveryOf(newDeliveryId(), next, change.at), change.at);
    return { order: next, changed: true, restocked };
  }

  async userOrders(userId: string, limit: number): Promise<Order[]> {
    if (limit <= 0) return [];
    return (this.#ordersByUser.get(userId) ?? []).slice(-limit).reverse().map((id) => this.#orders.get(id)!);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  // ------------------------------------------------------------------ internals

  /** Adds up to `want` units to the user's line, within the sale window, the limit and the stock. */
  #reserve(request: ReserveRequest, want: number): CartAnswer {
    const { roomId, userId, sku, now } = request;
    const inv = this.#inv(roomId, sku);
    const { item } = inv;
    const cartKey = roomId + sep + userId;
    let cart = this.#carts.get(cartKey);
    const line = this.#liveLine(cart, roomId, userId, sku, now);
    const held = line?.quantity ?? 0;
    const price = request.priceCents;
    // A line at its own price takes no more units, nor does a held line take a priced hold.
    if (held > 0 && (line?.priceCents !== undefined || price !== undefined)) return { status: 'limit_reached', sku, limit: held };
    if (price === undefined && item.saleStartsAt !== undefined && now < item.saleStartsAt) return { status: 'not_on_sale', sku, startsAt: item.saleStartsAt };
    if (price === undefined && item.saleEndsAt !== undefined && now >= item.saleEndsAt) return { status: 'not_on_sale', sku, endsAt: item.saleEndsAt };
    let grant = want;
    if (item.perCustomerLimit !== undefined) {
      const allowed = item.perCustomerLimit - held - (this.#bought.get(cartKey + sep + sku) ?? 0);
      if (allowed <= 0) return { status: 'limit_reached', sku, limit: item.perCustomerLimit };
      grant = Math.min(grant, allowed);
    }
    if (inv.available === 0) return { status: 'sold_out', sku };
    grant = Math.min(grant, inv.available);
    inv.available -= grant;
    inv.reserved += grant;
    if (cart === undefined) this.#carts.set(cartKey, (cart = new Map()));
    const expiresAt = now + request.ttlMs;
    cart.set(sku, price === undefined ? { quantity: held + grant, expiresAt } : { quantity: held + grant, expiresAt, priceCents: price });
    return { status: 'reserved', sku, quantity: held + grant, granted: grant, expiresAt, available: inv.available };
  }

  /** The user's line for the sku, releasing it first if it already expired. */
  #liveLine(cart: Map<string, Line> | undefined, roomId: string, userId: string, sku: string, now: number): Line | undefined {
    const line = cart?.get(sku);
    if (line === undefined || line.expiresAt > now) return line;
    this.#release(roomId, userId, sku);
    return undefined;
  }

  /** Returns a line's units to stock; answers the available count after. */
  #release(roomId: string, userId: string, sku: string): number {
    const inv = this.#inv(roomId, sku);
    const line = this.#carts.get(roomId + sep + userId)?.get(sku);
    if (line !== undefined) {
      inv.available += line.quantity;
      inv.reserved -= line.quantity;
      this.#dropLine(roomId, userId, sku);
    }
    return inv.available;
  }

  #dropLine(roomId: string, userId: string, sku: string): void {
    const cartKey = roomId + sep + userId;
    const cart = this.#carts.get(cartKey);
    cart?.delete(sku);
    if (cart?.size === 0) this.#carts.delete(cartKey);
  }

  async recorded(roomId: string, userId: string, key: string, fingerprint: string): Promise<CartAnswer | undefined> {
    return this.#seen(`${roomId} ${recordName(userId, key)}`, fingerprint);
  }

  #seen(scopedName: string, fingerprint: string): CartAnswer | undefined {
    const seen = this.#idempotency.get(scopedName);
    if (seen === undefined) return undefined;
    if (seen.fingerprint !== fingerprint) throw new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE);
    return replayOf(seen.answer);
  }

  /** `run` once per key: a request's record name and fingerprint, spelled here unless the caller did. */
  #once(request: ReserveRequest, operation: 'add' | 'set', run: () => CartAnswer): CartAnswer {
    const name = request.record ?? recordName(request.userId, request.key);
    return this.#record(request.roomId, name, request.fingerprint ?? fingerprintOf(operation, request.roomId, request.sku, request.quantity), run);
  }

  #record(roomId: string, recordName: string, fingerprint: string, run: () => CartAnswer): CartAnswer {
    const name = `${roomId} ${recordName}`;
    const seen = this.#seen(name, fingerprint);
    if (seen !== undefined) return seen;
    const answer = run();
    const now = Date.now();
    this.#idempotency.set(name, { answer, fingerprint, at: now });
    this.#idempotencyAge.push({ name, at: now });
    this.#pruneIdempotency(now);
    return answer;
  }

  #pruneIdempotency(now: number): void {
    for (let oldest = this.#idempotencyAge.peek(); oldest !== undefined; oldest = this.#idempotencyAge.peek()) {
      if (this.#idempotency.size <= this.limits.maxIdempotencyKeys && now - oldest.at < this.limits.idempotencyTtlMs) break;
      this.#idempotencyAge.shift();
      this.#idempotency.delete(oldest.name);
    }
  }

  #inv(roomId: string, sku: string): Inventory {
    const inv = this.#inventory.get(roomId)?.get(sku);
    if (inv === undefined) throw new DomainError('PRODUCT_NOT_FOUND', `no product ${sku} in room ${roomId}`);
    return inv;
  }
}

function level(inv: Inventory): StockLevel {
  return { available: inv.available, reserved: inv.reserved, sold: inv.sold };
}
