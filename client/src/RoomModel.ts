import type { Moderator, PinnedComment } from '../../protocol/src/moderation.ts';
import { type CouponCard, latestPinnedCoupon } from '../../protocol/src/coupons.ts';
import { type GiveawayCard, latestGiveawayCard } from '../../protocol/src/giveaways.ts';
import { type AuctionCard, latestAuctionCard } from '../../protocol/src/auctions.ts';
import type { HistoryComment, Order, Popup, Product, RoomInfo, SequencedEvent, StateUpdate, Welcome } from '../../protocol/src/messages.ts';
import { priceOfSku } from '../../protocol/src/productDetails.ts';
import { CartModel, type CartView } from './CartModel.ts';

/** A read-only view of what the client knows about its room. Collections are replaced, never mutated, on change. */
export interface RoomSnapshot {
  /** The room; undefined before the first `welcome`. */
  readonly room: RoomInfo | undefined;
  /** Who the server says we are; undefined before the first `welcome`. */
  readonly you: Welcome['you'] | undefined;
  /** Seq of the last sequenced event applied (0 before the first `welcome`). */
  readonly lastSeq: number;
  /** The room history epoch `lastSeq` belongs to; undefined before the first `welcome`. */
  readonly epoch: string | undefined;
  readonly likes: number;
  readonly viewers: number;
  readonly popup: Popup | null;
  /**
   * The room's pinned coupon card with its live `left`, or null: from `welcome`, then `coupon`
   * events (and `coupons()`), the newest pin's card kept (see `couponVersion`).
   */
  readonly coupon: CouponCard | null;
  /** The room's auction card (from `auction` updates, `auctionEnded` and `auction()`), the newest kept (`latestAuctionCard`), or null. */
  readonly auction: AuctionCard | null;
  /** The version of the pin `coupon` belongs to (0: none heard yet): news of an older pin never replaces it. */
  readonly couponVersion: number;
  /**
   * The room's giveaway as last heard (`welcome`, then `giveaway` and `giveawayEntrants` updates, or
   * `getGiveaway()`), or null: the newest giveaway's card (`latestGiveawayCard`). The entrants count only goes up.
   */
  readonly giveaway: GiveawayCard | null;
  /** The most recent comments, oldest first, at most `maxComments`. */
  readonly comments: readonly HistoryComment[];
  /** The room's catalog, in the order the products were first seen. */
  readonly products: readonly Product[];
  /** Users muted in this room (clients hide their comments). */
  readonly muted: ReadonlySet<string>;
  /** Units available now, by sku: from `welcome`, then `stock` updates and `soldOut` events. */
  readonly stock: Readonly<Record<string, number>>;
  /** This user's cart in the room, as far as the client knows (see `CartModel`). */
  readonly cart: CartView;
  /**
   * This user's orders in the room that the client heard of (its checkouts' answers and
   * `orderUpdated`), by id, each as last heard. Not the full list: `GET /api/me/orders` has that.
   */
  readonly orders: Readonly<Record<string, Order>>;
  /**
   * The room's degrade level: 0 normal, 1 chatter sampled, 2 chatter off for viewers, 3 commerce
   * only. From `welcome`, then `degrade` updates.
   */
  readonly degradeLevel: number;
  /** The room's moderators (appointed by its streamer), from `welcome`, then `moderators` events. */
  readonly moderators: readonly Moderator[];
  /** The room's pinned comment, from `welcome`, then `commentPinned` events. */
  readonly pinnedComment: PinnedComment | null;
}

export type WelcomeKind = 'fresh' | 'resumed' | 'historyLost';

/**
 * The client's model of its room: built from `welcome`, advanced by room events. Pure (no I/O), so
 * the dedupe and resume rules are testable without a server:
 * - a sequenced event with `seq <= lastSeq` is a duplicate and is ignored;
 * - a fresh or history-lost `welcome` replaces everything; a resumed one keeps comments, popup and
 *   products (the replayed events that follow bring them up to date) and takes the rest from the
 *   snapshot;
 * - `stock` is state, not history: every `welcome` replaces it, and a replayed `soldOut` (seq at or
 *   below that welcome's `seq`) is already counted in it, so it does not zero a product that came
 *   back in stock since;
 * - the cart survives every `welcome`: it belongs to the user, not to the room's history;
 * - the pinned coupon card is the newest pin's: a fresh welcome's replaces it, a resumed one's and
 *   `coupon` events replace it only when their pin's version is not older (`latestPinnedCoupon`).
 */
