/**
 * The last `capacity` sequenced frames of a room, for resume. Frames are kept encoded: a resume
 * replays the exact bytes every other viewer got.
 */
export class ResumeRing {
  readonly #frames: Array<Uint8Array | undefined>;
  readonly #seqs: Float64Array;
  /** When each frame was delivered on this node: what a client's ack is measured against. */
  readonly #times: Float64Array;
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#frames = new Array<Uint8Array | undefined>(capacity);
    this.#seqs = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /** Sequence numbers must be pushed in increasing order. */
  push(seq: number, frame: Uint8Array, at = 0): void {
    const index = (this.#start + this.#size) % this.capacity;
    this.#frames[index] = frame;
    this.#seqs[index] = seq;
    this.#times[index] = at;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity;
  }

  get oldestSeq(): number | undefined {
    return this.#size === 0 ? undefined : this.#seqs[this.#start];
  }

  get newestSeq(): number | undefined {
    return this.#size === 0 ? undefined : this.#seqs[(this.#start + this.#size - 1) % this.capacity];
  }

  /** When the frame with this seq was delivered here, if the ring still holds it. Seqs are consecutive, so this is O(1). */
  deliveredAt(seq: number): number | undefined {
    const oldest = this.oldestSeq;
    if (oldest === undefined || seq < oldest) return undefined;
    const offset = seq - oldest;
    if (offset >= this.#size) return undefined;
    const index = (this.#start + offset) % this.capacity;
    return this.#seqs[index] === seq ? this.#times[index] : undefined;
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
