import type { Lane, RoomSettings, SequencedEvent, StateUpdate, UnsequencedEvent } from '../../../protocol/src/index.ts';
import { stampSeq } from '../../../protocol/src/index.ts';
import { Deque } from '../util/Deque.ts';
import type { Broker, Delivery, KeywordFilter, RecentEvents, SequencedDelivery, SequencerStats } from './Broker.ts';

interface LocalRoom {
  seq: number;
  readonly ring: Deque<SequencedDelivery>;
  /** Whether this node hosts the room: only then are its events handed to `onDelivery`. */
  subscribed: boolean;
}

/**
 * In-process broker for a single node: seq is a counter, delivery is a synchronous call, and only
 * rooms the node subscribed to are delivered, as with the Redis broker.
 */
export class LocalBroker implements Broker {
  readonly #rooms = new Map<string, LocalRoom>();
  #handler: ((delivery: Delivery) => void) | undefined;

  /** `ringSize`: sequenced events kept per room for nodes (re)starting to host it. */
  constructor(readonly ringSize: number) {}

  #room(roomId: string): LocalRoom {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = { seq: 0, ring: new Deque(), subscribed: false }));
    return room;
  }

  #deliverIfSubscribed(delivery: Delivery): void {
    if (this.#rooms.get(delivery.roomId)?.subscribed === true) this.#handler?.(delivery);
  }

  async publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number> {
    const room = this.#room(roomId);
    const seq = ++room.seq;
    stampSeq(frame, seq);
    const delivery: SequencedDelivery = { kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent };
    room.ring.push(delivery);
    if (room.ring.size > this.ringSize) room.ring.shift();
    if (room.subscribed) this.#handler?.(delivery);
    return seq;
  }

  /** In-process: every seq is issued here, no leases. */
  readonly sequencerStats: SequencerStats = { leasesHeld: 0, sequencedLocally: 0, leasesReleased: 0, resets: 0 };

  sequencesLocally(_roomId: string): boolean {
    return true;
  }

  publishState(roomId: string, lane: Lane, frame: Uint8Array, update: StateUpdate): void {
    this.#deliverIfSubscribed({ kind: 'state', roomId, lane, frame, update });
  }

  publishDirect(roomId: string, userId: string, frame: Uint8Array): void {
    this.#deliverIfSubscribed({ kind: 'direct', roomId, userId, frame });
  }

  async publishKick(roomId: string, userId: string, until: number): Promise<void> {
    this.#deliverIfSubscribed({ kind: 'kick', roomId, userId, until });
  }

  async publishSettings(roomId: string, settings: RoomSettings): Promise<void> {
    this.#deliverIfSubscribed({ kind: 'settings', roomId, settings });
  }

  async publishFilter(roomId: string, filter: KeywordFilter): Promise<void> {
    this.#deliverIfSubscribed({ kind: 'filter', roomId, filter });
  }

  publishMedia(roomId: string): void {
    this.#deliverIfSubscribed({ kind: 'media', roomId });
  }

  /** Synchronous underneath: a publish right after the call (before awaiting it) is already delivered. */
  async subscribe(roomId: string): Promise<void> {
    this.#room(roomId).subscribed = true;
  }

  async unsubscribe(roomId: string): Promise<void> {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    // A room that never had an event keeps nothing worth remembering.
    if (room.seq === 0) this.#rooms.delete(roomId);
    else room.subscribed = false;
  }

  async recent(roomId: string): Promise<RecentEvents> {
    const room = this.#rooms.get(roomId);
    return { latestSeq: room?.seq ?? 0, events: [...(room?.ring ?? [])] };
  }

  onDelivery(handler: (delivery: Delivery) => void): void {
    this.#handler = handler;
  }

  onReconnect(): void {}

  async close(): Promise<void> {}
}
