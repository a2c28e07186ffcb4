import type { BackoffOptions } from './backoff.ts';
import type { CartView } from './CartModel.ts';
import type { RetryOptions } from './idempotentRetry.ts';
import type { LikeBatcherOptions } from './LikeBatcher.ts';
import type { WebSocketConstructor } from './transport.ts';
import type { LivecartError } from './LivecartError.ts';
import type { CartAnswer, ClientRequest, DirectMessage, Product, SequencedEvent, StateUpdate, Welcome } from '../../protocol/src/messages.ts';
import type { Moderator, ModerationState } from '../../protocol/src/moderation.ts';
import type { Coupon, CouponCard, CouponClaim } from '../../protocol/src/coupons.ts';
import type { GiveawayCard } from '../../protocol/src/giveaways.ts';
import type { AuctionCard, BidRecordWire } from '../../protocol/src/auctions.ts';
import type { ConsumeResult, MediaCapabilitiesResult, ProduceResult, RestartIceResult, StreamState, TransportResult } from '../../protocol/src/media.ts';
import type { ShowLive } from '../../protocol/src/shows.ts';

export interface ConnectOptions {
  /**
   * WebSocket URL of the server, e.g. `ws://127.0.0.1:8080/ws` (behind a load balancer, its one
   * address). Or several endpoints of one deployment, its nodes: the client goes round them, one
   * at each reconnect, so it leaves a node that drains (4006 `MOVED`) or fell over for another
   * (see `shuffleEndpoints`).
   */
  url: string | readonly string[];
  /**
   * With several `url`s: each client goes round them in an order of its own, drawn at random when
   * it is created, so clients spread over the nodes and a lost node's clients spread over the
   * others instead of all landing on its neighbour in the list. `false` keeps the list's order
   * (the first is tried first). Default true.
   */
  shuffleEndpoints?: boolean;
  /** A livecart JWT (HS256, claims `sub`, `name`, `role`). */
  token: string;
  /** Room id to join. */
  room: string;
  /**
   * `'orders'`: follow this user's orders in the room only, as a "My orders" page does. The socket
   * gets the `welcome` and the user's own news (`orderUpdated`, `reservationExpired`) but no room
   * broadcasts (comments, stock, pop-ups), is not counted among the viewers, works for a user
   * kicked from the room, and never resumes (each reconnect is a fresh join: read the orders again
   * over HTTP then, since news sent while away is not replayed). No acks are sent.
   */
  follow?: 'orders';
  /** WebSocket implementation; default `globalThis.WebSocket`, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff (full jitter); `false` never reconnects. Default `{ baseMs: 500, maxMs: 30000 }`, unlimited attempts. */
  reconnect?: Partial<BackoffOptions> | false;
  /**
   * After a 4006 `MOVED` close (the node drains), the client reconnects, to its next endpoint,
   * after a random delay below this instead of the backoff: the server already spreads its
   * closes over its drain window. Once every endpoint answered `MOVED` without a `welcome` in
   * between, the backoff applies again. Default 250 ms.
   */
  moveJitterMs?: number;
  /** A request without a reply after this long is rejected (temporary `UNAVAILABLE`). Also bounds the handshake. Default 10 000. */
  requestTimeoutMs?: number;
  /** Comments kept in `state.comments`. Default 200. */
  maxComments?: number;
  /** Like coalescing. Default: one notice per 100 ms window, at most 100 taps each. */
  likes?: LikeBatcherOptions;
  /**
   * Automatic retries of cart requests (`addToCart`, `setQuantity`, `removeFromCart`, `cart`,
   * `checkout`) after temporary failures, reusing the action's idempotency key; `false` tries once.
   * Default `{ maxAttempts: 5, baseMs: 200, maxMs: 5000, maxElapsedMs: 30000 }`.
   */
  retry?: Partial<RetryOptions> | false;
  /**
   * `ack` notices telling the server the last `seq` processed, so it can measure real lag. Every
   * `intervalMs` while joined, one is sent when `state.lastSeq` changed since the last ack, or when
   * `keepaliveMs` passed without one. `false` sends none (the server then cannot tell a slow
   * client from a fast one). Default `{ intervalMs: 1000, keepaliveMs: 5000 }`.
   */
  ack?: Partial<AckOptions> | false;
}

