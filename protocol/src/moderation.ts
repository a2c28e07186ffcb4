import { z } from 'zod';

/**
 * Room moderation on the wire: moderators the streamer appoints, a keyword filter on comments, and
 * a pinned comment.
 *
 * Who may do what in a room:
 * - the room's streamer (and operators): everything below, and appointing moderators;
 * - a moderator (any user the streamer appointed, by user id, whatever their token's role): delete
 *   comments, mute and unmute, kick and lift bans, read the ban list, pin and unpin a comment, read
 *   and set the keyword filter. Not: products, pop-ups, starting or ending the show, appointing
 *   moderators, and acting on the streamer or another moderator (muting or kicking them).
 *
 * The keyword filter: a comment whose text contains one of the room's words (case-insensitive,
 * after Unicode NFKC normalization, anywhere in the text: Chinese has no spaces between words) is
 * not broadcast; its author gets the reply error `COMMENT_FILTERED` (which word is not told).
 */

/** Wire ceilings of moderation; the server's config sets the effective limits (`maxFilterWords`, `filterWordMaxLength`, `maxModeratorsPerRoom`). */
export const ModerationLimits = {
  filterWordLength: 64,
  filterWords: 1000,
} as const;

// messages.ts imports this file, so its schema helpers cannot be imported here: the few needed are restated.
const requestId = z.number().int().nonnegative().max(0xffffffff);
const seq = z.number().int().nonnegative();
const timestampMs = z.number().int().nonnegative();
const LONE_SURROGATE = /\p{Cs}/u;
/** A user id (as `sub` in tokens): 1–128 characters, no lone surrogate. */
const userIdSchema = z.string().min(1).refine((text) => [...text].length <= 128, 'at most 128 characters').refine((text) => !LONE_SURROGATE.test(text), 'not valid Unicode text (a lone surrogate)');
const filterWordSchema = z.string().refine((text) => [...text].length <= ModerationLimits.filterWordLength, `at most ${ModerationLimits.filterWordLength} characters`).refine((text) => !LONE_SURROGATE.test(text), 'not valid Unicode text (a lone surrogate)');

/** A moderator of a room: the user id the streamer appointed, and the name known for it then (the id when none was). */
export const moderatorSchema = z.object({ userId: userIdSchema, name: z.string() });
export type Moderator = z.infer<typeof moderatorSchema>;

/** The room's pinned comment: a copy of the comment as it was posted, and when and by whom it was pinned. */
export const pinnedCommentSchema = z.object({
  /** The comment's seq (its `comment` event). */
  seq,
  userId: userIdSchema,
  name: z.string(),
  text: z.string(),
  ts: timestampMs,
  pinnedAt: timestampMs,
  /** User id of who pinned it. */
  pinnedBy: userIdSchema,
});
export type PinnedComment = z.infer<typeof pinnedCommentSchema>;

export const moderationRequestSchemas = [
  /** Streamer or operator: appoint (`moderator: true`) or remove a moderator of the room. Answer `{ moderators }`. */
  z.object({ t: z.literal('setModerator'), id: requestId, userId: userIdSchema, moderator: z.boolean() }),
  /**
   * Moderators: replace the room's keyword filter with `words` (empty: no filter). Words are trimmed,
   * blank ones dropped, duplicates (ignoring case) kept once. Answer `{ words }` as kept.
   */
  z.object({ t: z.literal('setFilter'), id: requestId, words: z.array(filterWordSchema).max(ModerationLimits.filterWords) }),
  /** Moderators: pin one of the room's recent comments (replacing the pinned one). Answer `{ seq }`. */
  z.object({ t: z.literal('pinComment'), id: requestId, seq }),
  /** Moderators: clear the pinned comment. Answer `{ seq }`. */
  z.object({ t: z.literal('unpinComment'), id: requestId }),
  /** Moderators: the room's moderation as this node holds it. Answer `ModerationState`. */
  z.object({ t: z.literal('getModeration'), id: requestId }),
] as const;
export const moderationRequestTypes: ReadonlySet<string> = new Set(moderationRequestSchemas.map((s) => s.shape.t.value));

/** The answer to `getModeration` (and `GET /api/rooms/:id/moderation`). */
export interface ModerationState {
  moderators: Moderator[];
  filterWords: string[];
  /** Words the filter takes at most on this server. */
  maxFilterWords: number;
  pinnedComment: PinnedComment | null;
}

/** Sequenced room events of moderation (kept in the resume ring, replayed on resume; commerce lane: never dropped for a slow socket). */
export const moderationEventSchemas = [
  /** The room's moderators changed: the whole list as it is now. */
  z.object({ t: z.literal('moderators'), seq, moderators: z.array(moderatorSchema) }),
  /** The pinned comment changed: the new one, or null when it was cleared (unpinned, or the comment was deleted). */
  z.object({ t: z.literal('commentPinned'), seq, pinned: pinnedCommentSchema.nullable() }),
] as const;

/**
 * The filter's form of a text: NFKC (full-width letters and compatibility forms fold to their plain
 * forms) then lower case. Words and comments are compared in this form.
 */
export function filterForm(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}
