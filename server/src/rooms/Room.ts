import { type AuctionCard, type GiveawayCard, type HistoryComment, latestAuctionCard, latestGiveawayCard, latestPinnedCoupon, type Moderator, type PinnedComment, type PinnedCoupon, type Popup, type Product, type RoomInfo, type RoomSettings, type SequencedEvent, type StateUpdate } from '../../../protocol/src/index.ts';
import type { RecentEvents } from '../broker/Broker.ts';
import { DegradeState } from '../fanout/DegradePolicy.ts';
import { Audience } from '../fanout/Fanout.ts';
import type { Member } from './Member.ts';
import { CommentFilter } from './CommentFilter.ts';
import { ResumeRing } from './ResumeRing.ts';
import type { RoomRecord } from '../store/RoomDirectory.ts';

/** Giveaways whose entrants counts a room keeps (see `Room.giveawayEntrants`). */
const GIVEAWAY_COUNTS_KEPT = 4;

export interface RoomLimits {
  readonly historyLength: number;
  readonly resumeRingSize: number;
}

/**
 * One room as this node sees it: built from the directory's record and the broker's recent events,
 * then changed only by delivered events, so every node hosting the room converges on the same
 * state in the same order.
 */
export class Room {
  readonly id: string;
  readonly info: RoomInfo;
  readonly epoch: string;
  readonly ring: ResumeRing;
  readonly catalog = new Map<string, Product>();
  /** Available units by sku, as last announced (the store holds the truth). */
  readonly stock = new Map<string, number>();
  /** How many sold-outs of each sku the room has applied: a store read started before one is older than it. */
  readonly soldOuts = new Map<string, number>();
  readonly muted: Set<string>;
  /** userId → epoch ms until which the user may neither rejoin nor use the room's cart. */
  readonly bans: Map<string, number>;
  /** sku → when its pop-up offer ended or ends (see `RoomRecord.offerEnds`). */
  readonly offerEnds: Map<string, number>;
  readonly #history: HistoryComment[] = [];
  readonly #historyLength: number;
  readonly #members = new Map<string, Set<Member>>();
  #memberCount = 0;
  #staffCount = 0;
  /**
   * Sockets that follow their user's orders only (hello `follow: "orders"`): they hear the user's
   * direct messages and nothing the room broadcasts, and no count of the room's sockets includes
   * them, so every walk over the members (fan-out, degrade checks, viewer counts) leaves them out.
   */
  readonly #followers = new Map<string, Set<Member>>();
  #followerCount = 0;
  /** Client frames from this room's sockets, and frames delivered to them by fan-out (counters, for operators). */
  messagesIn = 0;
  messagesOut = 0;
  popup: Popup | null;
  latestSeq = 0;
  /** Room totals over all nodes, as last announced. */
  likes: number;
  /** The largest entrants count heard per giveaway, for the room's last few giveaways: nodes' counts may cross on the way, and a lower one is older. */
  readonly giveawayEntrants = new Map<string, number>();
  /**
   * The room's giveaway for `welcome`: read as the room is hosted, then kept by its `giveaway` and
   * `giveawayEntrants` updates, the newest giveaway's card (`latestGiveawayCard`).
   */
  giveaway: GiveawayCard | null = null;
  viewers = 0;
  /** The room's auction card as last delivered here (cards from several nodes may cross: `latestAuctionCard`). */
  auctionCard: AuctionCard | null = null;
  /** Set while the node refills missed events; deliveries wait in it. */
  resyncBuffer: unknown[] | undefined;
  /** Pending unhost after the last member left. */
  idleTimer: NodeJS.Timeout | undefined;
  /** What operators set for the room, the same on every node (see `RoomRegistry.takeSettings`). */
  settings: RoomSettings;
  /** This node's degrade level for the room (each node judges its own load, unless an operator fixed it). */
  readonly degrade = new DegradeState();
  /** Counts like flushes, so a degraded room flushes only every few. */
  likeTicks = 0;
  /** The users the streamer appointed, in the order appointed (see protocol/src/moderation.ts). */
  moderators: readonly Moderator[];
  /** The room's keyword filter (from the directory, then the broker's `filter` deliveries). */
  filter: CommentFilter;
  pinnedComment: PinnedComment | null;
  /**
   * The pinned coupon of the room's commerce scope, for `welcome`: read from the store as the room
   * is hosted, then kept by its `coupon` events, the newest pin's card (`latestPinnedCoupon`).
   */
  coupon: PinnedCoupon = { card: null, version: 0 };

