import type { types } from 'mediasoup';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { MediaOriginClaim, MediaOriginDirectory } from '../store/MediaOriginDirectory.ts';
import type { PipeConsumed, PipeConsumeRequest, PipeFull, PipeLink, PipeOpened, PipeOpenRequest, PipeRef } from './PipeLink.ts';
import { PipeServer } from './PipeServer.ts';
import type { RoomMedia } from './RoomMedia.ts';
import type { RoomRouters } from './RoomRouters.ts';
import { RoomRelay } from './RoomRelay.ts';
import type { PooledWorker } from './WorkerPool.ts';

/** How many keepalive intervals an origin's record outlives its last refresh, and a pipe its last keepalive. */
const RECORD_TTL_INTERVALS = 5;
const PIPE_EXPIRY_INTERVALS = 3;
/** A relay whose feeder lacks some producers yet asks again this soon. */
const INCOMPLETE_RETRY_MS = 300;

/** What the cluster side needs of the node's media. */
export interface ClusterHost {
  room(roomId: string): RoomMedia | undefined;
  rooms(): Iterable<RoomMedia>;
  /** Puts a producer into the room (piped to its other routers; its close is told to the room). */
  adopt(room: RoomMedia, producer: types.Producer): Promise<void>;
  /** Tells the room's members on this node what its stream is now. */
  announce(room: RoomMedia, reason: string): void;
  /** Ends the stream published on this node (every local producer closes). */
  stopHere(roomId: string, reason: string): void;
  forgetIfIdle(room: RoomMedia): void;
}

export interface MediaClusterOptions {
  readonly nodeId: string;
  readonly keepaliveMs: number;
  readonly pipesPerRoom: number;
  readonly srtp: boolean;
  readonly listenInfo: (worker: PooledWorker) => types.TransportListenInfo;
}

/** Pipe calls another node makes on this one (the node-to-node HTTP routes call these). */
export interface PipeService {
  open(request: PipeOpenRequest): Promise<PipeOpened | PipeFull>;
  consume(request: PipeConsumeRequest): Promise<PipeConsumed>;
  keepalive(ref: PipeRef): void;
  close(ref: PipeRef): void;
  /** Ends the room's stream if it is published here (a moderator on another node stopped it). */
  stopStream(roomId: string, reason: string): void;
}

/**
 * A room's video across nodes. The node its streamer publishes on is the room's media origin: it
 * claims the room in the media origin directory (with its producers), renews the claim every
 * `keepaliveMs`, and tells the nodes hosting the room through the broker whenever its stream
 * changes. Every other node with viewers of the room follows the claim: it pipes the producers in
 * (RoomRelay) and fans them out to its own workers and viewers; it re-reads the claim on each
 * notice and every `keepaliveMs` (a missed notice costs at most one interval). A newer claim (the
 * streamer published again on another node) makes every node pipe from there; the node that
 * published before stops its stream.
 */
export class MediaCluster {
  readonly pipes: PipeService;
  readonly #origins: MediaOriginDirectory;
  readonly #notices: { publishMedia(roomId: string): void };
  readonly #link: PipeLink;
  readonly #host: ClusterHost;
  readonly #options: MediaClusterOptions;
  readonly #log: Logger;
  readonly #server: PipeServer;
  readonly #relay: RoomRelay;
  readonly #timer: NodeJS.Timeout;
  readonly #retrySoon = new Set<string>();
  #url = '';

  constructor(deps: { origins: MediaOriginDirectory; notices: { publishMedia(roomId: string): void }; link: PipeLink; routers: RoomRouters; host: ClusterHost; options: MediaClusterOptions; log: Logger }) {
    this.#origins = deps.origins;
    this.#notices = deps.notices;
    this.#link = deps.link;
    this.#host = deps.host;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#server = new PipeServer({ nodeId: deps.options.nodeId, pipesPerRoom: deps.options.pipesPerRoom, expireAfterMs: PIPE_EXPIRY_INTERVALS * deps.options.keepaliveMs, listenInfo: deps.options.listenInfo }, deps.log);
    this.#relay = new RoomRelay({
      link: deps.link,
      routers: deps.routers,
      listenInfo: deps.options.listenInfo,
      srtp: deps.options.srtp,
      self: () => ({ nodeId: this.#options.nodeId, url: this.#url }),
      adopt: (room, producer) => this.#host.adopt(room, producer),
      log: deps.log,
    });
    this.pipes = this.#pipeService();
    this.#timer = setInterval(() => this.#tick(), deps.options.keepaliveMs).unref();
  }

