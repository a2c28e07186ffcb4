import type { Lane, SequencedEvent, StateUpdate, UnsequencedEvent } from '../../../protocol/src/index.ts';
import { stampSeq } from '../../../protocol/src/index.ts';
import { Deque } from '../util/Deque.ts';
import type { Broker, Delivery, RecentEvents, SequencedDelivery, SequencerStats } from './Broker.ts';

/** In-process broker for a single node: seq is a counter, delivery is a synchronous call. */
export class LocalBroker implements Broker {
  readonly #rooms = new Map<string, { seq: number; ring: Deque<SequencedDelivery> }>();
  #handler: ((delivery: Delivery) => void) | undefined;

  /** `ringSize`: sequenced events kept per room for nodes (re)starting to host it. */
  constructor(readonly ringSize: number) {}

  async publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number> {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = { seq: 0, ring: new Deque() }));
    const seq = ++room.seq;
    stampSeq(frame, seq);
    const delivery: SequencedDelivery = { kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent };
    room.ring.push(delivery);
    if (room.ring.size > this.ringSize) room.ring.shift();
    this.#handler?.(delivery);
    return seq;
  }

  /** In-process: every seq is issued here, no leases. */
  readonly sequencerStats: SequencerStats = { leasesHeld: 0, sequencedLocally: 0, leasesReleased: 0, resets: 0 };

  sequencesLocally(_roomId: string): boolean {
    return true;
  }

  publishState(roomId: string, lane: Lane, frame: Uint8Array, update: StateUpdate): void {
    this.#handler?.({ kind: 'state', roomId, lane, frame, update });
  }

  publishDirect(roomId: string, userId: string, frame: Uint8Array): void {
    this.#handler?.({ kind: 'direct', roomId, userId, frame });
  }

  async publishKick(roomId: string, userId: string, until: number): Promise<void> {
    this.#handler?.({ kind: 'kick', roomId, userId, until });
  }

  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}

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
