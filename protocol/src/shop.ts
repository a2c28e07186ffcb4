/**
 * The answer of `GET /api/shops/:streamerId`, shared by the server and the shop page. Not
 * validated on the wire: the server produces it, pages read it.
 *
 * A streamer's shop is a room of kind `shop` (`room.id` is its id: join it with `hello` like any
 * room, and use its cart API). It is always open. Shows created with `shop: true` are linked to it:
 * their products are the shop's and sell from the same inventory, and a buyer has one cart in the
 * shop whether they add from the shop window or from a show.
 */
import type { Product, RoomInfo } from './messages.ts';

export interface ShopWindow {
  /** The shop's room (`kind: "shop"`, state `live`). */
  shop: RoomInfo;
  /** Every product of the shop (in no set order). */
  products: Product[];
  /** Units available now, by sku (variants' skus included). */
  stock: Record<string, number>;
  /** The streamer's linked show that is live now, if any. */
  live: RoomInfo | null;
  /** The streamer's linked shows, newest first (at most `shopShowsKept`). */
  shows: RoomInfo[];
}