export interface AckOptions {
  /** How often to consider sending an ack, ms. Default 1000. */
  intervalMs: number;
  /** Send one at least this often even when `lastSeq` did not change, ms. Default 5000. */
  keepaliveMs: number;
}

type EventOf<T extends SequencedEvent['t']> = Extract<SequencedEvent, { t: T }>;
export type CommentEvent = EventOf<'comment'>;
export type CommentDeletedEvent = EventOf<'commentDeleted'>;
export type PopupEvent = EventOf<'popup'>;
export type ProductEvent = EventOf<'product'>;
/** The room's pinned coupon card changed (pinned, unpinned, or fewer left): `state.coupon` is already updated. */
export type CouponEvent = EventOf<'coupon'>;
/** An auction was settled (announced once): `outcome` sold (to `winner`, at `priceCents`), no_bids or cancelled; `state.auction` is already updated. */
export type AuctionEndedEvent = EventOf<'auctionEnded'>;
/** This user won an auction: the product is in their cart at `priceCents` until `expiresAt` (`held`; false when no unit was left). */
export type AuctionWonEvent = Omit<Extract<DirectMessage, { t: 'auctionWon' }>, 't'>;
export type RoomStateEvent = EventOf<'roomState'>;
export type UserMutedEvent = EventOf<'userMuted'>;
/** The room's moderators changed: `moderators` is the whole list now (`state.moderators` is already updated). */
export type ModeratorsEvent = EventOf<'moderators'>;
/** The room's pinned comment changed: `pinned` is the new one, or null (`state.pinnedComment` is already updated). */
export type CommentPinnedEvent = EventOf<'commentPinned'>;
/** A product's available stock reached 0 (announced once, at once). */
export type SoldOutEvent = EventOf<'soldOut'>;
/** A product's available stock (coalesced by the server, latest wins). */
export type StockEvent = Omit<Extract<StateUpdate, { t: 'stock' }>, 't'>;
/** One of this user's reservations ran out; its units went back to stock and its cart line is gone. */
export type ReservationExpiredEvent = Omit<Extract<DirectMessage, { t: 'reservationExpired' }>, 't'>;
/** One of this user's orders in the room changed (placed, paid, shipped, delivered, cancelled): the order as it is now. */
export type OrderUpdatedEvent = Omit<Extract<DirectMessage, { t: 'orderUpdated' }>, 't'>;
/** A show this user set a reminder for went live: `{ roomId, title, streamerId, startsAt? }`. */
export type ShowLiveEvent = Omit<ShowLive, 't'>;

/**
 * The room's degrade level: 0 normal, 1 chatter sampled, 2 chatter off for viewers, 3 commerce
 * only. Above 0 a page shows a "busy" state. Emitted by the server's `degrade` updates, and after
 * a `welcome` whose `degradeLevel` differs from the level known before it (reason `'welcome'`).
 */
export interface DegradeEvent {
  level: number;
  reason: string;
}

/** The server holds request `id` in the room's admission queue; its answer follows later. */
export interface QueuedEvent {
  /** The request's id on the wire (each retry has a new one). */
  id: number;
  /** The request's type (`addToCart`, `checkout`, …). */
  type: ClientRequest['t'];
  /** The request's idempotency key, for keyed cart requests. */
  key?: string;
  /** Place in the queue, 1 = next. */
  position: number;
  /** When the answer is expected, ms from now (the server's estimate). */
  etaMs: number;
}

/** Where one `addToCart` action stands; see `CartActionEvent`. */
export type CartActionState = 'adding' | 'queued' | 'retrying' | 'reserved' | 'sold_out' | 'limit_reached' | 'not_on_sale' | 'failed';

/**
 * The progress of one `addToCart` call, for a page that renders one button state per action
 * (`key` tells actions apart). In order: `adding` once when the call starts; then any number of
 * `queued` (with `position` and `etaMs`, each time the server reports the request waiting in its
 * admission queue) and `retrying` (with `retryInMs`, before each wait for an automatic retry);
 * then exactly one final state: the answer's status (`reserved`, `sold_out`, `limit_reached`,
 * `not_on_sale`, with `answer`) or `failed` (with `error`, the promise's rejection).
 * A call for a sku known to be sold out emits only its final `sold_out`.
 */
