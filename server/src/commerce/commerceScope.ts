import { createHash } from 'node:crypto';
import type { RoomInfo } from '../../../protocol/src/index.ts';

/** Room ids of shops start with this; no other room may take such an id. */
export const SHOP_ID_PREFIX = 'shop-';

/**
 * The id of a streamer's shop: derived from the streamer's id (any node computes it, nothing is
 * looked up), safe as a room id and in Redis keys whatever characters the user id holds.
 */
export function shopIdOf(streamerId: string): string {
  return SHOP_ID_PREFIX + createHash('sha256').update(streamerId).digest('base64url').slice(0, 22);
}

export function isShopId(roomId: string): boolean {
  return roomId.startsWith(SHOP_ID_PREFIX);
}

/**
 * The one mapping from a room to where its commerce lives in the store (its *scope*): a show linked
 * to its streamer's shop sells from the shop's inventory and carts; every other room is its own.
 */
export function commerceScopeOf(info: Pick<RoomInfo, 'id' | 'shopId'>): string {
  return info.shopId ?? info.id;
}
