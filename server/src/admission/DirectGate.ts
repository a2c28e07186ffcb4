import type { CartAnswer } from '../../../protocol/src/index.ts';
import type { ReserveRequest, Store } from '../store/Store.ts';
import type { CartGate } from './CartGate.ts';

/** No admission control: every store call leaves at once (`--admission false`, for comparison only). */
export class DirectGate implements CartGate {
  constructor(readonly store: Store) {}

  reserve(request: ReserveRequest): Promise<CartAnswer> {
    return this.store.reserve(request);
  }

  run<T>(_roomId: string, _priority: number, task: () => Promise<T>): Promise<T> {
    return task();
  }

  stockChanged(): void {}

  /** Nothing waits here; calls under way are not tracked (the comparison mode keeps no state). */
  async refuseUser(): Promise<void> {}

  joined(): void {}

  close(): void {}
}
