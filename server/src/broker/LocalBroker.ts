import type { Lane, SequencedEvent, StateUpdate } from '../../../protocol/src/index.ts';
import { stampSeq } from '../../../protocol/src/index.ts';
import type { Broker, Delivery } from './Broker.ts';

/** In-process broker for a single node: seq is a counter, delivery is a synchronous call. */
export class LocalBroker implements Broker {
  readonly #seqs = new Map<string, number>();
  #handler: ((delivery: Delivery) => void) | undefined;

  async publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: Omit<SequencedEvent, 'seq'>): Promise<number> {
    const seq = (this.#seqs.get(roomId) ?? 0) + 1;
    this.#seqs.set(roomId, seq);
    stampSeq(frame, seq);
    this.#handler?.({ kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent });
    return seq;
  }

  publishState(roomId: string, lane: Lane, frame: Uint8Array, update: StateUpdate): void {
    this.#handler?.({ kind: 'state', roomId, lane, frame, update });
  }

  publishDirect(roomId: string, userId: string, frame: Uint8Array): void {
    this.#handler?.({ kind: 'direct', roomId, userId, frame });
  }

  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}

  async latestSeq(roomId: string): Promise<number> {
    return this.#seqs.get(roomId) ?? 0;
  }

  /** Rooms are forgotten when deleted, so the map stays bounded by the room registry. */
  forget(roomId: string): void {
    this.#seqs.delete(roomId);
  }

  onDelivery(handler: (delivery: Delivery) => void): void {
    this.#handler = handler;
  }

  async close(): Promise<void> {}
}
