import type { ShowLive } from '../../../protocol/src/index.ts';

/**
 * Each user's go-live notices still to hear (memory on one node, Redis across nodes): kept for a
 * user with a reminder when the show goes live, until one of their sockets hears it (live, or
 * right after its next `welcome`), or until it expires. An inbox keeps the `keep` notices that
 * expire last; expired ones are never handed out.
 */
export interface ShowNoticeInbox {
  /** Keeps `notice` for each user until `expiresAt` (epoch ms); the same notice again replaces it. */
  put(userIds: readonly string[], notice: ShowLive, expiresAt: number, keep: number): Promise<void>;
  /** Takes every notice the user has (they are gone after it, for any other caller too); those expired at `now` are left out. */
  take(userId: string, now: number): Promise<ShowLive[]>;
  /** The users heard the notice live: it is no longer kept for them. */
  delivered(userIds: readonly string[], noticeId: string): Promise<void>;
  close(): Promise<void>;
}