export interface CartActionEvent {
  sku: string;
  /** The action's idempotency key, the same on every retry. */
  key: string;
  state: CartActionState;
  /** `queued`: place in the queue, 1 = next. */
  position?: number;
  /** `queued`: the answer is expected in about this many ms. */
  etaMs?: number;
  /** `retrying`: the next attempt starts in this many ms. */
  retryInMs?: number;
  /** Final states from an answer: the answer (the promise's value). */
  answer?: AddToCartAnswer;
  /** `failed`: why (the promise's rejection). */
  error?: unknown;
}

export interface ReconnectingEvent {
  /** 1 for the first retry after a connection was lost, reset by every successful `welcome`. */
  attempt: number;
  delayMs: number;
  /** Close code of the lost connection (1006 when it never opened or dropped without a close frame). */
  code: number;
  reason: string;
  /** The endpoint the next attempt goes to. */
  url: string;
}

export interface ClosedEvent {
  code: number;
  reason: string;
  willReconnect: false;
  /** Why the client gave up, when known: the server's `err` for `hello` (e.g. `UNAUTHORIZED`), or `UNAVAILABLE` when reconnect attempts ran out. */
  error?: LivecartError;
}

/** Event name → payload. */
export interface LivecartEvents {
  /** Every `welcome`: the first, and one after each reconnect. */
  welcome: Welcome;
  /** A `welcome` that could not resume (events missed): the state was replaced by its snapshot; re-render. */
  historyLost: Welcome;
  comment: CommentEvent;
  commentDeleted: CommentDeletedEvent;
  popup: PopupEvent;
  product: ProductEvent;
  coupon: CouponEvent;
  /** The room's auction card (price, leader, end, bids) changed: latest value, paced by the server; `state.auction` is already updated. */
  auction: AuctionCard;
  auctionEnded: AuctionEndedEvent;
  /** This user won an auction (on every socket of theirs in the room); `state.cart` is refreshed. */
  auctionWon: AuctionWonEvent;
  roomState: RoomStateEvent;
  userMuted: UserMutedEvent;
  moderators: ModeratorsEvent;
  commentPinned: CommentPinnedEvent;
  /** The room's like total (coalesced by the server). */
  likes: { total: number };
  /** The room's viewer count (coalesced by the server). */
  viewers: { count: number };
  /** A product's available units changed (`state.stock` is already updated). */
  stock: StockEvent;
  /** The room's giveaway opened, was drawn (`giveaway.result`) or cancelled (`state.giveaway` is already updated). */
  giveaway: GiveawayEvent;
  /** The giveaway's entrants count went up (paced by the server; `state.giveaway.entrants` is already updated). */
  giveawayEntrants: GiveawayEntrantsEvent;
  /** This user won a giveaway: `orderId` is the prize's order (total 0), absent when the prize's stock ran short. On every socket of the user in the room. */
  giveawayWon: GiveawayWonEvent;
  /** A product sold out (`state.stock[sku]` is already 0). */
  soldOut: SoldOutEvent;
  /** One of this user's reservations expired (`state.cart` no longer holds it). */
  reservationExpired: ReservationExpiredEvent;
  /**
   * One of this user's orders in the room moved on (`state.orders` is already updated): placed (on
   * this or another of the user's sockets), paid (the shop's payment step, or a demo payment:
   * `order.payment.demo`), shipped, delivered or cancelled. Older news than what the client holds is
   * not emitted.
   */
  orderUpdated: OrderUpdatedEvent;
  /**
   * A show this user set a reminder for (`setReminder`) went live: on every socket of the user, in
   * any room (`follow: 'orders'` sockets too), once. Link to `roomId` to take them there.
   */
  showLive: ShowLiveEvent;
  /** `state.cart` changed: an answer to a cart request, an expiry, or a refresh after a reconnect. */
  cartChanged: CartView;
  /** The room's degrade level changed (`state.degradeLevel` is already updated). */
  degrade: DegradeEvent;
  /** The room's stream on this node changed (went live, muted or unmuted a track, ended). */
  stream: StreamEvent;
  /** This socket's media is gone on the server (a media worker restarted): rebuild transports. */
  mediaReset: { reason: string };
  /** One of this client's requests waits in the room's admission queue (its timeout is pushed back accordingly). */
  queued: QueuedEvent;
  /** Progress of an `addToCart` call, for rendering its button. */
  cartAction: CartActionEvent;
  /**
   * Problems not tied to a request: `err` frames without a known id (`LivecartError`), frames that
   * cannot be decoded, a failed `hello` on reconnect, and errors thrown by other event listeners.
   */
  error: Error;
  /** The connection was lost; another attempt starts after `delayMs`. */
  reconnecting: ReconnectingEvent;
  /** The client stopped for good (terminal close code, attempts exhausted, or `close()`). */
  closed: ClosedEvent;
}

