import type { CartAnswer } from '../../../protocol/src/index.ts';
import { DomainError } from '../DomainError.ts';
import type { ClaimRequest, CouponStore } from '../store/CouponStore.ts';

interface Waiting {
  readonly request: ClaimRequest;
  readonly resolve: (answer: CartAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coupon claims toward the store in batches: the claims the admission controller lets go in one
 * run of the event loop (its pump starts every task its limit allows at once) leave as one store
 * call, one Redis round trip per room, as add-to-carts do. Each claim still has its own place in the
 * room's queue, its deadline and its answer.
 */
export class ClaimBatcher {
  readonly #store: Pick<CouponStore, 'claimCoupons'>;
  #waiting: Waiting[] = [];

  constructor(store: Pick<CouponStore, 'claimCoupons'>) {
    this.#store = store;
  }

  claim(request: ClaimRequest): Promise<CartAnswer> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ request, resolve, reject }) === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#store.claimCoupons(batch.map((w) => w.request)).then(
      (answers) => batch.forEach((w, i) => {
        const answer = answers[i];
        if (answer === undefined || answer instanceof DomainError) w.reject(answer ?? new Error('the store answered fewer claims than asked'));
        else w.resolve(answer);
      }),
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
