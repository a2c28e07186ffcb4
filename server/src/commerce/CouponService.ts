import { type Coupon, type CouponCard, type CouponClaim, type CouponRequest, type couponInputSchema, latestPinnedCoupon, type PinnedCoupon } from '../../../protocol/src/index.ts';
import type { z } from 'zod';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import type { Logger } from '../log.ts';
import type { CouponStore } from '../store/CouponStore.ts';
import type { RoomCheck } from './CommerceService.ts';

/** What coupons need from the room layer: who moderates, whether the room exists, and a way to tell its members. */
export interface CouponRooms {
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  /** Throws ROOM_NOT_FOUND (or KICKED for a banned user) as for a cart read. */
  assertRoom(roomId: string, check: RoomCheck): unknown;
  /**
   * Publishes the `coupon` event (the pinned card, or null, and its pin's version) in `roomId` and
   * in the other rooms of its commerce `scope` (a shop's linked shows: the pin is the scope's);
   * resolves with its seq in `roomId`.
   */
  announceCoupon(scope: string, roomId: string, pinned: PinnedCoupon): Promise<number>;
  /**
   * Where the room's commerce lives in the store (a show linked to a shop: the shop; see
   * `commerceScope.ts`): its coupons live there too, so a claim and the checkout that applies it
   * meet in one place. Absent: the room itself.
   */
  scopeOf?(roomId: string): string | Promise<string>;
}

export interface CouponOptions {
  /** Most coupons one room holds. */
  readonly maxCouponsPerRoom: number;
  /** The pinned card's `left` goes out at most this often (latest wins), as stock does. */
  readonly stockIntervalMs: number;
  /** How long this node trusts what it read of a room's pinned coupon (another node may re-pin it). */
  readonly pinnedCacheMs: number;
  /** Viewers' reads of the pinned card within this long of the last one are answered from it. */
  readonly cardReadMs: number;
}

type CouponInputParsed = z.output<typeof couponInputSchema>;

interface PinnedNews {
  card: CouponCard | null;
  /** The pin's version (`PinnedCoupon`): news of an older pin does not replace it. */
  version: number;
  readAt: number;
  /** The smallest `left` heard since the last announcement (left only goes down). */
  pendingLeft: number | undefined;
  sentAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Coupons of a room, apart from claims: create (moderators), pin and unpin the room's coupon card,
 * read the card and one's claims, and the card's live "N left" (`claimed`, from commerce's news of
 * every claim answer). Claims themselves are cart requests: the cart desk and admission serve them.
 */
export class CouponService {
  readonly #store: CouponStore;
  readonly #rooms: CouponRooms;
  readonly #options: CouponOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #pinned = new Map<string, PinnedNews>();
  #closed = false;