export class RoomModel implements RoomSnapshot {
  readonly maxComments: number;
  room: RoomInfo | undefined;
  you: Welcome['you'] | undefined;
  lastSeq = 0;
  epoch: string | undefined;
  likes = 0;
  viewers = 0;
  popup: Popup | null = null;
  coupon: CouponCard | null = null;
  couponVersion = 0;
  giveaway: GiveawayCard | null = null;
  auction: AuctionCard | null = null;
  comments: readonly HistoryComment[] = [];
  products: readonly Product[] = [];
  muted: ReadonlySet<string> = new Set();
  stock: Readonly<Record<string, number>> = {};
  degradeLevel = 0;
  moderators: readonly Moderator[] = [];
  pinnedComment: PinnedComment | null = null;
  orders: Readonly<Record<string, Order>> = {};
  readonly cart: CartModel;
  /** The `seq` of the welcome `stock` came from: events up to it are already reflected in it. */
  #stockSeq = 0;

  constructor(maxComments = 200) {
    if (!(maxComments >= 0)) throw new RangeError('maxComments must be non-negative');
    this.maxComments = Math.floor(maxComments);
    this.cart = new CartModel((sku) => priceOfSku(this.products, sku));
  }

  /** The resume point to send in `hello`, or undefined before the first `welcome`. */
  get resumePoint(): { seq: number; epoch: string } | undefined {
    return this.epoch === undefined ? undefined : { seq: this.lastSeq, epoch: this.epoch };
  }

  applyWelcome(welcome: Welcome): WelcomeKind {
    const kind: WelcomeKind = welcome.resumed ? 'resumed' : welcome.historyLost ? 'historyLost' : 'fresh';
    this.room = welcome.room;
    this.you = welcome.you;
    this.likes = welcome.likes;
    this.viewers = welcome.viewers;
    this.muted = new Set(welcome.muted);
    this.epoch = welcome.epoch;
    this.stock = { ...welcome.stock };
    this.#stockSeq = welcome.seq;
    // A server older than the field sends none: it does not degrade.
    this.degradeLevel = welcome.degradeLevel ?? 0;
    // A server older than the field sends none: the card comes from `coupon` events and `coupons()`.
    if (welcome.coupon !== undefined) {
      if (kind === 'resumed') this.takeCoupon(welcome.coupon.card, welcome.coupon.version);
      else [this.coupon, this.couponVersion] = [welcome.coupon.card, welcome.coupon.version];
    }
    // Likewise for the auction card (`auction` updates and `auction()` bring it from older servers).
    if (welcome.auction !== undefined) {
      if (kind === 'resumed' && welcome.auction !== null) this.takeAuction(welcome.auction);
      else if (kind !== 'resumed') this.auction = welcome.auction;
    }
    // A server older than the field sends none: the card comes from `giveaway` updates and `getGiveaway()`.
    if (welcome.giveaway !== undefined) {
      if (kind === 'resumed') this.takeGiveaway(welcome.giveaway);
      else this.giveaway = welcome.giveaway;
    }
    if (kind !== 'resumed') {
      this.lastSeq = welcome.seq;
      this.popup = welcome.popup;
      // A server older than these fields sends none.
      this.moderators = welcome.moderators ?? [];
      this.pinnedComment = welcome.pinnedComment ?? null;
      this.products = [...welcome.products];
      this.comments = this.#bound([...welcome.comments]);
    }
    return kind;
  }

