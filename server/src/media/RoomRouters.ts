import type { types } from 'mediasoup';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { mediaCodecs } from './mediaCodecs.ts';
import type { RoomMedia, RouterSlot } from './RoomMedia.ts';
import type { PooledWorker, WorkerPool } from './WorkerPool.ts';

export interface RoomRoutersOptions {
  readonly listenIp: string;
  readonly announcedAddress: string | undefined;
  /** Retry-after told to viewers refused with VIDEO_FULL (plus jitter). */
  readonly videoFullRetryMs: number;
}

/**
 * Where a room's routers live on this node's workers. The origin router holds the room's
 * producers; viewers consume from it until its worker reaches the pool's consumer limit, then the
 * producers are piped to a router on another worker and new viewers land there.
 */
export class RoomRouters {
  readonly #pool: WorkerPool;
  readonly #options: RoomRoutersOptions;
  readonly #log: Logger;

  constructor(pool: WorkerPool, options: RoomRoutersOptions, log: Logger) {
    this.#pool = pool;
    this.#options = options;
    this.#log = log;
  }

  /** The room's origin router (where its producers live), opened on the least-loaded worker the first time. */
  origin(room: RoomMedia): Promise<RouterSlot> {
    return this.placed(room, async () => {
      if (room.origin !== undefined) return room.origin;
      const worker = this.#pool.leastLoaded(0);
      if (worker === undefined) throw new ProtocolError('VIDEO_FULL', 'every media worker is full', this.retryMs());
      room.origin = await this.#openRouter(room, worker);
      return room.origin;
    });
  }

  /** A viewer's router: one of the room's with room for it, else a new one on another worker (producers piped in), else VIDEO_FULL. */
  recvSlot(room: RoomMedia, need: number): Promise<RouterSlot> {
    return this.placed(room, async () => {
      let best: RouterSlot | undefined;
      for (const slot of room.slots.values()) {
        if (!slot.worker.alive || slot.worker.load + need > this.#pool.consumerLimit) continue;
        if (best === undefined || slot.worker.load < best.worker.load) best = slot;
      }
      if (best !== undefined) return best;
      const worker = this.#pool.leastLoaded(need, new Set(room.slots.keys()));
      if (worker === undefined) throw new ProtocolError('VIDEO_FULL', 'video is full on this node; you stay in the room, video retries', this.retryMs());
      const slot = await this.#openRouter(room, worker);
      if (room.origin !== undefined) {
        for (const producer of room.producers.values()) await room.origin.router.pipeToRouter({ producerId: producer.id, router: slot.router });
      }
      this.#log.info({ roomId: room.roomId, worker: worker.index, routers: room.slots.size }, 'room piped to another media worker');
      return slot;
    });
  }

  /** A new producer on the origin router: piped to every other router of the room, so their viewers can consume it. */
  spread(room: RoomMedia, producer: types.Producer): Promise<void> {
    return this.placed(room, async () => {
      for (const slot of room.slots.values()) {
        if (slot === room.origin || room.origin === undefined) continue;
        await room.origin.router.pipeToRouter({ producerId: producer.id, router: slot.router });
      }
    });
  }

  /** Runs router placement for a room one at a time, so concurrent joins do not each open a router on the same worker. */
  placed<T>(room: RoomMedia, step: () => Promise<T>): Promise<T> {
    const next = room.placement.then(step, step);
    room.placement = next.catch(() => undefined);
    return next;
  }

  /** Where transports on `worker` listen (its own slice of the port range). */
  listenInfo(protocol: 'udp' | 'tcp', worker: PooledWorker): types.TransportListenInfo {
    return {
      protocol,
      ip: this.#options.listenIp,
      ...(this.#options.announcedAddress === undefined ? {} : { announcedAddress: this.#options.announcedAddress }),
      portRange: worker.portRange,
    };
  }

  retryMs(): number {
    const base = this.#options.videoFullRetryMs;
    return base + Math.round(Math.random() * base * 0.5);
  }

  async #openRouter(room: RoomMedia, worker: PooledWorker): Promise<RouterSlot> {
    const router = await worker.worker.createRouter({ mediaCodecs });
    const slot: RouterSlot = { router, worker };
    worker.routers++;
    room.slots.set(worker, slot);
    return slot;
  }
}
