import type { BidAnswer } from '../auctions/bidding.ts';
import { DomainError } from '../DomainError.ts';
import type { AuctionStore, BidRequest } from '../store/AuctionStore.ts';

interface Waiting {
  readonly request: BidRequest;
  readonly resolve: (answer: BidAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Bids toward the auction store in batches, as ClaimBatcher does for coupon claims: the bids the
 * admission controller lets go in one run of the event loop leave as one store call (one Lua
 * script per room on Redis), in the order they were let go, which is the room's arrival order.
 * Each bid keeps its own place in the queue, its deadline and its answer.
 */
export class BidBatcher {
  readonly #store: Pick<AuctionStore, 'bid'>;
  #waiting: Waiting[] = [];

  constructor(store: Pick<AuctionStore, 'bid'>) {
    this.#store = store;
  }

  bid(request: BidRequest): Promise<BidAnswer> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ request, resolve, reject }) === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#store.bid(batch.map((w) => w.request)).then(
      (answers) => batch.forEach((w, i) => {
        const answer = answers[i];
        if (answer === undefined || answer instanceof DomainError) w.reject(answer ?? new Error('the store answered fewer bids than asked'));
        else w.resolve(answer);
      }),
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
