import { z } from 'zod';

/**
 * Scheduled shows: a room created with `startsAt` is a show announced for that time. It stays
 * `scheduled` until its streamer starts it (`POST /api/rooms/:id/start`); meanwhile its catalog
 * is the show's preview (adds answer `not_on_sale` with `startsAt`), and viewers may set a
 * reminder. When the show goes live, every socket of each user with a reminder, in any room on
 * any node, gets one `showLive` frame; a user away then gets it on their next socket. A show not
 * started `--show-grace-ms` after `startsAt` is ended by the server as missed (`room.missed`).
 */

/** How far ahead a show may be scheduled, at most. */
export const SHOW_MAX_LEAD_MS = 366 * 24 * 3600 * 1000;

/**
 * Server → client, to a user with a reminder for the show, on every socket of theirs (any room,
 * `follow: 'orders'` sockets too), when the show goes live. A user who had no socket then (or
 * whose socket was reconnecting) gets it once, right after the `welcome` of their next socket on
 * any node, with `replayed: true`, while the show is live and the notice is kept
 * (`--show-notice-ttl-ms`). The same show's notice may reach a socket twice when it joins just as
 * the show goes live: `id` tells them apart (the SDK drops repeats).
 */
export const showLiveSchema = z.object({
  t: z.literal('showLive'),
  /** The notice's id: one per show. */
  id: z.string(),
  roomId: z.string(),
  title: z.string(),
  streamerId: z.string(),
  /** When the show was announced for (epoch ms). */
  startsAt: z.number().int().nonnegative().optional(),
  /** Sent after the `welcome` of a socket opened after the show went live: the user was away then. */
  replayed: z.literal(true).optional(),
});
export type ShowLive = z.infer<typeof showLiveSchema>;

export const showServerMessageSchemas = [showLiveSchema] as const;
