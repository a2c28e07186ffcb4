/**
 * Idempotency records: the first answer to a user's key, with the fingerprint of the request it
 * answered. A key reused for another request (other room, sku, quantity or operation) gets
 * IDEMPOTENCY_MISMATCH instead of that request's answer, as Stripe does.
 */

/** Which store operation a key was used for. */
export type KeyedOperation = 'add' | 'set' | 'checkout';

/** What a request asked for; two requests with one key must agree on it. Skus and room ids never contain '|'. */
export function fingerprintOf(operation: KeyedOperation, roomId: string, sku = '', quantity = 0): string {
  return operation === 'checkout' ? `checkout|${roomId}` : `${operation}|${roomId}|${sku}|${quantity}`;
}

/** A checkout's fingerprint: the coupon it names is part of what it asks (`checkout|ROOM` when it names none). */
export function checkoutFingerprint(roomId: string, couponId?: string): string {
  return couponId === undefined ? fingerprintOf('checkout', roomId) : `checkout|${roomId}|${couponId}`;
}

/** A coupon claim's fingerprint. Coupon ids never contain '|'. */
export function claimFingerprint(roomId: string, couponId: string): string {
  return `claim|${roomId}|${couponId}`;
}

/** A giveaway entry's fingerprint (entries are not recorded: a user's second entry answers `already_entered`; the fingerprint joins taps of one key). */
export function entryFingerprint(roomId: string, giveawayId: string): string {
  return `enter|${roomId}|${giveawayId}`;
}

/** A giveaway prize's fingerprint (Store.grantPrize). */
export function prizeFingerprint(roomId: string, sku: string): string {
  return `prize|${roomId}|${sku}`;
}

/**
 * The record's name: the user id's length in UTF-8 bytes first, so no two (user, key) pairs share
 * one (`a` + `b:c` against `a:b` + `c`). Bytes, as the Redis scripts count it with `string.len`.
 */
export function recordName(userId: string, key: string): string {
  return `${Buffer.byteLength(userId)}:${userId}:${key}`;
}

export const IDEMPOTENCY_MISMATCH_MESSAGE = 'this idempotency key was already used for a different request';

const replays = new WeakSet<object>();

/** A recorded answer handed out again: a copy the caller can recognise with `isReplay` (its stock figures are from then, not now). */
export function replayOf<T extends object>(answer: T): T {
  const copy = { ...answer };
  replays.add(copy);
  return copy;
}

export function isReplay(answer: object): boolean {
  return replays.has(answer);
}

/** A bid's fingerprint: the auction, the kind and the amount. Auction ids never contain '|'. */
export function bidFingerprint(roomId: string, auctionId: string, max: boolean, amountCents: number): string {
  return `bid|${roomId}|${auctionId}|${max ? 'max' : 'price'}|${amountCents}`;
}
