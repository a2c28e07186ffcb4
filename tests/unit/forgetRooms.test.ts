import { describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import { type AdmissionOptions, AdmissionController } from '../../server/src/admission/AdmissionController.ts';
import { StockAnnouncer } from '../../server/src/commerce/StockAnnouncer.ts';
import { Fanout } from '../../server/src/fanout/Fanout.ts';
import { RoomLifecycle } from '../../server/src/rooms/RoomLifecycle.ts';
import { MemoryStore } from '../../server/src/store/MemoryStore.ts';
import type { ReserveRequest } from '../../server/src/store/Store.ts';
import { captureLog, ERROR } from '../helpers/captureLog.ts';

const options: AdmissionOptions = {
  queueLimit: 100, productQueueLimit: 100, maxWaitMs: 60_000, batchMax: 10, initialLimit: 4, minLimit: 1, maxLimit: 8,
  progressIntervalMs: 60_000, retryJitterMs: 0, soldOutCacheMs: 60_000, soldOutAnswersPerTurn: 100, requestsPerTurn: 100,
};

/** A memory store whose reservations wait until the test lets them through. */
class HeldStore extends MemoryStore {
  readonly #held: Array<() => void> = [];
  constructor() {
    super({ idempotencyTtlMs: 60_000, maxIdempotencyKeys: 10_000, maxOrders: 10_000 });
  }
  override async reserveBatch(requests: readonly ReserveRequest[]) {
    await new Promise<void>((resolve) => this.#held.push(resolve));
    return super.reserveBatch(requests);
  }
  get held(): number {
    return this.#held.length;
  }
  release(): void {
    for (const go of this.#held.splice(0)) go();
  }
}

const reserve = (roomId: string, userId: string, sku = 'hot'): ReserveRequest => ({ roomId, userId, sku, quantity: 1, key: `${roomId}-${userId}`, now: 0, ttlMs: 60_000 });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

describe('forgetting a room', () => {
  it('admission: a drained room goes at once with its sold-out memory; one with a request in flight goes when it is answered', async () => {
    const store = new HeldStore();
    await store.addProduct('busy', { sku: 'hot', stock: 5, priceCents: 100, currency: 'USD' });
    const admission = new AdmissionController({ store, options });
    try {
      admission.roomStats('idle'); // creates the room's state
      admission.stockChanged('idle', 'hot', 0); // sold-out memory
      expect(admission.perRoomState()).toEqual({ rooms: 1, soldOut: 1 });
      admission.forget('idle');
      expect(admission.perRoomState()).toEqual({ rooms: 0, soldOut: 0 });

      const answer: Promise<CartAnswer> = admission.reserve(reserve('busy', 'u1'));
      await until(() => store.held === 1);
      admission.forget('busy');
      expect(admission.perRoomState().rooms).toBe(1); // its request is in flight: kept
      expect(admission.knownRoomStats('busy')).toMatchObject({ inFlight: 1 });
      store.release();
      expect(await answer).toMatchObject({ status: 'reserved', sku: 'hot' });
      await until(() => admission.perRoomState().rooms === 0);
      expect(admission.knownRoomStats('busy')).toBeUndefined();
    } finally {
      admission.close();
    }
  });

  it('admission: its pressure reading creates nothing (the degrade check reads every hosted room)', () => {
    const admission = new AdmissionController({ store: new HeldStore(), options });
    try {
      expect(admission.pressureOf('never-asked')).toEqual({ queueFill: 0, storeLatencyMs: 0 });
      expect(admission.perRoomState()).toEqual({ rooms: 0, soldOut: 0 });
    } finally {
      admission.close();
    }
  });

  it('stock announcer: a room with news still pending goes once it is out; one with none goes at once', () => {
    const sent: string[] = [];
    const clock = { now: 0 };
    const announcer = new StockAnnouncer({ publishStock: (roomId, sku, n) => void sent.push(`${roomId}/${sku}=${n}`), publishSoldOut: (roomId, sku) => void sent.push(`${roomId}/${sku} sold out`) }, 60_000, undefined, () => clock.now);
    try {
      announcer.changed('quiet', 'a', 3);
      announcer.changed('busy', 'a', 0);
      clock.now = 100_000;
      announcer.flush();
      announcer.changed('busy', 'b', 7); // still pending when the room is forgotten
      expect(announcer.roomCount).toBe(2);
      announcer.forget('quiet');
      expect(announcer.roomCount).toBe(1);
      announcer.forget('busy');
      expect(announcer.roomCount).toBe(1); // 'b' not out yet
      announcer.flush();
      expect(sent).toEqual(['busy/a sold out', 'quiet/a=3', 'busy/b=7']); // no `stock` 0 after the sold-out
      expect(announcer.roomCount).toBe(0);
      // Forgotten: sold out is announced again if the room sells out again here.
      announcer.changed('busy', 'a', 0);
      expect(sent.at(-1)).toBe('busy/a sold out');
    } finally {
      announcer.close();
    }
  });

  it('fan-out: a room no longer hosted leaves no pacing or sampling state', () => {
    const fanout = new Fanout({ publish: () => true }, { sampledCommentsPerSecond: 1, shardSize: 2, deliveriesPerTurn: 100, turnTargetMs: 5, maxWaitingFrames: 100 });
    fanout.join('r', 'viewer');
    fanout.publish('r', 'chatter', 'comment', new Uint8Array(4), 1);
    expect(fanout.perRoomState()).toEqual({ pacedRooms: 1, samplers: 1 });
    fanout.forget('r');
    expect(fanout.perRoomState()).toEqual({ pacedRooms: 0, samplers: 0 });
  });

  it('room lifecycle: every part hears its event; a listener that throws is logged and the others still run', () => {
    const { log, lines } = captureLog();
    const lifecycle = new RoomLifecycle(log);
    const forgotten: string[] = [];
    lifecycle.on('unhosted', () => {
      throw new Error('broken part');
    });
    lifecycle.forgetWhenUnhosted({ forget: (roomId) => forgotten.push(`unhosted ${roomId}`) });
    lifecycle.forgetWhenEnded({ forget: (roomId) => forgotten.push(`ended ${roomId}`) });
    lifecycle.emit('ended', 'r1');
    lifecycle.emit('unhosted', 'r1');
    expect(forgotten).toEqual(['ended r1', 'unhosted r1']);
    expect(lines.filter((line) => line.level === ERROR)).toEqual([expect.objectContaining({ msg: 'a room lifecycle listener threw', event: 'unhosted', err: expect.objectContaining({ message: 'broken part' }) })]);
  });

  it('rooms this node does not host: each part forgets the ones it kept quiet long enough, never a hosted or busy one', async () => {
    const { log } = captureLog();
    const clock = { now: 1_000_000 };
    const store = new HeldStore();
    for (const room of ['quiet', 'hosted', 'busy', 'limited']) await store.addProduct(room, { sku: 'hot', stock: 5, priceCents: 100, currency: 'USD' });
    // The operator's limit of 'limited' lives with the room (its settings), not in what this node keeps.
    const admission = new AdmissionController({ store, options: { ...options, soldOutCacheMs: 1000 }, now: () => clock.now, queueLimits: (roomId) => (roomId === 'limited' ? 10 : undefined) });
    const announcer = new StockAnnouncer({ publishStock: () => undefined, publishSoldOut: () => undefined }, 60_000, undefined, () => clock.now);
    const lifecycle = new RoomLifecycle(log);
    lifecycle.forgetWhenUnhosted(admission);
    lifecycle.forgetWhenUnhosted({ forget: (roomId) => announcer.forget(roomId), idleRooms: (ms) => announcer.idleRooms(ms) });
    try {
      const answers = ['quiet', 'hosted', 'limited'].map((room) => admission.reserve(reserve(room, 'u1')));
      await until(() => store.held === 3); // one store call per room
      store.release();
      await Promise.all(answers);
      admission.stockChanged('quiet', 'hot', 0); // sold out here for soldOutCacheMs
      for (const room of ['quiet', 'hosted']) announcer.changed(room, 'hot', 4);
      clock.now += 60_000;
      announcer.flush();
      const busy = admission.reserve(reserve('busy', 'u1')); // in flight while the sweep runs
      await until(() => store.held === 1);
      const isHosted = (roomId: string) => roomId === 'hosted';

      lifecycle.forgetIdleNotHosted(isHosted, 30_000);
      expect(admission.stats().map((r) => r.roomId).sort()).toEqual(['busy', 'hosted']);
      expect(admission.perRoomState()).toEqual({ rooms: 2, soldOut: 0 });
      expect(announcer.roomCount).toBe(1); // 'hosted' only

      store.release();
      await busy;
      lifecycle.forgetIdleNotHosted(isHosted, 30_000);
      expect(admission.stats().map((r) => r.roomId).sort()).toEqual(['busy', 'hosted']); // answered just now: not quiet yet
      clock.now += 30_000;
      lifecycle.forgetIdleNotHosted(isHosted, 30_000);
      expect(admission.stats().map((r) => r.roomId).sort()).toEqual(['hosted']);
      expect(admission.roomStats('limited').queueLimit).toBe(10); // back with the room's own limit
    } finally {
      admission.close();
      announcer.close();
    }
  });
});
