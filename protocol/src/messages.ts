import { z } from 'zod';
import { mediaRequestSchemas, mediaRequestTypes, mediaServerMessageSchemas } from './media.ts';
import { orderPaymentSchema, orderStatusSchema, orderStepSchema } from './orders.ts';
import { moderationEventSchemas, moderationRequestSchemas, moderatorSchema, pinnedCommentSchema } from './moderation.ts';
import { couponAnswerSchemas, couponEventSchemas, couponIdSchema, couponRequestSchemas, couponRequestTypes, pinnedCouponSchema } from './coupons.ts';
import { productDetailFields, productDetailIssues } from './productDetails.ts';
import { showServerMessageSchemas } from './shows.ts';
import { auctionCardSchema, auctionDirectSchemas, auctionEventSchemas, auctionRequestSchemas, auctionRequestTypes, auctionStateSchemas, bidAnswerSchemas } from './auctions.ts';
import { giveawayAnswerSchemas, giveawayCardSchema, giveawayDirectSchemas, giveawayRequestSchemas, giveawayRequestTypes, giveawayStateSchemas } from './giveaways.ts';

/**
 * The wire contract. Every frame is one MessagePack map with a string field `t` naming its type.
 *
 * Client → server frames are either *requests* (carry `id`, a client-chosen unsigned integer, and get
 * exactly one `ok` or `err` frame with the same `id`; `hello` is answered by `welcome`) or *notices*
 * (`like`, no `id`, no answer: a tap must stay cheap).
 *
 * Server → client frames are replies (`welcome`, `ok`, `err`), *sequenced room events* (carry `seq`,
 * a per-room counter; kept in the room's resume ring) and *state updates* (`likes`, `viewers`: latest
 * value wins, never replayed; the current value is in `welcome`).
 */
export const PROTOCOL_VERSION = 1;

/** Hard ceilings of the wire format; the server's config sets the effective, usually smaller, limits. */
export const WireLimits = {
  roomIdLength: 64,
  userIdLength: 128,
  nameLength: 64,
  textLength: 2000,
  skuLength: 64,
  titleLength: 200,
  urlLength: 2048,
  likesPerNotice: 100,
  tokenLength: 4096,
} as const;

/**
 * Length of a text in characters, as every limit on text counts them: Unicode code points, so an
 * emoji such as 😀 is one character (JavaScript's `length` counts it as two UTF-16 units). Python's
 * `len` and Go's `utf8.RuneCountInString` count the same way.
 */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** A lone UTF-16 surrogate (half a pair): no character, and it would reach other clients as invalid UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
const NOT_TEXT = 'not valid Unicode text (a lone surrogate)';

/** `text` with every lone surrogate replaced by U+FFFD, for text the server keeps rather than refuses. */
export function wellFormedText(text: string): string {
  return isWellFormedText(text) ? text : text.replace(/\p{Cs}/gu, '\uFFFD');
}

/** `text` cut to at most `max` characters (code points), never inside a surrogate pair. */
export function truncateCharacters(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (let kept = 0; kept < max && end < text.length; kept++) {
    const unit = text.charCodeAt(end);
    const pair = unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    end += pair ? 2 : 1;
  }
  return text.slice(0, end);
}

/** A string of at most `max` characters as `characterCount` counts them (at least `min`), with no lone surrogate. */
export function textSchema(max: number, min = 1, tooShort?: string) {
  return z.string().min(min, tooShort)
    .refine((text) => text.length <= max || characterCount(text) <= max, `at most ${max} characters`)
    .refine(isWellFormedText, NOT_TEXT);
}

const requestId = z.number().int().nonnegative().max(0xffffffff);
export const roomIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'room id: letters, digits, _ and - only').min(1).max(WireLimits.roomIdLength);
const userIdSchema = textSchema(WireLimits.userIdLength);
export const skuSchema = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'sku: letters, digits and _ . : - only').min(1).max(WireLimits.skuLength);
const epochSchema = z.string().min(1).max(64);
const timestampMs = z.number().int().nonnegative();

export const roleSchema = z.enum(['viewer', 'streamer', 'operator']);
export type Role = z.infer<typeof roleSchema>;

