import type { CartAnswer, RoomAdmissionStats } from '../../../protocol/src/index.ts';

export type { RoomAdmissionStats };
import { ProtocolError } from '../errors.ts';
import type { ReserveRequest, Store } from '../store/Store.ts';
import { Deque } from '../util/Deque.ts';
import { PerTurnQueue } from '../util/PerTurnQueue.ts';
import { type Notice, PositionTeller, type Progress } from './PositionTeller.ts';
import { VegasLimit } from './VegasLimit.ts';

/** 0: checkout and cart changes (users already holding stock); 1: new add-to-cart; 2: reads. Lower goes first, higher is shed first. */
export type Priority = 0 | 1 | 2;
export const PRIORITY = { change: 0, add: 1, read: 2 } as const;

export type { Progress };

export interface AdmissionOptions {
  /** Requests a room may have waiting at most; beyond, OVERLOADED with retry-after. */
  readonly queueLimit: number;
  /** Requests for one product of a room waiting at most. */
  readonly productQueueLimit: number;
  /** A request that waited longer is answered OVERLOADED instead of being served late (CoDel). */
  readonly maxWaitMs: number;
  /** Reservations of one room sent to the store in one call, at most. */
  readonly batchMax: number;
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** How often waiting clients are told their position. */
  readonly progressIntervalMs: number;
  /** Random spread added to every retry-after, so rejected clients do not come back together. */
  readonly retryJitterMs: number;
  /** A product known sold out is answered locally for this long before the store is asked again. */
  readonly soldOutCacheMs: number;
  /** Queued adds answered "sold out" per event-loop turn at most once their product sells out (each answer is a socket write). */
  readonly soldOutAnswersPerTurn: number;
}

/**
 * Optional measurements for whoever watches the controller (metrics). Called synchronously; keep
 * them cheap. Durations in milliseconds.
 */
export interface AdmissionObserver {
  /** A request got its answer `waitedMs` after it arrived (queue wait plus store call); `ok` false when it was refused or failed. Sold-out answers given locally count with their (near-zero) wait; a tap that joined a pending one does not count. */
  answered?(roomId: string, priority: Priority, waitedMs: number, ok: boolean): void;
  /** One store call (a batch of `requests` add-to-carts, or one task) took `ms`. */
  storeCall?(roomId: string, ms: number, requests: number): void;
}


interface Entry extends Notice {
  readonly roomId: string;
  readonly priority: Priority;
  readonly enqueuedAt: number;
  readonly sku: string | undefined;
  readonly progress: Progress | undefined;
  readonly reserve: ReserveRequest | undefined;
  readonly task: (() => Promise<unknown>) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** True while the entry waits in a queue. */
  waiting: boolean;
}

class RoomState {
  readonly queues: [Deque<Entry>, Deque<Entry>, Deque<Entry>] = [new Deque(), new Deque(), new Deque()];
  readonly perProduct = new Map<string, number>();
  queueLimit: number;
  inFlight = 0;
  admitted = 0;
  completed = 0;
  rejected = 0;
  expired = 0;
  soldOutFast = 0;
  deduplicated = 0;
  drainRate = 0;
  #answeredInWindow = 0;
  #windowStart: number;
  latencyEwma = 0;
  readonly latencies = new Float64Array(256);
  latencyCount = 0;

  constructor(queueLimit: number, now: number) {
    this.queueLimit = queueLimit;
    this.#windowStart = now;
  }

  get depth(): number {
    return this.queues[0].size + this.queues[1].size + this.queues[2].size;
  }

