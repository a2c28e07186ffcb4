import type { RecordingDirectory, RecordingRecord } from './RecordingDirectory.ts';

/** A single node's recordings, in process. */
export class MemoryRecordingDirectory implements RecordingDirectory {
  readonly #records = new Map<string, { record: RecordingRecord; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async get(roomId: string): Promise<RecordingRecord | undefined> {
    const entry = this.#records.get(roomId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.record;
    this.#records.delete(roomId);
    return undefined;
  }

  async put(roomId: string, record: RecordingRecord, ttlMs: number): Promise<void> {
    this.#records.set(roomId, { record, expiresAt: this.#now() + ttlMs });
  }
}
