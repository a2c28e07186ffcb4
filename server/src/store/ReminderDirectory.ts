/** What setting a reminder did: set now, set already (nothing changed), or refused because the room has `max`. */
export type ReminderAdd = 'added' | 'exists' | 'full';

/**
 * Who asked to be reminded of each scheduled show (memory on one node, Redis across nodes). One
 * set of user ids per room: setting a reminder twice counts once, and a room holds at most the
 * `max` its caller passes. That set is the one source of truth; each user's list of rooms
 * (`roomsOf`) always agrees with it, whatever crashed or raced in between.
 */
export interface ReminderDirectory {
  /** Sets the user's reminder unless `max` users have one; resolves with what happened and the room's count after it. */
  add(roomId: string, userId: string, max: number): Promise<{ result: ReminderAdd; count: number }>;
  /** Removes the user's reminder (none set: nothing changes); resolves with whether one was set and the count after. */
  remove(roomId: string, userId: string): Promise<{ removed: boolean; count: number }>;
  /** Whether the user has a reminder for the room, and the room's count. */
  status(roomId: string, userId: string): Promise<{ reminded: boolean; count: number }>;
  /** The count of each room, in the order asked. */
  counts(roomIds: readonly string[]): Promise<number[]>;
  /** Whether the user has a reminder for each room, in the order asked. */
  remindedOf(roomIds: readonly string[], userId: string): Promise<boolean[]>;
  /**
   * Claims the room's go-live notice: true for the first caller only, on any node, so a show
   * started twice at once (two nodes, a retried request) tells its reminded users once.
   */
  claimNotice(roomId: string): Promise<boolean>;
  /** The rooms the user has a reminder for (unordered): exactly those whose set holds the user. */
  roomsOf(userId: string): Promise<string[]>;
  /** Every user with a reminder for the room (at most the `max` it was filled to). */
  users(roomId: string): Promise<string[]>;
  /** Drops every reminder of the room (a show that will not happen); users' lists follow. */
  release(roomId: string): Promise<void>;
  close(): Promise<void>;
}