  answered(count: number, now: number): void {
    this.completed += count;
    this.#answeredInWindow += count;
    const elapsed = now - this.#windowStart;
    if (elapsed >= 250) {
      const rate = (this.#answeredInWindow * 1000) / elapsed;
      this.drainRate = this.drainRate === 0 ? rate : 0.5 * this.drainRate + 0.5 * rate;
      this.#answeredInWindow = 0;
      this.#windowStart = now;
    }
  }

  latency(ms: number): void {
    this.latencyEwma = this.latencyEwma === 0 ? ms : 0.8 * this.latencyEwma + 0.2 * ms;
    this.latencies[this.latencyCount++ % this.latencies.length] = ms;
  }

  p99(): number {
    const n = Math.min(this.latencyCount, this.latencies.length);
    if (n === 0) return 0;
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor(n * 0.99))]!;
  }
}

/**
 * The admission controller: between cart requests and the store. Knows nothing about sockets.
 *
 * - Per-room bounded queues (and a cap per product), three priority classes, a round-robin
 *   scheduler across rooms so a hot room cannot starve the others.
 * - One concurrency limit toward the store, adapted from measured store latency (Vegas).
 * - Add-to-carts of one room go to the store in batches (one round trip for up to `batchMax`);
 *   the ones that arrive in one run of the event loop leave together.
 * - A request that waited past `maxWaitMs` is answered OVERLOADED rather than served late.
 * - A second add-to-cart of the same user for the same product joins the pending one.
 * - Once a product is sold out, adds are answered locally, and the queued ones leave the queue at
 *   once and are answered over the next turns (`soldOutAnswersPerTurn` a turn).
 * - Full queue: OVERLOADED at once, retry-after from the room's drain rate plus jitter.
 */
export class AdmissionController {
  readonly #store: Store;
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #limit: VegasLimit;
  readonly #rooms = new Map<string, RoomState>();
  /** Rooms with waiting work, in round-robin order. */
  readonly #ready: string[] = [];
  readonly #pendingAdds = new Map<string, Promise<CartAnswer>>();
  readonly #soldOut = new Map<string, number>();
  /** Queued adds of a product that sold out, taken out of their queue and answered a turn's share at a time. */
  readonly #soldOutDue: PerTurnQueue<{ entry: Entry; sku: string }>;
  readonly #progressTimer: NodeJS.Timeout;
  readonly #observer: AdmissionObserver | undefined;
  readonly #teller: PositionTeller;
  readonly #trackReply: (<T>(reply: Promise<T>) => Promise<T>) | undefined;
  #inFlight = 0;
  #cursor = 0;
  #pumpScheduled = false;

