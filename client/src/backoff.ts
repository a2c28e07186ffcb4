/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 *   delay = random(0, min(maxMs, baseMs * 2^attempt))
 * Full jitter spreads a crowd of clients that lost the same server over the whole window, so a
 * restarted node is not hit by every viewer at once.
 */
export interface BackoffOptions {
  /** Upper bound of the first delay, in ms. */
  baseMs: number;
  /** Cap of the window, in ms. */
  maxMs: number;
  /** Attempts before giving up; default unlimited. */
  maxAttempts?: number;
}

export const defaultBackoff: Readonly<Required<BackoffOptions>> = Object.freeze({ baseMs: 500, maxMs: 30_000, maxAttempts: Number.POSITIVE_INFINITY });

/** The upper bound of the delay window for a 0-based `attempt`: min(maxMs, baseMs * 2^attempt). */
export function backoffCeiling(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>): number {
  const { baseMs, maxMs } = options;
  // 2^attempt overflows to Infinity for large attempts, and min() then picks maxMs: fine.
  return Math.max(0, Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt)));
}

/** A full-jitter delay for a 0-based `attempt`, in whole ms, in [0, backoffCeiling(attempt)) (0 when the ceiling is 0). */
export function fullJitterDelay(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** Counts attempts and hands out delays; `reset()` after a success. */
export class Backoff {
  readonly options: Readonly<Required<BackoffOptions>>;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    const merged = { ...defaultBackoff, ...stripUndefined(options) };
    if (!(merged.baseMs >= 0) || !(merged.maxMs >= 0)) throw new RangeError('backoff: baseMs and maxMs must be non-negative');
    if (!(merged.maxAttempts >= 0)) throw new RangeError('backoff: maxAttempts must be non-negative');
    this.options = Object.freeze(merged);
    this.#random = random;
  }

  /** Attempts handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** False once `maxAttempts` delays were handed out since the last reset. */
  get canRetry(): boolean {
    return this.#attempt < this.options.maxAttempts;
  }

  /** The next attempt number (1-based) and its delay, or undefined when attempts are exhausted. */
  next(): { attempt: number; delayMs: number } | undefined {
    if (!this.canRetry) return undefined;
    const delayMs = fullJitterDelay(this.#attempt, this.options, this.#random);
    this.#attempt += 1;
    return { attempt: this.#attempt, delayMs };
  }

  reset(): void {
    this.#attempt = 0;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
