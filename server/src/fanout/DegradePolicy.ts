/**
 * A room's degrade level:
 *   0 normal
 *   1 chatter sampled: viewers get at most K comments per second, likes coalesced more
 *   2 chatter off for viewers (the streamer and operators still see it)
 *   3 commerce only: viewers' comments are refused with OVERLOADED, counters stop
 * Commerce events and a client's own answers are never dropped at any level.
 */
export type DegradeLevel = 0 | 1 | 2 | 3;

/**
 * Measured pressure on a room (and on the node it lives on): what the node measures itself.
 * Clients' acks are not among them; a client may only hurt itself.
 */
export interface RoomSignals {
  /** p99 event-loop delay of the node, as it lasted over the last two windows (one long pause does not count), ms. */
  readonly eventLoopDelayMs: number;
  /**
   * How far behind this node's writes to the room's sockets run: for each socket, how long the
   * oldest broadcast not yet written to it has waited here; the value 90 % of the sockets are within, ms.
   */
  readonly viewerLagMs: number;
  /** Share of the room's users (each counted once) all of whose sockets are past the soft buffer cap (0..1). */
  readonly backloggedShare: number;
  /** Admission queue depth over its limit (0..1). */
  readonly queueFill: number;
  /** p99 latency of the room's store calls, ms. */
  readonly storeLatencyMs: number;
}

/** The level-1 threshold of each signal; level 2 is at twice it, level 3 at four times (queue fill by default: 0.1/0.2/0.4). */
export interface DegradeThresholds {
  readonly eventLoopDelayMs: number;
  readonly viewerLagMs: number;
  readonly backloggedShare: number;
  readonly queueFill: number;
  readonly storeLatencyMs: number;
  /** Signals must stay below a level's thresholds this long before the room steps down. */
  readonly downAfterMs: number;
}

const names: ReadonlyArray<keyof Omit<DegradeThresholds, 'downAfterMs'>> = ['eventLoopDelayMs', 'viewerLagMs', 'backloggedShare', 'queueFill', 'storeLatencyMs'];
/**
 * Counts of what is waiting right now (requests queued, sockets backlogged): not samples of a
 * noisy timing, so the level they call for needs no second measurement to be believed.
 */
const counted: ReadonlySet<string> = new Set(['backloggedShare', 'queueFill']);

interface Called {
  level: DegradeLevel;
  reason: string;
}

/** The level the signals call for on their own and which signal called loudest: over all signals, and over the counted ones only. */
function levelsFromSignals(signals: RoomSignals, t: DegradeThresholds): { all: Called; counted: Called } {
  const all: Called = { level: 0, reason: 'normal' };
  const countedOnly: Called = { level: 0, reason: 'normal' };
  for (const name of names) {
    const ratio = signals[name] / t[name];
    const wanted: DegradeLevel = ratio >= 4 ? 3 : ratio >= 2 ? 2 : ratio >= 1 ? 1 : 0;
    if (wanted === 0) continue;
    const reason = `${name} ${Math.round(signals[name] * 100) / 100}`;
    if (wanted > all.level) Object.assign(all, { level: wanted, reason });
    if (counted.has(name) && wanted > countedOnly.level) Object.assign(countedOnly, { level: wanted, reason });
  }
  return { all, counted: countedOnly };
}

/** The level the signals call for on their own, and which signal called loudest. */
export function levelFromSignals(signals: RoomSignals, t: DegradeThresholds): Called {
  return levelsFromSignals(signals, t).all;
}

/**
 * One room's level with hysteresis: up as soon as two measurements in a row call for it (one
 * noisy sample, such as a single long GC pause, does not cut a room's chat) — or at once when a
 * count of waiting work calls for it (a flash sale's queue is no noise, and the first second of a
 * burst is when the room's chatter costs the most) — and down one step only after the signals
 * stayed below for `downAfterMs` (no flapping). An operator's override wins until cleared.
 */
export class DegradeState {
  #level: DegradeLevel = 0;
  #reason = 'normal';
  #override: DegradeLevel | undefined;
  #calmSince: number | undefined;
  /** The level the previous measurement called for. */
  #lastWanted: DegradeLevel = 0;

  get level(): DegradeLevel {
    return this.#override ?? this.#level;
  }

  get reason(): string {
    return this.#override === undefined ? this.#reason : 'operator';
  }

  get override(): DegradeLevel | undefined {
    return this.#override;
  }

  /** `undefined` returns the room to automatic control. */
  setOverride(level: DegradeLevel | undefined): void {
    this.#override = level;
  }

  /** Feeds one measurement; returns true when the effective level changed. */
  update(signals: RoomSignals, thresholds: DegradeThresholds, now: number): boolean {
    const before = this.level;
    const { all: wanted, counted: waiting } = levelsFromSignals(signals, thresholds);
    const twice = Math.min(wanted.level, this.#lastWanted) as DegradeLevel;
    const confirmed = Math.max(twice, waiting.level) as DegradeLevel;
    this.#lastWanted = wanted.level;
    if (wanted.level > this.#level) {
      this.#calmSince = undefined;
      if (confirmed > this.#level) {
        this.#level = confirmed;
        this.#reason = waiting.level > twice ? waiting.reason : wanted.reason;
      }
    } else if (wanted.level < this.#level) {
      this.#calmSince ??= now;
      if (now - this.#calmSince >= thresholds.downAfterMs) {
        this.#level = (this.#level - 1) as DegradeLevel;
        this.#reason = this.#level === 0 ? 'normal' : wanted.reason;
        this.#calmSince = this.#level > wanted.level ? now : undefined;
      }
    } else {
      this.#calmSince = undefined;
      if (wanted.level > 0) this.#reason = wanted.reason;
    }
    return this.level !== before;
  }
}
