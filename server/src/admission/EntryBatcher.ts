import type { EntryAnswer, EntryRequest, GiveawayStore } from '../store/GiveawayStore.ts';

interface Waiting {
  readonly request: EntryRequest;
  readonly resolve: (answer: EntryAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Giveaway entries toward the store in batches, as ClaimBatcher does for coupon claims: the
 * entries the admission controller lets go in one run of the event loop leave as one store call,
 * one Lua script per room on Redis. Each entry keeps its own place in the room's queue, its
 * deadline and its answer.
 */
export class EntryBatcher {
  readonly #store: Pick<GiveawayStore, 'enter'>;
  #waiting: Waiting[] = [];

  constructor(store: Pick<GiveawayStore, 'enter'>) {
    this.#store = store;
  }

  enter(request: EntryRequest): Promise<EntryAnswer> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ request, resolve, reject }) === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#store.enter(batch.map((w) => w.request)).then(
      (answers) => batch.forEach((w, i) => {
        const answer = answers[i];
        if (answer === undefined) w.reject(new Error('the store answered fewer entries than asked'));
        else w.resolve(answer);
      }),
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}
