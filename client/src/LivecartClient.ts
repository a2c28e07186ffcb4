import { decodeServerMessage, encode } from '../../protocol/src/codec.ts';
import { CloseCode, errorCodeInfo, shouldReconnect, type ErrorCodeName } from '../../protocol/src/codes.ts';
import {
  isCartRequest,
  PROTOCOL_VERSION,
  type Cart,
  type CartAnswer,
  type CartRequest,
  type ClientMessage,
  type ClientRequest,
  type Hello,
  type MediaRequest,
  type ProductInput,
  type SequencedEvent,
  type ServerMessage,
  type Welcome,
} from '../../protocol/src/messages.ts';
import type { Coupon, CouponInput } from '../../protocol/src/coupons.ts';
import type { GiveawayCard, GiveawayInput } from '../../protocol/src/giveaways.ts';
import type { AuctionCard, AuctionInput } from '../../protocol/src/auctions.ts';
import { Backoff } from './backoff.ts';
import { idempotentRetry, newIdempotencyKey, resolveRetryOptions, retryTemporary, type RetryHooks, type RetryOptions } from './idempotentRetry.ts';
import { LikeBatcher } from './LikeBatcher.ts';
import { ListenerError, LivecartError, ProtocolViolation } from './LivecartError.ts';
import { PendingRequests, type WaitingListener } from './PendingRequests.ts';
import { RoomModel, type RoomSnapshot } from './RoomModel.ts';
import { TypedEmitter, type Listener } from '../../protocol/src/TypedEmitter.ts';
import { bytesOf, resolveWebSocket, WS_OPEN, type CloseEventLike, type MessageEventLike, type WebSocketConstructor, type WebSocketLike } from './transport.ts';
import type {
  AckOptions,
  AddToCartAnswer,
  AuctionResult,
  BidAnswer,
  CartActionEvent,
  CartActionState,
  CheckoutAnswer,
  ClaimCouponAnswer,
  CouponsResult,
  EnterGiveawayAnswer,
  SeqResult,
  ConnectOptions,
  LivecartEvents,
  RemoveFromCartAnswer,
  RequestResults,
  SetQuantityAnswer,
} from './types.ts';

type RequestType = keyof RequestResults;
type RequestFrame<T extends RequestType> = Extract<ClientRequest, { t: T }>;
type RequestBody<T extends RequestType> = Omit<RequestFrame<T>, 'id'>;
/** A media request without its id, one member of the union per type (so `t` picks the fields). */
type MediaBody = MediaRequest extends infer R ? (R extends MediaRequest ? Omit<R, 'id'> : never) : never;
/** Cart requests that change state and so carry an idempotency key. */
type KeyedCartType = 'addToCart' | 'setQuantity' | 'removeFromCart' | 'checkout' | 'claimCoupon' | 'enterGiveaway' | 'bid';

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_MOVE_JITTER_MS = 250;
const DEFAULT_ACK: Readonly<AckOptions> = Object.freeze({ intervalMs: 1000, keepaliveMs: 5000 });
/** Final `cartAction` states named after an `addToCart` answer's status. */
const ANSWER_STATES: ReadonlySet<string> = new Set<CartActionState>(['reserved', 'sold_out', 'limit_reached', 'not_on_sale']);
/** Local code for "the handshake did not finish in time" (same meaning as the server's 4002). */
const HANDSHAKE_TIMEOUT_CODE = CloseCode.HELLO_TIMEOUT;
/** After an `err` for `hello`, how long to wait for the server's close (which carries the authoritative code). */
const HELLO_REFUSED_GRACE_MS = 1000;

/** Go-live notice ids a client remembers to drop repeats (far more shows than go live while one page is open). */
const HEARD_SHOW_NOTICES_KEPT = 256;

/**
 * A connection to one livecart room. Create it with `connect()`. It joins the room, keeps
 * `state` current, emits typed events, reconnects and resumes after drops (close codes for which
 * `shouldReconnect` holds), and stops for good on terminal close codes (4500–4999) or `close()`.
 */
export class LivecartClient {
  /** Resolves with the first `welcome`; rejects when the client stops before joining (e.g. `UNAUTHORIZED`). */
  readonly ready: Promise<Welcome>;

  readonly #options: Readonly<ConnectOptions>;
  readonly #emitter: TypedEmitter<LivecartEvents>;
  /** Ids of the go-live notices this client has emitted, the latest `HEARD_SHOW_NOTICES_KEPT`. */
  readonly #heardShowNotices = new Set<string>();
  readonly #state: RoomModel;
  readonly #pending: PendingRequests<ClientRequest>;
  readonly #likes: LikeBatcher;
  readonly #backoff: Backoff | undefined;
  /** The endpoints to connect to, in turn (this client's own order); `#endpoint` indexes the current one. */
  readonly #endpoints: readonly string[];
  #endpoint = 0;
  readonly #moveJitterMs: number;
  /** `MOVED` closes since the last `welcome`: past one per endpoint, every node drains and the backoff applies. */
  #movesSinceWelcome = 0;
  readonly #requestTimeoutMs: number;
  readonly #retry: Readonly<RetryOptions>;
  /** Aborted when the client stops: ends pending retry waits. */
  readonly #lifetime = new AbortController();
  readonly #ack: Readonly<AckOptions> | undefined;
  /**
   * Skus known sold out: set by a `soldOut` event or a `sold_out` answer, cleared by a `stock`
   * update (or a `welcome`) with units available. `addToCart` answers these locally.
   */
  readonly #soldOut = new Set<string>();
  /** Add-to-carts still waiting for their final answer, by sku: a repeat tap joins one (see `addToCart`). */
  readonly #pendingAdds = new Map<string, Promise<AddToCartAnswer>>();
  /** Retry waits to cut short when their sku sells out, by sku. */
  readonly #soldOutWaiters = new Map<string, Set<() => void>>();

