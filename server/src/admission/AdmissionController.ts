import { type CartAnswer, type RoomAdmissionStats, TypedEmitter } from '../../../protocol/src/index.ts';

export type { RoomAdmissionStats };
import { DomainError } from '../DomainError.ts';
import { isReplay } from '../store/idempotency.ts';
import { BACK_IN_STOCK, type ReserveRequest, type Store } from '../store/Store.ts';
import { eventLoopBusy, type LoopBusy } from '../util/loopBusy.ts';
import { PerTurnQueue } from '../util/PerTurnQueue.ts';
import { FairQueue } from './FairQueue.ts';
import { type Notice, PositionTeller, type Progress } from './PositionTeller.ts';
import { RoomAdmissionState } from './RoomAdmissionState.ts';
import { VegasLimit } from './VegasLimit.ts';

/** 0: checkout and cart changes (users already holding stock); 1: new add-to-cart; 2: reads. Lower goes first, higher is shed first. */
export type Priority = 0 | 1 | 2;
export const PRIORITY = { change: 0, add: 1, read: 2 } as const;

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
  /** Answers of adds for sold-out products given per event-loop turn at most (each answer is a socket write). */
  readonly soldOutAnswersPerTurn: number;
  /** Requests sent to the store per event-loop turn at most: their answers are written right after the turn, so this bounds it. */
  readonly requestsPerTurn: number;
}

/** Where a request stands before it reaches the controller: when it arrived (its deadline counts from there) and who hears its place in line. */
export interface Arrival {
  readonly arrivedAt: number;
  readonly progress?: Progress | undefined;
  /** Who asked, and in which room (a show linked to its shop queues in the shop's scope): asked of `turnRefusal` when the request's turn comes. */
  readonly userId?: string | undefined;
  readonly roomId?: string | undefined;
}

/**
 * Why a request that waited may no longer go to the store when its turn comes (its user was banned
 * meanwhile, in `roomId` or in the `scope` it buys from), or undefined: it goes. Synchronous: it reads
 * what the node has at hand.
 */
export type TurnRefusal = (scope: string, roomId: string, userId: string) => unknown;

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
  /** Who asked and where (`Arrival`); absent: the request is not checked again at its turn. */
  readonly userId: string | undefined;
  readonly fromRoom: string | undefined;
  /** The request's promise; call through `#settle`, which tells the observer once. */
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** True while the entry waits in a queue. */
  waiting: boolean;
}

export interface AdmissionEvents {
  /** A room's queue reached another `backlogEvery` waiting requests (the degrade monitor checks at once). */
  backlog: string;
}

/**
 * The admission controller: between cart requests and the store. Knows nothing about sockets.
 *
 * - Per-room bounded queues (and a cap per product), three priority classes, rooms served in turn
 *   (`FairQueue`) so a hot room cannot starve the others; at most `requestsPerTurn` requests leave
 *   per event-loop turn, so a burst's answers spread over turns instead of holding one.
 * - One concurrency limit toward the store, adapted from measured store latency (Vegas).
 * - Add-to-carts of one room go to the store in batches (one round trip for up to `batchMax`);
 *   the ones that arrive in one run of the event loop leave together.
 * - A request that waited past `maxWaitMs` since it arrived is answered OVERLOADED rather than served late.
 * - Once a product is sold out, adds skip the queue and the limit: they go to the store at once, in
 *   batches, where each key's recorded answer wins (a buyer who got the last unit and retries hears
 *   `reserved` again, never `sold_out`). The adds queued for it leave the queue at once and go
 *   there too. The lane's answers go out `soldOutAnswersPerTurn` a turn.
 * - Full queue: OVERLOADED at once, retry-after from the room's drain rate plus jitter.
 */