  /** Where the other nodes reach this one (known once it listens). */
  listening(url: string): void {
    this.#url = url;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** Rooms whose stream this node feeds to other nodes, and pipes it feeds; rooms it relays. */
  counts(): { pipesServed: number; roomsRelayed: number } {
    let pipesServed = 0;
    let roomsRelayed = 0;
    for (const room of this.#host.rooms()) {
      pipesServed += room.served.size;
      if (room.upstream !== undefined) roomsRelayed++;
    }
    return { pipesServed, roomsRelayed };
  }

  /** A local publish is starting in the room: a copy piped in from another node goes first. */
  becomeOrigin(room: RoomMedia): void {
    this.#relay.drop(room);
  }

  /** The producers published here changed (new, muted, closed): claim the room, update the claim, or let it go. */
  ownStreamChanged(room: RoomMedia): void {
    void this.#serial(room, () => this.#writeClaim(room));
  }

  /**
   * A member of the room wants its video (mediaCapabilities): unless the stream is here already,
   * follow the room's origin now. Failures wait for the next check, so a dead origin is not asked
   * once per joining viewer.
   */
  async follow(room: RoomMedia): Promise<void> {
    if (room.claim !== undefined || room.upstream !== undefined || room.ownProducers().length > 0) return;
    if (Date.now() - room.followFailedAt < this.#options.keepaliveMs) return;
    await this.#serial(room, () => this.#sync(room));
  }

  /** The broker says the room's media origin changed. */
  noticed(roomId: string): void {
    const room = this.#host.room(roomId);
    if (room !== undefined) void this.#serial(room, () => this.#check(room));
  }

  /** The room goes from this node: the copy piped in goes, and the node feeding it is told. */
  forget(room: RoomMedia): void {
    this.#relay.drop(room);
  }

  /** A moderator stops the room's stream: where it is published. */
  async stopAtOrigin(roomId: string, reason: string): Promise<void> {
    const room = this.#host.room(roomId);
    if (room !== undefined && (room.claim !== undefined || room.ownProducers().length > 0)) {
      this.#host.stopHere(roomId, reason);
      return;
    }
    const origin = await this.#origins.get(roomId);
    if (origin === undefined || origin.nodeId === this.#options.nodeId) {
      this.#host.stopHere(roomId, reason);
      return;
    }
    try {
      await this.#link.stopStream(origin.url, roomId, reason);
    } catch (error) {
      this.#log.warn({ roomId, origin: origin.nodeId, err: error }, 'could not stop the stream on its origin node');
      throw new ProtocolError('UNAVAILABLE', 'the node the stream is published on did not answer; try again', 1000);
    }
  }

  #tick(): void {
    for (const room of this.#host.rooms()) {
      if (room.served.size > 0) this.#server.expire(room);
      void this.#serial(room, () => this.#check(room));
    }
  }

  /** The room's periodic or noticed check: renew this node's claim, or keep following the origin. */
  async #check(room: RoomMedia): Promise<void> {
    if (room.claim !== undefined || room.ownProducers().length > 0) await this.#writeClaim(room);
    else if (room.members.size > 0 || room.served.size > 0 || room.upstream !== undefined) await this.#sync(room);
  }

