import type { Lane, Role } from '../../../protocol/src/index.ts';
import type { DegradeLevel } from './DegradePolicy.ts';

/** The transport's side of fan-out: send the same bytes to every subscriber of a topic. */
export interface TopicPublisher {
  /** Returns false when nobody was subscribed (not an error). */
  publish(topic: string, frame: Uint8Array): boolean;
}

/**
 * Each room has three topics: commerce (everyone), chatter for viewers, chatter for staff (the
 * streamer and operators), so chatter can be cut for viewers while the people running the show
 * keep seeing it.
 */
export function topicOf(roomId: string, lane: Lane, role: Role = 'viewer'): string {
  if (lane === 'commerce') return `${roomId}#c`;
  return role === 'viewer' ? `${roomId}#x` : `${roomId}#s`;
}

/** Who an event went to: everyone (commerce), viewers subscribed to chatter, staff subscribed to chatter. */
export const Audience = { commerce: 1, viewerChatter: 2, staffChatter: 4 } as const;

/** The audience bits a socket receives: commerce always, its role's chatter while subscribed to it. */
export function audienceOf(role: Role, inChatter: boolean): number {
  if (!inChatter) return Audience.commerce;
  return Audience.commerce | (role === 'viewer' ? Audience.viewerChatter : Audience.staffChatter);
}

export interface FanoutStats {
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

/**
 * How room events leave the node: each event arrives here already encoded once and goes to its
 * topic as the same bytes for every subscriber. Under a degrade level, viewers' chatter is sampled
 * or cut here; commerce always goes out.
 */
export class Fanout {
  readonly stats: FanoutStats = {
    framesPublished: 0, bytesPublished: 0, publishesWithoutSubscribers: 0, chatterSampled: 0, chatterDropped: 0,
    byLane: { commerce: { frames: 0, bytes: 0 }, chatter: { frames: 0, bytes: 0 } },
  };
  readonly #samplers = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly publisher: TopicPublisher,
    /** Comments per second a room's viewers get at level 1. */
    readonly sampledCommentsPerSecond: number,
    readonly now: () => number = Date.now,
  ) {}

  /**
   * `type` is the frame's `t`. Returns who got it, as `Audience` bits, so the room can tell what
   * each client was meant to receive when it measures the client's lag.
   */
  publish(roomId: string, lane: Lane, type: string, frame: Uint8Array, level: DegradeLevel): number {
    if (lane === 'commerce') {
      this.#send('commerce', topicOf(roomId, 'commerce'), frame);
      return Audience.commerce;
    }
    this.#send('chatter', topicOf(roomId, 'chatter', 'streamer'), frame);
    if (!this.#toViewers(roomId, type, level)) return Audience.staffChatter;
    this.#send('chatter', topicOf(roomId, 'chatter', 'viewer'), frame);
    return Audience.staffChatter | Audience.viewerChatter;
  }

  /** A room no longer hosted here. */
  forget(roomId: string): void {
    this.#samplers.delete(roomId);
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
    const rate = this.sampledCommentsPerSecond;
    let bucket = this.#samplers.get(roomId);
    if (bucket === undefined) this.#samplers.set(roomId, (bucket = { tokens: rate, at: now }));
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #send(lane: Lane, topic: string, frame: Uint8Array): void {
    this.stats.framesPublished++;
    this.stats.bytesPublished += frame.byteLength;
    const byLane = this.stats.byLane[lane];
    byLane.frames++;
    byLane.bytes += frame.byteLength;
    if (!this.publisher.publish(topic, frame)) this.stats.publishesWithoutSubscribers++;
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
