import { commerceScopeOf } from '../commerce/commerceScope.ts';
import type { ReplayInfo, ReplayMoment } from '../../../protocol/src/index.ts';
import { ProtocolError } from '../errors.ts';
import type { RecordingDirectory, RecordingPart } from '../store/RecordingDirectory.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { Store } from '../store/Store.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

/** A replay's answer is shared for this long: late visitors arriving together cost the directory and the store one read each. */
const ANSWER_CACHE_MS = 1000;
/** Rooms whose answer is cached at once, at most (the cache starts over past it). */
const ANSWER_CACHE_ROOMS = 1000;

/**
 * A show's replay, from any node: where its recording is played from (the recording directory),
 * and the product timeline: every pin of the room's pin log placed on the recording's clock, with
 * the product as the catalog holds it and its stock now.
 */
export class ReplayService {
  readonly #registry: Pick<RoomRegistry, 'view'>;
  readonly #directory: Pick<RoomDirectory, 'pins'>;
  readonly #recordings: RecordingDirectory;
  readonly #store: Pick<Store, 'roomStock'>;
  readonly #onSale: boolean;
  readonly #now: () => number;
  readonly #answers = new Map<string, { at: number; answer: Promise<ReplayInfo> }>();

  constructor(deps: {
    registry: Pick<RoomRegistry, 'view'>;
    directory: Pick<RoomDirectory, 'pins'>;
    recordings: RecordingDirectory;
    store: Pick<Store, 'roomStock'>;
    /** Adds are taken after the show (`--replay-sales`). */
    onSale: boolean;
    now?: () => number;
  }) {
    this.#registry = deps.registry;
    this.#directory = deps.directory;
    this.#recordings = deps.recordings;
    this.#store = deps.store;
    this.#onSale = deps.onSale;
    this.#now = deps.now ?? Date.now;
  }

  /** Throws ROOM_NOT_FOUND, or REPLAY_NOT_FOUND when the room's show has no recording (yet, or any more). */
  replay(roomId: string): Promise<ReplayInfo> {
    const now = this.#now();
    const cached = this.#answers.get(roomId);
    if (cached !== undefined && now - cached.at < ANSWER_CACHE_MS) return cached.answer;
    if (this.#answers.size >= ANSWER_CACHE_ROOMS) this.#answers.clear();
    const answer = this.#read(roomId);
    this.#answers.set(roomId, { at: now, answer });
    answer.catch(() => this.#answers.delete(roomId)); // a failure is not kept
    return answer;
  }

  async #read(roomId: string): Promise<ReplayInfo> {
    const room = await this.#registry.view(roomId);
    const show = String(room.info.createdAt);
    const record = await this.#recordings.get(roomId);
    // A record of another show is one of an earlier room with the same id.
    if (record === undefined || record.show !== show || record.parts.length === 0) {
      throw new ProtocolError('REPLAY_NOT_FOUND', `room ${roomId} has no recording: nothing was streamed while it was live, recording is off, or it was removed past its retention`);
    }
    const [pins, stock] = await Promise.all([this.#directory.pins(roomId), this.#store.roomStock(commerceScopeOf(room.info))]);
    const last = record.parts.at(-1)!;
    const timeline: ReplayMoment[] = [];
    for (const pin of pins) {
      const product = room.catalog.get(pin.sku);
      if (product === undefined) continue;
      const offerEndsAt = room.offerEnds.get(pin.sku);
      timeline.push({
        atMs: mediaOffsetAt(record.parts, pin.at), pinnedAt: pin.at, product, available: stock[pin.sku] ?? product.stock,
        ...(offerEndsAt === undefined ? {} : { offerEndsAt }),
      });
    }
    return {
      roomId,
      state: room.info.state,
      playlistUrl: `/replay/${roomId}/${show}/index.m3u8`,
      startedAt: record.parts[0]!.at,
      durationMs: last.offsetMs + last.durationMs,
      complete: room.info.state === 'ended' && !record.recording,
      onSale: this.#onSale || room.info.state !== 'ended',
      timeline,
    };
  }
}

/**
 * Where wall time `at` falls in a recording: inside a part, as far into it; before the recording or
 * in a gap between parts (the stream was off), where the next part starts; after it, at its end.
 */
export function mediaOffsetAt(parts: readonly RecordingPart[], at: number): number {
  for (const part of parts) {
    if (at < part.at) return part.offsetMs;
    if (at < part.at + part.durationMs) return Math.round(part.offsetMs + (at - part.at));
  }
  const last = parts.at(-1);
  return last === undefined ? 0 : last.offsetMs + last.durationMs;
}
