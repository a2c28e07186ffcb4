import type { ReminderAdd, ReminderDirectory } from './ReminderDirectory.ts';

/** Reminders of a single node, in process: each change writes the room's set and the user's list in one step. */
export class MemoryReminderDirectory implements ReminderDirectory {
  readonly #rooms = new Map<string, Set<string>>();
  readonly #noticed = new Set<string>();
  readonly #byUser = new Map<string, Set<string>>();

  async add(roomId: string, userId: string, max: number): Promise<{ result: ReminderAdd; count: number }> {
    let users = this.#rooms.get(roomId);
    if (users?.has(userId) === true) return { result: 'exists', count: users.size };
    if ((users?.size ?? 0) >= max) return { result: 'full', count: users?.size ?? 0 };
    if (users === undefined) this.#rooms.set(roomId, (users = new Set()));
    users.add(userId);
    let rooms = this.#byUser.get(userId);
    if (rooms === undefined) this.#byUser.set(userId, (rooms = new Set()));
    rooms.add(roomId);
    return { result: 'added', count: users.size };
  }

  async remove(roomId: string, userId: string): Promise<{ removed: boolean; count: number }> {
    const users = this.#rooms.get(roomId);
    const removed = users?.delete(userId) ?? false;
    if (users?.size === 0) this.#rooms.delete(roomId);
    const rooms = this.#byUser.get(userId);
    rooms?.delete(roomId);
    if (rooms?.size === 0) this.#byUser.delete(userId);
    return { removed, count: users?.size ?? 0 };
  }

  async status(roomId: string, userId: string): Promise<{ reminded: boolean; count: number }> {
    const users = this.#rooms.get(roomId);
    return { reminded: users?.has(userId) ?? false, count: users?.size ?? 0 };
  }

  async counts(roomIds: readonly string[]): Promise<number[]> {
    return roomIds.map((roomId) => this.#rooms.get(roomId)?.size ?? 0);
  }

  async remindedOf(roomIds: readonly string[], userId: string): Promise<boolean[]> {
    return roomIds.map((roomId) => this.#rooms.get(roomId)?.has(userId) ?? false);
  }

  async roomsOf(userId: string): Promise<string[]> {
    return [...(this.#byUser.get(userId) ?? [])];
  }

  async claimNotice(roomId: string): Promise<boolean> {
    if (this.#noticed.has(roomId)) return false;
    this.#noticed.add(roomId);
    return true;
  }

  async users(roomId: string): Promise<string[]> {
    return [...(this.#rooms.get(roomId) ?? [])];
  }

  async release(roomId: string): Promise<void> {
    for (const userId of this.#rooms.get(roomId) ?? []) {
      const rooms = this.#byUser.get(userId);
      rooms?.delete(roomId);
      if (rooms?.size === 0) this.#byUser.delete(userId);
    }
    this.#rooms.delete(roomId);
  }

  async close(): Promise<void> {}
}
