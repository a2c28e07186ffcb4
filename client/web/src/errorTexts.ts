/**
 * The pages' sentence for each typed error code the server (or the SDK) answers with, in the page's
 * language: the server's messages are English and written for developers. Every code has one (the
 * compiler says when a new code lacks it); `{detail}` in a text is the server's message, kept where
 * it names what to fix (a field, a limit). A code this page does not know shows the server's message.
 */
import type { ErrorCodeName } from '../../src/index.ts';
import type { MessageKey } from './i18n.ts';

const TEXTS: Readonly<Record<ErrorCodeName, MessageKey>> = {
  BAD_REQUEST: 'error.badRequest',
  UNKNOWN_TYPE: 'error.outOfStep',
  NOT_JOINED: 'error.outOfStep',
  ALREADY_JOINED: 'error.outOfStep',
  UNSUPPORTED_VERSION: 'error.unsupportedVersion',
  UNAUTHORIZED: 'error.unauthorized',
  FORBIDDEN: 'error.forbidden',
  ROOM_NOT_FOUND: 'error.roomNotFound',
  ROOM_ENDED: 'error.roomEnded',
  RATE_LIMITED: 'error.rateLimitedSoon',
  MUTED: 'error.muted',
  PRODUCT_NOT_FOUND: 'error.productNotFound',
  PRODUCT_EXISTS: 'error.productExists',
  COMMENT_NOT_FOUND: 'error.commentNotFound',
  LIMIT_EXCEEDED: 'error.limitExceeded',
  ROOM_EXISTS: 'error.roomExists',
  KICKED: 'error.kicked',
  ROOM_FULL: 'error.roomFull',
  OVERLOADED: 'error.overloaded',
  MEDIA_UNAVAILABLE: 'error.mediaUnavailable',
  VIDEO_FULL: 'error.videoFull',
  MEDIA_NOT_FOUND: 'error.mediaNotFound',
  ORDER_NOT_FOUND: 'error.orderNotFound',
  IDEMPOTENCY_MISMATCH: 'error.idempotencyMismatch',
  REPLAY_NOT_FOUND: 'error.replayNotFound',
  ORDER_STATUS_CONFLICT: 'error.orderStatusConflict',
  COMMENT_FILTERED: 'error.commentFiltered',
  COUPON_NOT_FOUND: 'error.couponNotFound',
  COUPON_EXISTS: 'error.couponExists',
  GIVEAWAY_NOT_FOUND: 'error.giveawayNotFound',
  GIVEAWAY_EXISTS: 'error.giveawayExists',
  GIVEAWAY_BUSY: 'error.giveawayBusy',
  GIVEAWAY_OVER: 'error.giveawayOver',
  AUCTION_NOT_FOUND: 'error.auctionNotFound',
  AUCTION_EXISTS: 'error.auctionExists',
  AUCTION_BUSY: 'error.auctionBusy',
  AUCTION_OVER: 'error.auctionOver',
  INTERNAL: 'error.internal',
  UNAVAILABLE: 'error.unavailable',
};

/** The text's key for an error code's name (an SDK error's `name`, an HTTP answer's `error.name`); undefined for a code not known here. */
export function errorTextKey(name: string): MessageKey | undefined {
  return Object.hasOwn(TEXTS, name) ? TEXTS[name as ErrorCodeName] : undefined;
}