export const roomStateSchema = z.enum(['scheduled', 'live', 'ended']);
export type RoomState = z.infer<typeof roomStateSchema>;

/** A product as a streamer defines it. Prices are integer minor units (cents) to avoid float money. */
export const productInputSchema = z.object({
  sku: skuSchema,
  title: textSchema(WireLimits.titleLength),
  priceCents: z.number().int().nonnegative().max(1_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency: ISO 4217 code such as USD'),
  imageUrl: z.string().max(WireLimits.urlLength).refine(isWellFormedText, NOT_TEXT).optional(),
  /** Initial stock (units). Live stock is in `welcome.stock` and `stock` updates. */
  stock: z.number().int().nonnegative().max(1_000_000_000),
  /** Flash-sale window, epoch ms: outside it add-to-cart answers `not_on_sale`. */
  saleStartsAt: timestampMs.optional(),
  saleEndsAt: timestampMs.optional(),
  /** Units one customer may hold reserved plus bought, at most. */
  perCustomerLimit: z.number().int().min(1).max(1_000_000).optional(),
  /** The product page's fields (description, list price, images, variants): `productDetails.ts`. */
  ...productDetailFields({
    sku: skuSchema, text: (max) => textSchema(max), cents: z.number().int().nonnegative().max(1_000_000_000), units: z.number().int().nonnegative().max(1_000_000_000),
    url: z.string().max(WireLimits.urlLength).refine(isWellFormedText, NOT_TEXT),
  }),
}).refine((p) => p.saleStartsAt === undefined || p.saleEndsAt === undefined || p.saleEndsAt > p.saleStartsAt, {
  message: 'saleEndsAt must be after saleStartsAt', path: ['saleEndsAt'],
}).superRefine((p, ctx) => {
  for (const issue of productDetailIssues(p)) ctx.addIssue({ code: 'custom', ...issue });
});
export type ProductInput = z.infer<typeof productInputSchema>;
export type Product = ProductInput;

export const popupSchema = z.object({
  product: productInputSchema,
  pinnedAt: timestampMs,
  /** Countdown end for the card, epoch ms; absent when the card has no countdown. */
  endsAt: timestampMs.optional(),
});
export type Popup = z.infer<typeof popupSchema>;

export const roomInfoSchema = z.object({
  id: roomIdSchema,
  title: z.string(),
  streamerId: userIdSchema,
  state: roomStateSchema,
  createdAt: timestampMs,
  /** `shop`: a streamer's shop window (`shop.ts`), open for good; absent for a show. */
  kind: z.literal('shop').optional(),
  /** A shop's streamer's name (as their token gave it when the shop opened): pages compose the shop's name from it in their language; `title` is the server's English one. */
  streamerName: z.string().optional(),
  /** A show linked to its streamer's shop: its products are the shop's, one inventory and one cart. */
  shopId: roomIdSchema.optional(),
  /** A scheduled show's announced start (epoch ms), set when the room was created with one (see shows.ts). */
  startsAt: timestampMs.optional(),
  /** A scheduled show its streamer never started within the server's grace after `startsAt`: the server ended it (state `ended`). */
  missed: z.literal(true).optional(),
});
export type RoomInfo = z.infer<typeof roomInfoSchema>;

export const historyCommentSchema = z.object({
  seq: z.number().int().nonnegative(),
  userId: userIdSchema,
  name: z.string(),
  text: z.string(),
  ts: timestampMs,
});
export type HistoryComment = z.infer<typeof historyCommentSchema>;

/** Client-generated idempotency key: a retry with the same key gets the first answer and changes nothing. */
const idempotencyKey = textSchema(64);
const quantity = z.number().int().min(0).max(10_000);

export const cartLineSchema = z.object({
  sku: skuSchema,
  quantity: z.number().int().positive(),
  priceCents: z.number().int().nonnegative(),
  /** The reservation expires at this epoch ms; the units go back to stock by themselves. */
  expiresAt: timestampMs,
});
export type CartLine = z.infer<typeof cartLineSchema>;

export const cartSchema = z.object({ roomId: roomIdSchema, lines: z.array(cartLineSchema), currency: z.string().optional(), totalCents: z.number().int().nonnegative() });
export type Cart = z.infer<typeof cartSchema>;

export const orderSchema = z.object({
  id: z.string(),
  roomId: roomIdSchema,
  userId: userIdSchema,
  /** `priceCents` is what each unit cost; `listPriceCents` the product's list price when it has one (a sale price shows it struck through). */
  lines: z.array(z.object({ sku: skuSchema, quantity: z.number().int().positive(), priceCents: z.number().int().nonnegative(), listPriceCents: z.number().int().nonnegative().optional() })),
  /** What the buyer pays: `subtotalCents − discountCents` (coupons.ts prices it). */
  totalCents: z.number().int().nonnegative(),
  /** Σ quantity × priceCents (absent only on orders placed before coupons existed). */
  subtotalCents: z.number().int().nonnegative().optional(),
  /** The coupon's discount, 0 without one. */
  discountCents: z.number().int().nonnegative().optional(),
  /** The coupon this order used (its id is the code buyers see). */
  couponId: couponIdSchema.optional(),
  currency: z.string(),
  createdAt: timestampMs,
  /** Where the order stands (see `orderTransitions`); `placed` at checkout. */
  status: orderStatusSchema,
  /** Every status it reached, oldest first: `placed` at `createdAt`, then each change. */
  history: z.array(orderStepSchema).min(1),
  /** Set by the payment step only (`paid`): a demo payment or the shop's confirmation. */
  payment: orderPaymentSchema.optional(),
});
export type Order = z.infer<typeof orderSchema>;

/**
 * The one definite answer to a cart request (the `result` of its `ok` reply). Business outcomes
 * such as "sold out" are answers, not errors; errors are for bad or failed requests.
 */
export const cartAnswerSchema = z.discriminatedUnion('status', [
  /** `quantity` is the line's total now held; `granted` what this request added (less than asked when stock ran short). */
  z.object({ status: z.literal('reserved'), sku: skuSchema, quantity: z.number().int().nonnegative(), granted: z.number().int(), expiresAt: timestampMs, available: z.number().int().nonnegative() }),
  z.object({ status: z.literal('released'), sku: skuSchema, quantity: z.number().int().nonnegative(), available: z.number().int().nonnegative() }),
  z.object({ status: z.literal('sold_out'), sku: skuSchema }),
  z.object({ status: z.literal('limit_reached'), sku: skuSchema, limit: z.number().int() }),
  z.object({ status: z.literal('not_on_sale'), sku: skuSchema, startsAt: timestampMs.optional(), endsAt: timestampMs.optional() }),
  z.object({ status: z.literal('cart_not_found') }),
  z.object({ status: z.literal('cart'), cart: cartSchema }),
  z.object({ status: z.literal('ordered'), order: orderSchema }),
  /** Checkout refused because these lines expired; they went back to stock and nothing was ordered. */
  z.object({ status: z.literal('expired'), skus: z.array(skuSchema) }),
  ...couponAnswerSchemas,
  ...giveawayAnswerSchemas,
  ...bidAnswerSchemas,
]);
export type CartAnswer = z.infer<typeof cartAnswerSchema>;

// ---------------------------------------------------------------------------------------------
// Client → server

export const helloSchema = z.object({
  t: z.literal('hello'),
  id: requestId,
  /** Protocol version the client speaks. */
  v: z.number().int(),
  token: z.string().min(1).max(WireLimits.tokenLength),
  room: roomIdSchema,
  /** Resume after a reconnect: the last `seq` processed and the room `epoch` it belongs to. */
  resume: z.object({ seq: z.number().int().nonnegative(), epoch: epochSchema }).optional(),
  /**
   * `orders`: this socket only follows the user's own news in the room (`orderUpdated`,
   * `reservationExpired`), as a "My orders" page does: no room broadcasts, not counted among the
   * viewers, no resume, and a user kicked from the room may still follow their orders there.
   */
  follow: z.literal('orders').optional(),
});

export const clientMessageSchema = z.discriminatedUnion('t', [
  helloSchema,
  z.object({ t: z.literal('ping'), id: requestId }),
  z.object({ t: z.literal('comment'), id: requestId, text: z.string().min(1).refine((text) => characterCount(text) <= WireLimits.textLength, `at most ${WireLimits.textLength} characters`).refine(isWellFormedText, NOT_TEXT) }),
  /** A notice: `n` taps coalesced by the client (default 1). No reply. */
  z.object({ t: z.literal('like'), n: z.number().int().min(1).max(WireLimits.likesPerNotice).optional() }),
  /** A notice, about once a second: the last `seq` the client has processed. Measures real lag, which kernel socket buffers hide. */
  z.object({ t: z.literal('ack'), seq: z.number().int().nonnegative() }),
  z.object({ t: z.literal('addProduct'), id: requestId, product: productInputSchema }),
  z.object({ t: z.literal('pin'), id: requestId, sku: skuSchema, endsAt: timestampMs.optional() }),
  z.object({ t: z.literal('unpin'), id: requestId }),
  z.object({ t: z.literal('deleteComment'), id: requestId, seq: z.number().int().nonnegative() }),
  z.object({ t: z.literal('mute'), id: requestId, userId: userIdSchema }),
  z.object({ t: z.literal('unmute'), id: requestId, userId: userIdSchema }),
  z.object({ t: z.literal('kick'), id: requestId, userId: userIdSchema }),
  /** Lifts a kick's ban at once (moderators). */
  z.object({ t: z.literal('unban'), id: requestId, userId: userIdSchema }),
  z.object({ t: z.literal('addToCart'), id: requestId, key: idempotencyKey, sku: skuSchema, quantity: quantity.min(1) }),
  z.object({ t: z.literal('setQuantity'), id: requestId, key: idempotencyKey, sku: skuSchema, quantity }),
  z.object({ t: z.literal('removeFromCart'), id: requestId, key: idempotencyKey, sku: skuSchema }),
  z.object({ t: z.literal('getCart'), id: requestId }),
  /** `couponId`: apply that claimed coupon (else the buyer's best claimed coupon applies, see coupons.ts). */
  z.object({ t: z.literal('checkout'), id: requestId, key: idempotencyKey, couponId: couponIdSchema.optional() }),
  ...mediaRequestSchemas,
  ...moderationRequestSchemas,
  ...couponRequestSchemas,
  ...giveawayRequestSchemas,
  ...auctionRequestSchemas,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['t'];
export type ClientRequest = Extract<ClientMessage, { id: number }>;
export type Hello = z.infer<typeof helloSchema>;
/** Requests served by the commerce layer (cart and checkout); the rest are room requests. */
export type CartRequest = Extract<ClientRequest, { t: 'addToCart' | 'setQuantity' | 'removeFromCart' | 'getCart' | 'checkout' | 'claimCoupon' | 'enterGiveaway' | 'bid' }>;
/** Coupon management and reads, served by the coupon service (protocol/src/coupons.ts); claims are cart requests. */
export type CouponRequest = Extract<ClientRequest, { t: 'createCoupon' | 'pinCoupon' | 'unpinCoupon' | 'getCoupons' }>;
/** WebRTC signaling, served by the media layer (protocol/src/media.ts). */
export type MediaRequest = Extract<ClientRequest, { t: (typeof mediaRequestSchemas)[number]['shape']['t']['value'] }>;
/** Giveaway management and reads, served by the giveaway service (protocol/src/giveaways.ts); entries are cart requests. */
export type GiveawayRequest = Extract<ClientRequest, { t: 'openGiveaway' | 'endGiveaway' | 'cancelGiveaway' | 'getGiveaway' }>;
/** Auction management and reads, served by the auction service (protocol/src/auctions.ts); bids are cart requests. */
export type AuctionRequest = Extract<ClientRequest, { t: 'startAuction' | 'endAuction' | 'cancelAuction' | 'getAuction' }>;
export type RoomRequest = Exclude<ClientRequest, Hello | CartRequest | MediaRequest | CouponRequest | GiveawayRequest | AuctionRequest>;
const cartTypes: ReadonlySet<string> = new Set<CartRequest['t']>(['addToCart', 'setQuantity', 'removeFromCart', 'getCart', 'checkout', 'claimCoupon', 'enterGiveaway', 'bid']);
export function isCartRequest(request: ClientRequest): request is CartRequest {
  return cartTypes.has(request.t);
}
export function isCouponRequest(request: ClientRequest): request is CouponRequest {
  return couponRequestTypes.has(request.t);
}
export function isGiveawayRequest(request: ClientRequest): request is GiveawayRequest {
  return giveawayRequestTypes.has(request.t);
}

export function isAuctionRequest(request: ClientRequest): request is AuctionRequest {
  return auctionRequestTypes.has(request.t);
}
export function isMediaRequest(request: ClientRequest): request is MediaRequest {
  return mediaRequestTypes.has(request.t);
}
export const clientMessageTypes: ReadonlySet<string> = new Set(clientMessageSchema.options.map((o) => o.shape.t.value));

// ---------------------------------------------------------------------------------------------
// Server → client

export const welcomeSchema = z.object({
  t: z.literal('welcome'),
  id: requestId,
  v: z.number().int(),
  room: roomInfoSchema,
  you: z.object({ userId: userIdSchema, name: z.string(), role: roleSchema }),
  /** The room's latest sequence number at the moment of joining. */
  seq: z.number().int().nonnegative(),
  /** Changes when the room's history is reset (server restart): a resume from another epoch is impossible. */
  epoch: epochSchema,
  /** True when the requested resume succeeded: the missed events follow this frame, in order. */
  resumed: z.boolean(),
  /** True when a resume was asked for but the events are gone: this welcome is a fresh snapshot. */
  historyLost: z.boolean(),
  comments: z.array(historyCommentSchema),
  popup: popupSchema.nullable(),
  products: z.array(productInputSchema),
  likes: z.number().int().nonnegative(),
  viewers: z.number().int().nonnegative(),
  /** User ids muted in this room: clients hide their comments. */
  muted: z.array(userIdSchema),
  /** Units available now, by sku. */
  stock: z.record(z.string(), z.number().int().nonnegative()),
  /** The room's degrade level at joining (see `degrade`). */
  degradeLevel: z.number().int().min(0).max(3),
  /** The room's moderators (see protocol/src/moderation.ts). */
  moderators: z.array(moderatorSchema),
  /** The room's pinned comment, or null. */
  pinnedComment: pinnedCommentSchema.nullable(),
  /** The room's pinned coupon card (null: none) with its live `left`, and its pin's version (see `coupon` events). */
  coupon: pinnedCouponSchema,
  /** The room's auction card at joining (the open auction, or the last one settled while this node hosted the room), or null; see `auction` updates. */
  auction: auctionCardSchema.nullable().optional(),
  /**
   * The room's giveaway at joining, fresh or resumed: the one taking entries (with its entrants
   * count), else the room's latest (drawn, with its result, or cancelled), or null. Then `giveaway`
   * and `giveawayEntrants` updates; keep cards by `latestGiveawayCard`.
   */
  giveaway: giveawayCardSchema.nullable(),
});
export type Welcome = z.infer<typeof welcomeSchema>;

export const okSchema = z.object({
  t: z.literal('ok'),
  id: requestId,
  result: z.record(z.string(), z.unknown()).optional(),
});
export type Ok = z.infer<typeof okSchema>;

export const errSchema = z.object({
  t: z.literal('err'),
  /** Absent only when the request's id could not be read. */
  id: requestId.optional(),
  code: z.number().int(),
  message: z.string(),
  temporary: z.boolean(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type Err = z.infer<typeof errSchema>;

const seq = z.number().int().nonnegative();

/** Events that carry `seq`, are kept in the resume ring and are replayed on resume. */
export const sequencedEventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('comment'), seq, userId: userIdSchema, name: z.string(), text: z.string(), ts: timestampMs }),
  z.object({ t: z.literal('commentDeleted'), seq, commentSeq: seq }),
  z.object({ t: z.literal('popup'), seq, popup: popupSchema.nullable() }),
  z.object({ t: z.literal('product'), seq, product: productInputSchema }),
  /** `missed: true` with `ended`: a scheduled show the server ended because its streamer never started it (see shows.ts). */
  z.object({ t: z.literal('roomState'), seq, state: roomStateSchema, missed: z.literal(true).optional() }),
  z.object({ t: z.literal('userMuted'), seq, userId: userIdSchema, muted: z.boolean() }),
  /** Announced once, immediately, when a product's available stock reaches 0. */
  z.object({ t: z.literal('soldOut'), seq, sku: skuSchema }),
  ...moderationEventSchemas,
  ...couponEventSchemas,
  ...auctionEventSchemas,
]);
export type SequencedEvent = z.infer<typeof sequencedEventSchema>;
/** A sequenced event before the broker stamps its `seq`. */
export type UnsequencedEvent = SequencedEvent extends infer E ? (E extends { seq: number } ? Omit<E, 'seq'> : never) : never;

/** Latest-value-wins updates; not sequenced, not replayed. */
export const stateUpdateSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('likes'), total: z.number().int().nonnegative() }),
  z.object({ t: z.literal('viewers'), count: z.number().int().nonnegative() }),
  /** Units available for a product; coalesced to at most one per `stockIntervalMs` per product. */
  z.object({ t: z.literal('stock'), sku: skuSchema, available: z.number().int().nonnegative() }),
  /**
   * The room's degrade level: 0 normal, 1 chatter sampled, 2 chatter off for viewers, 3 commerce
   * only. Above 0 the UI shows a "busy" state. Commerce events and a client's own answers are
   * never dropped at any level.
   */
  z.object({ t: z.literal('degrade'), level: z.number().int().min(0).max(3), reason: z.string() }),
  ...giveawayStateSchemas,
  ...auctionStateSchemas,
]);
export type StateUpdate = z.infer<typeof stateUpdateSchema>;