export type StreamEvent = StreamState & {
  reason?: string | undefined;
  /** The stream was ended on purpose (`stopStream`, an operator, the show ending): a publisher stops. */
  stopped?: true | undefined;
};

export interface SeqResult {
  /** Seq of the room event the request produced. */
  seq: number;
}
export interface PingResult {
  /** Server clock, epoch ms. */
  now: number;
}
export interface AddProductResult {
  product: Product;
}
export interface KickResult {
  /** Sockets the server closed (with 4505). */
  closed: number;
  /** Units the user held reserved in the room, given back to stock. */
  released: number;
}

export interface UnbanResult {
  /** Whether a ban was in force (false: there was none, or it had ended). */
  lifted: boolean;
}

type AnswerOf<S extends CartAnswer['status']> = Extract<CartAnswer, { status: S }>;
export type ReservedAnswer = AnswerOf<'reserved'>;
export type ReleasedAnswer = AnswerOf<'released'>;
export type SoldOutAnswer = AnswerOf<'sold_out'>;
export type LimitReachedAnswer = AnswerOf<'limit_reached'>;
export type NotOnSaleAnswer = AnswerOf<'not_on_sale'>;
export type CartNotFoundAnswer = AnswerOf<'cart_not_found'>;
export type CartContentsAnswer = AnswerOf<'cart'>;
export type OrderedAnswer = AnswerOf<'ordered'>;
export type ExpiredAnswer = AnswerOf<'expired'>;

/** `reserved` (possibly fewer units than asked: see `granted`), or why nothing was reserved. */
export type AddToCartAnswer = ReservedAnswer | SoldOutAnswer | LimitReachedAnswer | NotOnSaleAnswer;
/** Raising a line reserves (`reserved` or a refusal), lowering it releases; `cart_not_found` when the line is gone (e.g. expired). */
export type SetQuantityAnswer = ReservedAnswer | ReleasedAnswer | SoldOutAnswer | LimitReachedAnswer | NotOnSaleAnswer | CartNotFoundAnswer;
export type RemoveFromCartAnswer = ReleasedAnswer | CartNotFoundAnswer;
export type CouponClaimedAnswer = AnswerOf<'coupon_claimed'>;
export type CouponAlreadyClaimedAnswer = AnswerOf<'coupon_already_claimed'>;
export type CouponsGoneAnswer = AnswerOf<'coupons_gone'>;
export type CouponNotActiveAnswer = AnswerOf<'coupon_not_active'>;
export type CouponNotApplicableAnswer = AnswerOf<'coupon_not_applicable'>;
/**
 * A bid's one answer: `leading` (with your maximum), `outbid` (with the price and the next bid),
 * `too_low` (with the lowest bid taken), `ended` or `not_allowed` (the seller, an unknown auction).
 */
