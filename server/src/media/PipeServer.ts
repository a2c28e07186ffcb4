import type { types } from 'mediasoup';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { MediaKind } from '../../../protocol/src/index.ts';
import type { PipeConsumed, PipeConsumeRequest, PipeFull, PipeOpened, PipeOpenRequest } from './PipeLink.ts';
import type { RoomMedia, ServedPipe } from './RoomMedia.ts';
import type { PooledWorker } from './WorkerPool.ts';

export interface PipeServerOptions {
  readonly nodeId: string;
  /** Other nodes fed directly per room, at most; past it the asking node is sent to those. */
  readonly pipesPerRoom: number;
  /** A pipe not kept alive for this long is closed (its node died or forgot it). */
  readonly expireAfterMs: number;
  readonly listenInfo: (worker: PooledWorker) => types.TransportListenInfo;
}

/**
 * Feeds this node's copy of a room's stream to other nodes: a pipe transport per asking node on
 * the router that holds the producers (the origin's, or a relay's piped-in ones), and a pipe
 * consumer per producer, so the far side recreates each producer with the same id. Each pipe
 * consumer counts as a consumer on the worker. Past `pipesPerRoom` the asking node is told which
 * nodes are fed already, and asks them (a tree).
 */
export class PipeServer {
  readonly #options: PipeServerOptions;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(options: PipeServerOptions, log: Logger, now: () => number = Date.now) {
    this.#options = options;
    this.#log = log;
    this.#now = now;
  }

  async open(room: RoomMedia, request: PipeOpenRequest, onClosed: () => void): Promise<PipeOpened | PipeFull> {
    const source = room.origin;
    const follows = this.#follows(room);
    if (source === undefined || follows === undefined || room.producers.size === 0) throw new ProtocolError('MEDIA_NOT_FOUND', 'the room\'s stream is not on this node');
    // One pipe per node and room: a node asking again rebuilt its side.
    for (const pipe of [...room.served.values()]) if (pipe.nodeId === request.nodeId) pipe.transport.close();
    if (room.served.size >= this.#options.pipesPerRoom) {
      return { full: true, relays: [...room.served.values()].map((p) => ({ nodeId: p.nodeId, url: p.url })) };
    }
    const transport = await source.router.createPipeTransport({
      listenInfo: this.#options.listenInfo(source.worker),
      enableRtx: true, // NACK and retransmission: the pipe crosses a network
      enableSrtp: request.endpoint.srtpParameters !== undefined,
    });
    try {
      await transport.connect({
        ip: request.endpoint.ip,
        port: request.endpoint.port,
        ...(request.endpoint.srtpParameters === undefined ? {} : { srtpParameters: request.endpoint.srtpParameters as unknown as types.SrtpParameters }),
      });
    } catch (error) {
      transport.close();
      throw new ProtocolError('BAD_REQUEST', `cannot connect the pipe: ${(error as Error).message.slice(0, 200)}`);
    }
    const pipe: ServedPipe = { id: transport.id, nodeId: request.nodeId, url: request.url, transport, worker: source.worker, consumers: new Map(), lastSeen: this.#now() };
    room.served.set(pipe.id, pipe);
    transport.observer.once('close', () => {
      if (room.served.get(pipe.id) !== pipe) return;
      room.served.delete(pipe.id);
      onClosed();
    });
    this.#log.info({ roomId: room.roomId, to: request.nodeId, pipes: room.served.size }, 'feeding the room\'s stream to another node');
    return {
      pipeId: pipe.id,
      endpoint: {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        ...(transport.srtpParameters === undefined ? {} : { srtpParameters: transport.srtpParameters as unknown as Record<string, unknown> }),
      },
      ...follows,
    };
  }

  async consume(room: RoomMedia, request: PipeConsumeRequest): Promise<PipeConsumed> {
    const pipe = this.#pipe(room, request.pipeId);
    const producers: PipeConsumed['producers'][number][] = [];
    const missing: string[] = [];
    for (const producerId of request.producerIds) {
      if (!room.producers.has(producerId)) {
        missing.push(producerId);
        continue;
      }
      let consumer = pipe.consumers.get(producerId);
      if (consumer === undefined || consumer.closed) {
        const created = await pipe.transport.consume({ producerId });
        consumer = created;
        pipe.consumers.set(producerId, created);
        pipe.worker.load++;
        created.observer.once('close', () => {
          pipe.worker.load--;
          if (pipe.consumers.get(producerId) === created) pipe.consumers.delete(producerId);
        });
      }
      producers.push({ producerId, kind: consumer.kind as MediaKind, rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>, paused: consumer.producerPaused });
    }
    return { producers, missing };
  }

  keepalive(room: RoomMedia, pipeId: string): void {
    this.#pipe(room, pipeId).lastSeen = this.#now();
  }

  close(room: RoomMedia, pipeId: string): void {
    room.served.get(pipeId)?.transport.close();
  }

  /** Closes the room's pipes whose node stopped keeping them alive. */
  expire(room: RoomMedia): void {
    const before = this.#now() - this.#options.expireAfterMs;
    for (const pipe of [...room.served.values()]) {
      if (pipe.lastSeen >= before) continue;
      this.#log.info({ roomId: room.roomId, to: pipe.nodeId }, 'a node fed the room\'s stream stopped asking for it; its pipe closes');
      pipe.transport.close();
    }
  }

  /** The origin this node's copy of the stream follows: itself while it publishes, else the one it relays. */
  #follows(room: RoomMedia): { originNodeId: string; originVersion: number } | undefined {
    if (room.claim !== undefined) return { originNodeId: this.#options.nodeId, originVersion: room.claim };
    if (room.upstream !== undefined) return { originNodeId: room.upstream.originNodeId, originVersion: room.upstream.originVersion };
    return undefined;
  }

  #pipe(room: RoomMedia, pipeId: string): ServedPipe {
    const pipe = room.served.get(pipeId);
    if (pipe === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', 'no such pipe on this node (closed, or expired)');
    return pipe;
  }
}
