import type { Lane, SequencedEvent, StateUpdate } from '../../../protocol/src/index.ts';

/** A room event as it reaches each node that hosts the room. */
export type Delivery =
  | { readonly kind: 'sequenced'; readonly roomId: string; readonly lane: Lane; readonly seq: number; readonly frame: Uint8Array; readonly event: SequencedEvent }
  | { readonly kind: 'state'; readonly roomId: string; readonly lane: Lane; readonly frame: Uint8Array; readonly update: StateUpdate }
  | { readonly kind: 'direct'; readonly roomId: string; readonly userId: string; readonly frame: Uint8Array };

/**
 * Carries room events to every node hosting the room. Single-node and cluster take the same path
 * (publish → broker → onDelivery → room state + uWS topics), as in centrifuge.
 *
 * Guarantee: sequenced events of one room are delivered to each subscribed node exactly once, in
 * seq order; `seq` is issued by the broker (per room, gap-free, consistent across nodes).
 * State updates are best effort, latest value wins.
 */
export interface Broker {
  /**
   * Issues the room's next seq, stamps it into `frame` (made by `encodeSequenced`) and delivers it.
   * Resolves with the seq once issued.
   */
  publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: Omit<SequencedEvent, 'seq'>): Promise<number>;
  publishState(roomId: string, lane: Lane, frame: Uint8Array, update: StateUpdate): void;
  /** A frame for one user's sockets in the room, on whichever nodes they are. */
  publishDirect(roomId: string, userId: string, frame: Uint8Array): void;
  /** This node hosts members of the room: start receiving its events. Idempotent. */
  subscribe(roomId: string): Promise<void>;
  /** No members left on this node. */
  unsubscribe(roomId: string): Promise<void>;
  /** The room's latest issued seq (0 when none). */
  latestSeq(roomId: string): Promise<number>;
  onDelivery(handler: (delivery: Delivery) => void): void;
  close(): Promise<void>;
}
