import type { Lane, Role } from '../../../protocol/src/index.ts';
import type { DegradeLevel } from './DegradePolicy.ts';
import { FanoutPacer, type PacerStats, type TopicPublisher, type TopicShare } from './FanoutPacer.ts';

export type { TopicPublisher };

/**
 * A room's topics: commerce (everyone), chatter for viewers, chatter for staff (the streamer and
 * operators), so chatter can be cut for viewers while the people running the show keep seeing it.
 * Commerce and viewer chatter are split into shards of at most `shardSize` sockets each, so a big
 * room's frame can go out over several event-loop turns (see `FanoutPacer`).
 */
export function topicOf(roomId: string, lane: Lane, role: Role = 'viewer', shard = 0): string {
  if (lane === 'commerce') return `${roomId}#c${shard}`;
  return role === 'viewer' ? `${roomId}#x${shard}` : `${roomId}#s`;
}

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

/** A room's shards on this node: how many sockets each holds, and the topic lists built from them. */
class RoomShards {
  /** Sockets per shard (members joined to it, whether or not subscribed to chatter right now). */
  readonly counts: number[] = [];
  /** Staff sockets (their chatter topic is not sharded: a room has few). */
  readonly staff: number[] = [0];
  commerce: TopicShare[] = [];
  viewerChatter: TopicShare[] = [];
  /** Chatter cut for viewers: the staff's topic alone. */
  readonly staffChatter: readonly TopicShare[];
  /** Staff chatter first, then the viewers' shards: one job keeps every socket's order. */
  allChatter: TopicShare[];

  constructor(readonly roomId: string) {
    const staff: TopicShare = { topic: topicOf(roomId, 'chatter', 'streamer'), counts: this.staff, index: 0 };
    this.staffChatter = [staff];
    this.allChatter = [staff];
  }

  addShard(): number {
    const index = this.counts.length;
    this.counts.push(0);
    this.commerce = [...this.commerce, { topic: topicOf(this.roomId, 'commerce', 'viewer', index), counts: this.counts, index }];
    this.viewerChatter = [...this.viewerChatter, { topic: topicOf(this.roomId, 'chatter', 'viewer', index), counts: this.counts, index }];
    this.allChatter = [...this.staffChatter, ...this.viewerChatter];
    return index;
  }
}

export interface FanoutOptions {
  /** Comments per second a room's viewers get at level 1. */
  readonly sampledCommentsPerSecond: number;
  /** Sockets per shard topic. */
  readonly shardSize: number;
  /** Socket writes one event-loop turn publishes at most (at least one shard). */
  readonly deliveriesPerTurn: number;
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
  readonly #shards = new Map<string, RoomShards>();
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
    this.#pacer = new FanoutPacer(counting, options.deliveriesPerTurn, options.maxWaitingFrames, schedule);
    // One object, so /metrics and the ops API read the pacer's counters live with the rest.
    this.stats = Object.assign(this.#pacer.stats, {
      framesPublished: 0, bytesPublished: 0, publishesWithoutSubscribers: 0, chatterSampled: 0, chatterDropped: 0,
      byLane: { commerce: { frames: 0, bytes: 0 }, chatter: { frames: 0, bytes: 0 } },
    });
  }

  /** A socket joins `roomId` on this node: the shard it subscribes to (the first one with room). */
  join(roomId: string, role: Role): number {
    let shards = this.#shards.get(roomId);
    if (shards === undefined) this.#shards.set(roomId, (shards = new RoomShards(roomId)));
    let shard = shards.counts.findIndex((count) => count < this.options.shardSize);
    if (shard < 0) shard = shards.addShard();
    shards.counts[shard]!++;
    if (role !== 'viewer') shards.staff[0]!++;
    return shard;
  }

  leave(roomId: string, role: Role, shard: number): void {
    const shards = this.#shards.get(roomId);
    if (shards === undefined || (shards.counts[shard] ?? 0) === 0) return;
    shards.counts[shard]!--;
    if (role !== 'viewer') shards.staff[0]!--;
  }

  /**
   * `type` is the frame's `t`. Returns who gets it, as `Audience` bits, so the room can tell what
   * each client was meant to receive when it measures the client's lag. A state update still
   * waiting to go out is replaced by a newer one with the same `replaceKey`.
   */
  publish(roomId: string, lane: Lane, type: string, frame: Uint8Array, level: DegradeLevel, replaceKey?: string): number {
    const shards = this.#shards.get(roomId);
    if (lane === 'commerce') {
      this.#count('commerce', frame, 1);
      // "Sold out" goes to the whole room in this turn: every turn it waits, thousands of taps that
      // the client would have answered itself still reach the node.
      if (shards !== undefined && type === 'soldOut') this.#pacer.publishNow(roomId, shards.commerce, frame);
      else if (shards !== undefined) this.#pacer.publish(roomId, shards.commerce, frame, replaceKey);
      return Audience.commerce;
    }
    const toViewers = this.#toViewers(roomId, type, level);
    this.#count('chatter', frame, toViewers ? 2 : 1);
    if (shards !== undefined) this.#pacer.publish(roomId, toViewers ? shards.allChatter : shards.staffChatter, frame, replaceKey);
    return toViewers ? Audience.staffChatter | Audience.viewerChatter : Audience.staffChatter;
  }

  /** Frames of `roomId` waiting for a later event-loop turn. */
  waiting(roomId: string): number {
    return this.#pacer.waiting(roomId);
  }

  /** A room no longer hosted here. */
  forget(roomId: string): void {
    this.#samplers.delete(roomId);
    this.#shards.delete(roomId);
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
