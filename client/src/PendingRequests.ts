import { LivecartError } from './LivecartError.ts';

/**
 * Requests waiting for their reply, by id. Each one has a deadline; a request may be *queued*
 * (created while the socket is not joined yet, not sent) or *sent*. When a socket closes, the sent
 * ones are rejected (their reply can never come) while the queued ones wait for the next socket.
 */
interface Entry<Frame> {
  readonly frame: Frame;
  sent: boolean;
  readonly resolve: (result: Readonly<Record<string, unknown>>) => void;
  readonly reject: (error: LivecartError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests<Frame extends { id: number }> {
  readonly #entries = new Map<number, Entry<Frame>>();
  readonly #timeoutMs: number;
  #nextId = 1;

  constructor(timeoutMs: number) {
    if (!(timeoutMs > 0)) throw new RangeError('requestTimeoutMs must be positive');
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh request id: 1, 2, 3, … wrapping before 2^32 (ids are unsigned 32-bit on the wire). */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId = id >= 0xffff_fffe ? 1 : id + 1;
    return id;
  }

  /**
   * Tracks a request; `build` receives its id and returns the frame. The promise settles with the
   * `ok` result, or rejects with the `err` reply, a timeout or a lost connection.
   */
  add(build: (id: number) => Frame): { frame: Frame; promise: Promise<Readonly<Record<string, unknown>>> } {
    const frame = build(this.nextId());
    const promise = new Promise<Readonly<Record<string, unknown>>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(frame.id)?.reject(LivecartError.of('UNAVAILABLE', `request ${frame.id} timed out after ${this.#timeoutMs} ms`, true));
      }, this.#timeoutMs);
      this.#entries.set(frame.id, { frame, sent: false, resolve, reject, timer });
    });
    return { frame, promise };
  }

  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /** The frame of pending request `id`, or undefined. */
  frame(id: number): Frame | undefined {
    return this.#entries.get(id)?.frame;
  }

  markSent(id: number): void {
    const entry = this.#entries.get(id);
    if (entry) entry.sent = true;
  }

  /** Frames created but not yet sent, oldest first. */
  queued(): Frame[] {
    const frames: Frame[] = [];
    for (const entry of this.#entries.values()) if (!entry.sent) frames.push(entry.frame);
    return frames;
  }

  /** Settles request `id` with an `ok` result. Returns false when no such request is pending. */
  resolve(id: number, result: Readonly<Record<string, unknown>> | undefined): boolean {
    const entry = this.#settle(id);
    entry?.resolve(result ?? {});
    return entry !== undefined;
  }

  /** Settles request `id` with an error. Returns false when no such request is pending. */
  reject(id: number, error: LivecartError): boolean {
    const entry = this.#settle(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  /** Rejects every sent request (the socket they went out on is gone). Queued ones stay. */
  rejectSent(makeError: () => LivecartError): void {
    for (const [id, entry] of [...this.#entries]) if (entry.sent) this.reject(id, makeError());
  }

  /** Rejects every request, sent or queued. */
  rejectAll(makeError: () => LivecartError): void {
    for (const id of [...this.#entries.keys()]) this.reject(id, makeError());
  }

  #settle(id: number): Entry<Frame> | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    return entry;
  }
}