  constructor(record: RoomRecord, limits: RoomLimits) {
    this.id = record.info.id;
    this.info = { ...record.info };
    this.epoch = record.epoch;
    this.#historyLength = limits.historyLength;
    this.ring = new ResumeRing(limits.resumeRingSize);
    for (const product of record.catalog) {
      this.catalog.set(product.sku, product);
      this.stock.set(product.sku, product.stock);
    }
    this.popup = record.popup;
    this.muted = new Set(record.muted);
    this.bans = new Map(Object.entries(record.bans));
    this.offerEnds = new Map(Object.entries(record.offerEnds));
    this.likes = record.likes;
    this.settings = record.settings;
    this.moderators = record.moderation.moderators;
    this.filter = new CommentFilter(record.moderation.filter);
    this.pinnedComment = record.moderation.pinnedComment;
  }

  isModerator(userId: string): boolean {
    return this.moderators.some((m) => m.userId === userId);
  }

  /** A recent comment by seq (one the history still holds). */
  comment(seq: number): HistoryComment | undefined {
    return this.#history.find((c) => c.seq === seq);
  }

  /**
   * Takes in the broker's recent events. The record is at least as new as these (commands write the
   * directory before they publish), so only the comment history is rebuilt from them.
   */
  loadRecent(recent: RecentEvents, now: number): void {
    for (const { seq, frame, event } of recent.events) {
      this.ring.push(seq, frame, now);
      if (event.t === 'comment' || event.t === 'commentDeleted') this.apply(event);
    }
    this.latestSeq = recent.latestSeq;
  }

  /**
   * Takes a room-wide value that nodes publish unsequenced: false when it tells the members nothing
   * new. Values from several nodes may cross on the way, so an older one is dropped: a lower like
   * total or entrants count, an older auction or giveaway card, and a product's level equal to the
   * one the members were last told (or will be by what waits; a sold-out counts as 0).
   */
  take(update: Exclude<StateUpdate, { t: 'viewers' | 'degrade' }>): boolean {
    switch (update.t) {
      case 'stock': {
        const heard = this.stock.get(update.sku);
        this.stock.set(update.sku, update.available);
        return heard !== update.available;
      }
      case 'auction':
        if (latestAuctionCard(this.auctionCard, update.auction) !== update.auction) return false;
        this.auctionCard = update.auction;
        return true;
      case 'likes':
        if (update.total < this.likes) return false;
        this.likes = update.total;
        return true;
      case 'giveawayEntrants':
        if (update.entrants <= (this.giveawayEntrants.get(update.giveawayId) ?? 0)) return false;
        this.giveawayEntrants.set(update.giveawayId, update.entrants);
        // A room runs giveaways one after another: the counts of the last few are enough to order crossing news.
        if (this.giveawayEntrants.size > GIVEAWAY_COUNTS_KEPT) this.giveawayEntrants.delete(this.giveawayEntrants.keys().next().value!);
        return true;
      case 'giveaway': {
        // News of an older giveaway (or of an open card once drawn) changes nothing, here or on a viewer.
        const kept = latestGiveawayCard(this.giveaway, update.giveaway);
        if (kept === this.giveaway) return false;
        this.giveaway = kept;
        return true;
      }
    }
  }