  /** `teller` sends the position notices (shared with the edge's turn queue, so their writes share one budget per turn). */
  constructor(deps: { store: Store; options: AdmissionOptions; teller?: PositionTeller; now?: () => number; random?: () => number; observer?: AdmissionObserver; schedule?: (run: () => void) => void; trackReply?: <T>(reply: Promise<T>) => Promise<T> }) {
    this.#store = deps.store;
    this.#trackReply = deps.trackReply;
    this.#teller = deps.teller ?? new PositionTeller(256, 0);
    this.#soldOutDue = new PerTurnQueue(deps.options.soldOutAnswersPerTurn, ({ entry, sku }) => {
      entry.resolve({ status: 'sold_out', sku } satisfies CartAnswer);
      return true;
    }, deps.schedule);
    this.#observer = deps.observer;
    this.#options = deps.options;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#limit = new VegasLimit({ initial: deps.options.initialLimit, min: deps.options.minLimit, max: deps.options.maxLimit, alpha: 3, beta: 6, minRttWindowMs: 30_000 });
    this.#progressTimer = setInterval(() => this.tellPositions(), deps.options.progressIntervalMs).unref();
  }

  close(): void {
    clearInterval(this.#progressTimer);
  }

  get limit(): number {
    return this.#limit.limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Add-to-cart through the queue: deduplicated per user and product, sold-out fast path, batched. */
  reserve(request: ReserveRequest, progress?: Progress): Promise<CartAnswer> {
    const soldOut = this.soldOutAnswer(request.roomId, request.sku);
    if (soldOut !== undefined) return Promise.resolve(soldOut);
    const productKey = `${request.roomId}\u0000${request.sku}`;
    const room = this.#room(request.roomId);
    const dedupeKey = `${productKey}\u0000${request.userId}`;
    const pending = this.#pendingAdds.get(dedupeKey);
    if (pending !== undefined) {
      room.deduplicated++;
      return pending;
    }
    const promise = this.#enqueue<CartAnswer>(room, request.roomId, PRIORITY.add, request.sku, progress, request, undefined);
    this.#pendingAdds.set(dedupeKey, promise);
    const forget = () => this.#pendingAdds.delete(dedupeKey);
    promise.then(forget, forget);
    return promise;
  }

  /**
   * The sold-out answer for an add-to-cart, when this node already knows the product is sold out;
   * synchronous so a socket's tap can be answered before it queues behind the room's backlog.
   */
  soldOutAnswer(roomId: string, sku: string): CartAnswer | undefined {
    if (!this.#isSoldOut(`${roomId}\u0000${sku}`)) return undefined;
    this.#room(roomId).soldOutFast++;
    this.#observer?.answered?.(roomId, PRIORITY.add, 0, true);
    return { status: 'sold_out', sku };
  }

  /** Any other store call (checkout, quantity change, read) under the same queues and limit. */
  run<T>(roomId: string, priority: Priority, task: () => Promise<T>, progress?: Progress): Promise<T> {
    return this.#enqueue<T>(this.#room(roomId), roomId, priority, undefined, progress, undefined, task);
  }

  /** Stock news from the room (or from answers): sold-out products are answered locally for a while. */
  stockChanged(roomId: string, sku: string, available: number): void {
    const key = `${roomId}\u0000${sku}`;
    if (available > 0) this.#soldOut.delete(key);
    else this.#markSoldOut(roomId, sku);
  }

  stats(): RoomAdmissionStats[] {
    return [...this.#rooms.entries()].map(([roomId, r]) => this.#statsOf(roomId, r));
  }

  roomStats(roomId: string): RoomAdmissionStats {
    return this.#statsOf(roomId, this.#room(roomId));
  }

  /** A room's stats, or undefined when no request for it came here yet (unlike `roomStats`, creates nothing). */
  knownRoomStats(roomId: string): RoomAdmissionStats | undefined {
    const room = this.#rooms.get(roomId);
    return room === undefined ? undefined : this.#statsOf(roomId, room);
  }

  /** Operator controls. */
  setQueueLimit(roomId: string, queueLimit: number): void {
    this.#room(roomId).queueLimit = Math.max(0, Math.floor(queueLimit));
  }

  setConcurrencyLimit(limit: number): void {
    this.#limit.set(limit);
  }

  /** Offers every waiting client its position and estimate (the teller sends what is new, paced). */
  tellPositions(): void {
    for (const room of this.#rooms.values()) {
      if (room.depth === 0) continue;
      let position = 0;
      const rate = Math.max(room.drainRate, 1);
      for (const queue of room.queues) {
        for (const entry of queue) {
          position++;
          this.#teller.offer(entry, position, Math.round((position / rate) * 1000));
        }
      }
    }
  }

  // ------------------------------------------------------------------ queueing

  #enqueue<T>(room: RoomState, roomId: string, priority: Priority, sku: string | undefined, progress: Progress | undefined, reserve: ReserveRequest | undefined, task: (() => Promise<unknown>) | undefined): Promise<T> {
    return new Promise<T>((resolvePromise, rejectPromise) => {
      const enqueuedAt = this.#now();
      const observer = this.#observer;
      let resolve = resolvePromise as (v: unknown) => void;
      let reject = rejectPromise;
      if (observer?.answered !== undefined) {
        let told = false;
        const tell = (ok: boolean) => {
          if (told) return;
          told = true;
          observer.answered!(roomId, priority, this.#now() - enqueuedAt, ok);
        };
        resolve = (value) => {
          tell(true);
          resolvePromise(value as T);
        };
        reject = (error) => {
          tell(false);
          rejectPromise(error);
        };
      }
      const entry: Entry = { roomId, priority, enqueuedAt, sku, progress, reserve, task, resolve, reject, toldPosition: 0, duePosition: 0, dueEtaMs: 0, waiting: true };
      if (room.depth >= room.queueLimit && !this.#shedForHigher(room, priority)) {
        room.rejected++;
        reject(this.#overloaded(room, 'the room\'s queue is full'));
        return;
      }
      if (sku !== undefined && (room.perProduct.get(sku) ?? 0) >= this.#options.productQueueLimit) {
        room.rejected++;
        reject(this.#overloaded(room, 'too many requests waiting for this product'));
        return;
      }
      room.queues[priority].push(entry);
      if (sku !== undefined) room.perProduct.set(sku, (room.perProduct.get(sku) ?? 0) + 1);
      if (room.depth === 1) this.#ready.push(roomId);
      // Waiting clients hear their position at the next progress tick, not at once: in a burst
      // most requests are answered before it, and every frame is a write to one socket.
      this.#schedulePump();
    });
  }

  /** A full queue still takes a more important request: the newest least important one makes room. */
  #shedForHigher(room: RoomState, priority: Priority): boolean {
    for (let p = 2; p > priority; p--) {
      const victim = room.queues[p as Priority].pop();
      if (victim === undefined) continue;
      this.#unqueued(room, victim);
      room.rejected++;
      victim.reject(this.#overloaded(room, 'shed for more important requests'));
      return true;
    }
    return false;
  }

  #overloaded(room: RoomState, why: string): ProtocolError {
    const drainMs = (room.depth / Math.max(room.drainRate, 1)) * 1000;
    const retryAfterMs = Math.round(Math.min(30_000, drainMs) + this.#random() * this.#options.retryJitterMs);
    return new ProtocolError('OVERLOADED', why, retryAfterMs);
  }

  #unqueued(room: RoomState, entry: Entry): void {
    entry.waiting = false;
    if (entry.sku === undefined) return;
    const left = (room.perProduct.get(entry.sku) ?? 1) - 1;
    if (left <= 0) room.perProduct.delete(entry.sku);
    else room.perProduct.set(entry.sku, left);
  }

  // ------------------------------------------------------------------ dispatch

  /**
   * Dispatch waits one microtask, behind the continuations already queued: the cart jobs a turn
   * starts together reach `reserve` one microtask after another, and then leave as one batch (one
   * store call) instead of one call each while the limit has room. A store reply still pumps at once.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Starts store calls while the limit allows, one batch per room in turn. */
  #pump(): void {
    while (this.#inFlight < this.#limit.limit && this.#ready.length > 0) {
      if (this.#cursor >= this.#ready.length) this.#cursor = 0;
      const roomId = this.#ready[this.#cursor]!;
      const room = this.#rooms.get(roomId)!;
      const batch = this.#takeBatch(room);
      if (room.depth === 0) this.#ready.splice(this.#cursor, 1);
      else this.#cursor++;
      if (batch.length > 0) this.#dispatch(room, batch);
    }
  }

  /** The head of the most important non-empty class; adds of one room travel together. Stale entries are answered now. */
  #takeBatch(room: RoomState): Entry[] {
    const now = this.#now();
    const batch: Entry[] = [];
    for (const queue of room.queues) {
      while (queue.size > 0) {
        const entry = queue.peek()!;
        if (now - entry.enqueuedAt > this.#options.maxWaitMs) {
          queue.shift();
          this.#unqueued(room, entry);
          room.expired++;
          entry.reject(this.#overloaded(room, 'waited too long in the queue'));
          continue;
        }
        if (entry.reserve !== undefined && this.#isSoldOut(`${entry.roomId}\u0000${entry.reserve.sku}`)) {
          queue.shift();
          this.#unqueued(room, entry);
          room.soldOutFast++;
          entry.resolve({ status: 'sold_out', sku: entry.reserve.sku } satisfies CartAnswer);
          continue;
        }
        if (batch.length > 0 && (entry.reserve === undefined || batch.length >= this.#options.batchMax)) return batch;
        queue.shift();
        this.#unqueued(room, entry);
        batch.push(entry);
        if (entry.reserve === undefined) return batch; // tasks go alone
      }
      if (batch.length > 0) return batch;
    }
    return batch;
  }

  #dispatch(room: RoomState, batch: Entry[]): void {
    this.#inFlight++;
    room.inFlight++;
    room.admitted += batch.length;
    const started = this.#now();
    const inFlightAtStart = this.#inFlight;
    const done = () => {
      const now = this.#now();
      this.#inFlight--;
      room.inFlight--;
      room.latency(now - started);
      this.#observer?.storeCall?.(batch[0]!.roomId, now - started, batch.length);
      this.#limit.sample(now - started, inFlightAtStart, now);
      room.answered(batch.length, now);
      this.#pump();
    };
    const single = batch[0]!;
    if (single.task !== undefined) {
      single.task().then(
        (value) => {
          done();
          single.resolve(value);
        },
        (error: unknown) => {
          done();
          single.reject(error);
        },
      );
      return;
    }
    const requests = batch.map((e) => ({ ...e.reserve!, now: this.#now() }));
    const call = this.#store.reserveBatch(requests);
    // Read the reply at the next poll: the sooner the last units are known taken, the sooner the
    // room hears "sold out" and stops tapping.
    this.#trackReply?.(call);
    call.then(
      (answers) => {
        // Learn "sold out" before the next batch leaves, so it is answered locally.
        answers.forEach((answer, i) => {
          const entry = batch[i]!;
          if (answer instanceof ProtocolError) {
            entry.reject(answer);
            return;
          }
          if (answer.status === 'sold_out' || (answer.status === 'reserved' && answer.available === 0)) this.#markSoldOut(entry.roomId, answer.sku);
          entry.resolve(answer);
        });
        done();
      },
      (error: unknown) => {
        done();
        for (const entry of batch) entry.reject(error);
      },
    );
  }

  // ------------------------------------------------------------------ sold out

  #markSoldOut(roomId: string, sku: string): void {
    const key = `${roomId}\u0000${sku}`;
    this.#soldOut.set(key, this.#now() + this.#options.soldOutCacheMs);
    // The queued adds for it leave the queue now and get their answer over the next turns, a
    // turn's share at a time: answered at once, a thousand of them were a thousand socket writes
    // in one turn, and every small room's frames waited behind them.
    const room = this.#rooms.get(roomId);
    if (room === undefined || !room.perProduct.has(sku)) return;
    room.queues[PRIORITY.add].filter((entry) => {
      if (entry.reserve?.sku !== sku) return true;
      this.#unqueued(room, entry);
      room.soldOutFast++;
      this.#soldOutDue.push({ entry, sku });
      return false;
    });
  }

  #isSoldOut(key: string): boolean {
    const until = this.#soldOut.get(key);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#soldOut.delete(key);
    return false;
  }

  #room(roomId: string): RoomState {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = new RoomState(this.#options.queueLimit, this.#now())));
    return room;
  }

  #statsOf(roomId: string, r: RoomState): RoomAdmissionStats {
    return {
      roomId,
      queued: r.depth,
      inFlight: r.inFlight,
      admitted: r.admitted,
      completed: r.completed,
      rejected: r.rejected,
      expired: r.expired,
      soldOutFast: r.soldOutFast,
      deduplicated: r.deduplicated,
      drainRate: Math.round(r.drainRate),
      storeLatencyMs: { ewma: Math.round(r.latencyEwma * 100) / 100, p99: Math.round(r.p99() * 100) / 100 },
      queueLimit: r.queueLimit,
    };
  }
}