  /** Applies a sequenced event; returns false (and changes nothing) for a duplicate. */
  applyEvent(event: SequencedEvent): boolean {
    if (event.seq <= this.lastSeq) return false;
    this.lastSeq = event.seq;
    switch (event.t) {
      case 'comment':
        this.comments = this.#bound([...this.comments, { seq: event.seq, userId: event.userId, name: event.name, text: event.text, ts: event.ts }]);
        break;
      case 'commentDeleted':
        if (this.comments.some((c) => c.seq === event.commentSeq)) this.comments = this.comments.filter((c) => c.seq !== event.commentSeq);
        break;
      case 'popup':
        this.popup = event.popup;
        break;
      case 'product': {
        const index = this.products.findIndex((p) => p.sku === event.product.sku);
        this.products = index === -1 ? [...this.products, event.product] : this.products.map((p, i) => (i === index ? event.product : p));
        // A pinned card shows the product's current stock and price.
        if (this.popup && this.popup.product.sku === event.product.sku) this.popup = { ...this.popup, product: event.product };
        // A new product starts with its initial stock (as on the server); later changes come as `stock` updates.
        if (event.seq > this.#stockSeq && !Object.hasOwn(this.stock, event.product.sku)) this.#setStock(event.product.sku, event.product.stock);
        break;
      }
      case 'roomState':
        if (this.room) this.room = { ...this.room, state: event.state, ...(event.missed === true ? { missed: true as const } : {}) };
        break;
      case 'userMuted': {
        const muted = new Set(this.muted);
        if (event.muted) muted.add(event.userId);
        else muted.delete(event.userId);
        this.muted = muted;
        break;
      }
      case 'soldOut':
        if (event.seq > this.#stockSeq) this.#setStock(event.sku, 0);
        break;
      case 'moderators':
        this.moderators = event.moderators;
        break;
      case 'commentPinned':
        this.pinnedComment = event.pinned;
        break;
      case 'auctionEnded':
        this.takeAuction(event.auction);
        break;
      case 'coupon':
        this.takeCoupon(event.card, event.version);
        break;
    }
    return true;
  }

  /**
   * A coupon card heard (event or read) with its pin's version: nodes' news may cross, so an older
   * pin's card is ignored (false), and the same pin's `left` only goes down. Without a version (a
   * server older than it) the card counts as news of the pin held.
   */
  takeCoupon(card: CouponCard | null, version = this.couponVersion): boolean {
    if (version < this.couponVersion) return false;
    const kept = latestPinnedCoupon({ card: this.coupon, version: this.couponVersion }, { card, version });
    this.coupon = kept.card;
    this.couponVersion = kept.version;
    return true;
  }

  /**
   * A giveaway card heard (welcome, update or read), kept by `latestGiveawayCard` as nodes' news may
   * cross: a newer giveaway (higher `serial`) replaces it, an older one's card never does; the same
   * one's count only goes up, and a finished one stays finished. A read that found none hides nothing.
   */
  takeGiveaway(card: GiveawayCard | null): void {
    this.giveaway = latestGiveawayCard(this.giveaway, card);
  }

  applyUpdate(update: StateUpdate): void {
    switch (update.t) {
      case 'giveaway':
        this.takeGiveaway(update.giveaway);
        break;
      case 'giveawayEntrants':
        if (this.giveaway?.id === update.giveawayId && this.giveaway.status === 'open' && update.entrants > this.giveaway.entrants) this.giveaway = { ...this.giveaway, entrants: update.entrants };
        break;
      case 'likes':
        this.likes = update.total;
        break;
      case 'viewers':
        this.viewers = update.count;
        break;
      case 'stock':
        this.#setStock(update.sku, update.available);
        break;
      case 'degrade':
        this.degradeLevel = update.level;
        break;
      case 'auction':
        this.takeAuction(update.auction);
        break;
    }
  }

  /** An auction card heard (update, event or read): cards from several nodes may cross, the newest is kept. False when it was older. */
  takeAuction(card: AuctionCard): boolean {
    const kept = latestAuctionCard(this.auction, card);
    const changed = kept !== this.auction;
    this.auction = kept;
    return changed;
  }

  /**
   * Takes news of one of the user's orders; false (nothing changes) when it is not newer than what
   * is known. An order only moves forward, so the one with the longer history is the newer.
   */
  applyOrder(order: Order): boolean {
    const known = this.orders[order.id];
    if (known !== undefined && known.history.length >= order.history.length) return false;
    this.orders = { ...this.orders, [order.id]: order };
    if (this.cart.lastOrder?.id === order.id) this.cart.lastOrder = order;
    return true;
  }

  #setStock(sku: string, available: number): void {
    if (this.stock[sku] !== available) this.stock = { ...this.stock, [sku]: available };
  }

  #bound(comments: HistoryComment[]): HistoryComment[] {
    return comments.length > this.maxComments ? comments.slice(comments.length - this.maxComments) : comments;
  }
}
