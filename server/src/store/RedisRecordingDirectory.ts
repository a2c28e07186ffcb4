import type { RedisConnection } from '../redis/client.ts';
import { roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { RecordingDirectory, RecordingPart, RecordingRecord } from './RecordingDirectory.ts';

/** Recordings in Redis: `ns:{r:ROOM}:recording`, the record as JSON with the retention as its TTL (in the room's slot). */
export class RedisRecordingDirectory implements RecordingDirectory {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state (closed by its owner). */
  constructor(redis: RedisConnection, prefix: string, retryAfterMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#retryAfterMs = retryAfterMs;
  }

  async get(roomId: string): Promise<RecordingRecord | undefined> {
    const json = await redisCall(() => this.#redis.get(roomKey(this.#prefix, roomId, 'recording')), this.#retryAfterMs, 'recording directory');
    return json === null ? undefined : parseRecord(json);
  }

  async put(roomId: string, record: RecordingRecord, ttlMs: number): Promise<void> {
    await redisCall(() => this.#redis.set(roomKey(this.#prefix, roomId, 'recording'), JSON.stringify(record), 'PX', Math.ceil(ttlMs)), this.#retryAfterMs, 'recording directory');
  }
}

/** A record another node wrote (perhaps another version of livecart): taken only if it reads as one. */
function parseRecord(json: string): RecordingRecord | undefined {
  try {
    const value = JSON.parse(json) as Partial<RecordingRecord>;
    if (typeof value.nodeId !== 'string' || typeof value.url !== 'string' || typeof value.show !== 'string' || !Array.isArray(value.parts)) return undefined;
    const parts = value.parts.filter((p): p is RecordingPart => Number.isFinite(p?.at) && Number.isFinite(p?.offsetMs) && Number.isFinite(p?.durationMs));
    return { nodeId: value.nodeId, url: value.url, show: value.show, recording: value.recording === true, parts };
  } catch {
    return undefined;
  }
}