export class AdmissionController {
  readonly events: TypedEmitter<AdmissionEvents>;
  readonly #store: Store;
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #limit: VegasLimit;
  readonly #loopBusy: LoopBusy;
  readonly #rooms = new Map<string, RoomAdmissionState>();
  readonly #queue = new FairQueue<Entry>(3);
  /** roomId → sku → until when adds of it are answered by the sold-out lane. */
  readonly #soldOut = new Map<string, Map<string, number>>();
  /** Answers of the sold-out lane, given a turn's share at a time (each is a socket write). */
  readonly #soldOutAnswers: PerTurnQueue<{ entry: Entry; ok: boolean; value: unknown }>;
  /** Adds of sold-out products waiting for the next store call of the sold-out lane (one run of the event loop's worth). */
  #soldOutLane: Entry[] = [];
  readonly #progressTimer: NodeJS.Timeout;
  readonly #observer: AdmissionObserver | undefined;
  readonly #teller: PositionTeller;
  readonly #schedule: (run: () => void) => void;
  readonly #trackReply: (<T>(reply: Promise<T>) => Promise<T>) | undefined;
  readonly #backlogEvery: number;
  readonly #queueLimits: ((roomId: string) => number | undefined) | undefined;
  readonly #turnRefusal: TurnRefusal | undefined;
  #inFlight = 0;
  #callIds = 0;
  #pumpScheduled = false;
  #laneScheduled = false;
  /** Requests this turn may still send to the store; refilled by the next turn. */
  #turnLeft: number;
  #turnScheduled = false;

