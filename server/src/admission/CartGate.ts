import type { CartAnswer } from '../../../protocol/src/index.ts';
import type { ReserveRequest } from '../store/Store.ts';
import type { Arrival, Priority } from './AdmissionController.ts';

/**
 * How the desk's store calls reach the store: through the admission controller's queues, or
 * straight (the naive mode the benchmarks compare against). Chosen once at start.
 */
export interface CartGate {
  reserve(request: ReserveRequest, arrival: Arrival): Promise<CartAnswer>;
  run<T>(roomId: string, priority: Priority, task: () => Promise<T>, arrival: Arrival): Promise<T>;
  /** Stock news: the gate may answer adds of sold-out products differently. */
  stockChanged(roomId: string, sku: string, available: number): void;
  /** The user may no longer buy in the room: their waiting adds are answered `error`; resolves once the store calls under way have settled. */
  refuseUser(roomId: string, userId: string, error: unknown): Promise<void>;
  /** A request joined one already pending with its idempotency key (counted per room). */
  joined(roomId: string): void;
  close(): void;
}
