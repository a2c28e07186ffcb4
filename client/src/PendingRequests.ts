import { LivecartError } from './LivecartError.ts';

/**
 * Requests waiting for their reply, by id. Each one has a deadline; a request may be *queued*
 * (created while the socket is not joined yet, not sent) or *sent*. When a socket closes, the sent
 * ones are rejected (their reply can never come) while the queued ones wait for the next socket.
 *
 * The server may report that a sent request waits in its admission queue (a `queued` frame, see
 * `waiting`): its deadline then moves to at least `etaMs + timeoutMs` from that moment, so a long
 * but announced wait does not time out.
 */
interface Entry<Frame> {
  readonly frame: Frame;
  sent: boolean;
  readonly resolve: (result: Readonly<Record<string, unknown>>) => void;
  readonly reject: (error: LivecartError) => void;
  timer: ReturnType<typeof setTimeout>;
  readonly createdAt: number;
  /** Epoch ms at which the request times out. */
  deadline: number;
  readonly onWaiting: WaitingListener | undefined;
}

/** Told each time the server reports the request waiting in its admission queue. */
export type WaitingListener = (position: number, etaMs: number) => void;

export interface PendingRequestOptions {
  onWaiting?: WaitingListener;
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
  add(build: (id: number) => Frame, options: PendingRequestOptions = {}): { frame: Frame; promise: Promise<Readonly<Record<string, unknown>>> } {
    const frame = build(this.nextId());
    const promise = new Promise<Readonly<Record<string, unknown>>>((resolve, reject) => {
      const createdAt = Date.now();
      const timer = this.#startTimer(frame.id, this.#timeoutMs);
      this.#entries.set(frame.id, { frame, sent: false, resolve, reject, timer, createdAt, deadline: createdAt + this.#timeoutMs, onWaiting: options.onWaiting });
    });
    return { frame, promise };
  }

  /**
   * The server says request `id` waits in its admission queue at `position` (1 = next), answer
   * expected in about `etaMs`: moves its deadline to at least `etaMs + timeoutMs` from now (never
   * earlier) and tells its `onWaiting` listener. Returns the frame, or undefined when no such
   * request is pending (it timed out, or the frame is stale).
   */
  waiting(id: number, position: number, etaMs: number): Frame | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    const now = Date.now();
    const deadline = now + Math.max(0, etaMs) + this.#timeoutMs;
    if (deadline > entry.deadline) {
      clearTimeout(entry.timer);
      entry.deadline = deadline;
      entry.timer = this.#startTimer(id, deadline - now);
    }
    entry.onWaiting?.(position, etaMs);
    return entry.frame;
  }

  /** Epoch ms at which request `id` times out, or undefined when it is not pending. */
  deadline(id: number): number | undefined {
    return this.#entries.get(id)?.deadline;
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

  #startTimer(id: number, ms: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      const entry = this.#settle(id);
      entry?.reject(LivecartError.of('UNAVAILABLE', `request ${id} timed out after ${Date.now() - entry.createdAt} ms`, true));
    }, ms);
  }

  #settle(id: number): Entry<Frame> | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    return entry;
  }
}
