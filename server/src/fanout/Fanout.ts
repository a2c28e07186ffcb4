import type { Lane, Role } from '../../../protocol/src/index.ts';
import type { DegradeLevel } from './DegradePolicy.ts';
import { type DirectSender, FanoutPacer, type PacerStats, type TopicPublisher, topicOf } from './FanoutPacer.ts';

export type { DirectSender, TopicPublisher };
export { topicOf };

/** Who an event went to: everyone (commerce), viewers subscribed to chatter, staff subscribed to chatter. */
export const Audience = { commerce: 1, viewerChatter: 2, staffChatter: 4 } as const;

/** The audience bits a socket receives: commerce always, its role's chatter while subscribed to it. */
export function audienceOf(role: Role, inChatter: boolean): number {
  if (!inChatter) return Audience.commerce;
  return Audience.commerce | (role === 'viewer' ? Audience.viewerChatter : Audience.staffChatter);
}

export interface FanoutStats extends PacerStats {
  framesPublished: number;
  bytesPublished: number;
  publishesWithoutSubscribers: number;
  /** Comments not sent to viewers because the room was sampling (level 1). */
  chatterSampled: number;
  /** Chatter not sent to viewers because the room was at level 2 or 3. */
  chatterDropped: number;
  /** The same frames and bytes, split by lane (chatter counts its staff and viewer topics). */
  byLane: Record<Lane, { frames: number; bytes: number }>;
}

export interface FanoutOptions {
  /** Comments per second a room's viewers get at level 1. */
  readonly sampledCommentsPerSecond: number;
  /** Sockets per shard topic. */
  readonly shardSize: number;
  /** Socket writes one event-loop turn publishes at most (at least one shard). */
  readonly deliveriesPerTurn: number;
  /** The event-loop turn length the per-turn budget adapts to while a big room's backlog lasts. */
  readonly turnTargetMs: number;
  /** Frames one room may have waiting for later turns; past it the backlog goes out at once. */
  readonly maxWaitingFrames: number;
}

/**
 * How room events leave the node: each event arrives here already encoded once and goes to its
 * topics as the same bytes for every subscriber, paced over event-loop turns for big rooms
 * (`FanoutPacer`). Under a degrade level, viewers' chatter is sampled or cut here; commerce always
 * goes out.
 */
export class Fanout {
  readonly stats: FanoutStats;
  readonly #samplers = new Map<string, { tokens: number; at: number }>();
  readonly #pacer: FanoutPacer;

