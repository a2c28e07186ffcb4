import { z } from 'zod';

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
  textLength: 2000,
  skuLength: 64,
  titleLength: 200,
  urlLength: 2048,
  likesPerNotice: 100,
  tokenLength: 4096,
} as const;

const requestId = z.number().int().nonnegative().max(0xffffffff);
export const roomIdSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'room id: letters, digits, _ and - only').min(1).max(WireLimits.roomIdLength);
const userIdSchema = z.string().min(1).max(128);
const skuSchema = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'sku: letters, digits and _ . : - only').min(1).max(WireLimits.skuLength);
const epochSchema = z.string().min(1).max(64);
const timestampMs = z.number().int().nonnegative();

export const roleSchema = z.enum(['viewer', 'streamer', 'operator']);
export type Role = z.infer<typeof roleSchema>;

export const roomStateSchema = z.enum(['scheduled', 'live', 'ended']);
export type RoomState = z.infer<typeof roomStateSchema>;

/** A product as a streamer defines it. Prices are integer minor units (cents) to avoid float money. */
export const productInputSchema = z.object({
  sku: skuSchema,
  title: z.string().min(1).max(WireLimits.titleLength),
  priceCents: z.number().int().nonnegative().max(1_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency: ISO 4217 code such as USD'),
  imageUrl: z.string().max(WireLimits.urlLength).optional(),
  stock: z.number().int().nonnegative().max(1_000_000_000),
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
});

export const clientMessageSchema = z.discriminatedUnion('t', [
  helloSchema,
  z.object({ t: z.literal('ping'), id: requestId }),
  z.object({ t: z.literal('comment'), id: requestId, text: z.string().min(1).max(WireLimits.textLength) }),
  /** A notice: `n` taps coalesced by the client (default 1). No reply. */
  z.object({ t: z.literal('like'), n: z.number().int().min(1).max(WireLimits.likesPerNotice).optional() }),
  z.object({ t: z.literal('addProduct'), id: requestId, product: productInputSchema }),
  z.object({ t: z.literal('pin'), id: requestId, sku: skuSchema, endsAt: timestampMs.optional() }),
  z.object({ t: z.literal('unpin'), id: requestId }),
  z.object({ t: z.literal('deleteComment'), id: requestId, seq: z.number().int().nonnegative() }),
  z.object({ t: z.literal('mute'), id: requestId, userId: userIdSchema }),
  z.object({ t: z.literal('unmute'), id: requestId, userId: userIdSchema }),
  z.object({ t: z.literal('kick'), id: requestId, userId: userIdSchema }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['t'];
export type ClientRequest = Extract<ClientMessage, { id: number }>;
export type Hello = z.infer<typeof helloSchema>;
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
  z.object({ t: z.literal('roomState'), seq, state: roomStateSchema }),
  z.object({ t: z.literal('userMuted'), seq, userId: userIdSchema, muted: z.boolean() }),
]);
export type SequencedEvent = z.infer<typeof sequencedEventSchema>;
/** A sequenced event before the broker stamps its `seq`. */
export type UnsequencedEvent = SequencedEvent extends infer E ? (E extends { seq: number } ? Omit<E, 'seq'> : never) : never;

/** Latest-value-wins updates; not sequenced, not replayed. */
export const stateUpdateSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('likes'), total: z.number().int().nonnegative() }),
  z.object({ t: z.literal('viewers'), count: z.number().int().nonnegative() }),
]);
export type StateUpdate = z.infer<typeof stateUpdateSchema>;

export const serverMessageSchema = z.discriminatedUnion('t', [
  welcomeSchema,
  okSchema,
  errSchema,
  ...sequencedEventSchema.options,
  ...stateUpdateSchema.options,
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
};