  apply(event: SequencedEvent): void {
    switch (event.t) {
      case 'comment':
        if (this.#historyLength === 0) break;
        this.#history.push({ seq: event.seq, userId: event.userId, name: event.name, text: event.text, ts: event.ts });
        if (this.#history.length > this.#historyLength) this.#history.shift();
        break;
      case 'commentDeleted': {
        const index = this.#history.findIndex((c) => c.seq === event.commentSeq);
        if (index >= 0) this.#history.splice(index, 1);
        break;
      }
      case 'popup':
        this.popup = event.popup;
        if (event.popup?.endsAt !== undefined) this.offerEnds.set(event.popup.product.sku, event.popup.endsAt);
        else if (event.popup !== null) this.offerEnds.delete(event.popup.product.sku);
        break;
      case 'product':
        if (!this.catalog.has(event.product.sku)) this.stock.set(event.product.sku, event.product.stock);
        this.catalog.set(event.product.sku, event.product);
        if (this.popup?.product.sku === event.product.sku) this.popup = { ...this.popup, product: event.product };
        break;
      case 'roomState':
        this.info.state = event.state;
        if (event.missed === true) this.info.missed = true;
        break;
      case 'userMuted':
        if (event.muted) this.muted.add(event.userId);
        else this.muted.delete(event.userId);
        break;
      case 'soldOut':
        this.stock.set(event.sku, 0);
        this.soldOuts.set(event.sku, (this.soldOuts.get(event.sku) ?? 0) + 1);
        break;
      case 'moderators':
        this.moderators = event.moderators;
        break;
      case 'commentPinned':
        this.pinnedComment = event.pinned;
        break;
      case 'coupon':
        // An event without a version (an older node's) counts as news of the pin held.
        this.coupon = latestPinnedCoupon(this.coupon, { card: event.card, version: event.version ?? this.coupon.version });
        break;
    }
  }

  /** Recent comments, oldest first, without those of muted users. */
  recentComments(): HistoryComment[] {
    return this.muted.size === 0 ? [...this.#history] : this.#history.filter((c) => !this.muted.has(c.userId));
  }

  hasComment(seq: number): boolean {
    return this.#history.some((c) => c.seq === seq);
  }

  addMember(member: Member): void {
    if (!addTo(this.#members, member)) return;
    this.#memberCount++;
    if (member.principal.role !== 'viewer') this.#staffCount++;
  }

  removeMember(member: Member): boolean {
    if (!removeFrom(this.#members, member)) return false;
    this.#memberCount--;
    if (member.principal.role !== 'viewer') this.#staffCount--;
    return true;
  }

  membersOf(userId: string): readonly Member[] {
    return [...(this.#members.get(userId) ?? [])];
  }

  addFollower(member: Member): void {
    if (addTo(this.#followers, member)) this.#followerCount++;
  }

  removeFollower(member: Member): boolean {
    if (!removeFrom(this.#followers, member)) return false;
    this.#followerCount--;
    return true;
  }

  /** The user's sockets here that follow their orders only. */
  followersOf(userId: string): readonly Member[] {
    return [...(this.#followers.get(userId) ?? [])];
  }

  forEachFollower(visit: (member: Member) => void): void {
    for (const set of this.#followers.values()) for (const member of set) visit(member);
  }

  get followerCount(): number {
    return this.#followerCount;
  }

  /** No socket of any kind in the room on this node. */
  get isEmpty(): boolean {
    return this.#memberCount === 0 && this.#followerCount === 0;
  }

  /** Calls `visit` for every socket in the room on this node. A loop, not a generator: the degrade check walks a 10,000-member room several times a second, and a generator's resumes were most of its cost. */
  forEachMember(visit: (member: Member) => void): void {
    for (const set of this.#members.values()) for (const member of set) visit(member);
  }

  /** Calls `visit` once per user in the room on this node, with that user's sockets (one user, one voice). */
  forEachUser(visit: (members: ReadonlySet<Member>) => void): void {
    for (const set of this.#members.values()) visit(set);
  }

  /** Streamer and operator sockets in the room on this node. */
  get staffCount(): number {
    return this.#staffCount;
  }

  /** Sockets in the room on this node. */
  get memberCount(): number {
    return this.#memberCount;
  }

  /** Viewers' sockets in the room on this node: what "watching" counts (not the streamer and operators). */
  get viewerCount(): number {
    return this.#memberCount - this.#staffCount;
  }

  /** The user's name as this node knows it: from one of their sockets here, else their latest recent comment. */
  nameOf(userId: string): string | undefined {
    for (const member of this.#members.get(userId) ?? []) return member.principal.name;
    for (let i = this.#history.length - 1; i >= 0; i--) if (this.#history[i]!.userId === userId) return this.#history[i]!.name;
    return undefined;
  }

  /** Deliveries of one fanned-out frame, by who it went to (`Fanout.publish`'s audience; an estimate: demoted sockets count too). */
  countOut(audience: number): void {
    this.messagesOut += (audience & (Audience.commerce | Audience.viewerChatter)) !== 0 ? this.#memberCount : this.#staffCount;
  }

  /** Bans that ended no longer count (against the room's cap on bans, say). */
  pruneExpiredBans(now: number): void {
    for (const [userId, until] of this.bans) if (until <= now) this.bans.delete(userId);
  }

  isBanned(userId: string, now: number): boolean {
    const until = this.bans.get(userId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.bans.delete(userId);
    return false;
  }
}

/** Adds `member` to its user's set; false when it was there. */
function addTo(sockets: Map<string, Set<Member>>, member: Member): boolean {
  let set = sockets.get(member.principal.userId);
  if (set === undefined) sockets.set(member.principal.userId, (set = new Set()));
  if (set.has(member)) return false;
  set.add(member);
  return true;
}

/** Takes `member` out of its user's set; false when it was not there. */
function removeFrom(sockets: Map<string, Set<Member>>, member: Member): boolean {
  const set = sockets.get(member.principal.userId);
  if (set === undefined || !set.delete(member)) return false;
  if (set.size === 0) sockets.delete(member.principal.userId);
  return true;
}