  #WebSocket: WebSocketConstructor | undefined;
  #socket: WebSocketLike | undefined;
  /** True between the current socket's `welcome` and its close. */
  #joined = false;
  #helloId: number | undefined;
  /** The server's `err` reply to the current socket's `hello`, reported when the socket closes. */
  #helloError: LivecartError | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #ackTimer: ReturnType<typeof setInterval> | undefined;
  /** The seq of the last ack on the current socket (or of its welcome), and ticks since. */
  #ackedSeq = 0;
  #ticksSinceAck = 0;
  #started = false;
  #stopped = false;
  #readySettled = false;
  #resolveReady!: (welcome: Welcome) => void;
  #rejectReady!: (error: LivecartError) => void;

  constructor(options: ConnectOptions) {
    this.#options = Object.freeze({ ...options });
    const endpoints = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (endpoints.length === 0 || !endpoints.every((url) => typeof url === 'string' && url !== '')) throw new TypeError('url: a WebSocket URL, or a non-empty list of them');
    this.#endpoints = Object.freeze(options.shuffleEndpoints === false ? endpoints : shuffled(endpoints));
    this.#moveJitterMs = options.moveJitterMs ?? DEFAULT_MOVE_JITTER_MS;
    if (!(this.#moveJitterMs >= 0)) throw new RangeError('moveJitterMs must be non-negative');
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#retry = options.retry === false ? resolveRetryOptions({ maxAttempts: 1 }) : resolveRetryOptions(options.retry);
    this.#ack = options.ack === false ? undefined : resolveAckOptions(options.ack);
    this.#emitter = new TypedEmitter<LivecartEvents>({
      onListenerError: (error, event) => {
        if (event === 'error') console.error('livecart: an "error" listener threw', error);
        else this.#emitter.emit('error', new ListenerError(event, error));
      },
    });
    this.#state = new RoomModel(options.maxComments);
    this.#pending = new PendingRequests(this.#requestTimeoutMs);
    this.#likes = new LikeBatcher((n) => this.#sendNow({ t: 'like', n }), options.likes);
    this.#backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect ?? {});
    this.ready = new Promise<Welcome>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Callers that only listen to events must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Opens the first connection. `connect()` calls it; calling it again does nothing. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    void this.#open();
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // Public surface

  /**
   * One WebRTC signaling request (see protocol/src/media.ts); `MediaSession` (client/src/media.ts)
   * drives these for you. Rejects with a LivecartError such as VIDEO_FULL or MEDIA_UNAVAILABLE.
   */
  signal<B extends MediaBody>(body: B): Promise<RequestResults[B['t']]> {
    return this.#request<B['t']>(body as unknown as RequestBody<B['t']>);
  }

  /** What the client knows about the room; updated before the matching event is emitted. */
  get state(): RoomSnapshot {
    return this.#state;
  }

  /** True while joined (between a `welcome` and the loss of its socket). */
  get connected(): boolean {
    return this.#joined;
  }

  /** True once the client stopped for good. */
  get closed(): boolean {
    return this.#stopped;
  }

  /** The endpoint of the current connection (or of the next attempt while reconnecting). */
  get url(): string {
    return this.#endpoints[this.#endpoint]!;
  }

  on<K extends keyof LivecartEvents & string>(event: K, listener: Listener<LivecartEvents[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  once<K extends keyof LivecartEvents & string>(event: K, listener: Listener<LivecartEvents[K]>): () => void {
    return this.#emitter.once(event, listener);
  }

  off<K extends keyof LivecartEvents & string>(event: K, listener: Listener<LivecartEvents[K]>): void {
    this.#emitter.off(event, listener);
  }

  ping(): Promise<RequestResults['ping']> {
    return this.#request<'ping'>({ t: 'ping' });
  }

  comment(text: string): Promise<RequestResults['comment']> {
    return this.#request<'comment'>({ t: 'comment', text });
  }

  addProduct(product: ProductInput): Promise<RequestResults['addProduct']> {
    return this.#request<'addProduct'>({ t: 'addProduct', product: withoutUndefined(product) });
  }

  /** Pins product `sku` as the room's pop-up card; `endsAt` (epoch ms) adds a countdown. */
  pin(sku: string, endsAt?: number): Promise<RequestResults['pin']> {
    return this.#request<'pin'>(endsAt === undefined ? { t: 'pin', sku } : { t: 'pin', sku, endsAt });
  }

  unpin(): Promise<RequestResults['unpin']> {
    return this.#request<'unpin'>({ t: 'unpin' });
  }

  /** Deletes the comment whose event seq is `seq`. */
  deleteComment(seq: number): Promise<RequestResults['deleteComment']> {
    return this.#request<'deleteComment'>({ t: 'deleteComment', seq });
  }

  mute(userId: string): Promise<RequestResults['mute']> {
    return this.#request<'mute'>({ t: 'mute', userId });
  }

  unmute(userId: string): Promise<RequestResults['unmute']> {
    return this.#request<'unmute'>({ t: 'unmute', userId });
  }

  kick(userId: string): Promise<RequestResults['kick']> {
    return this.#request<'kick'>({ t: 'kick', userId });
  }

  /** Lifts a kicked user's ban (moderators): they may join and buy again. */
  unban(userId: string): Promise<RequestResults['unban']> {
    return this.#request<'unban'>({ t: 'unban', userId });
  }

  // Moderation (protocol/src/moderation.ts): the streamer appoints moderators; the streamer and
  // moderators set the keyword filter and pin a comment. `state.moderators` and
  // `state.pinnedComment` follow the room's `moderators` and `commentPinned` events.

  /** Streamer: appoints (`moderator` true, the default) or removes a moderator of the room, by user id. */
  setModerator(userId: string, moderator = true): Promise<RequestResults['setModerator']> {
    return this.#request<'setModerator'>({ t: 'setModerator', userId, moderator });
  }

  /** Moderators: replaces the room's keyword filter (an empty list clears it); resolves with the words kept. */
  setFilter(words: readonly string[]): Promise<RequestResults['setFilter']> {
    return this.#request<'setFilter'>({ t: 'setFilter', words: [...words] });
  }

  /** Moderators: pins the comment whose event seq is `seq` at the top of the room. */
  pinComment(seq: number): Promise<RequestResults['pinComment']> {
    return this.#request<'pinComment'>({ t: 'pinComment', seq });
  }

  unpinComment(): Promise<RequestResults['unpinComment']> {
    return this.#request<'unpinComment'>({ t: 'unpinComment' });
  }

  /** Moderators: the room's moderators, keyword filter and pinned comment. */
  moderation(): Promise<RequestResults['getModeration']> {
    return this.#request<'getModeration'>({ t: 'getModeration' });
  }

  // Commerce. Each call is one user action: it gets one idempotency key, and the automatic retries
  // after temporary failures (see `ConnectOptions.retry`) resend that same key, so the server
  // applies the action at most once. `state.cart` is updated before the promise resolves.

  /**
   * Reserves `quantity` (default 1) more units of `sku` for this user; `granted` says how many were
   * free. Reports its progress as `cartAction` events (see `CartActionEvent`).
   *
   * A sku known to be sold out (after a `soldOut` event or a `sold_out` answer, until a `stock`
   * update shows units again) is answered `sold_out` at once, without a request: the server would
   * answer the same. For the same reason a retry is answered locally when the sku sold out while
   * the action waited, provided no earlier attempt can have been applied (every failure so far was
   * a refusal such as `OVERLOADED` or `RATE_LIMITED`, not a lost reply).
   *
   * A repeat call for a sku whose add-to-cart is still waiting for its final answer (queued,
   * retrying) joins it: it sends nothing, reports no events of its own, and resolves with the same
   * answer: in a flash sale a double tap is one action, not two reservations and two frames for
   * the node to read in the burst. Once the answer is in, the next call is a new action.
   */
  addToCart(sku: string, quantity = 1): Promise<AddToCartAnswer> {
    const key = newIdempotencyKey();
    const report = (state: CartActionState, details: Omit<CartActionEvent, 'sku' | 'key' | 'state'> = {}) =>
      this.#emitter.emit('cartAction', { sku, key, state, ...details });
    const finish = (answer: AddToCartAnswer): AddToCartAnswer => {
      report(ANSWER_STATES.has(answer.status) ? answer.status : 'failed', { answer });
      return answer;
    };
    const soldOut = (): AddToCartAnswer => ({ status: 'sold_out', sku });
    if (!this.#stopped && this.#soldOut.has(sku)) return Promise.resolve(finish(soldOut()));
    const pending = this.#pendingAdds.get(sku);
    if (pending !== undefined) return pending;

    report('adding');
    // Set once an attempt failed in a way that leaves open whether the server applied it (a lost
    // reply, a timeout, a server failure): from then on only the server can answer this key.
    let mayHaveApplied = false;
    const knownSoldOut = () => !mayHaveApplied && this.#soldOut.has(sku);
    const onWaiting: WaitingListener = (position, etaMs) => report('queued', { position, etaMs });
    const attempt = async (attemptKey: string, n: number): Promise<AddToCartAnswer> => {
      if (n > 1 && knownSoldOut()) return soldOut();
      try {
        return await this.#request<'addToCart'>({ t: 'addToCart', key: attemptKey, sku, quantity }, onWaiting);
      } catch (error) {
        if (!isUnappliedRefusal(error)) mayHaveApplied = true;
        else if (knownSoldOut()) return soldOut();
        throw error;
      }
    };
    const action = idempotentRetry(attempt, this.#retry, {
      ...this.#retryHooks(),
      key,
      onRetry: (info) => report('retrying', { retryInMs: info.delayMs }),
      sleep: (ms, signal) => this.#retryWait(sku, ms, signal, knownSoldOut),
    }).then(finish, (error: unknown) => {
      report('failed', { error });
      throw error;
    });
    this.#pendingAdds.set(sku, action);
    const settled = (): void => {
      this.#pendingAdds.delete(sku);
    };
    action.then(settled, settled);
    return action;
  }

  /** Sets the cart line of `sku` to `quantity` units, reserving or releasing the difference; 0 removes it. */
  setQuantity(sku: string, quantity: number): Promise<SetQuantityAnswer> {
    return this.#keyedCartRequest<'setQuantity'>((key) => ({ t: 'setQuantity', key, sku, quantity }));
  }

  /** Removes the cart line of `sku`; its units go back to stock. */
  removeFromCart(sku: string): Promise<RemoveFromCartAnswer> {
    return this.#keyedCartRequest<'removeFromCart'>((key) => ({ t: 'removeFromCart', key, sku }));
  }

  /** This user's cart in the room, from the server (it also replaces `state.cart`). */
  async cart(): Promise<Cart> {
    // Typed as any answer: a misbehaving server must not slip a wrong status through as a Cart.
    const answer = (await retryTemporary(() => this.#request<'getCart'>({ t: 'getCart' }), this.#retry, this.#retryHooks())) as CartAnswer;
    if (answer.status === 'cart') return answer.cart;
    throw new ProtocolViolation(`getCart answered status ${JSON.stringify(answer.status)}`);
  }

  /**
   * Turns every line of the cart into one order, or none (`expired`, `cart_not_found`). The order
   * takes the discount of the user's best claimed coupon in the room; `couponId` names the one to
   * use instead (`coupon_not_applicable` and no order when it does not apply).
   */
  checkout(options: { couponId?: string } = {}): Promise<CheckoutAnswer> {
    const { couponId } = options;
    return this.#keyedCartRequest<'checkout'>((key) => (couponId === undefined ? { t: 'checkout', key } : { t: 'checkout', key, couponId }));
  }

  /**
   * Claims one of the coupon's N (one per buyer). Like `addToCart`, one action keeps one idempotency
   * key over its retries (a lost reply, OVERLOADED, UNAVAILABLE): the answer is the first one the
   * server recorded. Answers `coupon_claimed`, `coupon_already_claimed` (with the claim),
   * `coupons_gone` or `coupon_not_active`; rejects with COUPON_NOT_FOUND for an unknown coupon.
   */
  claimCoupon(couponId: string): Promise<ClaimCouponAnswer> {
    return this.#keyedCartRequest<'claimCoupon'>((key) => ({ t: 'claimCoupon', key, couponId }));
  }

  /**
   * Bids on the room's auction: exactly `amountCents`, or with `max: true` a maximum the server bids
   * up to by the increment for you (never shown to anyone). One action keeps one idempotency key over
   * its retries, like `addToCart`: the answer is the one the server recorded first. A bid that cannot
   * win (below the lowest bid taken) may be refused OVERLOADED while the room is busy; it is retried
   * and then answered `too_low`. See `BidAnswer`.
   */
  bid(auctionId: string, amountCents: number, options: { max?: boolean } = {}): Promise<BidAnswer> {
    const max = options.max === true;
    return this.#keyedCartRequest<'bid'>((key) => (max ? { t: 'bid', key, auctionId, amountCents, max } : { t: 'bid', key, auctionId, amountCents }));
  }

  /** The auction `auctionId` (default: the room's open one) and, for moderators, its bid history; the card also goes into `state.auction`. */
  async auction(auctionId?: string): Promise<AuctionResult> {
    const result = await retryTemporary(() => this.#request<'getAuction'>(auctionId === undefined ? { t: 'getAuction' } : { t: 'getAuction', auctionId }), this.#retry, this.#retryHooks());
    if (result.auction !== null && this.#state.takeAuction(result.auction)) this.#emitter.emit('auction', result.auction);
    return result;
  }

  /** Moderators: starts an auction of one of the room's products (see `AuctionInput`). */
  startAuction(auction: AuctionInput): Promise<{ auction: AuctionCard }> {
    return this.#request<'startAuction'>({ t: 'startAuction', auction: { leaderShown: 'name', ...auction } });
  }

  /** Moderators: ends the auction now (the leader wins at the current price). */
  endAuction(auctionId: string): Promise<{ auction: AuctionCard }> {
    return this.#request<'endAuction'>({ t: 'endAuction', auctionId });
  }

  /** Moderators: ends the auction without a winner. */
  cancelAuction(auctionId: string): Promise<{ auction: AuctionCard }> {
    return this.#request<'cancelAuction'>({ t: 'cancelAuction', auctionId });
  }

  /** The room's pinned coupon card and this user's claims there (the card also goes into `state.coupon`). */
  async coupons(): Promise<CouponsResult> {
    const result = await retryTemporary(() => this.#request<'getCoupons'>({ t: 'getCoupons' }), this.#retry, this.#retryHooks());
    this.#state.takeCoupon(result.pinned, result.version);
    return result;
  }

  /**
   * Enters the giveaway (no purchase needed). Like `addToCart`, one action keeps one idempotency key
   * across retries; a second tap, socket or node still counts once (`already_entered`). Answers
   * `entered`, `already_entered`, `not_eligible`, `giveaway_closed`, `giveaway_full` or `no_giveaway`
   * (an entrant's answer stands after the close: `already_entered`, never `giveaway_closed`).
   * `showName`: the room may see this user's display name if they win (default: anonymous).
   */
  enterGiveaway(giveawayId: string, options: { showName?: boolean } = {}): Promise<EnterGiveawayAnswer> {
    const { showName } = options;
    return this.#keyedCartRequest<'enterGiveaway'>((key) => (showName === undefined ? { t: 'enterGiveaway', key, giveawayId } : { t: 'enterGiveaway', key, giveawayId, showName }));
  }

  /** The room's giveaway (`giveawayId`, else the one taking entries, else the latest), or null; also into `state.giveaway` (which `welcome` already fills). */
  async getGiveaway(giveawayId?: string): Promise<GiveawayCard | null> {
    const result = await retryTemporary(() => this.#request<'getGiveaway'>(giveawayId === undefined ? { t: 'getGiveaway' } : { t: 'getGiveaway', giveawayId }), this.#retry, this.#retryHooks());
    this.#state.takeGiveaway(result.giveaway);
    return result.giveaway;
  }

  /** The room's streamer or an operator: opens a giveaway (see `GiveawayInput`; `eligibility` defaults to `present`). */
  async openGiveaway(giveaway: GiveawayInput): Promise<GiveawayCard> {
    const result = await this.#request<'openGiveaway'>({ t: 'openGiveaway', giveaway: { eligibility: 'present', ...giveaway } });
    this.#state.takeGiveaway(result.giveaway);
    return result.giveaway;
  }

  /** The room's streamer or an operator: closes the entries now and draws; answers the drawn card (with `result`). */
  async endGiveaway(giveawayId: string): Promise<GiveawayCard> {
    const result = await this.#request<'endGiveaway'>({ t: 'endGiveaway', giveawayId });
    this.#state.takeGiveaway(result.giveaway);
    return result.giveaway;
  }

  /** The room's streamer or an operator: closes the entries now without a draw. */
  async cancelGiveaway(giveawayId: string): Promise<GiveawayCard> {
    const result = await this.#request<'cancelGiveaway'>({ t: 'cancelGiveaway', giveawayId });
    this.#state.takeGiveaway(result.giveaway);
    return result.giveaway;
  }

  /** Moderators: a new coupon in the room (see `CouponInput`). */
  createCoupon(coupon: CouponInput): Promise<{ coupon: Coupon }> {
    return this.#request<'createCoupon'>({ t: 'createCoupon', coupon: { minSpendCents: 0, ...coupon } });
  }

  /** Moderators: pins the coupon's card in the room (null unpins). */
  pinCoupon(couponId: string | null): Promise<SeqResult> {
    return couponId === null ? this.#request<'unpinCoupon'>({ t: 'unpinCoupon' }) : this.#request<'pinCoupon'>({ t: 'pinCoupon', couponId });
  }

  /**
   * Records `taps` like taps (default 1). Taps are coalesced: all taps of a ~100 ms window go out as
   * one `like` notice (at most 100 per notice; more spill into the next window). Taps made while
   * disconnected are sent after the next `welcome`.
   */
  like(taps = 1): void {
    if (this.#stopped) return;
    this.#likes.add(taps);
  }

  /** Closes for good: no reconnect, pending requests are rejected, `closed` is emitted. */
  close(reason = 'client closed'): void {
    if (this.#stopped) return;
    if (this.#socket) this.#detach(this.#socket, 1000, reason);
    this.#stop(1000, reason, undefined);
  }

  /**
   * Test hook: closes the socket with `code` (default 4000) as if the network dropped, then behaves
   * exactly as after a server close with that code (reconnect and resume for 4000–4499).
   * @internal
   */
  dropConnectionForTest(code: number = CloseCode.SERVER_RESTARTING, reason = 'connection dropped for test'): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#detach(socket, code, reason);
    this.#onSocketClosed(socket, code, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Connection lifecycle

  async #open(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#stopped) return;
    let socket: WebSocketLike;
    try {
      this.#WebSocket ??= await resolveWebSocket(this.#options.WebSocket);
      if (this.#stopped) return;
      socket = new this.#WebSocket(this.url);
    } catch (error) {
      this.#stop(1006, 'cannot open a WebSocket', LivecartError.of('UNAVAILABLE', `cannot open a WebSocket to ${this.url}: ${(error as Error).message}`, false));
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#joined = false;
    this.#helloError = undefined;
    this.#helloId = this.#pending.nextId();
    const helloId = this.#helloId;

    this.#handshakeTimer = setTimeout(() => {
      if (this.#socket !== socket) return;
      const reason = `no welcome within ${this.#requestTimeoutMs} ms`;
      this.#detach(socket, HANDSHAKE_TIMEOUT_CODE, reason);
      this.#onSocketClosed(socket, HANDSHAKE_TIMEOUT_CODE, reason);
    }, this.#requestTimeoutMs);

    socket.onopen = () => {
      if (this.#socket !== socket) return;
      const hello: Hello = { t: 'hello', id: helloId, v: PROTOCOL_VERSION, token: this.#options.token, room: this.#options.room };
      const resume = this.#state.resumePoint;
      if (this.#options.follow === 'orders') hello.follow = 'orders';
      else if (resume) hello.resume = resume;
      this.#sendOn(socket, hello);
    };
    socket.onmessage = (event: MessageEventLike) => {
      if (this.#socket === socket) this.#onFrame(event.data);
    };
    socket.onclose = (event: CloseEventLike) => {
      this.#onSocketClosed(socket, event.code, event.reason);
    };
    // A failed connection also closes (code 1006); the close handler does the work.
    socket.onerror = () => undefined;
  }

  /** Stops listening to `socket` and closes it. Keeps a no-op error handler: `ws` throws on unhandled errors. */
  #detach(socket: WebSocketLike, code: number, reason: string): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => undefined;
    try {
      socket.close(code, reason);
    } catch {
      // Already closed, or a code the implementation refuses: the socket is abandoned either way.
    }
  }

  #onSocketClosed(socket: WebSocketLike, code: number, reason: string): void {
    if (this.#socket !== socket) return;
    const helloError = this.#helloError;
    this.#forgetSocket(code, reason);
    if (this.#stopped) return;
    if (helloError && this.#readySettled) this.#emitter.emit('error', helloError);
    this.#retryOrStop(this.#backoff !== undefined && shouldReconnect(code), code, reason, helloError ?? closeError(code, reason));
  }

  /**
   * The server refused `hello` but its close did not follow within the grace period (the server
   * closes after every refusal, with 4004 TRY_AGAIN_LATER for temporary ones; this is the fallback
   * for a lost close): give up on the socket, and retry only if the error is temporary.
   */
  #onHelloRefused(socket: WebSocketLike, error: LivecartError): void {
    if (this.#socket !== socket || this.#joined) return;
    const reason = `hello refused: ${error.name}`;
    this.#detach(socket, 1000, reason);
    this.#forgetSocket(1000, reason);
    if (this.#stopped) return;
    if (this.#readySettled) this.#emitter.emit('error', error);
    this.#retryOrStop(this.#backoff !== undefined && error.temporary, 1000, reason, error);
  }

  #forgetSocket(code: number, reason: string): void {
    this.#socket = undefined;
    this.#joined = false;
    this.#helloError = undefined;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#stopAcks();
    this.#pending.rejectSent(() => LivecartError.of('UNAVAILABLE', `connection closed (${code}${reason ? ` ${reason}` : ''}) before the reply`, true));
  }

  #retryOrStop(retry: boolean, code: number, reason: string, error: LivecartError): void {
    const next = retry ? this.#nextAttempt(code) : undefined;
    if (!next) {
      const gaveUp = retry && this.#backoff !== undefined;
      this.#stop(code, reason, gaveUp ? LivecartError.of('UNAVAILABLE', `gave up after ${this.#backoff!.attempt} reconnect attempts (last: ${error.message})`, false) : error);
      return;
    }
    // Every reconnect goes to the next endpoint in this client's order: the one just lost may be draining or down.
    this.#endpoint = (this.#endpoint + 1) % this.#endpoints.length;
    this.#reconnectTimer = setTimeout(() => void this.#open(), next.delayMs);
    this.#emitter.emit('reconnecting', { attempt: next.attempt, delayMs: next.delayMs, code, reason, url: this.url });
  }

  /**
   * When to try again after a close with `code`: a node that drains (`MOVED`) spreads its closes
   * itself, so its clients come back at once, with a small jitter, unless every endpoint said
   * `MOVED` since the last welcome; anything else waits for the backoff.
   */
  #nextAttempt(code: number): { attempt: number; delayMs: number } | undefined {
    if (this.#backoff === undefined) return undefined;
    if (code === CloseCode.MOVED && this.#movesSinceWelcome < this.#endpoints.length) {
      this.#movesSinceWelcome++;
      return { attempt: this.#movesSinceWelcome, delayMs: Math.floor(Math.random() * this.#moveJitterMs) };
    }
    return this.#backoff.next();
  }

  /** Stops for good. */
  #stop(code: number, reason: string, error: LivecartError | undefined): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#joined = false;
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#reconnectTimer);
    this.#handshakeTimer = undefined;
    this.#reconnectTimer = undefined;
    this.#stopAcks();
    this.#likes.clear();
    const closedError = () => error ?? LivecartError.of('UNAVAILABLE', `the client is closed (${code}${reason ? ` ${reason}` : ''})`, false);
    // Retries waiting for their next attempt end now, with the same error as the requests in flight.
    this.#lifetime.abort(closedError());
    this.#pending.rejectAll(closedError);
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#rejectReady(error ?? LivecartError.of('UNAVAILABLE', `closed before joining (${code}${reason ? ` ${reason}` : ''})`, false));
    }
    this.#emitter.emit('closed', error ? { code, reason, willReconnect: false, error } : { code, reason, willReconnect: false });
  }

  // -------------------------------------------------------------------------------------------
  // Frames

  #onFrame(data: unknown): void {
    const bytes = bytesOf(data);
    if (!bytes) {
      this.#emitter.emit('error', new ProtocolViolation(`the server sent a ${typeof data === 'string' ? 'text' : 'non-binary'} frame`));
      return;
    }
    let message: ServerMessage;
    try {
      message = decodeServerMessage(bytes);
    } catch (error) {
      this.#emitter.emit('error', new ProtocolViolation(`undecodable frame: ${(error as Error).message}`, { cause: error }));
      return;
    }
    this.#dispatch(message);
  }

  #dispatch(message: ServerMessage): void {
    switch (message.t) {
      case 'welcome':
        this.#onWelcome(message);
        return;
      case 'ok': {
        // Cart answers update `state.cart` here, in frame order, before the caller's promise settles.
        const request = this.#pending.frame(message.id);
        if (request !== undefined && isCartRequest(request) && message.result !== undefined) this.#onCartAnswer(request, message.result as CartAnswer);
        this.#pending.resolve(message.id, message.result);
        return; // a reply to a request that already timed out is dropped
      }
      case 'err': {
        const error = LivecartError.fromErr(message);
        if (message.id !== undefined && message.id === this.#helloId && !this.#joined) this.#onHelloError(error);
        else if (message.id === undefined || !this.#pending.reject(message.id, error)) this.#emitter.emit('error', error);
        return;
      }
      case 'likes':
        this.#state.applyUpdate(message);
        this.#emitter.emit('likes', { total: message.total });
        return;
      case 'viewers':
        this.#state.applyUpdate(message);
        this.#emitter.emit('viewers', { count: message.count });
        return;
      case 'stock':
        this.#state.applyUpdate(message);
        if (message.available > 0) this.#soldOut.delete(message.sku);
        this.#emitter.emit('stock', { sku: message.sku, available: message.available });
        return;
      case 'degrade':
        this.#state.applyUpdate(message);
        this.#emitter.emit('degrade', { level: message.level, reason: message.reason });
        return;
      case 'giveaway': {
        const held = this.#state.giveaway;
        this.#state.applyUpdate(message);
        // An older giveaway's card (another node's late news) changed nothing: nothing to tell.
        if (this.#state.giveaway === held) return;
        this.#emitter.emit('giveaway', { giveaway: this.#state.giveaway ?? message.giveaway });
        return;
      }
      case 'giveawayEntrants':
        this.#state.applyUpdate(message);
        this.#emitter.emit('giveawayEntrants', { giveawayId: message.giveawayId, entrants: message.entrants });
        return;
      case 'giveawayWon':
        this.#emitter.emit('giveawayWon', message.orderId === undefined ? { giveawayId: message.giveawayId, sku: message.sku } : { giveawayId: message.giveawayId, sku: message.sku, orderId: message.orderId });
        return;
      case 'auction':
        if (this.#state.takeAuction(message.auction)) this.#emitter.emit('auction', message.auction);
        return;
      case 'auctionWon': {
        const { t: _t, ...won } = message;
        this.#emitter.emit('auctionWon', won);
        // The line was put in the cart by the server: the cart view learns it from a read.
        if (message.held) this.#request<'getCart'>({ t: 'getCart' }).catch(() => undefined);
        return;
      }
      case 'queued': {
        // Interim news: the answer follows. Unknown ids (timed out, stale) are ignored.
        const frame = this.#pending.waiting(message.id, message.position, message.etaMs);
        if (frame !== undefined) {
          const event = { id: message.id, type: frame.t, position: message.position, etaMs: message.etaMs };
          this.#emitter.emit('queued', 'key' in frame ? { ...event, key: frame.key } : event);
        }
        return;
      }
      case 'orderUpdated':
        if (this.#state.applyOrder(message.order)) this.#emitter.emit('orderUpdated', { order: message.order });
        return;
      case 'reservationExpired': {
        const changed = this.#state.cart.expire(message.sku);
        this.#emitter.emit('reservationExpired', { sku: message.sku, quantity: message.quantity });
        if (changed) this.#emitter.emit('cartChanged', this.#state.cart);
        return;
      }
      case 'comment':
      case 'commentDeleted':
      case 'popup':
      case 'product':
      case 'roomState':
      case 'userMuted':
      case 'soldOut':
      case 'moderators':
      case 'commentPinned':
      case 'coupon':
      case 'auctionEnded':
        if (!this.#joined || !this.#state.applyEvent(message)) return;
        // A replayed soldOut older than the welcome's stock snapshot does not zero it: trust the stock.
        if (message.t === 'soldOut' && this.#state.stock[message.sku] === 0) this.#markSoldOut(message.sku);
        // An older pin's card (another node's news crossing a re-pin) changed nothing: nothing to tell.
        if (message.t === 'coupon' && (message.version ?? this.#state.couponVersion) < this.#state.couponVersion) return;
        emitEvent(this.#emitter, message);
        return;
      case 'stream':
        this.#emitter.emit('stream', { live: message.live, producers: message.producers, reason: message.reason, ...(message.stopped === true ? { stopped: true as const } : {}) });
        return;
      case 'mediaReset':
        this.#emitter.emit('mediaReset', { reason: message.reason });
        return;
      case 'showLive': {
        // The same show's notice may come twice (a socket joining as the show goes live, a reconnect): told once.
        if (this.#heardShowNotices.has(message.id)) return;
        this.#heardShowNotices.add(message.id);
        if (this.#heardShowNotices.size > HEARD_SHOW_NOTICES_KEPT) this.#heardShowNotices.delete(this.#heardShowNotices.values().next().value!);
        const { t: _t, ...event } = message;
        this.#emitter.emit('showLive', event);
        return;
      }
      default:
        // A type a newer server added: ignore it (forward compatibility).
        return;
    }
  }

  /** Remembers the refusal for the close that normally follows at once; closes the socket itself if none comes. */
  #onHelloError(error: LivecartError): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#helloError = error;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = setTimeout(() => this.#onHelloRefused(socket, error), HELLO_REFUSED_GRACE_MS);
  }

  #onWelcome(welcome: Welcome): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#joined = true;
    this.#helloError = undefined;
    this.#backoff?.reset();
    this.#movesSinceWelcome = 0;
    const degradeLevel = this.#state.degradeLevel;
    const kind = this.#state.applyWelcome(welcome);
    // Stock that came back while we were away arrives in the snapshot, not as a `stock` update.
    for (const sku of [...this.#soldOut]) if ((this.#state.stock[sku] ?? 0) > 0) this.#soldOut.delete(sku);
    this.#startAcks();
    const reconnected = this.#readySettled;
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#resolveReady(welcome);
    }
    this.#emitter.emit('welcome', welcome);
    if (kind === 'historyLost') this.#emitter.emit('historyLost', welcome);
    if (this.#state.degradeLevel !== degradeLevel) this.#emitter.emit('degrade', { level: this.#state.degradeLevel, reason: 'welcome' });
    // Requests made while (re)connecting, then taps held meanwhile.
    for (const frame of this.#pending.queued()) if (this.#sendNow(frame)) this.#pending.markSent(frame.id);
    this.#likes.flush();
    // `reservationExpired` notices sent while we were away are lost: refresh a cart we think is not empty.
    // Best effort: a failure leaves the view as it was until the next cart answer.
    if (reconnected && this.#state.cart.lines.length > 0) this.#request<'getCart'>({ t: 'getCart' }).catch(() => undefined);
  }

  #onCartAnswer(request: CartRequest, answer: CartAnswer): void {
    if (answer.status === 'sold_out') this.#markSoldOut(answer.sku);
    const changed = this.#state.cart.applyAnswer(request, answer);
    // A demo payment's news may have come first: the order keeps its newest state.
    if (answer.status === 'ordered') {
      this.#state.applyOrder(answer.order);
      this.#state.cart.lastOrder = this.#state.orders[answer.order.id];
    }
    if (changed) this.#emitter.emit('cartChanged', this.#state.cart);
  }

  #markSoldOut(sku: string): void {
    this.#soldOut.add(sku);
    const waiters = this.#soldOutWaiters.get(sku);
    if (waiters) for (const wake of [...waiters]) wake();
  }

  // -------------------------------------------------------------------------------------------
  // Acks: the last seq processed, so the server can measure this client's real lag.

  #startAcks(): void {
    this.#stopAcks();
    // A follower gets no room events: nothing to acknowledge.
    if (!this.#ack || this.#options.follow === 'orders') return;
    // The server knows the welcome's position (for a resumed one, the seq sent in `hello`).
    this.#ackedSeq = this.#state.lastSeq;
    this.#ticksSinceAck = 0;
    const keepaliveTicks = Math.max(1, Math.ceil(this.#ack.keepaliveMs / this.#ack.intervalMs));
    this.#ackTimer = setInterval(() => {
      this.#ticksSinceAck++;
      const seq = this.#state.lastSeq;
      if (seq === this.#ackedSeq && this.#ticksSinceAck < keepaliveTicks) return;
      if (this.#sendNow({ t: 'ack', seq } satisfies Extract<ClientMessage, { t: 'ack' }>)) {
        this.#ackedSeq = seq;
        this.#ticksSinceAck = 0;
      }
    }, this.#ack.intervalMs);
  }

  #stopAcks(): void {
    clearInterval(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  /** One user action: a fresh idempotency key, reused by every retry of this action. */
  #keyedCartRequest<T extends KeyedCartType>(build: (key: string) => RequestBody<T>): Promise<RequestResults[T]> {
    return idempotentRetry((key) => this.#request<T>(build(key)), this.#retry, this.#retryHooks());
  }

  #retryHooks(): RetryHooks {
    return { signal: this.#lifetime.signal };
  }

  /**
   * Waits `ms` before a retry of an action on `sku`; ends early when the client stops (`signal`)
   * or when `wake()` holds after the sku sold out.
   */
  #retryWait(sku: string, ms: number, signal: AbortSignal | undefined, wake: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || wake()) return resolve();
      let waiters = this.#soldOutWaiters.get(sku);
      if (!waiters) this.#soldOutWaiters.set(sku, (waiters = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(onSoldOut);
        if (waiters.size === 0 && this.#soldOutWaiters.get(sku) === waiters) this.#soldOutWaiters.delete(sku);
        resolve();
      };
      const onSoldOut = () => {
        if (wake()) done();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(onSoldOut);
    });
  }

  #request<T extends RequestType>(body: RequestBody<T>, onWaiting?: WaitingListener): Promise<RequestResults[T]> {
    if (this.#stopped) return Promise.reject(LivecartError.of('UNAVAILABLE', 'the client is closed', false));
    const { frame, promise } = this.#pending.add((id) => ({ ...body, id }) as RequestFrame<T>, onWaiting ? { onWaiting } : {});
    if (this.#sendNow(frame)) this.#pending.markSent(frame.id);
    // The server is trusted to send the documented result shape (see RequestResults).
    return promise as Promise<unknown> as Promise<RequestResults[T]>;
  }

  /** Sends on the joined socket; false when there is none or the send failed. */
  #sendNow(frame: object): boolean {
    return this.#joined && this.#socket !== undefined && this.#sendOn(this.#socket, frame);
  }

  #sendOn(socket: WebSocketLike, frame: object): boolean {
    if (socket.readyState !== WS_OPEN) return false;
    try {
      socket.send(encode(frame));
      return true;
    } catch {
      return false; // the socket is closing; its close event follows
    }
  }
}

/** Connects to a room. The returned client is already connecting; await `client.ready` for the first `welcome`. */
export function connect(options: ConnectOptions): LivecartClient {
  return new LivecartClient(options).start();
}

function emitEvent(emitter: TypedEmitter<LivecartEvents>, event: SequencedEvent): void {
  switch (event.t) {
    case 'comment':
      emitter.emit('comment', event);
      break;
    case 'commentDeleted':
      emitter.emit('commentDeleted', event);
      break;
    case 'popup':
      emitter.emit('popup', event);
      break;
    case 'product':
      emitter.emit('product', event);
      break;
    case 'roomState':
      emitter.emit('roomState', event);
      break;
    case 'userMuted':
      emitter.emit('userMuted', event);
      break;
    case 'soldOut':
      emitter.emit('soldOut', event);
      break;
    case 'moderators':
      emitter.emit('moderators', event);
      break;
    case 'commentPinned':
      emitter.emit('commentPinned', event);
      break;
    case 'coupon':
      emitter.emit('coupon', event);
      break;
    case 'auctionEnded':
      emitter.emit('auctionEnded', event);
      break;
  }
}

/** The error behind a terminal close without an `err` frame: close names that are also error names map across. */
function closeError(code: number, reason: string): LivecartError {
  const text = `connection closed (${code}${reason ? ` ${reason}` : ''})`;
  for (const [name, value] of Object.entries(CloseCode)) {
    if (value === code && name in errorCodeInfo) return LivecartError.of(name as ErrorCodeName, text, false);
  }
  return LivecartError.of('UNAVAILABLE', text, false);
}

/** Complete, validated ack options. */
function resolveAckOptions(options: Partial<AckOptions> = {}): Readonly<AckOptions> {
  const intervalMs = options.intervalMs ?? DEFAULT_ACK.intervalMs;
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_ACK.keepaliveMs;
  if (!(intervalMs > 0) || !(keepaliveMs > 0)) throw new RangeError('ack: intervalMs and keepaliveMs must be positive');
  return Object.freeze({ intervalMs, keepaliveMs });
}

/**
 * A refusal the server gives before doing anything, so the request was surely not applied: its
 * queue was full or the wait too long (`OVERLOADED`), or too many requests (`RATE_LIMITED`).
 * Lost replies, timeouts and server failures leave it open.
 */
function isUnappliedRefusal(error: unknown): boolean {
  return error instanceof LivecartError && (error.name === 'OVERLOADED' || error.name === 'RATE_LIMITED');
}

/** msgpack has no `undefined`: drop such keys rather than send nil for an optional field. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A random order of `items` (Fisher–Yates). */
function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
