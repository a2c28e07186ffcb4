import { WireLimits } from '../../protocol/src/messages.ts';

export interface LikeBatcherOptions {
  /** Taps within this window go out as one notice. Default 100 ms. */
  windowMs?: number;
  /** Most taps per notice. Default (and ceiling) `WireLimits.likesPerNotice` (100). */
  maxPerNotice?: number;
  /** Taps held while they cannot be sent (disconnected); more are dropped. Default 10 000. */
  maxPending?: number;
}

/**
 * Coalesces like taps: the first tap opens a window, and when it closes every tap of the window goes
 * out as one `like` notice carrying `n`. More than `maxPerNotice` taps spill into the next window,
 * so a tap storm costs at most one frame per window. `send(n)` returns false when it cannot send
 * (no joined socket); the taps are then kept until `flush()` is called again.
 */
export class LikeBatcher {
  readonly #send: (n: number) => boolean;
  readonly #windowMs: number;
  readonly #maxPerNotice: number;
  readonly #maxPending: number;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(send: (n: number) => boolean, options: LikeBatcherOptions = {}) {
    this.#send = send;
    this.#windowMs = options.windowMs ?? 100;
    this.#maxPerNotice = Math.min(Math.max(1, Math.floor(options.maxPerNotice ?? WireLimits.likesPerNotice)), WireLimits.likesPerNotice);
    this.#maxPending = options.maxPending ?? 10_000;
  }

  /** Taps not sent yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Records `taps` taps (default 1). */
  add(taps = 1): void {
    if (!Number.isFinite(taps) || taps < 1) return;
    this.#pending = Math.min(this.#maxPending, this.#pending + Math.floor(taps));
    this.#schedule();
  }

  /** Sends one notice now if any taps are pending (used when the socket becomes ready). */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#sendOne();
  }

  /** Drops pending taps and stops the timer. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = 0;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#pending === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sendOne();
    }, this.#windowMs);
  }

  #sendOne(): void {
    if (this.#pending === 0) return;
    const n = Math.min(this.#pending, this.#maxPerNotice);
    if (!this.#send(n)) return; // kept for the next flush()
    this.#pending -= n;
    this.#schedule(); // the spill-over, one window later
  }
}
