import { fullJitterDelay } from './backoff.ts';
import { LivecartError } from './LivecartError.ts';

/**
 * Automatic retries of one user action. The action gets an idempotency key once, and every retry
 * sends the *same* key: the server answers a repeated key with its first answer and changes
 * nothing, so a reply lost to a dropped socket never reserves (or orders) twice.
 *
 * Only temporary failures are retried (a `LivecartError` with `temporary: true`: `UNAVAILABLE`,
 * `RATE_LIMITED`, `INTERNAL`, a lost connection, a timed-out reply). The wait before retry n
 * (n = 1, 2, …) is
 *   retryAfterMs (when the server gave one) + random(0, min(maxMs, baseMs * 2^(n-1)))
 * i.e. never earlier than the server asked, and spread by full jitter so that a crowd of buyers
 * told "retry after 1 s" at the same moment does not come back at the same moment.
 */
export interface RetryOptions {
  /** Tries in all, the first one included; 1 never retries. Default 5. */
  maxAttempts: number;
  /** Upper bound of the first jitter window, ms. Default 200. */
  baseMs: number;
  /** Cap of the jitter window, ms. Default 5000. */
  maxMs: number;
  /** No retry starts later than this after the first try started, ms. Default 30 000. */
  maxElapsedMs: number;
}

export const defaultRetry: Readonly<RetryOptions> = Object.freeze({ maxAttempts: 5, baseMs: 200, maxMs: 5000, maxElapsedMs: 30_000 });

export interface RetryInfo {
  /** The attempt about to start (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** The failure that caused the retry. */
  error: unknown;
}

/** Seams for tests and for the client's lifetime; all optional. */
export interface RetryHooks {
  /** Uniform in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Clock for the elapsed-time budget. Default `Date.now`. */
  now?: () => number;
  /** Waits `ms`, resolving early when `signal` aborts. Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops retrying once aborted: the pending wait ends and the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Which failures to retry. Default: `LivecartError`s with `temporary: true`. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait. */
  onRetry?: (info: RetryInfo) => void;
}

/** Complete, validated options from a partial set (undefined fields take the defaults). */
export function resolveRetryOptions(options: Partial<RetryOptions> = {}): Readonly<RetryOptions> {
  const merged: RetryOptions = { ...defaultRetry };
  for (const key of Object.keys(defaultRetry) as Array<keyof RetryOptions>) {
    const value = options[key];
    if (value !== undefined) merged[key] = value;
  }
  if (!(merged.maxAttempts >= 1)) throw new RangeError('retry: maxAttempts must be at least 1');
  if (!(merged.baseMs >= 0) || !(merged.maxMs >= 0) || !(merged.maxElapsedMs >= 0)) {
    throw new RangeError('retry: baseMs, maxMs and maxElapsedMs must be non-negative');
  }
  return Object.freeze(merged);
}

export function isTemporaryError(error: unknown): boolean {
  return error instanceof LivecartError && error.temporary;
}

/** The wait before retry `retry` (1-based) after `error`: the server's retryAfterMs plus full jitter. */
export function retryDelay(retry: number, error: unknown, options: Pick<RetryOptions, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const retryAfterMs = error instanceof LivecartError && error.retryAfterMs !== undefined ? Math.max(0, error.retryAfterMs) : 0;
  return retryAfterMs + fullJitterDelay(retry - 1, options, random);
}

/**
 * Runs `run(attempt)` (attempt = 1, 2, …) until it resolves, fails for good, or the attempts or
 * the time budget run out; then rejects with the last failure, unchanged.
 */
export async function retryTemporary<T>(run: (attempt: number) => Promise<T>, options: Partial<RetryOptions> = {}, hooks: RetryHooks = {}): Promise<T> {
  const { maxAttempts, maxElapsedMs, baseMs, maxMs } = resolveRetryOptions(options);
  const { random = Math.random, now = Date.now, sleep = sleepFor, signal, isRetryable = isTemporaryError, onRetry } = hooks;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const delayMs = retryDelay(attempt, error, { baseMs, maxMs }, random);
      if (now() + delayMs - started > maxElapsedMs) throw error;
      onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, signal);
      if (signal?.aborted) throw signal.reason ?? error;
    }
  }
}

/**
 * `retryTemporary` for an action that changes state: one idempotency key (`hooks.key`, else a new
 * one) is passed to every attempt.
 */
export function idempotentRetry<T>(run: (key: string, attempt: number) => Promise<T>, options: Partial<RetryOptions> = {}, hooks: RetryHooks & { key?: string } = {}): Promise<T> {
  const key = hooks.key ?? newIdempotencyKey();
  return retryTemporary((attempt) => run(key, attempt), options, hooks);
}

/** The little of Web Crypto the key generator uses. */
export interface RandomSource {
  randomUUID?: () => string;
  getRandomValues?: (array: Uint8Array) => unknown;
}

/**
 * A fresh idempotency key: `crypto.randomUUID()` when available (browsers in secure contexts,
 * Node 19+ and 20), else a version-4 UUID built from `crypto.getRandomValues` (browsers on plain
 * http), else from `Math.random` (keys are scoped by user on the server, so this only needs to
 * be unique among one user's recent actions).
 */
export function newIdempotencyKey(source: RandomSource | undefined = (globalThis as { crypto?: RandomSource }).crypto): string {
  if (typeof source?.randomUUID === 'function') return source.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof source?.getRandomValues === 'function') source.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