  constructor(deps: { store: CouponStore; rooms: CouponRooms; options: CouponOptions; log: Logger; now?: () => number }) {
    this.#store = deps.store;
    this.#rooms = deps.rooms;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /** A coupon request over the WebSocket; the result becomes the `ok` reply. */
  async handle(principal: Principal, roomId: string, request: CouponRequest): Promise<Record<string, unknown>> {
    switch (request.t) {
      case 'createCoupon': return { coupon: await this.create(principal, roomId, request.coupon) };
      case 'pinCoupon': return { seq: await this.pin(principal, roomId, request.couponId) };
      case 'unpinCoupon': return { seq: await this.pin(principal, roomId, null) };
      case 'getCoupons': return { ...(await this.read(principal, roomId)) };
    }
  }

  /** `roomId` (the room whose card announces it) is kept in the coupon; it is stored in the room's commerce scope. */
  async create(principal: Principal, roomId: string, input: CouponInputParsed): Promise<Coupon> {
    await this.#mustModerate(principal, roomId);
    const scope = await this.#scopeOf(roomId);
    const coupon: Coupon = {
      id: input.id,
      roomId,
      ...(input.title === undefined ? {} : { title: input.title }),
      ...(input.amountOffCents === undefined ? {} : { amountOffCents: input.amountOffCents }),
      ...(input.percentOff === undefined ? {} : { percentOff: input.percentOff }),
      minSpendCents: input.minSpendCents,
      total: input.total,
      ...(input.startsAt === undefined ? {} : { startsAt: input.startsAt }),
      ...(input.endsAt === undefined ? {} : { endsAt: input.endsAt }),
      createdAt: this.#now(),
    };
    await this.#store.createCoupon(scope, coupon, this.#options.maxCouponsPerRoom);
    this.#log.info({ roomId, couponId: coupon.id, total: coupon.total, by: principal.userId }, 'coupon created');
    return coupon;
  }

  /** Pins `couponId` (null: unpins) and tells the room; resolves with the event's seq. */
  async pin(principal: Principal, roomId: string, couponId: string | null): Promise<number> {
    await this.#mustModerate(principal, roomId);
    const scope = await this.#scopeOf(roomId);
    const version = await this.#store.pinCoupon(scope, couponId);
    // Read back (another node may have pinned since: then its newer pin is what is announced).
    const pinned = couponId === null ? { card: null, version } : await this.#store.pinnedCoupon(scope);
    const news = this.#news(scope, pinned);
    news.pendingLeft = undefined;
    news.sentAt = this.#now();
    return this.#rooms.announceCoupon(scope, roomId, { card: news.card, version: news.version });
  }

  /** The room's pinned card (and its pin's version) and the caller's claims there; the room's moderators get every coupon too. */
  async read(principal: Principal, roomId: string): Promise<{ pinned: CouponCard | null; version: number; claims: CouponClaim[]; coupons?: CouponCard[] }> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
    const scope = await this.#scopeOf(roomId);
    const [pinned, claims, moderates] = await Promise.all([this.#pinnedCard(scope), this.#store.userClaims(scope, principal.userId), this.#rooms.canModerate(principal, roomId)]);
    const mine = { pinned: pinned.card, version: pinned.version, claims };
    return moderates ? { ...mine, coupons: await this.#store.roomCoupons(scope) } : mine;
  }

  /** A claim in `scope` (the commerce scope) took one of the coupon's N: the card shows the new `left` in the room that pinned it (at most once per interval). */
  claimed(roomId: string, couponId: string, left: number): void {
    const news = this.#pinned.get(roomId);
    if (news === undefined || this.#now() - news.readAt > this.#options.pinnedCacheMs) {
      this.#store.pinnedCoupon(roomId).then(
        (pinned) => this.#leftChanged(roomId, this.#news(roomId, pinned), couponId, left),
        (error: unknown) => this.#log.warn({ err: error, roomId }, 'pinned coupon could not be read'),
      );
      return;
    }
    this.#leftChanged(roomId, news, couponId, left);
  }

  close(): void {
    this.#closed = true;
    for (const news of this.#pinned.values()) clearTimeout(news.timer);
    this.#pinned.clear();
  }

  /** The room is no longer hosted here. */
  forget(roomId: string): void {
    const news = this.#pinned.get(roomId);
    if (news?.timer === undefined) this.#pinned.delete(roomId);
  }

  /** Rooms whose card news has nothing pending and was last read `idleForMs` ago. */
  *idleRooms(idleForMs: number): Iterable<string> {
    const now = this.#now();
    for (const [roomId, news] of this.#pinned) if (news.timer === undefined && now - news.readAt >= idleForMs) yield roomId;
  }

  /**
   * The pinned card, read from the store at most once per `cardReadMs` per room on this node: a show's
   * start brings every viewer's read at once. A card a little old is fine: `left` only goes down,
   * and the `coupon` events that follow bring it down.
   */
  async #pinnedCard(roomId: string): Promise<PinnedCoupon> {
    const known = this.#pinned.get(roomId);
    const news = known !== undefined && this.#now() - known.readAt < this.#options.cardReadMs ? known : this.#news(roomId, await this.#store.pinnedCoupon(roomId));
    return { card: news.card, version: news.version };
  }

  /** What this node knows of the scope's pinned coupon, with `pinned` read or heard: the newer pin's card is kept (`latestPinnedCoupon`). */
  #news(scope: string, pinned: PinnedCoupon): PinnedNews {
    let news = this.#pinned.get(scope);
    if (news === undefined) this.#pinned.set(scope, (news = { card: pinned.card, version: pinned.version, readAt: this.#now(), pendingLeft: undefined, sentAt: 0, timer: undefined }));
    const kept = latestPinnedCoupon({ card: news.card, version: news.version }, pinned);
    news.card = kept.card;
    news.version = kept.version;
    news.readAt = this.#now();
    return news;
  }

  #leftChanged(scope: string, news: PinnedNews, couponId: string, left: number): void {
    if (this.#closed || news.card?.coupon.id !== couponId) return;
    news.pendingLeft = Math.min(news.pendingLeft ?? left, left);
    if (news.timer !== undefined) return;
    const roomId = news.card.coupon.roomId;
    const wait = Math.max(0, news.sentAt + this.#options.stockIntervalMs - this.#now());
    news.timer = setTimeout(() => {
      news.timer = undefined;
      const card = news.card;
      const pending = news.pendingLeft;
      news.pendingLeft = undefined;
      if (card === null || pending === undefined || this.#closed) return;
      news.card = { coupon: card.coupon, left: Math.min(card.left, pending) };
      news.sentAt = this.#now();
      this.#rooms.announceCoupon(scope, roomId, { card: news.card, version: news.version }).catch((error: unknown) => this.#log.warn({ err: error, roomId }, 'coupon card update failed'));
    }, wait);
    news.timer.unref();
  }

  async #scopeOf(roomId: string): Promise<string> {
    return (await this.#rooms.scopeOf?.(roomId)) ?? roomId;
  }

  async #mustModerate(principal: Principal, roomId: string): Promise<void> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'manage' });
    if (!(await this.#rooms.canModerate(principal, roomId))) throw new DomainError('NOT_MODERATOR', 'only this room\'s streamer or an operator can do this');
  }
}

