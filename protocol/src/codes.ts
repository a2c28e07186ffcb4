/**
 * Wire codes. Two kinds, as in centrifuge:
 * - reply errors (`err` frames) answer one request; the socket stays open;
 * - close codes end the connection; the range tells the client what to do:
 *   4000–4499 reconnect (with backoff), 4500–4999 do not reconnect.
 *
 * Every code here must be documented in protocol/PROTOCOL.md (a test checks it).
 */

export interface ErrorCodeInfo {
  /** Numeric value on the wire. */
  readonly code: number;
  /** A retry of the same request may succeed later (after `retryAfterMs` when given). */
  readonly temporary: boolean;
  readonly meaning: string;
}

export const ErrorCode = {
  BAD_REQUEST: 1000,
  UNKNOWN_TYPE: 1001,
  NOT_JOINED: 1002,
  ALREADY_JOINED: 1003,
  UNSUPPORTED_VERSION: 1004,
  UNAUTHORIZED: 1005,
  FORBIDDEN: 1006,
  ROOM_NOT_FOUND: 1007,
  ROOM_ENDED: 1008,
  RATE_LIMITED: 1009,
  MUTED: 1010,
  PRODUCT_NOT_FOUND: 1011,
  PRODUCT_EXISTS: 1012,
  COMMENT_NOT_FOUND: 1013,
  LIMIT_EXCEEDED: 1014,
  ROOM_EXISTS: 1015,
  KICKED: 1016,
  ROOM_FULL: 1017,
  OVERLOADED: 1018,
  MEDIA_UNAVAILABLE: 1019,
  VIDEO_FULL: 1020,
  MEDIA_NOT_FOUND: 1021,
  ORDER_NOT_FOUND: 1022,
  IDEMPOTENCY_MISMATCH: 1023,
  REPLAY_NOT_FOUND: 1024,
  ORDER_STATUS_CONFLICT: 1025,
  COMMENT_FILTERED: 1040,
  COUPON_NOT_FOUND: 1030,
  COUPON_EXISTS: 1031,
  GIVEAWAY_NOT_FOUND: 1050,
  GIVEAWAY_EXISTS: 1051,
  GIVEAWAY_BUSY: 1052,
  GIVEAWAY_OVER: 1053,
  AUCTION_NOT_FOUND: 1060,
  AUCTION_EXISTS: 1061,
  AUCTION_BUSY: 1062,
  AUCTION_OVER: 1063,
  INTERNAL: 1500,
  UNAVAILABLE: 1501,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export const errorCodeInfo: Readonly<Record<ErrorCodeName, ErrorCodeInfo>> = {
  BAD_REQUEST: { code: ErrorCode.BAD_REQUEST, temporary: false, meaning: 'The request does not match its schema (field missing, wrong type, too long).' },
  UNKNOWN_TYPE: { code: ErrorCode.UNKNOWN_TYPE, temporary: false, meaning: 'The frame decoded but its `t` is not a known client message type.' },
  NOT_JOINED: { code: ErrorCode.NOT_JOINED, temporary: false, meaning: 'A room request arrived before the `hello` handshake completed.' },
  ALREADY_JOINED: { code: ErrorCode.ALREADY_JOINED, temporary: false, meaning: 'A second `hello` on a socket that already joined a room.' },
  UNSUPPORTED_VERSION: { code: ErrorCode.UNSUPPORTED_VERSION, temporary: false, meaning: 'The client speaks a protocol version this server does not.' },
  UNAUTHORIZED: { code: ErrorCode.UNAUTHORIZED, temporary: false, meaning: 'The token is missing, malformed, expired or not signed by this server.' },
  FORBIDDEN: { code: ErrorCode.FORBIDDEN, temporary: false, meaning: 'The caller\'s role may not do this (e.g. a viewer pinning a product, a streamer moderating another streamer\'s room).' },
  ROOM_NOT_FOUND: { code: ErrorCode.ROOM_NOT_FOUND, temporary: false, meaning: 'No room with that id exists on this server.' },
  ROOM_ENDED: { code: ErrorCode.ROOM_ENDED, temporary: false, meaning: 'The show has ended: no comments or video; and no new adds to the cart (addToCart, raising a quantity) when the server closes the shop with the show (`--replay-sales false`); buyers may still check out, remove lines and read their cart.' },
  RATE_LIMITED: { code: ErrorCode.RATE_LIMITED, temporary: true, meaning: 'Too many requests of this kind from this user; retry after `retryAfterMs`.' },
  MUTED: { code: ErrorCode.MUTED, temporary: false, meaning: 'A moderator muted this user in this room; their comments are refused.' },
  PRODUCT_NOT_FOUND: { code: ErrorCode.PRODUCT_NOT_FOUND, temporary: false, meaning: 'No product with that sku in this room\'s catalog.' },
  PRODUCT_EXISTS: { code: ErrorCode.PRODUCT_EXISTS, temporary: false, meaning: 'The room\'s catalog already has a product with that sku.' },
  COMMENT_NOT_FOUND: { code: ErrorCode.COMMENT_NOT_FOUND, temporary: false, meaning: 'No comment with that sequence number in the room\'s recent history.' },
  LIMIT_EXCEEDED: { code: ErrorCode.LIMIT_EXCEEDED, temporary: false, meaning: 'A configured capacity is full (rooms, products in a room, muted or banned users in a room).' },
  ROOM_EXISTS: { code: ErrorCode.ROOM_EXISTS, temporary: false, meaning: 'A room with that id already exists.' },
  KICKED: { code: ErrorCode.KICKED, temporary: false, meaning: 'A moderator removed this user from the room: until the ban ends or is lifted they may not rejoin, nor use the room\'s cart over WebSocket or HTTP.' },
  ROOM_FULL: { code: ErrorCode.ROOM_FULL, temporary: true, meaning: 'The room has as many sockets as this node takes, or the user has as many in it as one user may (maxSocketsPerUser); try again later (or another node).' },
  OVERLOADED: { code: ErrorCode.OVERLOADED, temporary: true, meaning: 'The room\'s admission queue is full, or the request waited past its deadline; retry after `retryAfterMs` (spread by jitter).' },
  MEDIA_UNAVAILABLE: { code: ErrorCode.MEDIA_UNAVAILABLE, temporary: true, meaning: 'Video is unavailable on this node (no media worker could start, or the room\'s worker is being replaced); comments and cart keep working. Retry after `retryAfterMs`.' },
  VIDEO_FULL: { code: ErrorCode.VIDEO_FULL, temporary: true, meaning: 'Every media worker of this node is at its consumer limit: the viewer stays in the room for comments and cart, and retries video after `retryAfterMs`.' },
  MEDIA_NOT_FOUND: { code: ErrorCode.MEDIA_NOT_FOUND, temporary: false, meaning: 'No transport, producer or consumer with that id belongs to this socket (it closed, or the worker was replaced: wait for `mediaReset`).' },
  ORDER_NOT_FOUND: { code: ErrorCode.ORDER_NOT_FOUND, temporary: false, meaning: 'No order with that id that the caller may see (unknown, or another user\'s: the two are not told apart).' },
  IDEMPOTENCY_MISMATCH: { code: ErrorCode.IDEMPOTENCY_MISMATCH, temporary: false, meaning: 'The idempotency key was already used by this user for a different request (another operation, room, sku or quantity); use a new key for a new action.' },
  REPLAY_NOT_FOUND: { code: ErrorCode.REPLAY_NOT_FOUND, temporary: false, meaning: 'The room has no recording to replay: nothing was streamed while it was live, recording is off, or the recording was removed past its retention.' },
  ORDER_STATUS_CONFLICT: { code: ErrorCode.ORDER_STATUS_CONFLICT, temporary: false, meaning: 'The order cannot go to that status from the one it is in (placed → paid or cancelled; paid → shipped or cancelled; shipped → delivered; delivered and cancelled are final). The message names both. A status the order already reached is no conflict: the call answers the order unchanged.' },
  COMMENT_FILTERED: { code: ErrorCode.COMMENT_FILTERED, temporary: false, meaning: 'The comment contains a word of the room\'s keyword filter: it was not posted, and nobody else saw it. Which word is not told.' },
  COUPON_NOT_FOUND: { code: ErrorCode.COUPON_NOT_FOUND, temporary: false, meaning: 'No coupon with that id in this room.' },
  COUPON_EXISTS: { code: ErrorCode.COUPON_EXISTS, temporary: false, meaning: 'The room already has a coupon with that id (its code).' },
  GIVEAWAY_NOT_FOUND: { code: ErrorCode.GIVEAWAY_NOT_FOUND, temporary: false, meaning: 'No giveaway with that id in this room.' },
  GIVEAWAY_EXISTS: { code: ErrorCode.GIVEAWAY_EXISTS, temporary: false, meaning: 'The room already had a giveaway with that id.' },
  GIVEAWAY_BUSY: { code: ErrorCode.GIVEAWAY_BUSY, temporary: false, meaning: 'Another giveaway of the room is taking entries: end or cancel it first (one at a time per room).' },
  GIVEAWAY_OVER: { code: ErrorCode.GIVEAWAY_OVER, temporary: false, meaning: 'The giveaway\'s entries are closed already (drawn or cancelled): it can no longer be ended or cancelled.' },
  AUCTION_NOT_FOUND: { code: ErrorCode.AUCTION_NOT_FOUND, temporary: false, meaning: 'No auction with that id in this room.' },
  AUCTION_EXISTS: { code: ErrorCode.AUCTION_EXISTS, temporary: false, meaning: 'The room already had an auction with that id.' },
  AUCTION_BUSY: { code: ErrorCode.AUCTION_BUSY, temporary: false, meaning: 'Another auction of the room is open: end or cancel it first (one at a time per room).' },
  AUCTION_OVER: { code: ErrorCode.AUCTION_OVER, temporary: false, meaning: 'The auction is settled already (ended or cancelled): it can no longer be ended or cancelled.' },
  INTERNAL: { code: ErrorCode.INTERNAL, temporary: true, meaning: 'The server failed unexpectedly; details are in its log, never on the wire.' },
  UNAVAILABLE: { code: ErrorCode.UNAVAILABLE, temporary: true, meaning: 'A dependency (the store) is temporarily unreachable; retry after `retryAfterMs`.' },
};

/** Close codes. 4000–4499: reconnect with backoff (MOVED: at once, to another node). 4500–4999: terminal, do not reconnect. */
export const CloseCode = {
  SERVER_RESTARTING: 4000,
  SLOW_CONSUMER: 4001,
  HELLO_TIMEOUT: 4002,
  FLOODING: 4003,
  TRY_AGAIN_LATER: 4004,
  RESYNC: 4005,
  MOVED: 4006,
  PROTOCOL_ERROR: 4500,
  UNAUTHORIZED: 4501,
  UNSUPPORTED_VERSION: 4502,
  ROOM_NOT_FOUND: 4503,
  FRAME_TOO_LARGE: 4504,
  KICKED: 4505,
} as const;
export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

export const closeCodeInfo: Readonly<Record<CloseCodeName, { readonly code: number; readonly meaning: string }>> = {
  SERVER_RESTARTING: { code: CloseCode.SERVER_RESTARTING, meaning: 'The server is shutting down or restarting; reconnect (to this or another node) and resume.' },
  SLOW_CONSUMER: { code: CloseCode.SLOW_CONSUMER, meaning: 'The client fell behind past the hard per-socket buffer cap; reconnect and resume from the last sequence number.' },
  HELLO_TIMEOUT: { code: CloseCode.HELLO_TIMEOUT, meaning: 'No `hello` arrived within the handshake timeout.' },
  FLOODING: { code: CloseCode.FLOODING, meaning: 'The socket sent more frames per second than allowed; reconnect after backing off.' },
  TRY_AGAIN_LATER: { code: CloseCode.TRY_AGAIN_LATER, meaning: 'Refused for a temporary reason (room full on this node, store unavailable, node above its memory or event-loop watermark); reconnect after backing off.' },
  RESYNC: { code: CloseCode.RESYNC, meaning: 'The node lost the room\'s event order (its sequencer lease in Redis) and dropped what it may have sent past the log; reconnect: the welcome carries a fresh snapshot.' },
  MOVED: { code: CloseCode.MOVED, meaning: 'This node is draining (it is being taken out of service): reconnect at once, with a small jitter rather than the backoff, to another node, and resume. A draining node also closes new sockets with it as soon as they open.' },
  PROTOCOL_ERROR: { code: CloseCode.PROTOCOL_ERROR, meaning: 'A frame was not valid MessagePack, not binary, not a map, or held a MessagePack extension; or the `hello` did not match its schema: the client is broken.' },
  UNAUTHORIZED: { code: CloseCode.UNAUTHORIZED, meaning: 'The `hello` token was rejected; get a new token before connecting again.' },
  UNSUPPORTED_VERSION: { code: CloseCode.UNSUPPORTED_VERSION, meaning: 'The client\'s protocol version is not supported; upgrade the client.' },
  ROOM_NOT_FOUND: { code: CloseCode.ROOM_NOT_FOUND, meaning: 'The room named in `hello` does not exist.' },
  FRAME_TOO_LARGE: { code: CloseCode.FRAME_TOO_LARGE, meaning: 'A frame exceeded the configured maximum frame size.' },
  KICKED: { code: CloseCode.KICKED, meaning: 'An operator or the room\'s streamer removed this user from the room.' },
};

/** True when a client should reconnect after the server closed with `code`. Standard codes 1001/1006/1011/1012/1013 reconnect too. */
export function shouldReconnect(code: number): boolean {
  if (code >= 4000 && code <= 4499) return true;
  if (code >= 4500 && code <= 4999) return false;
  return code !== 1000 && code !== 1002 && code !== 1003 && code !== 1007 && code !== 1008 && code !== 1009;
}

export function errorCodeName(code: number): ErrorCodeName | undefined {
  for (const [name, info] of Object.entries(errorCodeInfo)) if (info.code === code) return name as ErrorCodeName;
  return undefined;
}
