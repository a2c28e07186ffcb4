import type { Logger } from '../log.ts';
import type { Connection } from './Connection.ts';
import type { WsGateway } from './WsGateway.ts';

/** What `/api/ops/node` and `POST /api/ops/drain` show of a drain. */
export interface DrainStatus {
  draining: boolean;
  /** When the drain started (epoch ms), or null. */
  since: number | null;
  /** The window the sockets are moved over, ms, or null. */
  windowMs: number | null;
  /** Sockets open when the drain started. */
  socketsAtStart: number;
  /** Sockets whose turn came: closed with MOVED, or waiting for their answers first. */
  socketsMoved: number;
  /** Sockets open on the node now. */
  socketsLeft: number;
}

/**
 * Takes the node out of service without a reconnect storm. Once started it sends every new socket
 * elsewhere, and moves the sockets open then to other nodes (close code MOVED) one after the other,
 * evenly over the window: socket i of n gets its turn at `i × window / n`. A socket whose requests
 * are still being answered closes once they are; `shutdownGraceMs` past the window, what is still
 * open is closed anyway. A drain cannot be undone: the node is on its way out.
 */
export class NodeDrain {
  readonly #gateway: WsGateway;
  readonly #graceMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #since: number | undefined;
  #windowMs = 0;
  /** The sockets open at the start, in turn order; emptied once every turn came. */
  #queue: Connection[] = [];
  #socketsAtStart = 0;
  #next = 0;
  #turnTimer: NodeJS.Timeout | undefined;
  #forceTimer: NodeJS.Timeout | undefined;
  #turnsDone: Promise<void> | undefined;
  #endTurns: (() => void) | undefined;

  constructor(deps: { gateway: WsGateway; graceMs: number; log: Logger; now?: () => number }) {
    this.#gateway = deps.gateway;
    this.#graceMs = deps.graceMs;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  get draining(): boolean {
    return this.#since !== undefined;
  }

  /** When the window ends (epoch ms), or undefined before a drain. */
  get windowEndsAt(): number | undefined {
    return this.#since === undefined ? undefined : this.#since + this.#windowMs;
  }

  status(): DrainStatus {
    return {
      draining: this.draining,
      since: this.#since ?? null,
      windowMs: this.#since === undefined ? null : this.#windowMs,
      socketsAtStart: this.#socketsAtStart,
      socketsMoved: this.#next,
      socketsLeft: this.#gateway.stats.connectionsOpen,
    };
  }

  /** Starts draining over `windowMs`; a drain under way goes on as it was. True when this call started it. */
  start(windowMs: number): boolean {
    if (this.#since !== undefined) return false;
    this.#since = this.#now();
    this.#windowMs = windowMs;
    this.#gateway.sendNewSocketsElsewhere();
    this.#queue = this.#gateway.openConnections();
    this.#socketsAtStart = this.#queue.length;
    this.#turnsDone = new Promise((resolve) => (this.#endTurns = resolve));
    this.#log.info({ windowMs, sockets: this.#socketsAtStart }, 'draining: moving sockets to other nodes');
    this.#turn();
    return true;
  }

  /**
   * Resolves true once every socket had its turn and is gone, or false at `deadline` (epoch ms).
   * Before a drain starts, resolves at the deadline.
   */
  async whenDrained(deadline: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - this.#now()))));
    const drained = this.#turnsDone === undefined ? new Promise<never>(() => undefined) : this.#turnsDone.then(() => this.#gateway.whenEmpty()).then(() => true as const);
    try {
      return await Promise.race([drained, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    clearTimeout(this.#turnTimer);
    clearTimeout(this.#forceTimer);
  }

  /** Moves every socket whose turn has come, then waits for the next turn. */
  #turn(): void {
    const since = this.#since!;
    const count = this.#queue.length;
    const elapsed = this.#now() - since;
    const due = this.#windowMs === 0 ? count : Math.min(count, Math.floor((elapsed * count) / this.#windowMs) + 1);
    while (this.#next < due) this.#gateway.move(this.#queue[this.#next++]!);
    if (this.#next < count) {
      const nextAt = since + (this.#next * this.#windowMs) / count;
      this.#turnTimer = setTimeout(() => this.#turn(), Math.max(0, nextAt - this.#now()));
      return;
    }
    this.#queue = [];
    this.#endTurns?.();
    // A socket still waiting for its answers after the grace goes anyway: the window is the promise made to the operator.
    const forceAt = since + this.#windowMs + this.#graceMs;
    this.#forceTimer = setTimeout(() => this.#gateway.moveAllNow(), Math.max(0, forceAt - this.#now())).unref();
  }
}
