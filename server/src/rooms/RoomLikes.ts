import type { Logger } from '../log.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

/**
 * Likes: taps are added up here and flushed to the directory every `intervalMs`; the room hears the
 * new total. A degraded room flushes four times less often. Taps that could not be flushed wait
 * for the next flush; nothing is kept for a room once its taps are out.
 */
export class RoomLikes {
  readonly #registry: Pick<RoomRegistry, 'hosted' | 'publishState'>;
  readonly #directory: Pick<RoomDirectory, 'addLikes'>;
  readonly #log: Logger;
  readonly #pending = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(deps: { registry: Pick<RoomRegistry, 'hosted' | 'publishState'>; directory: Pick<RoomDirectory, 'addLikes'>; intervalMs: number; log: Logger }) {
    this.#registry = deps.registry;
    this.#directory = deps.directory;
    this.#log = deps.log;
    this.#timer = setInterval(() => void this.flush(), deps.intervalMs).unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** `taps` likes from a member of a hosted room (ignored once the show ended). */
  like(roomId: string, taps: number): void {
    const room = this.#registry.hosted(roomId);
    if (room === undefined || room.info.state === 'ended') return;
    this.#pending.set(roomId, (this.#pending.get(roomId) ?? 0) + taps);
  }

  perRoomState(): Record<string, number> {
    return { pending: this.#pending.size };
  }

  async flush(): Promise<void> {
    const pending: Array<[string, number]> = [];
    for (const [roomId, taps] of this.#pending) {
      const room = this.#registry.hosted(roomId);
      // A degraded room coalesces likes four times as long.
      if (room !== undefined && room.degrade.level >= 1 && room.likeTicks++ % 4 !== 0) continue;
      pending.push([roomId, taps]);
      this.#pending.delete(roomId);
    }
    for (const [roomId, taps] of pending) {
      try {
        const total = await this.#directory.addLikes(roomId, taps);
        this.#registry.publishState(roomId, { t: 'likes', total });
      } catch (error) {
        this.#pending.set(roomId, (this.#pending.get(roomId) ?? 0) + taps); // keep the taps for the next flush
        this.#log.debug({ err: error, roomId }, 'like flush deferred');
      }
    }
  }
}
