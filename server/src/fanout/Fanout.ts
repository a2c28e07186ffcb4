import type { Lane } from '../../../protocol/src/index.ts';

/** The transport's side of fan-out: send the same bytes to every subscriber of a topic. */
export interface TopicPublisher {
  /** Returns false when nobody was subscribed (not an error). */
  publish(topic: string, frame: Uint8Array): boolean;
}

export function topicOf(roomId: string, lane: Lane): string {
  return lane === 'commerce' ? `${roomId}#c` : `${roomId}#x`;
}

export interface FanoutStats {
  framesPublished: number;
  bytesPublished: number;
  publishesWithoutSubscribers: number;
}

/**
 * How room events leave the node: each event arrives here already encoded once and goes to the
 * lane's uWS topic as the same bytes for every viewer.
 */
export class Fanout {
  readonly stats: FanoutStats = { framesPublished: 0, bytesPublished: 0, publishesWithoutSubscribers: 0 };

  constructor(readonly publisher: TopicPublisher) {}

  publish(roomId: string, lane: Lane, frame: Uint8Array): void {
    this.stats.framesPublished++;
    this.stats.bytesPublished += frame.byteLength;
    if (!this.publisher.publish(topicOf(roomId, lane), frame)) this.stats.publishesWithoutSubscribers++;
  }
}

export type BackpressureAction = 'keep' | 'demote' | 'promote' | 'close';

/**
 * Slow-consumer policy. Kernel socket buffers absorb seconds of backlog before uWS's own buffer
 * grows, so once bytes do pile up in uWS the viewer is truly behind: drop its chatter lane first,
 * keep commerce, and past the hard cap close it (it reconnects and resumes from the ring, so no
 * commerce event is lost).
 */
export function backpressureAction(bufferedBytes: number, inChatter: boolean, limits: { softBufferBytes: number; hardBufferBytes: number }): BackpressureAction {
  if (bufferedBytes > limits.hardBufferBytes) return 'close';
  if (inChatter && bufferedBytes > limits.softBufferBytes) return 'demote';
  if (!inChatter && bufferedBytes <= limits.softBufferBytes / 2) return 'promote';
  return 'keep';
}