  constructor(
    publisher: TopicPublisher,
    readonly options: FanoutOptions,
    readonly now: () => number = Date.now,
    schedule?: (next: () => void) => void,
  ) {
    const counting: TopicPublisher = {
      publish: (topic, frame) => {
        const reached = publisher.publish(topic, frame);
        if (!reached) this.stats.publishesWithoutSubscribers++;
        return reached;
      },
    };
    this.#pacer = new FanoutPacer(
      counting,
      { shardSize: options.shardSize, deliveriesPerTurn: options.deliveriesPerTurn, turnTargetMs: options.turnTargetMs, maxWaitingPerRoom: options.maxWaitingFrames },
      schedule,
    );
    // One object, so /metrics and the ops API read the pacer's counters live with the rest.
    this.stats = Object.assign(this.#pacer.stats, {
      framesPublished: 0, bytesPublished: 0, publishesWithoutSubscribers: 0, chatterSampled: 0, chatterDropped: 0,
      byLane: { commerce: { frames: 0, bytes: 0 }, chatter: { frames: 0, bytes: 0 } },
    });
  }

  /** How the room layer writes a small room's frame to its sockets directly (see `DirectSender`). */
  set directSender(sender: DirectSender) {
    this.#pacer.direct = sender;
  }

  /** A socket joins `roomId` on this node: the shard it subscribes to (viewers: the first one with room). */
  join(roomId: string, role: Role): number {
    return this.#pacer.join(roomId, role);
  }

  leave(roomId: string, role: Role, shard: number): void {
    this.#pacer.leave(roomId, role, shard);
  }

  /**
   * `type` is the frame's `t`. Returns who gets it, as `Audience` bits, so the room can tell what
   * each client was meant to receive when it measures the client's lag. A state update still
   * waiting to go out is replaced by a newer one with the same `replaceKey`. `seq`: the room
   * event's seq (state updates have none), so an ack can be held to what its socket was sent.
   * `clears`: the key of the state updates this frame makes out of date (a sold-out, its product's
   * level): one waiting before it does not go out, nor is a newer one put in its place.
   */
  publish(roomId: string, lane: Lane, type: string, frame: Uint8Array, level: DegradeLevel, replaceKey?: string, seq?: number, clears?: string): number {
    if (lane === 'commerce') {
      this.#count('commerce', frame, 1);
      this.#pacer.publish(roomId, 'commerce', frame, replaceKey, seq, clears);
      return Audience.commerce;
    }
    const toViewers = this.#toViewers(roomId, type, level);
    this.#count('chatter', frame, toViewers ? 2 : 1);
    this.#pacer.publish(roomId, toViewers ? 'chatter' : 'staffChatter', frame, replaceKey, seq, clears);
    return toViewers ? Audience.staffChatter | Audience.viewerChatter : Audience.staffChatter;
  }

  /** The room went to level 2 or 3: chatter still waiting for viewers' shards does not go out (staff still get it). */
  cutViewerChatter(roomId: string): void {
    this.stats.chatterDropped += this.#pacer.cutViewerChatter(roomId);
  }

  /** Frames of `roomId` waiting for a later event-loop turn. */
  waiting(roomId: string): number {
    return this.#pacer.waiting(roomId);
  }

  /** The highest seq this node has sent the sockets of `role` on fan-out shard `shard` of `roomId` (0 when unknown). */
  sentSeq(roomId: string, role: Role, shard: number): number {
    return this.#pacer.sentSeq(roomId, role, shard);
  }

  /** How far behind this node's writes to the room's sockets run, ms (see `FanoutPacer.lagMs`). */
  lagMs(roomId: string): number {
    return this.#pacer.lagMs(roomId);
  }

  perRoomState(): Record<string, number> {
    return { pacedRooms: this.#pacer.roomCount, samplers: this.#samplers.size };
  }

  /** A room no longer hosted here. */
  forget(roomId: string): void {
    this.#samplers.delete(roomId);
    this.#pacer.forget(roomId);
  }

  #toViewers(roomId: string, type: string, level: DegradeLevel): boolean {
    // Moderation must reach everyone who saw the comment, at any level.
    if (type === 'commentDeleted' || type === 'userMuted' || level === 0) return true;
    if (level >= 2) {
      this.stats.chatterDropped++;
      return false;
    }
    if (type !== 'comment') return true;
    if (this.#take(roomId)) return true;
    this.stats.chatterSampled++;
    return false;
  }

  /** A token bucket per room: at most K comments per second to viewers, bursts of K. */
  #take(roomId: string): boolean {
    const now = this.now();
    const rate = this.options.sampledCommentsPerSecond;
    let bucket = this.#samplers.get(roomId);
    if (bucket === undefined) this.#samplers.set(roomId, (bucket = { tokens: rate, at: now }));
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** A frame counts once per audience it goes to (staff chatter, viewer chatter), however many shards carry it. */
  #count(lane: Lane, frame: Uint8Array, times: number): void {
    this.stats.framesPublished += times;
    this.stats.bytesPublished += frame.byteLength * times;
    const byLane = this.stats.byLane[lane];
    byLane.frames += times;
    byLane.bytes += frame.byteLength * times;
  }
}

export type BackpressureAction = 'keep' | 'demote' | 'promote' | 'close';

/**
 * Slow-consumer policy. Kernel socket buffers absorb seconds of backlog before uWS's own buffer
 * grows, so once bytes do pile up in uWS the viewer is truly behind: drop its chatter lane first,
 * keep commerce, and past the hard cap close it (it reconnects and resumes from the ring, so no
 * commerce event is lost). `lagging` (measured from the client's acks) keeps a socket demoted
 * even when its uWS buffer looks small.
 */
export function backpressureAction(bufferedBytes: number, inChatter: boolean, limits: { softBufferBytes: number; hardBufferBytes: number }, lagging = false): BackpressureAction {
  if (bufferedBytes > limits.hardBufferBytes) return 'close';
  if (inChatter && (bufferedBytes > limits.softBufferBytes || lagging)) return 'demote';
  if (!inChatter && !lagging && bufferedBytes <= limits.softBufferBytes / 2) return 'promote';
  return 'keep';
}
