/**
 * The last `capacity` sequenced frames of a room, for resume. Frames are kept encoded: a resume
 * replays the exact bytes every other viewer got.
 */
export class ResumeRing {
  readonly #frames: Array<Uint8Array | undefined>;
  readonly #seqs: Float64Array;
  /** When each frame was delivered on this node: what a client's ack is measured against. */
  readonly #times: Float64Array;
  /** Audience bits of each frame (who it was sent to), for lag measurement. */
  readonly #audiences: Uint8Array;
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#frames = new Array<Uint8Array | undefined>(capacity);
    this.#seqs = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#audiences = new Uint8Array(capacity);
  }

  /** Sequence numbers must be pushed in increasing order. */
  push(seq: number, frame: Uint8Array, at = 0, audience = 0xff): void {
    const index = (this.#start + this.#size) % this.capacity;
    this.#frames[index] = frame;
    this.#seqs[index] = seq;
    this.#times[index] = at;
    this.#audiences[index] = audience;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity;
  }

  get oldestSeq(): number | undefined {
    return this.#size === 0 ? undefined : this.#seqs[this.#start];
  }

  /**
   * When the first frame after `seq` (and at most `upTo`) that reached `audience` (bits) was
   * delivered: the moment a client that acked `seq` started to be behind. Undefined when it is up
   * to date (or the ring no longer holds that far back).
   */
  firstDeliveredAfter(seq: number, audience: number, upTo = Number.POSITIVE_INFINITY): number | undefined {
    const oldest = this.oldestSeq;
    if (oldest === undefined) return undefined;
    for (let offset = Math.max(0, seq + 1 - oldest); offset < this.#size; offset++) {
      const index = (this.#start + offset) % this.capacity;
      if (this.#seqs[index]! > upTo) return undefined;
      if ((this.#audiences[index]! & audience) !== 0) return this.#times[index];
    }
    return undefined;
  }

  /**
   * Frames with seq > `after`, oldest first, or `undefined` when some of them are gone.
   * `latestSeq` is the room's current seq (the ring may be empty after a restart of the node).
   */
  since(after: number, latestSeq: number): Uint8Array[] | undefined {
    if (after > latestSeq) return undefined;
    if (after === latestSeq) return [];
    const oldest = this.oldestSeq;
    if (oldest === undefined || oldest > after + 1) return undefined;
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#start + i) % this.capacity;
      if (this.#seqs[index]! > after) out.push(this.#frames[index]!);
    }
    return out;
  }
}