/** Frames for one user only (all of their sockets in the room, on every node). */
export const directMessageSchema = z.discriminatedUnion('t', [
  /** A reservation ran out; its units went back to stock. */
  z.object({ t: z.literal('reservationExpired'), sku: skuSchema, quantity: z.number().int().positive() }),
  /**
   * Interim news about a pending request `id`: it waits in the room's admission queue at
   * `position` (1 = next) and should be answered in about `etaMs`. The final `ok`/`err` follows.
   */
  z.object({ t: z.literal('queued'), id: z.number().int().nonnegative(), position: z.number().int().positive(), etaMs: z.number().int().nonnegative() }),
  /** One of the user's orders in the room changed (placed, paid, shipped, delivered, cancelled): the order as it is now. */
  z.object({ t: z.literal('orderUpdated'), order: orderSchema }),
  ...giveawayDirectSchemas,
  ...auctionDirectSchemas,
]);
export type DirectMessage = z.infer<typeof directMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('t', [
  welcomeSchema,
  okSchema,
  errSchema,
  ...sequencedEventSchema.options,
  ...stateUpdateSchema.options,
  ...directMessageSchema.options,
  ...mediaServerMessageSchemas,
  ...showServerMessageSchemas,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/**
 * Lanes split a room's fan-out by importance. A slow viewer is dropped from `chatter` first and keeps
 * `commerce` (pop-ups, products, stock, room state) until it passes the hard buffer cap.
 */
export type Lane = 'commerce' | 'chatter';
export const laneOf: Readonly<Record<SequencedEvent['t'] | StateUpdate['t'], Lane>> = {
  comment: 'chatter',
  commentDeleted: 'chatter',
  userMuted: 'chatter',
  likes: 'chatter',
  viewers: 'chatter',
  popup: 'commerce',
  product: 'commerce',
  roomState: 'commerce',
  soldOut: 'commerce',
  coupon: 'commerce',
  stock: 'commerce',
  degrade: 'commerce',
  moderators: 'commerce',
  commentPinned: 'commerce',
  giveaway: 'commerce',
  giveawayEntrants: 'commerce',
  auction: 'commerce',
  auctionEnded: 'commerce',
};
