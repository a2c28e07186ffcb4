import { describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import { type AdmissionOptions, AdmissionController, PRIORITY, type TurnRefusal } from '../../server/src/admission/AdmissionController.ts';
import { VegasLimit } from '../../server/src/admission/VegasLimit.ts';
import { DomainError } from '../../server/src/DomainError.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import type { ReserveRequest } from '../../server/src/store/Store.ts';
import { ReplyPriority } from '../../server/src/util/ReplyPriority.ts';

/** A real MemoryStore whose calls wait at a gate the test opens: the test decides when the store answers. */
class GatedStore extends MemoryStore {
  calls: number[] = [];
  /** What reached the store, in order: the users of each batch. */
  log: string[] = [];
  #waiting: Array<() => void> = [];
  closed = true;

  constructor() {
    super({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 });
  }

  override async reserveBatch(requests: readonly ReserveRequest[]) {
    this.calls.push(requests.length);
    this.log.push(requests.map((r) => r.userId).join(','));
    if (this.closed) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return super.reserveBatch(requests);
  }

  /** Calls of the sold-out lane, counted apart (`soldOutCalls`) and gated the same way. */
  soldOutCalls: number[] = [];

  override async soldOutBatch(requests: readonly ReserveRequest[]) {
    this.soldOutCalls.push(requests.length);
    if (this.closed) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return super.soldOutBatch(requests);
  }

  /** Lets every waiting call through (and the ones after, until closed again). */
  async open(): Promise<void> {
    this.closed = false;
    while (this.#waiting.length > 0) this.#waiting.shift()!();
    await flush();
  }
}

/** Adds taken in one turn of the loop leave together in its check phase: this lets them leave. */
const dispatched = () => new Promise<void>((resolve) => setImmediate(resolve));

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
};

const options = (o: Partial<AdmissionOptions> = {}): AdmissionOptions => ({
  queueLimit: 100, productQueueLimit: 100, maxWaitMs: 1000, batchMax: 64, initialLimit: 1, minLimit: 1, maxLimit: 32,
  progressIntervalMs: 60_000, retryJitterMs: 500, soldOutCacheMs: 1000, soldOutAnswersPerTurn: 1000, requestsPerTurn: 1000, ...o,
});

function setup(o: Partial<AdmissionOptions> = {}, turnRefusal?: TurnRefusal) {
  let now = 1_000_000;
  const store = new GatedStore();
  const controller = new AdmissionController({ store, options: options(o), now: () => now, random: () => 0.5, turnRefusal });
  const clock = { advance: (ms: number) => (now += ms), get now() { return now; } };
  let n = 0;
  const add = (userId: string, sku = 'hot', quantity = 1, roomId = 'r1', progress?: (p: number, eta: number) => void) =>
    controller.reserve({ roomId, userId, sku, quantity, key: `k${n++}`, now: clock.now, ttlMs: 60_000 }, { arrivedAt: clock.now, progress });
  return { store, controller, clock, add };
}

const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

describe('AdmissionController', () => {
  it('bounds the queue and rejects beyond it at once with a drain-based, jittered retry-after', async () => {
    const { store, controller, add } = setup({ queueLimit: 3 });
    await store.addProduct('r1', { sku: 'hot', stock: 100, priceCents: 1, currency: 'USD' });
    const first = settle(add('u0'));
    await dispatched(); // in flight (limit 1)
    const queued = [1, 2, 3].map((i) => settle(add(`u${i}`)));
    const rejected = await settle(add('u4'));
    expect(rejected.ok).toBe(false);
    const error = (rejected as { error: DomainError }).error;
    expect(error.code).toBe('OVERLOADED');
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(250); // jitter 0.5 × 500 on top of the drain estimate
    expect(controller.roomStats('r1')).toMatchObject({ queued: 3, rejected: 1 });
    await store.open();
    for (const r of [await first, ...(await Promise.all(queued))]) expect(r.ok && (r.value as CartAnswer).status).toBe('reserved');
  });

  it('answers a request that waited past its deadline with OVERLOADED instead of serving it late', async () => {
    const { store, controller, add, clock } = setup({ maxWaitMs: 100 });
    await store.addProduct('r1', { sku: 'hot', stock: 100, priceCents: 1, currency: 'USD' });
    const first = settle(add('u0'));
    await dispatched();
    const late = settle(add('u1'));
    clock.advance(150);
    await store.open();
    expect((await first).ok).toBe(true);
    const result = await late;
    expect(result.ok).toBe(false);
    expect((result as { error: DomainError }).error.code).toBe('OVERLOADED');
    expect(controller.roomStats('r1').expired).toBe(1);
    expect(await store.stock('r1', 'hot')).toEqual({ available: 99, reserved: 1, sold: 0 });
  });

  it('sends the adds of a room to the store in batches; adds that arrive together leave together', async () => {
    const { store, add } = setup({ batchMax: 20, initialLimit: 2 });
    await store.addProduct('r1', { sku: 'hot', stock: 1000, priceCents: 1, currency: 'USD' });
    const all = Array.from({ length: 50 }, (_, i) => add(`u${i}`));
    // Taken one by one, the first adds would each have left alone while the limit had room ([1, 1, 20, 20, 8]).
    await dispatched();
    expect(store.calls).toEqual([20, 20]);
    await store.open();
    const answers = await Promise.all(all);
    expect(answers.every((a) => a.status === 'reserved')).toBe(true);
    expect(store.calls).toEqual([20, 20, 10]);
  });

  it('serves checkout and cart changes before new adds, and reads last; a full queue sheds reads for a checkout', async () => {
    const { store, controller, add } = setup({ queueLimit: 4 });
    await store.addProduct('r1', { sku: 'hot', stock: 100, priceCents: 1, currency: 'USD' });
    const task = (name: string, priority: 0 | 1 | 2) => controller.run('r1', priority, async () => { store.log.push(name); return name; });
    const blocker = add('u0');
    await dispatched();
    const a1 = add('u1');
    const read = settle(task('read', PRIORITY.read));
    const a2 = add('u2');
    const read2 = settle(task('read2', PRIORITY.read));
    const checkout = task('checkout', PRIORITY.change); // queue is full (4): sheds the newest read
    const shed = await read2;
    expect(shed.ok).toBe(false);
    expect((shed as { error: DomainError }).error.code).toBe('OVERLOADED');
    await store.open();
    await Promise.all([blocker, a1, a2, checkout, read]);
    expect(store.log).toEqual(['u0', 'checkout', 'u1,u2', 'read']);
  });

  it('answers the adds queued for a product that sold out a turn\'s share at a time', async () => {
    const { store, add } = setup({ batchMax: 1, maxLimit: 1, soldOutAnswersPerTurn: 2 });
    await store.addProduct('r1', { sku: 'hot', stock: 1, priceCents: 1, currency: 'USD' });
    let soldOut = 0;
    const answers = Array.from({ length: 11 }, (_, i) => add(`u${i}`, 'hot', 1).then((a) => (a.status === 'sold_out' && soldOut++, a)));
    await store.open();
    const seen: number[] = [];
    while (soldOut < 10 && seen.length < 50) {
      await new Promise((r) => setImmediate(r));
      seen.push(soldOut);
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(['reserved', ...Array<string>(10).fill('sold_out')]);
    // Never more than the turn's share between two turns we watched (opening the store took a few).
    const steps = seen.slice(1).map((n, i) => n - seen[i]!);
    expect(Math.max(...steps)).toBeLessThanOrEqual(2);
    expect(steps.filter((step) => step > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('sends adds for a sold-out product to the store at once, past the queue, and each key keeps its first answer', async () => {
    const { store, controller, add } = setup({ batchMax: 2, maxLimit: 1 });
    await store.addProduct('r1', { sku: 'hot', stock: 2, priceCents: 1, currency: 'USD' });
    await store.addProduct('r1', { sku: 'other', stock: 10, priceCents: 1, currency: 'USD' });
    const answers = Array.from({ length: 6 }, (_, i) => add(`u${i}`, 'hot', 1));
    await dispatched();
    await store.open();
    const statuses = (await Promise.all(answers)).map((a) => a.status);
    expect(statuses).toEqual(['reserved', 'reserved', 'sold_out', 'sold_out', 'sold_out', 'sold_out']);
    // The four queued behind the sell-out left the queue together, past the limit of one call:
    // two batches at once, to the store's record (no stock read).
    expect(store.calls).toEqual([2]);
    expect(store.soldOutCalls).toEqual([2, 2]);
    expect(controller.roomStats('r1').soldOutFast).toBe(4);
    // Known sold out: a new add skips the queue even while the limit is taken by another call.
    store.closed = true;
    const blocker = add('b', 'other');
    await dispatched();
    expect(controller.inFlight).toBe(1);
    const late = add('late');
    await dispatched();
    expect(store.soldOutCalls.at(-1)).toBe(1); // it reached the store past the full limit
    await store.open();
    expect(await late).toEqual({ status: 'sold_out', sku: 'hot' });
    await blocker;
    // A buyer who holds a unit and retries with the same key hears its first answer, not "sold out".
    const retry = await controller.reserve({ roomId: 'r1', userId: 'u1', sku: 'hot', quantity: 1, key: 'k1', now: 0, ttlMs: 60_000 });
    expect(retry).toMatchObject({ status: 'reserved', quantity: 1 });
    await store.setAvailable('r1', 'hot', 1); // restocked (or a reservation expired)
    controller.stockChanged('r1', 'hot', 1); // the room's stock news: adds queue again
    expect(await add('again')).toMatchObject({ status: 'reserved' });
  });

  it('reserves an add of a product it believes sold out when the product came back unheard (through a node whose news does not reach here)', async () => {
    const { store, controller, add } = setup();
    await store.open();
    await store.addProduct('r1', { sku: 'hot', stock: 1, priceCents: 1, currency: 'USD' });
    expect(await add('first')).toMatchObject({ status: 'reserved', available: 0 });
    expect(await add('late')).toEqual({ status: 'sold_out', sku: 'hot' });
    await store.setAvailable('r1', 'hot', 2); // another node's release or restock; no stock news here
    const [back, other] = await Promise.all([add('back'), add('other')]);
    expect(back).toMatchObject({ status: 'reserved', available: 1 });
    expect(other).toMatchObject({ status: 'reserved', available: 0 });
    // Both went through the sold-out lane, then were reserved as any add.
    expect(store.soldOutCalls).toEqual([1, 2]);
    // Sold out again by the last of them: the next add goes through the lane and hears so.
    expect(await add('after')).toEqual({ status: 'sold_out', sku: 'hot' });
    expect(store.soldOutCalls).toEqual([1, 2, 1]);
    expect(await store.stock('r1', 'hot')).toEqual({ available: 0, reserved: 3, sold: 0 });
    expect(controller.roomStats('r1').soldOutFast).toBe(4);
  });

  it('refuses a kicked user\'s waiting adds at once, and tells when the store calls under way have landed', async () => {
    const { store, controller, add } = setup({ batchMax: 1 });
    await store.addProduct('r1', { sku: 'hot', stock: 100, priceCents: 1, currency: 'USD' });
    const underWay = settle(add('u0'));
    await dispatched(); // in flight (limit 1)
    const waiting = [settle(add('kicked')), settle(add('u2')), settle(add('kicked'))];
    let landed = false;
    const refused = controller.refuseUser('r1', 'kicked', new DomainError('KICKED', 'removed')).then(() => {
      landed = true;
    });
    const [first, , third] = await Promise.all([waiting[0]!, Promise.resolve(), waiting[2]!]);
    expect([first, third].map((r) => (r.ok ? 'ok' : (r.error as DomainError).code))).toEqual(['KICKED', 'KICKED']);
    expect(controller.roomStats('r1')).toMatchObject({ queued: 1, rejected: 2 });
    await dispatched();
    expect(landed).toBe(false); // u0's call is still under way
    await store.open();
    await refused;
    expect((await underWay).ok).toBe(true);
    expect(await waiting[1]).toMatchObject({ ok: true, value: { status: 'reserved' } });
    expect(store.log).toEqual(['u0', 'u2']); // nothing of the kicked user reached the store
  });

  it('refuses at its turn a waiting request whose user was banned meanwhile (adds, claims and other tasks), and the sold-out lane\'s too', async () => {
    const banned = new Set<string>();
    const asked: string[] = [];
    const { store, controller, add, clock } = setup({ batchMax: 1 }, (scope, roomId, userId) => {
      asked.push(`${scope}/${roomId}/${userId}`);
      return banned.has(userId) ? new DomainError('KICKED', 'banned while waiting') : undefined;
    });
    await store.addProduct('r1', { sku: 'hot', stock: 100, priceCents: 1, currency: 'USD' });
    await store.addProduct('r1', { sku: 'gone', stock: 0, priceCents: 1, currency: 'USD' });
    const underWay = settle(add('u0'));
    await dispatched(); // in flight (limit 1)
    let ran = 0;
    const task = (userId: string) => settle(controller.run('r1', PRIORITY.add, async () => ++ran, { arrivedAt: clock.now, userId, roomId: 'show-1' }));
    const waiting = [settle(add('kicked')), task('kicked'), settle(add('u2')), task('u3')];
    // Another user's task is refused by `refuseUser` on the kicking node at once, tasks as well as adds.
    const other = task('kicked2');
    const landed = controller.refuseUser('r1', 'kicked2', new DomainError('KICKED', 'removed'));
    expect(await other).toMatchObject({ ok: false, error: { code: 'KICKED' } });
    banned.add('kicked');
    await store.open();
    await Promise.all([underWay, landed]);
    const [kickedAdd, kickedTask, u2, u3] = await Promise.all(waiting);
    expect([kickedAdd, kickedTask].map((r) => (r!.ok ? 'ok' : (r!.error as DomainError).code))).toEqual(['KICKED', 'KICKED']);
    expect(u2).toMatchObject({ ok: true, value: { status: 'reserved' } });
    expect(u3).toMatchObject({ ok: true, value: 1 });
    expect(ran).toBe(1); // the kicked user's task never ran
    expect(store.log).toEqual(['u0', 'u2']); // nor did their add reach the store
    expect(asked).toContain('r1/show-1/kicked'); // asked with the scope and the room the request came from
    // An add known sold out goes to the sold-out lane: refused there too, nothing recorded for its key.
    controller.stockChanged('r1', 'gone', 0);
    const lane = await settle(add('kicked', 'gone'));
    expect(lane).toMatchObject({ ok: false, error: { code: 'KICKED' } });
    expect(store.soldOutCalls).toEqual([]);
  });

  it('takes rooms in turn: a small room is not stuck behind a hot room\'s queue', async () => {
    const { store, add } = setup({ batchMax: 1 });
    await store.addProduct('hot-room', { sku: 'hot', stock: 1000, priceCents: 1, currency: 'USD' });
    await store.addProduct('small', { sku: 'hot', stock: 10, priceCents: 1, currency: 'USD' });
    const done: string[] = [];
    const hot = Array.from({ length: 30 }, (_, i) => add(`h${i}`, 'hot', 1, 'hot-room').then(() => done.push('hot')));
    const small = add('s1', 'hot', 1, 'small').then(() => done.push('small'));
    await store.open();
    await Promise.all([...hot, small]);
    expect(done.indexOf('small')).toBeLessThanOrEqual(2);
  });

  it('tells waiting clients their position and an estimate, updated as the queue drains', async () => {
    const { store, controller, add } = setup();
    await store.addProduct('r1', { sku: 'a', stock: 100, priceCents: 1, currency: 'USD' });
    await store.addProduct('r1', { sku: 'b', stock: 100, priceCents: 1, currency: 'USD' });
    const seen: Array<[number, number]> = [];
    const blocker = add('u0', 'a');
    await dispatched();
    const waiting = [add('u1', 'a'), add('u2', 'a'), add('u3', 'b', 1, 'r1', (p, eta) => seen.push([p, eta]))];
    expect(seen).toEqual([]); // told at the next progress tick, not at once
    const nextTurn = () => new Promise((r) => setImmediate(r));
    controller.tellPositions();
    expect(seen).toEqual([]); // notices go out in the next turn, paced
    await nextTurn();
    expect(seen).toEqual([[3, 3000]]); // third in line, no drain measured yet (1/s floor)
    controller.tellPositions();
    await nextTurn();
    expect(seen).toHaveLength(1); // unchanged position: no new frame
    await store.open();
    await Promise.all([blocker, ...waiting]);
  });
});

describe('VegasLimit', () => {
  it('grows while latency stays at its floor and the limit is used, shrinks when latency rises', () => {
    const limit = new VegasLimit({ initial: 4, min: 1, max: 50, alpha: 3, beta: 6, minRttWindowMs: 60_000 });
    for (let i = 0; i < 20; i++) limit.sample(2, limit.limit, i);
    expect(limit.limit).toBe(24);
    limit.sample(2, 1, 30); // an idle store says nothing about more load
    expect(limit.limit).toBe(24);
    for (let i = 0; i < 10; i++) limit.sample(20, limit.limit, 40 + i); // queueing: rtt 10× the floor
    expect(limit.limit).toBe(14);
    // it settles where the estimated queue sits between alpha and beta: 0.9 × limit in [3, 6]
    for (let i = 0; i < 100; i++) limit.sample(20, limit.limit, 100 + i);
    expect(limit.limit).toBeGreaterThanOrEqual(4);
    expect(limit.limit).toBeLessThanOrEqual(6);
    // Much slower still: Vegas holds about beta requests in the store, it does not grow.
    for (let i = 0; i < 100; i++) limit.sample(200, limit.limit, 300 + i);
    expect(limit.limit).toBeLessThanOrEqual(6);
  });

  it('reads a slow call whose time was mostly the node\'s own busy loop as no queue at the store: grows when used, never shrinks, keeps the floor', () => {
    const limit = new VegasLimit({ initial: 4, min: 1, max: 50, alpha: 3, beta: 6, minRttWindowMs: 60_000 });
    limit.sample(2, 4, 0); // the floor: 2 ms
    for (let i = 0; i < 10; i++) limit.sample(300, limit.limit, 10 + i, 0.9);
    expect(limit.limit).toBe(15);
    limit.sample(300, 1, 30, 0.9); // unused: no growth
    expect(limit.limit).toBe(15);
    // The floor was not moved by those: a 20 ms call of an idle loop is still a queue.
    for (let i = 0; i < 5; i++) limit.sample(20, limit.limit, 40 + i, 0.1);
    expect(limit.limit).toBe(10);
  });

  /** A controller over a memory store whose every reservation call takes `clock.latency` (fake time), with the loop `clock.busy` of the time busy. */
  async function timedController() {
    const clock = { now: 0, latency: 0, busy: 0 };
    const store = new MemoryStore({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 100_000, maxOrders: 100_000 });
    const timed = Object.assign(Object.create(store) as MemoryStore, {
      reserveBatch: async (requests: readonly ReserveRequest[]) => {
        clock.now += clock.latency;
        return store.reserveBatch(requests);
      },
    });
    const loopBusy = { mark: () => ({ idle: 0, active: 0, utilization: 0 }), shareSince: () => clock.busy };
    const controller = new AdmissionController({ store: timed, options: options({ initialLimit: 4, batchMax: 1, queueLimit: 10_000, productQueueLimit: 10_000, maxWaitMs: 1e9 }), now: () => clock.now, loopBusy });
    await store.addProduct('r1', { sku: 'hot', stock: 1e9, priceCents: 1, currency: 'USD' });
    const burst = (tag: string) => Promise.all(Array.from({ length: 400 }, (_, i) => controller.reserve({ roomId: 'r1', userId: `${tag}${i}`, sku: 'hot', quantity: 1, key: `${tag}${i}`, now: clock.now, ttlMs: 1000 })));
    return { clock, controller, burst };
  }

  it('adapts inside the controller: a fast store raises the limit, a slow one lowers it', async () => {
    const { clock, controller, burst } = await timedController();
    clock.latency = 1;
    await burst('u');
    const raised = controller.limit;
    expect(raised).toBeGreaterThan(4);
    clock.latency = 50;
    await burst('v');
    expect(controller.limit).toBeLessThan(raised);
    controller.close();
  });

  it('grows the limit when calls are slow because the node\'s own loop is busy, not the store', async () => {
    const { clock, controller, burst } = await timedController();
    clock.latency = 0.5;
    await burst('a'); // the floor: 0.5 ms
    const before = controller.limit;
    // Now every reply waits 200 ms in the socket while the node's loop is busy (95 % of the time).
    clock.latency = 200;
    clock.busy = 0.95;
    await burst('b');
    expect(controller.limit).toBeGreaterThan(before);
    controller.close();
  });
});

describe('AdmissionController and reply priority', () => {
  it('has deferred work step aside while a reservation batch waits for the store, so its reply is read at the next poll', async () => {
    let now = 0;
    const priority = new ReplyPriority(2, () => now);
    const store = new GatedStore();
    await store.addProduct('r1', { sku: 'hot', stock: 10, priceCents: 1, currency: 'USD' });
    const controller = new AdmissionController({ store, options: options(), now: () => now, random: () => 0.5, trackReply: (reply) => priority.track(reply) });
    expect(priority.waiting).toBe(false);
    const answer = controller.reserve({ roomId: 'r1', userId: 'u1', sku: 'hot', quantity: 1, key: 'k1', now, ttlMs: 60_000 });
    await dispatched();
    expect(priority.waiting).toBe(true); // the batch is in flight
    await store.open();
    expect((await answer).status).toBe('reserved');
    await flush();
    expect(priority.waiting).toBe(false);
    // Bounded: a store that does not answer holds deferred work at most maxWaitMs.
    store.closed = true;
    void controller.reserve({ roomId: 'r1', userId: 'u2', sku: 'hot', quantity: 1, key: 'k2', now, ttlMs: 60_000 });
    await dispatched();
    expect(priority.waiting).toBe(true);
    now += 3;
    expect(priority.waiting).toBe(false);
    await store.open();
  });
});
