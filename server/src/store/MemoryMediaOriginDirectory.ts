import type { MediaOrigin, MediaOriginClaim, MediaOriginDirectory } from './MediaOriginDirectory.ts';

/** A single node's media origins, in process (the node is every room's origin). */
export class MemoryMediaOriginDirectory implements MediaOriginDirectory {
  readonly #records = new Map<string, { origin: MediaOrigin; expiresAt: number }>();
  readonly #versions = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async get(roomId: string): Promise<MediaOrigin | undefined> {
    return this.#live(roomId);
  }

  async claim(roomId: string, claim: MediaOriginClaim, ttlMs: number): Promise<number> {
    const version = (this.#versions.get(roomId) ?? 0) + 1;
    this.#versions.set(roomId, version);
    this.#records.set(roomId, { origin: { ...claim, version }, expiresAt: this.#now() + ttlMs });
    return version;
  }

  async refresh(roomId: string, version: number, claim: MediaOriginClaim, ttlMs: number): Promise<boolean> {
    const current = this.#live(roomId);
    if (current !== undefined && current.version !== version) return false;
    this.#records.set(roomId, { origin: { ...claim, version }, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async release(roomId: string, version: number): Promise<void> {
    if (this.#records.get(roomId)?.origin.version === version) this.#records.delete(roomId);
    // Nothing newer can follow on this node: the version counter goes with the room.
    if (!this.#records.has(roomId)) this.#versions.delete(roomId);
  }

  #live(roomId: string): MediaOrigin | undefined {
    const record = this.#records.get(roomId);
    if (record === undefined) return undefined;
    if (record.expiresAt > this.#now()) return record.origin;
    this.#records.delete(roomId);
    return undefined;
  }
}
