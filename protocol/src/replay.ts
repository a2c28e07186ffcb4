/**
 * The answer of `GET /api/rooms/:id/replay`, shared by the server and the viewer page. Not
 * validated on the wire: the server produces it, pages read it.
 */
import type { Product, RoomState } from './messages.ts';

/** One pin of the show, placed on the recording's clock. */
export interface ReplayMoment {
  /** Where the pin happened in the recording, ms from its start (0 for a pin before the recording began). */
  atMs: number;
  /** When the product was pinned (epoch ms, the server's clock). */
  pinnedAt: number;
  /** The product as the catalog holds it now (its price, image, sale window). */
  product: Product;
  /** Units on sale now (the store's count, not the one at the pin). */
  available: number;
  /** When the product's pop-up offer ended or ends (epoch ms), when its last pin had a countdown: adds after it answer `not_on_sale`. */
  offerEndsAt?: number;
}

export interface ReplayInfo {
  roomId: string;
  state: RoomState;
  /** The recording's VOD playlist, a path on the node asked (any node serves it). */
  playlistUrl: string;
  /** Wall time of the recording's first frame (epoch ms, from the playlist's EXT-X-PROGRAM-DATE-TIME). */
  startedAt: number;
  /** Media time recorded so far (the whole show once `complete`). */
  durationMs: number;
  /** The show has ended and its recording is closed (`#EXT-X-ENDLIST`): the playlist no longer changes. */
  complete: boolean;
  /** Adds to the cart are taken after the show (`--replay-sales`): the replay is a shop. */
  onSale: boolean;
  /** Every pin of the show, in the order they happened. */
  timeline: ReplayMoment[];
}