  /**
   * `teller` sends the position notices. `events` tells a room's queue reaching every
   * `backlogEvery` waiting requests (default: never); `onListenerError` hears a listener that threw.
   * `queueLimits` tells the queue limit an operator set for a room (the same on every node), or
   * undefined for `options.queueLimit`; it is asked at every request, so a change holds at once.
   * `turnRefusal` is asked as each request that waited (in the queue, or for the sold-out lane) goes
   * to the store; a refusal is its answer instead.
   */
  constructor(deps: {
    store: Store; options: AdmissionOptions; teller?: PositionTeller; now?: () => number; random?: () => number; observer?: AdmissionObserver; schedule?: (run: () => void) => void;
    trackReply?: <T>(reply: Promise<T>) => Promise<T>; backlogEvery?: number; onListenerError?: (error: unknown, event: string) => void; queueLimits?: (roomId: string) => number | undefined;
    loopBusy?: LoopBusy; turnRefusal?: TurnRefusal;
  }) {
    this.#turnRefusal = deps.turnRefusal;
    this.#loopBusy = deps.loopBusy ?? eventLoopBusy;
    this.#store = deps.store;
    this.#queueLimits = deps.queueLimits;
    this.#trackReply = deps.trackReply;
    this.#backlogEvery = deps.backlogEvery ?? Number.POSITIVE_INFINITY;
    this.events = new TypedEmitter<AdmissionEvents>(deps.onListenerError === undefined ? {} : { onListenerError: deps.onListenerError });
    this.#schedule = deps.schedule ?? setImmediate;
    this.#teller = deps.teller ?? new PositionTeller(256, 0);
    this.#soldOutAnswers = new PerTurnQueue(deps.options.soldOutAnswersPerTurn, ({ entry, ok, value }) => {
      this.#settle(entry, ok, value);
      return true;
    }, deps.schedule);
    this.#observer = deps.observer;
    this.#options = deps.options;
    this.#turnLeft = deps.options.requestsPerTurn;
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

  /** Add-to-cart through the queue (batched), or straight to the store when the product is known sold out. */
  reserve(request: ReserveRequest, arrival?: Arrival): Promise<CartAnswer> {
    const room = this.#room(request.roomId);
    if (this.#isSoldOut(request.roomId, request.sku)) {
      room.soldOutFast++;
      return new Promise<CartAnswer>((resolve, reject) => {
        this.#toSoldOutLane(this.#entry(request.roomId, PRIORITY.add, request.sku, arrival, request, undefined, resolve as (v: unknown) => void, reject));
      });
    }
    return this.#enqueue<CartAnswer>(room, request.roomId, PRIORITY.add, request.sku, arrival, request, undefined);
  }

  /** Any other store call (checkout, quantity change, read) under the same queues and limit. */
  run<T>(roomId: string, priority: Priority, task: () => Promise<T>, arrival?: Arrival): Promise<T> {
    return this.#enqueue<T>(this.#room(roomId), roomId, priority, undefined, arrival, undefined, task);
  }

  /** Stock news from the room (or from answers): adds of sold-out products skip the queue for a while. */
  stockChanged(roomId: string, sku: string, available: number): void {
    if (available > 0) this.#forgetSoldOut(roomId, sku);
    else this.#markSoldOut(roomId, sku);
  }

  /**
   * The room is no longer hosted here: its sold-out memory goes now, its state (counters, queue
   * limit) once no request of it waits or runs. A request that comes later starts afresh.
   */
  forget(roomId: string): void {
    this.#soldOut.delete(roomId);
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    room.forgotten = true;
    this.#dropIfDrained(roomId, room);
  }

  perRoomState(): Record<string, number> {
    return { rooms: this.#rooms.size, soldOut: this.#soldOut.size };
  }

  /** Rooms kept here with nothing waiting or running, no request for `idleForMs` and no sold-out mark still valid. */
  *idleRooms(idleForMs: number): Iterable<string> {
    const now = this.#now();
    const soldOutValid = (roomId: string) => {
      for (const until of this.#soldOut.get(roomId)?.values() ?? []) if (until > now) return true;
      return false;
    };
    for (const [roomId, room] of this.#rooms) {
      if (room.inFlight === 0 && this.#queue.sizeOf(roomId) === 0 && now - room.lastActiveAt >= idleForMs && !soldOutValid(roomId)) yield roomId;
    }
    for (const roomId of this.#soldOut.keys()) if (!this.#rooms.has(roomId) && !soldOutValid(roomId)) yield roomId;
  }

  /** The room's pressure for its degrade level: queue fill and store latency p99 (creates nothing). */
  pressureOf(roomId: string): { queueFill: number; storeLatencyMs: number } {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return { queueFill: 0, storeLatencyMs: 0 };
    const queueLimit = this.#queueLimitOf(roomId);
    return { queueFill: queueLimit === 0 ? 0 : this.#queue.sizeOf(roomId) / queueLimit, storeLatencyMs: Math.round(room.p99() * 100) / 100 };
  }

  /**
   * The user may no longer buy in the room (kicked): their requests still waiting (adds, claims,
   * checkouts, cart changes) are answered `error` now, and the promise resolves once the room's
   * store calls under way have settled, so that releasing the user's reservations afterwards leaves
   * nothing behind.
   */
  refuseUser(roomId: string, userId: string, error: unknown): Promise<void> {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return Promise.resolve();
    const lanes = this.#queue.lanesOf(roomId);
    let taken = 0;
    for (const lane of lanes ?? []) {
      lane.filter((entry) => {
        if (entry.userId !== userId) return true;
        this.#unqueued(room, entry);
        room.rejected++;
        taken++;
        this.#settle(entry, false, error);
        return false;
      });
    }
    if (taken > 0) this.#queue.taken(roomId, taken);
    return room.afterCallsUnderWay();
  }

  /** A request of `roomId` joined one already pending with the same idempotency key. */
  joined(roomId: string): void {
    this.#room(roomId).deduplicated++;
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

  /** Operator control: the store concurrency limit now (it keeps adapting from there). */
  setConcurrencyLimit(limit: number): void {
    this.#limit.set(limit);
  }

  /** Offers every waiting client its position and estimate (the teller sends what is new, paced). */
  tellPositions(): void {
    let roomId: string | undefined;
    let rate = 1;
    for (const [entry, position, room] of this.#queue.positions()) {
      if (room !== roomId) {
        roomId = room;
        rate = Math.max(this.#rooms.get(room)?.drainRate ?? 0, 1);
      }
      this.#teller.offer(entry, position, Math.round((position / rate) * 1000));
    }
  }

  // ------------------------------------------------------------------ queueing

  // Entries hold their promise's own resolve/reject, and `#settle` tells the observer: a closure
  // per request here cost more than the rest of the queueing.
  #entry(roomId: string, priority: Priority, sku: string | undefined, arrival: Arrival | undefined, reserve: ReserveRequest | undefined, task: (() => Promise<unknown>) | undefined, resolve: (value: unknown) => void, reject: (error: unknown) => void): Entry {
    return {
      roomId, priority, enqueuedAt: arrival?.arrivedAt ?? this.#now(), sku, progress: arrival?.progress, reserve, task, userId: arrival?.userId ?? reserve?.userId, fromRoom: arrival?.roomId,
      resolve, reject, toldPosition: 0, duePosition: 0, dueEtaMs: 0, waiting: true,
    };
  }

  /** Answers an entry (once: `waiting` turns false for good) and tells the observer. */
  #settle(entry: Entry, ok: boolean, value: unknown): void {
    entry.waiting = false;
    this.#observer?.answered?.(entry.roomId, entry.priority, this.#now() - entry.enqueuedAt, ok);
    if (ok) entry.resolve(value);
    else entry.reject(value);
  }

  #enqueue<T>(room: RoomAdmissionState, roomId: string, priority: Priority, sku: string | undefined, arrival: Arrival | undefined, reserve: ReserveRequest | undefined, task: (() => Promise<unknown>) | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.#entry(roomId, priority, sku, arrival, reserve, task, resolve as (v: unknown) => void, reject);
      if (this.#queue.sizeOf(roomId) >= this.#queueLimitOf(roomId) && !this.#shedForHigher(room, roomId, priority)) {
        room.rejected++;
        this.#settle(entry, false, this.#overloaded(room, roomId, 'the room\'s queue is full'));
        return;
      }
      if (sku !== undefined && (room.perProduct.get(sku) ?? 0) >= this.#options.productQueueLimit) {
        room.rejected++;
        this.#settle(entry, false, this.#overloaded(room, roomId, 'too many requests waiting for this product'));
        return;
      }
      this.#queue.push(roomId, priority, entry);
      if (sku !== undefined) room.perProduct.set(sku, (room.perProduct.get(sku) ?? 0) + 1);
      if (this.#queue.sizeOf(roomId) % this.#backlogEvery === 0) this.events.emit('backlog', roomId);
      // Waiting clients hear their position at the next progress tick, not at once: in a burst
      // most requests are answered before it, and every frame is a write to one socket.
      this.#schedulePump();
    });
  }

  /** A full queue still takes a more important request: the newest least important one makes room. */
  #shedForHigher(room: RoomAdmissionState, roomId: string, priority: Priority): boolean {
    const lanes = this.#queue.lanesOf(roomId);
    if (lanes === undefined) return false;
    for (let p = 2; p > priority; p--) {
      const victim = lanes[p]!.pop();
      if (victim === undefined) continue;
      this.#queue.taken(roomId, 1);
      this.#unqueued(room, victim);
      room.rejected++;
      this.#settle(victim, false, this.#overloaded(room, roomId, 'shed for more important requests'));
      return true;
    }
    return false;
  }

  #overloaded(room: RoomAdmissionState, roomId: string, why: string): DomainError {
    const drainMs = (this.#queue.sizeOf(roomId) / Math.max(room.drainRate, 1)) * 1000;
    const retryAfterMs = Math.round(Math.min(30_000, drainMs) + this.#random() * this.#options.retryJitterMs);
    return new DomainError('OVERLOADED', why, { retryAfterMs });
  }

  #unqueued(room: RoomAdmissionState, entry: Entry): void {
    entry.waiting = false;
    if (entry.sku === undefined) return;
    const left = (room.perProduct.get(entry.sku) ?? 1) - 1;
    if (left <= 0) room.perProduct.delete(entry.sku);
    else room.perProduct.set(entry.sku, left);
  }

  // ------------------------------------------------------------------ dispatch

  /**
   * Dispatch waits for the check phase of the loop's turn: by then the poll phase has read every
   * socket that was ready, so the requests that arrived in this turn and the store replies that
   * freed the limit leave together, as one store call per room (one write to Redis) instead of one
   * call per reply. Each call is a syscall that also wakes the store, which costs more than the
   * requests in it.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Starts store calls while the limit and the turn's share allow, one batch per room in turn. */
  #pump(): void {
    while (this.#inFlight < this.#limit.limit && this.#turnLeft > 0) {
      const roomId = this.#queue.nextRoom();
      if (roomId === undefined) return;
      const room = this.#rooms.get(roomId)!;
      const batch = this.#takeBatch(room, roomId, Math.min(this.#options.batchMax, this.#turnLeft));
      if (batch.length === 0) {
        if (room.forgotten) this.#dropIfDrained(roomId, room);
        continue;
      }
      this.#turnLeft -= batch.length;
      this.#dispatch(room, batch);
    }
    if (this.#turnLeft <= 0 && this.#queue.size > 0 && !this.#turnScheduled) {
      this.#turnScheduled = true;
      this.#schedule(() => {
        this.#turnScheduled = false;
        this.#turnLeft = this.#options.requestsPerTurn;
        this.#pump();
      });
    }
  }

  /** The head of the room's most important non-empty class; adds of one room travel together. Stale entries are answered now. */
  #takeBatch(room: RoomAdmissionState, roomId: string, max: number): Entry[] {
    const lanes = this.#queue.lanesOf(roomId);
    if (lanes === undefined) return [];
    const now = this.#now();
    const batch: Entry[] = [];
    let taken = 0;
    try {
      for (const lane of lanes) {
        while (lane.size > 0) {
          const entry = lane.peek()!;
          if (now - entry.enqueuedAt > this.#options.maxWaitMs) {
            lane.shift();
            taken++;
            this.#unqueued(room, entry);
            room.expired++;
            this.#settle(entry, false, this.#overloaded(room, roomId, 'waited too long in the queue'));
            continue;
          }
          const refusal = this.#refusalAtTurn(entry);
          if (refusal !== undefined) {
            lane.shift();
            taken++;
            this.#unqueued(room, entry);
            room.rejected++;
            this.#settle(entry, false, refusal);
            continue;
          }
          if (entry.reserve !== undefined && this.#isSoldOut(roomId, entry.reserve.sku)) {
            lane.shift();
            taken++;
            this.#unqueued(room, entry);
            room.soldOutFast++;
            this.#toSoldOutLane(entry);
            continue;
          }
          if (batch.length > 0 && (entry.reserve === undefined || batch.length >= max)) return batch;
          lane.shift();
          taken++;
          this.#unqueued(room, entry);
          batch.push(entry);
          if (entry.reserve === undefined) return batch; // tasks go alone
        }
        if (batch.length > 0) return batch;
      }
      return batch;
    } finally {
      this.#queue.taken(roomId, taken);
    }
  }

  #dispatch(room: RoomAdmissionState, batch: Entry[]): void {
    this.#inFlight++;
    room.inFlight++;
    room.admitted += batch.length;
    const started = this.#now();
    const loopMark = this.#loopBusy.mark();
    const inFlightAtStart = this.#inFlight;
    const callId = ++this.#callIds;
    room.callStarted(callId);
    const done = () => {
      const now = this.#now();
      this.#inFlight--;
      room.inFlight--;
      room.callSettled(callId);
      room.latency(now - started);
      this.#observer?.storeCall?.(batch[0]!.roomId, now - started, batch.length);
      this.#limit.sample(now - started, inFlightAtStart, now, this.#loopBusy.shareSince(loopMark));
      room.answered(batch.length, now);
      if (room.forgotten) this.#dropIfDrained(batch[0]!.roomId, room);
      this.#schedulePump();
    };
    const single = batch[0]!;
    if (single.task !== undefined) {
      single.task().then(
        (value) => {
          done();
          this.#settle(single, true, value);
        },
        (error: unknown) => {
          done();
          this.#settle(single, false, error);
        },
      );
      return;
    }
    this.#reserveBatch(batch, done, false);
  }

  /**
   * One store call for a batch of adds; `after` runs once the answers are out (or the call failed).
   * A queue batch's reply is read at the next poll (the turn's deferred work steps aside) and
   * answered at once: the sooner the last units are known taken, the sooner the room hears "sold
   * out" and stops tapping. A sold-out-lane batch's is not waited for (it would hold the small
   * rooms' frames for nothing), and its answers go out a turn's share at a time: a burst's taps
   * reach the lane in clumps, and a clump answered in one turn held the loop for its writes.
   */
  #reserveBatch(batch: Entry[], after: () => void, lane: boolean): void {
    const now = this.#now();
    const requests = batch.map((e) => e.reserve!);
    for (const request of requests) request.now = now;
    const call = lane ? this.#store.soldOutBatch(requests) : this.#store.reserveBatch(requests);
    if (!lane) this.#trackReply?.(call);
    const answer = lane ? (entry: Entry, ok: boolean, value: unknown) => this.#soldOutAnswers.push({ entry, ok, value }) : (entry: Entry, ok: boolean, value: unknown) => this.#settle(entry, ok, value);
    call.then(
      (answers) => {
        const back: Entry[] = [];
        // Learn "sold out" before the next batch leaves, so it skips the queue.
        answers.forEach((result, i) => {
          const entry = batch[i]!;
          if (result === BACK_IN_STOCK) {
            back.push(entry);
            return;
          }
          if (result instanceof DomainError) {
            answer(entry, false, result);
            return;
          }
          // A replayed answer (a retry's first answer) is no stock news: it may date from before a come-back.
          if (!isReplay(result) && (result.status === 'sold_out' || (result.status === 'reserved' && result.available === 0))) this.#markSoldOut(entry.roomId, result.sku);
          answer(entry, true, result);
        });
        after();
        if (back.length === 0) return;
        // A come-back this node did not hear (it came through a node whose news does not reach
        // here): the product is not sold out, and these adds are reserved as any add.
        for (const entry of back) this.#forgetSoldOut(entry.roomId, entry.reserve!.sku);
        this.#reserveBatch(back, noop, false);
      },
      (error: unknown) => {
        after();
        for (const entry of batch) answer(entry, false, error);
      },
    );
  }

  // ------------------------------------------------------------------ sold out

  /** Adds of a sold-out product go to the store together, once per run of the event loop, outside the queue and the limit. */
  #toSoldOutLane(entry: Entry): void {
    entry.waiting = false;
    this.#soldOutLane.push(entry);
    if (this.#laneScheduled) return;
    this.#laneScheduled = true;
    queueMicrotask(() => {
      this.#laneScheduled = false;
      const lane = this.#soldOutLane.filter((entry) => {
        const refusal = this.#refusalAtTurn(entry);
        if (refusal !== undefined) this.#soldOutAnswers.push({ entry, ok: false, value: refusal });
        return refusal === undefined;
      });
      this.#soldOutLane = [];
      for (let i = 0; i < lane.length; i += this.#options.batchMax) this.#reserveBatch(lane.slice(i, i + this.#options.batchMax), noop, true);
    });
  }

  /** A waiting request's refusal at its turn (`TurnRefusal`), or undefined. */
  #refusalAtTurn(entry: Entry): unknown {
    if (this.#turnRefusal === undefined || entry.userId === undefined) return undefined;
    return this.#turnRefusal(entry.roomId, entry.fromRoom ?? entry.roomId, entry.userId);
  }

  #markSoldOut(roomId: string, sku: string): void {
    let skus = this.#soldOut.get(roomId);
    if (skus === undefined) this.#soldOut.set(roomId, (skus = new Map()));
    skus.set(sku, this.#now() + this.#options.soldOutCacheMs);
    // The queued adds for it leave the queue now for the sold-out lane, which answers them a
    // turn's share at a time: answered at once, a thousand of them were a thousand socket writes in
    // one turn, and every small room's frames waited behind them.
    const room = this.#rooms.get(roomId);
    const lanes = this.#queue.lanesOf(roomId);
    if (room === undefined || lanes === undefined || !room.perProduct.has(sku)) return;
    let taken = 0;
    lanes[PRIORITY.add]!.filter((entry) => {
      if (entry.reserve?.sku !== sku) return true;
      this.#unqueued(room, entry);
      room.soldOutFast++;
      taken++;
      this.#toSoldOutLane(entry);
      return false;
    });
    this.#queue.taken(roomId, taken);
    if (room.forgotten) this.#dropIfDrained(roomId, room);
  }

  #isSoldOut(roomId: string, sku: string): boolean {
    const until = this.#soldOut.get(roomId)?.get(sku);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#forgetSoldOut(roomId, sku);
    return false;
  }

  #forgetSoldOut(roomId: string, sku: string): void {
    const skus = this.#soldOut.get(roomId);
    if (skus === undefined || !skus.delete(sku)) return;
    if (skus.size === 0) this.#soldOut.delete(roomId);
  }

  /** A forgotten room's state goes once none of its requests waits or runs. */
  #dropIfDrained(roomId: string, room: RoomAdmissionState): void {
    if (room.forgotten && room.inFlight === 0 && this.#queue.sizeOf(roomId) === 0 && this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
  }

  #queueLimitOf(roomId: string): number {
    return this.#queueLimits?.(roomId) ?? this.#options.queueLimit;
  }

  #room(roomId: string): RoomAdmissionState {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = new RoomAdmissionState(this.#now())));
    else room.lastActiveAt = this.#now();
    return room;
  }

  #statsOf(roomId: string, r: RoomAdmissionState): RoomAdmissionStats {
    return {
      roomId,
      queued: this.#queue.sizeOf(roomId),
      inFlight: r.inFlight,
      admitted: r.admitted,
      completed: r.completed,
      rejected: r.rejected,
      expired: r.expired,
      soldOutFast: r.soldOutFast,
      deduplicated: r.deduplicated,
      drainRate: Math.round(r.drainRate),
      storeLatencyMs: { ewma: Math.round(r.latencyEwma * 100) / 100, p99: Math.round(r.p99() * 100) / 100 },
      queueLimit: this.#queueLimitOf(roomId),
    };
  }
}

const noop = () => undefined;
