import type { Lane, RoomSettings, SequencedEvent, StateUpdate, UnsequencedEvent } from '../../../protocol/src/index.ts';

/** A room's keyword filter and its version (see `RoomDirectory.setFilter`). */
export interface KeywordFilter {
  readonly version: number;
  readonly words: readonly string[];
}

export interface SequencedDelivery {
  readonly kind: 'sequenced';
  readonly roomId: string;
  readonly lane: Lane;
  readonly seq: number;
  readonly frame: Uint8Array;
  readonly event: SequencedEvent;
  /**
   * Handed over by the publishing node as soon as its publish returned the seq, ahead of the copy
   * every node gets from the broker. Events other nodes published may still be on their way, so it
   * is applied only if it is the room's next seq; otherwise it is dropped (no resync) and the
   * broker's copy follows in order.
   */
  readonly early?: boolean;
}

/**
 * What a node does with a sequenced delivery, given the last seq it applied for the room: apply
 * it, drop it (already applied, or an early copy that would skip events still on their way), or
 * refill the gap from `recent` first.
 */
export function sequencedStep(latestSeq: number, delivery: Pick<SequencedDelivery, 'seq' | 'early'>): 'apply' | 'drop' | 'refill' {
  if (delivery.seq <= latestSeq) return 'drop';
  if (delivery.seq === latestSeq + 1) return 'apply';
  return delivery.early === true ? 'drop' : 'refill';
}

/** A room event as it reaches each node that hosts the room. */
export type Delivery =
  | SequencedDelivery
  | { readonly kind: 'state'; readonly roomId: string; readonly lane: Lane; readonly frame: Uint8Array; readonly update: StateUpdate }
  | { readonly kind: 'direct'; readonly roomId: string; readonly userId: string; readonly frame: Uint8Array }
  /** `until` 0: the user's ban was lifted. */
  | { readonly kind: 'kick'; readonly roomId: string; readonly userId: string; readonly until: number }
  /** An operator changed the room's settings (the directory holds them); newer versions replace older ones. */
  | { readonly kind: 'settings'; readonly roomId: string; readonly settings: RoomSettings }
  /** The room's keyword filter changed (the directory holds it); newer versions replace older ones. Never sent to clients: the words stay with the moderators. */
  | { readonly kind: 'filter'; readonly roomId: string; readonly filter: KeywordFilter }
  /** The room's media origin changed (a stream started, changed or stopped somewhere): the record is in the media origin directory. */
  | { readonly kind: 'media'; readonly roomId: string }
  /**
   * This node sequenced the room's events itself and lost its lease before the log had them all:
   * its sockets may have seen events from `fromSeq` on that are in no one else's history.
   */
  | { readonly kind: 'reset'; readonly roomId: string; readonly fromSeq: number };

/** What a node's broker did with sequencer leases (all zero without them). */
export interface SequencerStats {
  /** Rooms whose seqs this node issues itself now. */
  readonly leasesHeld: number;
  /** Events this node sequenced itself (delivered here before Redis answered). */
  readonly sequencedLocally: number;
  /** Leases this node let go because another node published in the room. */
  readonly leasesReleased: number;
  /** Rooms reset here because an append of a locally sequenced event failed. */
  readonly resets: number;
}

/** The room's latest seq and the sequenced events the broker still holds, oldest first. */
export interface RecentEvents {
  readonly latestSeq: number;
  readonly events: readonly SequencedDelivery[];
}

/**
 * Carries room events to every node hosting the room. Single-node and cluster take the same path
 * (publish → broker → onDelivery → room state + uWS topics), as in centrifuge.
 *
 * Guarantee: sequenced events of one room reach each subscribed node at most once and in seq
 * order; `seq` is issued by the broker (per room, gap-free, the same on every node), or by the node
 * holding the room's sequencer lease in the broker (see `RedisBrokerOptions.sequencerLeaseMs`). A
 * node that sees a gap (it was disconnected) refills from `recent`. The publishing node may also get
 * its own event early (see `SequencedDelivery.early`). State updates and direct messages are best effort,
 * latest value wins.
 */
export interface Broker {
  /** Issues the room's next seq, stamps it into `frame` (made by `encodeSequenced`), keeps it in the room's ring and delivers it. */
  publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number>;
  /** Whether a publish in the room now delivers on this node before it returns (no reply to wait for). */
  sequencesLocally(roomId: string): boolean;
  readonly sequencerStats: SequencerStats;
  publishState(roomId: string, lane: Lane, frame: Uint8Array, update: StateUpdate): void;
  /** A frame for one user's sockets in the room, on whichever nodes they are. */
  publishDirect(roomId: string, userId: string, frame: Uint8Array): void;
  /** Close a user's sockets in the room on every node and keep them out until `until`; `until` 0 lifts their ban instead. */
  publishKick(roomId: string, userId: string, until: number): Promise<void>;
  /** The room's settings as an operator just set them, to every node hosting the room (best effort: a node that starts hosting reads them from the directory). */
  publishSettings(roomId: string, settings: RoomSettings): Promise<void>;
  /** The room's keyword filter as a moderator just set it, to every node hosting the room (a node that starts hosting reads it from the directory). */
  publishFilter(roomId: string, filter: KeywordFilter): Promise<void>;
  /** Tells every node hosting the room that its media origin changed (best effort: nodes also re-read it now and then). */
  publishMedia(roomId: string): void;
  /** This node hosts members of the room: start receiving its events. Resolves once subscribed. */
  subscribe(roomId: string): Promise<void>;
  /** No members left on this node. */
  unsubscribe(roomId: string): Promise<void>;
  recent(roomId: string): Promise<RecentEvents>;
  onDelivery(handler: (delivery: Delivery) => void): void;
  /** Called after the broker lost and regained its connection: deliveries may have been missed. */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}