  async #writeClaim(room: RoomMedia): Promise<void> {
    const own = room.ownProducers();
    const claim: MediaOriginClaim = {
      nodeId: this.#options.nodeId,
      url: this.#url,
      producers: own.map((p) => ({ producerId: p.id, kind: p.kind, paused: p.paused })),
    };
    const ttlMs = RECORD_TTL_INTERVALS * this.#options.keepaliveMs;
    const listed = JSON.stringify(claim.producers);
    try {
      if (own.length === 0) {
        if (room.claim === undefined) return;
        const version = room.claim;
        room.claim = undefined;
        room.claimed = '';
        await this.#origins.release(room.roomId, version);
        this.#notices.publishMedia(room.roomId);
        return;
      }
      this.#relay.drop(room); // a copy piped in meanwhile gives way to the stream published here
      if (room.claim === undefined) {
        room.claim = await this.#origins.claim(room.roomId, claim, ttlMs);
        room.claimed = listed;
        this.#log.info({ roomId: room.roomId, version: room.claim }, 'this node is the room\'s media origin');
        this.#notices.publishMedia(room.roomId);
        return;
      }
      if (!(await this.#origins.refresh(room.roomId, room.claim, claim, ttlMs))) {
        room.claim = undefined;
        room.claimed = '';
        this.#log.info({ roomId: room.roomId }, 'the room\'s stream was published on another node since: it stops here');
        this.#host.stopHere(room.roomId, 'the stream moved to another node');
        return;
      }
      if (listed !== room.claimed) {
        room.claimed = listed;
        this.#notices.publishMedia(room.roomId);
      }
    } catch (error) {
      this.#log.warn({ roomId: room.roomId, err: error }, 'the room\'s media origin could not be written; retried at the next check');
    }
  }

  /** Follows the room's origin as the directory has it now. */
  async #sync(room: RoomMedia): Promise<void> {
    if (this.#host.room(room.roomId) !== room) return; // forgotten while this step waited
    await this.#relay.keepalive(room);
    let origin;
    try {
      origin = await this.#origins.get(room.roomId);
    } catch (error) {
      this.#log.debug({ roomId: room.roomId, err: error }, 'media origin unreadable; the copy here stays as it is');
      return;
    }
    if (room.claim !== undefined || room.ownProducers().length > 0) return; // a local publish came first
    if (origin === undefined || origin.nodeId === this.#options.nodeId || origin.producers.length === 0) {
      if (room.upstream !== undefined) this.#relay.drop(room);
      this.#host.forgetIfIdle(room);
      return;
    }
    try {
      const { changed, incomplete } = await this.#relay.follow(room, origin);
      room.followFailedAt = 0;
      if (changed) this.#host.announce(room, 'the stream is live');
      if (incomplete) this.#syncSoon(room);
    } catch (error) {
      room.followFailedAt = Date.now();
      this.#log.warn({ roomId: room.roomId, origin: origin.nodeId, err: error }, 'could not pipe the room\'s stream from its origin; retried at the next check');
    }
  }

  #syncSoon(room: RoomMedia): void {
    if (this.#retrySoon.has(room.roomId)) return;
    this.#retrySoon.add(room.roomId);
    setTimeout(() => {
      this.#retrySoon.delete(room.roomId);
      if (this.#host.room(room.roomId) === room) void this.#serial(room, () => this.#sync(room));
    }, INCOMPLETE_RETRY_MS).unref();
  }

  #serial<T>(room: RoomMedia, step: () => Promise<T>): Promise<T> {
    const next = room.cluster.then(step, step);
    room.cluster = next.catch((error: unknown) => this.#log.error({ roomId: room.roomId, err: error }, 'media cluster step failed'));
    return next;
  }

  #pipeService(): PipeService {
    const roomOf = (roomId: string): RoomMedia => {
      const room = this.#host.room(roomId);
      if (room === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', 'the room\'s stream is not on this node');
      return room;
    };
    return {
      open: (request) => {
        const room = roomOf(request.roomId);
        return this.#server.open(room, request, () => this.#host.forgetIfIdle(room));
      },
      consume: (request) => this.#server.consume(roomOf(request.roomId), request),
      keepalive: (ref) => this.#server.keepalive(roomOf(ref.roomId), ref.pipeId),
      close: (ref) => {
        const room = this.#host.room(ref.roomId);
        if (room !== undefined) this.#server.close(room, ref.pipeId);
      },
      stopStream: (roomId, reason) => {
        const room = this.#host.room(roomId);
        if (room !== undefined && (room.claim !== undefined || room.ownProducers().length > 0)) this.#host.stopHere(roomId, reason);
      },
    };
  }
}
