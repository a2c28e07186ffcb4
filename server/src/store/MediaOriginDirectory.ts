import type { MediaKind } from '../../../protocol/src/index.ts';

/** One track of a room's stream, as its origin publishes it. */
export interface MediaOriginProducer {
  readonly producerId: string;
  readonly kind: MediaKind;
  readonly paused: boolean;
}

/** The node a room's stream is published on, and what it publishes. */
export interface MediaOrigin {
  readonly nodeId: string;
  /** Where the other nodes ask it for pipes (its `--public-url`). */
  readonly url: string;
  /** Grows with every claim of the room's origin: a relay that followed an older one pipes again. */
  readonly version: number;
  readonly producers: readonly MediaOriginProducer[];
}

export type MediaOriginClaim = Omit<MediaOrigin, 'version'>;

/**
 * Where every node finds a room's media origin (memory on one node; the room's slot in Redis
 * otherwise). The record lives `ttlMs` unless its origin refreshes it, so a node that died leaves
 * no lasting record; a new publish anywhere takes the room over.
 */
export interface MediaOriginDirectory {
  get(roomId: string): Promise<MediaOrigin | undefined>;
  /** This node becomes the room's origin (the newest publish wins); resolves with the record's version. */
  claim(roomId: string, claim: MediaOriginClaim, ttlMs: number): Promise<number>;
  /**
   * Writes the producers and renews the record, if it is still claim `version` (or it ran out: it
   * is written again); false when another node claimed the room since.
   */
  refresh(roomId: string, version: number, claim: MediaOriginClaim, ttlMs: number): Promise<boolean>;
  /** Removes the record if it is still claim `version`. */
  release(roomId: string, version: number): Promise<void>;
}
