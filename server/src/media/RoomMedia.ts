import type { types } from 'mediasoup';
import type { MediaKind, StreamState } from '../../../protocol/src/index.ts';
import type { DegradeLevel } from '../fanout/DegradePolicy.ts';
import type { Member } from '../rooms/Member.ts';
import type { PooledWorker } from './WorkerPool.ts';

/** A router of one room on one worker. The origin holds the producers; the others get them piped. */
export interface RouterSlot {
  readonly router: types.Router;
  readonly worker: PooledWorker;
}

/** Where this node's copy of a room's stream comes from, when the room's origin is another node. */
export interface Upstream {
  /** The node feeding this one (the origin, or a node it feeds), and where it is reached. */
  readonly nodeId: string;
  readonly url: string;
  /** The origin claim this copy follows (a new claim means piping again). */
  readonly originNodeId: string;
  readonly originVersion: number;
  /** The pipe's id on the feeding node. */
  readonly pipeId: string;
  readonly transport: types.PipeTransport;
  /** The piped producers (the origin's ids), also in `RoomMedia.producers`. */
  readonly producers: Map<string, types.Producer>;
}

/** A pipe through which this node feeds its copy of a room's stream to another node. */
export interface ServedPipe {
  readonly id: string;
  readonly nodeId: string;
  readonly url: string;
  readonly transport: types.PipeTransport;
  readonly worker: PooledWorker;
  /** Pipe consumers by producer id. */
  readonly consumers: Map<string, types.Consumer>;
  lastSeen: number;
}

/** One socket's media: its transports, what it consumes and (a streamer) what it produces. */
export class MemberMedia {
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly producers = new Map<string, types.Producer>();
  /** Where this socket's receive transport lives, and the consumer units it holds there. */
  recvSlot: RouterSlot | undefined;
  reserved = 0;

  constructor(
    readonly member: Member,
    readonly roomId: string,
  ) {}

  /** Consumer units held on the worker go back; transports close (and with them consumers and producers). */
  release(): void {
    if (this.recvSlot !== undefined) this.recvSlot.worker.load -= this.reserved;
    this.recvSlot = undefined;
    this.reserved = 0;
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.consumers.clear();
    this.producers.clear();
  }
}

/** A room's media on this node: routers by worker, the live producers, the sockets using media. */
export class RoomMedia {
  origin: RouterSlot | undefined;
  readonly slots = new Map<PooledWorker, RouterSlot>();
  /** The stream's producers (on the origin router; piped ones keep the same id elsewhere). */
  readonly producers = new Map<string, types.Producer>();
  /** Transports of streams published from outside a socket (RTP ingest, WHIP, the RTMP relay), closed with the stream. */
  readonly ingest: types.Transport[] = [];
  readonly members = new Map<Member, MemberMedia>();
  level: DegradeLevel = 0;
  /** Serializes router placement, so concurrent joins do not each open a router on the same worker. */
  placement: Promise<unknown> = Promise.resolve();
  /** Set while the room's origin is another node: where its producers are piped from. */
  upstream: Upstream | undefined;
  /** Pipes feeding other nodes' copies of the stream, by id. */
  readonly served = new Map<string, ServedPipe>();
  /** This node's claim (its version) on the room's media origin, while it publishes the room's stream. */
  claim: number | undefined;
  /** The producers last written into the claim (JSON), so only a change is told to the other nodes. */
  claimed = '';
  /** When following the origin last failed (a new viewer does not retry sooner than the next check). */
  followFailedAt = 0;
  /** Serializes the room's steps across nodes (claims, following the origin). */
  cluster: Promise<unknown> = Promise.resolve();

  constructor(readonly roomId: string) {}

  /** The producers published on this node (not piped in from another node). */
  ownProducers(): types.Producer[] {
    const piped = this.upstream?.producers;
    return [...this.producers.values()].filter((p) => piped === undefined || !piped.has(p.id));
  }

  stream(): StreamState {
    const producers = [...this.producers.values()].map((p) => ({ producerId: p.id, kind: p.kind as MediaKind, paused: p.paused }));
    return { live: producers.length > 0, producers };
  }

  /** Routers close, so every transport, producer and consumer of the room on this node closes. */
  closeRouters(): void {
    for (const slot of this.slots.values()) {
      slot.worker.routers--;
      slot.router.close();
    }
    this.slots.clear();
    this.origin = undefined;
    this.producers.clear();
    this.ingest.length = 0;
    this.upstream = undefined;
    this.served.clear();
  }
}