export type BidAnswer = AnswerOf<'leading'> | AnswerOf<'outbid'> | AnswerOf<'too_low'> | AnswerOf<'ended'> | AnswerOf<'not_allowed'>;
export interface AuctionResult {
  /** The auction (the room's open one when none was named), or null. */
  auction: AuctionCard | null;
  /** Its newest price moves, for the room's moderators only. */
  history?: BidRecordWire[];
}
/** `ordered`, or nothing was ordered: `expired` (those lines went back to stock), `cart_not_found` (empty cart) or `coupon_not_applicable` (the coupon named does not apply). */
export type CheckoutAnswer = OrderedAnswer | ExpiredAnswer | CartNotFoundAnswer | CouponNotApplicableAnswer;
/** `coupon_claimed` (one of the N is yours), `coupon_already_claimed` (with your claim), `coupons_gone` or `coupon_not_active`. */
export type ClaimCouponAnswer = CouponClaimedAnswer | CouponAlreadyClaimedAnswer | CouponsGoneAnswer | CouponNotActiveAnswer;
export interface CouponsResult {
  /** The room's pinned coupon card, or null. */
  pinned: CouponCard | null;
  /** Its pin's version (`PinnedCoupon`; absent from servers older than it). */
  version?: number;
  /** This user's claims in the room. */
  claims: CouponClaim[];
  /** Every coupon of the room, for its moderators only. */
  coupons?: CouponCard[];
}

export type EnteredAnswer = AnswerOf<'entered'>;
export type AlreadyEnteredAnswer = AnswerOf<'already_entered'>;
export type NotEligibleAnswer = AnswerOf<'not_eligible'>;
export type GiveawayClosedAnswer = AnswerOf<'giveaway_closed'>;
export type GiveawayFullAnswer = AnswerOf<'giveaway_full'>;
export type NoGiveawayAnswer = AnswerOf<'no_giveaway'>;
/**
 * `entered` (counted now), `already_entered` (one entry per user, whatever the taps, sockets or
 * nodes), `not_eligible`, `giveaway_closed`, `giveaway_full` or `no_giveaway`. An entrant's answer
 * stands after the close: a retry gets its first answer, another tap `already_entered`.
 */
export type EnterGiveawayAnswer = EnteredAnswer | AlreadyEnteredAnswer | NotEligibleAnswer | GiveawayClosedAnswer | GiveawayFullAnswer | NoGiveawayAnswer;
export interface GiveawayEvent {
  giveaway: GiveawayCard;
}
export interface GiveawayEntrantsEvent {
  giveawayId: string;
  entrants: number;
}
export interface GiveawayWonEvent {
  giveawayId: string;
  sku: string;
  orderId?: string | undefined;
}

/** What each request's `ok` carries. */
export interface RequestResults {
  ping: PingResult;
  comment: SeqResult;
  addProduct: AddProductResult;
  pin: SeqResult;
  unpin: SeqResult;
  deleteComment: SeqResult;
  mute: SeqResult;
  unmute: SeqResult;
  kick: KickResult;
  unban: UnbanResult;
  setModerator: { moderators: Moderator[] };
  setFilter: { words: string[] };
  pinComment: SeqResult;
  unpinComment: SeqResult;
  getModeration: ModerationState;
  addToCart: AddToCartAnswer;
  setQuantity: SetQuantityAnswer;
  removeFromCart: RemoveFromCartAnswer;
  getCart: CartContentsAnswer;
  checkout: CheckoutAnswer;
  claimCoupon: ClaimCouponAnswer;
  createCoupon: { coupon: Coupon };
  pinCoupon: SeqResult;
  unpinCoupon: SeqResult;
  getCoupons: CouponsResult;
  enterGiveaway: EnterGiveawayAnswer;
  openGiveaway: { giveaway: GiveawayCard };
  endGiveaway: { giveaway: GiveawayCard };
  cancelGiveaway: { giveaway: GiveawayCard };
  getGiveaway: { giveaway: GiveawayCard | null };
  bid: BidAnswer;
  startAuction: { auction: AuctionCard };
  endAuction: { auction: AuctionCard };
  cancelAuction: { auction: AuctionCard };
  getAuction: AuctionResult;
  mediaCapabilities: MediaCapabilitiesResult;
  createTransport: TransportResult;
  connectTransport: Record<string, never>;
  produce: ProduceResult;
  consume: ConsumeResult;
  resumeConsumer: Record<string, never>;
  setProducerPaused: Record<string, never>;
  restartIce: RestartIceResult;
  stopStream: Record<string, never>;
}
