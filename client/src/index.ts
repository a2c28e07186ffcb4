/**
 * livecart client SDK (browser and Node 20).
 *
 *   import { connect } from './client/src/index.ts';
 *   const client = connect({ url: 'ws://127.0.0.1:8080/ws', token, room: 'demo' });
 *   client.on('comment', (c) => render(c));
 *   await client.ready;                       // the first welcome
 *   await client.comment('hi');               // { seq }, or rejects with a LivecartError
 *   client.like();                            // coalesced taps
 *   client.state.comments;                    // bounded, oldest first
 *   const answer = await client.addToCart('mug-1');   // { status: 'reserved', granted, expiresAt, … } or sold_out, …
 *   client.state.cart.lines; client.state.stock;      // kept current from answers and room updates
 *   await client.checkout();                  // { status: 'ordered', order } (retries reuse one idempotency key)
 *   client.on('cartAction', (a) => render(a.key, a.state));  // adding, queued, retrying, reserved, sold_out, …
 *   client.on('orderUpdated', ({ order }) => render(order.status));  // paid, shipped, delivered, cancelled
 *   await setReminder({ baseUrl, token }, 'spring-show', true);      // "remind me" (scheduled shows)
 *   client.on('showLive', ({ roomId, title }) => notify(title, roomId));  // on any of the user's sockets
 */
export { connect, LivecartClient } from './LivecartClient.ts';
export { isLivecartError, ListenerError, LivecartError, ProtocolViolation, type LivecartErrorInit, type LivecartErrorName } from './LivecartError.ts';
export { TypedEmitter, type Listener, type ListenerErrorHandler, type TypedEmitterOptions } from '../../protocol/src/TypedEmitter.ts';
export { Backoff, backoffCeiling, defaultBackoff, fullJitterDelay, type BackoffOptions } from './backoff.ts';
export { LikeBatcher, type LikeBatcherOptions } from './LikeBatcher.ts';
export { PendingRequests, type PendingRequestOptions, type WaitingListener } from './PendingRequests.ts';
export { RoomModel, type RoomSnapshot, type WelcomeKind } from './RoomModel.ts';
export { CartModel, type CartView, type LocalCartLine, type PriceLookup } from './CartModel.ts';
export {
  defaultRetry,
  idempotentRetry,
  isTemporaryError,
  newIdempotencyKey,
  resolveRetryOptions,
  retryDelay,
  retryTemporary,
  type RandomSource,
  type RetryHooks,
  type RetryInfo,
  type RetryOptions,
} from './idempotentRetry.ts';
export { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './transport.ts';
export { myReminders, reminderOf, scheduleShow, setReminder, upcomingShows, type HttpTarget } from './shows.ts';
export type * from './types.ts';
export {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  shouldReconnect,
  isFinalOrderStatus,
  orderTransitions,
  couponActive,
  couponDiscount,
  latestAuctionCard,
  nextBids,
  stepAt,
  type AuctionCard,
  type AuctionInput,
  type IncrementSchedule,
  latestGiveawayCard,
  type Cart,
  type Coupon,
  type CouponCard,
  type CouponClaim,
  type CouponInput,
  type GiveawayCard,
  type GiveawayEligibility,
  type GiveawayInput,
  type GiveawayResult,
  type GiveawayWinner,
  type CartAnswer,
  type CartLine,
  type ErrorCodeName,
  type HistoryComment,
  type Order,
  type OrderPayment,
  type OrderStatus,
  type OrderStep,
  type Popup,
  type Product,
  type ProductInput,
  type ReplayInfo,
  type ReplayMoment,
  type ReminderState,
  type Show,
  type ShowLive,
  type RoomInfo,
  type RoomState,
  type Welcome,
  type Moderator,
  type ModerationState,
  type PinnedComment,
  findSku,
  priceOfSku,
  inventorySkusOf,
  type ProductVariant,
  type ShopWindow,
} from '../../protocol/src/index.ts';
