import { join, resolve } from 'node:path';
import type { types } from 'mediasoup';
import {
  type ConsumeResult,
  type ConsumerInfo,
  encode,
  type MediaCapabilitiesResult,
  type MediaKind,
  type MediaRequest,
  type ProduceResult,
  type RestartIceResult,
  type RoomInfo,
  type TransportResult,
} from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { DegradeLevel } from '../fanout/DegradePolicy.ts';
import type { Logger } from '../log.ts';
import type { Member } from '../rooms/Member.ts';
import type { MediaOriginDirectory } from '../store/MediaOriginDirectory.ts';
import type { RecordingDirectory } from '../store/RecordingDirectory.ts';
import { HlsOrigin, type HlsSource } from './HlsOrigin.ts';
import { MediaCluster, type PipeService } from './MediaCluster.ts';
import { spatialLayerFor } from './mediaCodecs.ts';
import { countMedia, type MediaStatus, sampleBitrates, transportsOf } from './MediaStats.ts';
import type { PipeLink } from './PipeLink.ts';
import { MemberMedia, RoomMedia, type RouterSlot } from './RoomMedia.ts';
import { RoomRouters } from './RoomRouters.ts';
import { type IngestEndpoint, openRtpIngest } from './RtpIngest.ts';
import { type RecordingSource, ShowRecorder } from './ShowRecorder.ts';
import { type PooledWorker, WorkerPool } from './WorkerPool.ts';

export type { HlsSource, IngestEndpoint, MediaStatus, PipeService, RecordingSource };

/** What carries a room's video across nodes: where origins are recorded, how nodes are told, how they call each other. */
export interface MediaClusterDeps {
  readonly nodeId: string;
  readonly origins: MediaOriginDirectory;
  readonly notices: { publishMedia(roomId: string): void };
  readonly link: PipeLink;
  /** Where the shows recorded on this node are announced. */
  readonly recordings: RecordingDirectory;
}

/** Without workers there is nothing to pipe: every pipe call is refused. */
const NO_PIPES: PipeService = {
  open: () => Promise.reject(new ProtocolError('MEDIA_UNAVAILABLE', 'no video on this node')),
  consume: () => Promise.reject(new ProtocolError('MEDIA_UNAVAILABLE', 'no video on this node')),
  keepalive: () => { throw new ProtocolError('MEDIA_NOT_FOUND', 'no video on this node'); },
  close: () => undefined,
  stopStream: () => undefined,
};

/** What media needs from the room layer. */
export interface MediaRooms {
  roomInfo(roomId: string): Promise<RoomInfo>;
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
}

export type MediaConfig = Pick<
  Config,
  | 'media' | 'mediaWorkers' | 'mediaWorkerBin' | 'mediaListenIp' | 'mediaAnnouncedAddress' | 'mediaPortMin' | 'mediaPortMax'
  | 'mediaConsumerLimit' | 'mediaVideoFullRetryMs' | 'mediaMaxIncomingBitrate' | 'mediaInitialOutgoingBitrate'
  | 'mediaWorkerRestartMs' | 'mediaStatsIntervalMs' | 'mediaWorkerLogLevel' | 'mediaTransportsPerSocket'
  | 'mediaPipeListenIp' | 'mediaPipeAnnouncedIp' | 'mediaPipeSrtp' | 'mediaPipesPerRoom' | 'mediaPipeKeepaliveMs'
  | 'hls' | 'hlsDir' | 'hlsFfmpegBin' | 'hlsSegmentSeconds' | 'hlsListSize' | 'hlsSettleMs' | 'hlsRestartMs'
  | 'recording' | 'recordingDir' | 'recordingRetentionHours' | 'recordingSweepMs'
>;

/** Where an outside publisher (WHIP, the RTMP relay) builds its transport: the room's origin router. */
export interface IngestSite {
  readonly router: types.Router;
  listenInfo(protocol: 'udp' | 'tcp'): types.TransportListenInfo;
}

/** A stream published from outside a room socket: its transports and the producers on them. */
export interface ExternalStream {
  readonly transports: readonly types.Transport[];
  readonly producers: readonly types.Producer[];
}

/**
 * The media plane: the only code that talks to mediasoup (with WorkerPool). Rooms get a router on
 * the least-loaded worker; the streamer produces on it; viewers consume from it until its worker
 * reaches `mediaConsumerLimit`, then the producers are piped to a router on another worker and new
 * viewers land there. A viewer watches through the node it is connected to; when the room's stream
 * is published on another node, MediaCluster pipes it in from there.
 */
export class MediaService {
  readonly #config: MediaConfig;
  readonly #rooms: MediaRooms;
  readonly #log: Logger;
  readonly #pool: WorkerPool | undefined;
  /** Where rooms' routers live on the workers (absent without a pool). */
  readonly #routers: RoomRouters | undefined;
  /** The room's video across nodes (absent without a pool). */
  readonly #cluster: MediaCluster | undefined;
  /** HLS renditions of the streams published here (absent without a pool, or with --hls false). */
  readonly #hls: HlsOrigin | undefined;
  /** Recordings of the shows rendered here (absent without HLS, or with --recording false). */
  readonly #recorder: ShowRecorder | undefined;
  /** Why there is no video, for operators (log, /readyz, ops API): may name paths and system errors. */
  readonly #unavailableReason: string | undefined;
  /** Why there is no video, for clients: the same without the system's words. */
  readonly #unavailableForClients: string | undefined;
  readonly #byRoom = new Map<string, RoomMedia>();
  readonly #statsTimer: NodeJS.Timeout | undefined;
  #bitrateIn = 0;
  #bitrateOut = 0;

  private constructor(config: MediaConfig, rooms: MediaRooms, log: Logger, pool: WorkerPool | undefined, cluster: MediaClusterDeps, unavailable?: { reason: string; forClients: string }) {
    this.#config = config;
    this.#rooms = rooms;
    this.#log = log;
    this.#pool = pool;
    this.#routers = pool === undefined ? undefined : new RoomRouters(pool, { listenIp: config.mediaListenIp, announcedAddress: config.mediaAnnouncedAddress, videoFullRetryMs: config.mediaVideoFullRetryMs }, log);
    this.#cluster = this.#routers === undefined ? undefined : new MediaCluster({
      ...cluster,
      routers: this.#routers,
      host: {
        room: (roomId) => this.#byRoom.get(roomId),
        rooms: () => this.#byRoom.values(),
        adopt: (room, producer) => this.#adoptProducer(room, producer, false),
        announce: (room, reason) => this.#announce(room, reason),
        stopHere: (roomId, reason) => this.stopStream(roomId, reason),
        forgetIfIdle: (room) => this.#forgetIfIdle(room),
      },
      options: {
        nodeId: cluster.nodeId,
        keepaliveMs: config.mediaPipeKeepaliveMs,
        pipesPerRoom: config.mediaPipesPerRoom,
        srtp: config.mediaPipeSrtp,
        listenInfo: (worker) => ({
          protocol: 'udp',
          ip: config.mediaPipeListenIp ?? config.mediaListenIp,
          ...(config.mediaPipeAnnouncedIp === undefined ? {} : { announcedAddress: config.mediaPipeAnnouncedIp }),
          portRange: worker.portRange,
        }),
      },
      log: log.child({ part: 'media-cluster' }),
    });
    this.#recorder = this.#routers === undefined || !config.hls || !config.recording ? undefined : new ShowRecorder({
      dir: resolve(config.recordingDir ?? join(config.hlsDir, 'recordings')),
      retentionMs: config.recordingRetentionHours * 3_600_000,
      sweepMs: config.recordingSweepMs,
      segmentSeconds: config.hlsSegmentSeconds,
      nodeId: cluster.nodeId,
    }, { rooms, directory: cluster.recordings }, log.child({ part: 'recording' }));
    this.#hls = this.#routers === undefined || !config.hls ? undefined : new HlsOrigin({
      dir: config.hlsDir,
      ffmpegBin: config.hlsFfmpegBin,
      segmentSeconds: config.hlsSegmentSeconds,
      listSize: config.hlsListSize,
      settleMs: config.hlsSettleMs,
      restartMs: config.hlsRestartMs,
    }, log.child({ part: 'hls' }), this.#recorder);
    this.#unavailableReason = unavailable?.reason;
    this.#unavailableForClients = unavailable?.forClients;
    if (pool !== undefined) {
      pool.onDied((worker) => this.#workerDied(worker));
      this.#statsTimer = setInterval(() => void this.#sample(), config.mediaStatsIntervalMs).unref();
    }
  }

  /** Starts the workers. Never throws: without workers the service answers MEDIA_UNAVAILABLE and says why, loudly. */
  static async start(config: MediaConfig, rooms: MediaRooms, log: Logger, cpuCount: number, cluster: MediaClusterDeps): Promise<MediaService> {
    if (!config.media) {
      const off = 'video is switched off (--media false)';
      return new MediaService(config, rooms, log, undefined, cluster, { reason: off, forClients: off });
    }
    try {
      const pool = await WorkerPool.start({
        workers: config.mediaWorkers === 0 ? cpuCount : config.mediaWorkers,
        workerBin: config.mediaWorkerBin,
        logLevel: config.mediaWorkerLogLevel,
        portMin: config.mediaPortMin,
        portMax: config.mediaPortMax,
        consumerLimit: config.mediaConsumerLimit,
        restartMs: config.mediaWorkerRestartMs,
      }, log);
      return new MediaService(config, rooms, log, pool, cluster);
    } catch (error) {
      const reason = `no mediasoup worker could start (${(error as Error).message}); run 'npm install' to build it (scripts/mediasoup-worker.sh)`;
      log.error({ err: error }, `VIDEO UNAVAILABLE: ${reason}. Comments and cart work; streamers are told "video unavailable".`);
      return new MediaService(config, rooms, log, undefined, cluster, { reason, forClients: 'no mediasoup worker could start on this node; the operator\'s log says why' });
    }
  }

  perRoomState(): Record<string, number> {
    return { rooms: this.#byRoom.size };
  }

  get available(): boolean {
    return this.#pool !== undefined && this.#pool.workers.length > 0;
  }

  /** The live workers (tests kill one to check recovery). */
  get workerPids(): number[] {
    return this.#pool?.workers.map((w) => w.pid) ?? [];
  }

  /** Calls of other nodes on this one's media (pipes of a room's stream). */
  get pipes(): PipeService {
    return this.#cluster?.pipes ?? NO_PIPES;
  }

  /** The HLS renditions this node makes (the rooms it is the media origin of); none without video or HLS. */
  get hls(): HlsSource {
    return this.#hls ?? { read: async () => undefined, renders: () => false };
  }

  /** The recordings of the shows this node rendered; none without video, HLS or recording. */
  get recordings(): RecordingSource {
    return this.#recorder ?? { read: async () => undefined };
  }

  /** The node listens: other nodes reach it at `url` for the rooms whose stream it publishes, and their recordings. */
  listening(url: string): void {
    this.#cluster?.listening(url);
    this.#recorder?.listening(url);
  }

  /** The broker says a room's media origin changed. */
  originChanged(roomId: string): void {
    this.#cluster?.noticed(roomId);
  }

  close(): void {
    clearInterval(this.#statsTimer);
    this.#cluster?.close();
    this.#hls?.close();
    for (const room of this.#byRoom.values()) room.closeRouters();
    this.#byRoom.clear();
    this.#pool?.close();
  }

  // ------------------------------------------------------------------ signaling

  async handle(member: Member, roomId: string, request: MediaRequest): Promise<Record<string, unknown>> {
    const routers = this.#requireRouters();
    switch (request.t) {
      case 'mediaCapabilities': {
        const room = this.#room(roomId);
        const origin = await routers.origin(room);
        if (!room.members.has(member)) room.members.set(member, new MemberMedia(member, roomId));
        // The stream may be published on another node: pipe it in before answering. A streamer is
        // about to publish, not to watch, and need not wait for a node that may be gone.
        const following = this.#cluster?.follow(room);
        if (member.principal.role !== 'streamer') await following;
        return { routerRtpCapabilities: origin.router.rtpCapabilities as unknown as Record<string, unknown>, stream: room.stream() } satisfies MediaCapabilitiesResult;
      }
      case 'createTransport':
        return this.#createTransport(member, roomId, request.direction, routers);
      case 'connectTransport': {
        const transport = this.#transport(member, roomId, request.transportId);
        await this.#mediasoupCall(() => transport.connect({ dtlsParameters: request.dtlsParameters as types.DtlsParameters }));
        return {};
      }
      case 'produce':
        return this.#produce(member, roomId, request.transportId, request.kind, request.rtpParameters, request.paused ?? false);
      case 'consume':
        return this.#consume(member, roomId, request.transportId, request.rtpCapabilities);
      case 'resumeConsumer': {
        const consumer = this.#memberMedia(member, roomId).consumers.get(request.consumerId);
        if (consumer === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', `no consumer ${request.consumerId} on this socket`);
        await consumer.resume();
        return {};
      }
      case 'setProducerPaused': {
        const producer = this.#memberMedia(member, roomId).producers.get(request.producerId);
        if (producer === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', `no producer ${request.producerId} of this socket`);
        if (request.paused) await producer.pause();
        else await producer.resume();
        const room = this.#room(roomId);
        this.#announce(room, request.paused ? `${producer.kind} muted` : `${producer.kind} unmuted`);
        this.#cluster?.ownStreamChanged(room);
        this.#hls?.changed(room);
        return {};
      }
      case 'restartIce': {
        const transport = this.#transport(member, roomId, request.transportId);
        return { iceParameters: (await transport.restartIce()) as unknown as Record<string, unknown> } satisfies RestartIceResult;
      }
      case 'stopStream':
        if (!(await this.#rooms.canModerate(member.principal, roomId))) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer or an operator can stop the stream');
        await this.stopStreamEverywhere(roomId, member.principal.role === 'operator' ? 'stopped by an operator' : 'the streamer ended the stream');
        return {};
    }
  }

  /** A socket left the room: its transports close; a streamer leaving ends the stream. */
  memberLeft(member: Member, roomId: string): void {
    const room = this.#byRoom.get(roomId);
    const media = room?.members.get(member);
    if (room === undefined || media === undefined) return;
    room.members.delete(member);
    const wasProducing = media.producers.size > 0;
    for (const id of media.producers.keys()) room.producers.delete(id);
    media.release();
    if (wasProducing) {
      this.#announce(room, 'the streamer left');
      this.#cluster?.ownStreamChanged(room);
    }
    this.#forgetIfIdle(room);
  }

  /**
   * Ends the room's stream on this node: every producer (and so every consumer) closes, a copy
   * piped in from another node too. Where the stream is published, the other nodes hear it ended.
   */
  stopStream(roomId: string, reason: string): void {
    const room = this.#byRoom.get(roomId);
    if (room === undefined) return;
    // Forget them first: each producer's own close listener then stays quiet, and the room hears one reason.
    const producers = [...room.producers.values()];
    room.producers.clear();
    this.#cluster?.forget(room);
    for (const producer of producers) producer.close();
    for (const transport of room.ingest.splice(0)) transport.close();
    for (const media of room.members.values()) {
      for (const transport of [...media.transports.values()]) if (transport.appData.direction === 'send') { transport.close(); media.transports.delete(transport.id); }
      media.producers.clear();
    }
    this.#announce(room, reason, true);
    this.#cluster?.ownStreamChanged(room);
    this.#forgetIfIdle(room);
  }

  /** A moderator ends the room's stream: on the node it is published on, which tells every other node. */
  async stopStreamEverywhere(roomId: string, reason: string): Promise<void> {
    if (this.#cluster === undefined) this.stopStream(roomId, reason);
    else await this.#cluster.stopAtOrigin(roomId, reason);
  }

  /** The room's degrade level moved: cap viewers' simulcast layer (lower video before chatter is cut further). */
  setDegradeLevel(roomId: string, level: DegradeLevel): void {
    const room = this.#byRoom.get(roomId);
    if (room === undefined || room.level === level) return;
    room.level = level;
    for (const media of room.members.values()) {
      for (const consumer of media.consumers.values()) this.#capLayers(consumer, level);
    }
  }

  /** RTP ingest from a tool such as ffmpeg: plain transports on the room's origin router, returns where to send. */
  async createIngest(principal: Principal, roomId: string, kinds: { video: boolean; audio: boolean }): Promise<{ video?: IngestEndpoint; audio?: IngestEndpoint }> {
    const routers = this.#requireRouters();
    const info = await this.#rooms.roomInfo(roomId);
    if (info.streamerId !== principal.userId) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer can publish into it');
    if (info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended: it cannot go back on air');
    // A new ingest replaces the room's stream (the streamer restarted their encoder): never two streams at once.
    if (this.#byRoom.get(roomId)?.ownProducers().length) this.stopStream(roomId, 'the streamer restarted the stream');
    const room = this.#room(roomId);
    this.#cluster?.becomeOrigin(room);
    const origin = await routers.origin(room);
    const result: { video?: IngestEndpoint; audio?: IngestEndpoint } = {};
    for (const kind of ['video', 'audio'] as const) {
      if (!kinds[kind]) continue;
      const track = await openRtpIngest(origin, kind, routers.listenInfo('udp', origin.worker));
      room.ingest.push(track.transport);
      await this.#adoptProducer(room, track.producer);
      result[kind] = track.endpoint;
    }
    this.#announce(room, 'RTP ingest started');
    this.#cluster?.ownStreamChanged(room);
    return result;
  }

  /**
   * Publishing from outside a room socket (WHIP, the RTMP relay), for the room's streamer: `check`
   * vets the request against the router's capabilities before anything on air is touched; then the
   * room's stream stops, `open` builds transports and producers on the origin router, and they
   * become the stream, piped to the room's other routers. They close with the stream (stopStream,
   * the next stream, the show's end, the origin worker's death); a transport that closes by itself
   * takes its producers off air.
   */
  async publishExternal<T extends ExternalStream>(principal: Principal, roomId: string, publisher: {
    label: string;
    check(rtpCapabilities: types.RtpCapabilities): void;
    open(site: IngestSite): Promise<T>;
  }): Promise<T> {
    const routers = this.#requireRouters();
    const info = await this.#rooms.roomInfo(roomId);
    if (info.streamerId !== principal.userId) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer can publish into it');
    if (info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended: it cannot go back on air');
    let room = this.#room(roomId);
    try {
      publisher.check((await routers.origin(room)).router.rtpCapabilities);
    } catch (error) {
      this.#forgetIfIdle(room);
      throw error;
    }
    if (room.ownProducers().length > 0 || room.ingest.length > 0) this.stopStream(roomId, 'the streamer restarted the stream');
    room = this.#room(roomId);
    this.#cluster?.becomeOrigin(room);
    const origin = await routers.origin(room);
    let stream: T;
    try {
      stream = await this.#mediasoupCall(() => publisher.open({ router: origin.router, listenInfo: (protocol) => routers.listenInfo(protocol, origin.worker) }));
    } catch (error) {
      this.#forgetIfIdle(room);
      throw error;
    }
    // The show may have ended, or the room's media been reset, while the stream was being built.
    const ended = (await this.#rooms.roomInfo(roomId)).state === 'ended';
    if (ended || this.#byRoom.get(roomId) !== room) {
      for (const transport of stream.transports) transport.close();
      if (this.#byRoom.get(roomId) === room) this.#forgetIfIdle(room);
      throw ended ? new ProtocolError('ROOM_ENDED', 'the show has ended: it cannot go back on air') : new ProtocolError('MEDIA_UNAVAILABLE', 'the room\'s media restarted while the stream was being set up: publish again', 1000);
    }
    for (const transport of stream.transports) {
      room.ingest.push(transport);
      transport.observer.once('close', () => {
        const at = room.ingest.indexOf(transport);
        if (at < 0) return; // closed with the stream, which forgets the room itself
        room.ingest.splice(at, 1);
        if (this.#byRoom.get(roomId) === room) this.#forgetIfIdle(room);
      });
    }
    for (const producer of stream.producers) await this.#adoptProducer(room, producer);
    this.#announce(room, `${publisher.label} started`);
    this.#cluster?.ownStreamChanged(room);
    return stream;
  }

  /** Where a room's media runs on this node: the origin worker (producers) and every worker with a router of it. */
  placement(roomId: string): { originPid: number | undefined; workerPids: number[]; members: number } | undefined {
    const room = this.#byRoom.get(roomId);
    if (room === undefined) return undefined;
    return { originPid: room.origin?.worker.pid, workerPids: [...room.slots.keys()].map((w) => w.pid), members: room.members.size };
  }

  /** The preferred (capped) and current spatial layer of each video consumer of a room on this node. */
  videoLayers(roomId: string): Array<{ consumerId: string; preferred: number | undefined; current: number | undefined }> {
    const room = this.#byRoom.get(roomId);
    if (room === undefined) return [];
    return [...room.members.values()].flatMap((media) => [...media.consumers.values()]
      .filter((c) => c.kind === 'video')
      .map((c) => ({ consumerId: c.id, preferred: c.preferredLayers?.spatialLayer, current: c.currentLayers?.spatialLayer })));
  }

  status(): MediaStatus {
    return {
      available: this.available,
      ...(this.available ? {} : { reason: this.#unavailableReason ?? 'every media worker died; replacements are starting' }),
      workers: (this.#pool?.workers ?? []).map((w) => ({ index: w.index, pid: w.pid, consumers: w.load, routers: w.routers, cpu: w.cpu })),
      workerDeaths: this.#pool?.deaths ?? 0,
      ...countMedia(this.#byRoom.values()),
      ...(this.#cluster?.counts() ?? { pipesServed: 0, roomsRelayed: 0 }),
      hlsRenditions: this.#hls?.count ?? 0,
      bitrateInBps: this.#bitrateIn,
      bitrateOutBps: this.#bitrateOut,
    };
  }

  // ------------------------------------------------------------------ internals

  #requireRouters(): RoomRouters {
    if (this.#routers === undefined || this.#pool === undefined || this.#pool.workers.length === 0) {
      throw new ProtocolError('MEDIA_UNAVAILABLE', `video unavailable: ${this.#unavailableForClients ?? 'media workers are restarting'}`, this.#pool === undefined ? 60_000 : 1000);
    }
    return this.#routers;
  }

  #room(roomId: string): RoomMedia {
    let room = this.#byRoom.get(roomId);
    if (room === undefined) this.#byRoom.set(roomId, (room = new RoomMedia(roomId)));
    return room;
  }

  #memberMedia(member: Member, roomId: string): MemberMedia {
    const media = this.#byRoom.get(roomId)?.members.get(member);
    if (media === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', 'no media on this socket: send mediaCapabilities first');
    return media;
  }

  #transport(member: Member, roomId: string, transportId: string): types.WebRtcTransport {
    const transport = this.#memberMedia(member, roomId).transports.get(transportId);
    if (transport === undefined) throw new ProtocolError('MEDIA_NOT_FOUND', `no transport ${transportId} on this socket`);
    return transport;
  }

  /** mediasoup rejects bad parameters with TypeError: that is the client's fault, not ours. */
  async #mediasoupCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof TypeError || (error as Error).name === 'UnsupportedError') throw new ProtocolError('BAD_REQUEST', (error as Error).message.slice(0, 300));
      throw error;
    }
  }

  async #createTransport(member: Member, roomId: string, direction: 'send' | 'recv', routers: RoomRouters): Promise<TransportResult> {
    const media = this.#memberMedia(member, roomId);
    // Each transport holds ports and worker memory: a socket gets a few (one per direction, plus
    // replacements while an old one closes), never an unbounded number.
    if (media.transports.size >= this.#config.mediaTransportsPerSocket) {
      throw new ProtocolError('LIMIT_EXCEEDED', `a socket may hold at most ${this.#config.mediaTransportsPerSocket} media transports`);
    }
    const room = this.#room(roomId);
    let slot: RouterSlot;
    if (direction === 'send') {
      const info = await this.#rooms.roomInfo(roomId);
      if (info.streamerId !== member.principal.userId) throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer can publish video');
      // An ended show stays off air: its stream was stopped when it ended, and may not start again.
      if (info.state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended: it cannot go back on air');
      slot = await routers.origin(room);
    } else {
      if (media.recvSlot !== undefined) {
        slot = media.recvSlot; // a second receive transport (ICE trouble): same router, same reservation
      } else {
        const need = Math.max(1, room.producers.size);
        slot = await routers.recvSlot(room, need);
        slot.worker.load += need;
        media.recvSlot = slot;
        media.reserved = need;
      }
    }
    const transport = await slot.router.createWebRtcTransport({
      listenInfos: [routers.listenInfo('udp', slot.worker), routers.listenInfo('tcp', slot.worker)],
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.#config.mediaInitialOutgoingBitrate,
      appData: { direction },
    });
    if (direction === 'send') await transport.setMaxIncomingBitrate(this.#config.mediaMaxIncomingBitrate);
    if (room.members.get(member) !== media) {
      transport.close(); // the socket left (or its media was reset) while the transport was being made
      throw new ProtocolError('MEDIA_NOT_FOUND', 'this socket\'s media was reset');
    }
    media.transports.set(transport.id, transport);
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') {
        media.transports.delete(transport.id);
        transport.close();
      }
    });
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters as unknown as Record<string, unknown>,
      iceCandidates: transport.iceCandidates as unknown as Array<Record<string, unknown>>,
      dtlsParameters: transport.dtlsParameters as unknown as Record<string, unknown>,
    };
  }

  async #produce(member: Member, roomId: string, transportId: string, kind: MediaKind, rtpParameters: Record<string, unknown>, paused: boolean): Promise<ProduceResult> {
    const media = this.#memberMedia(member, roomId);
    const transport = this.#transport(member, roomId, transportId);
    if (transport.appData.direction !== 'send') throw new ProtocolError('FORBIDDEN', 'produce needs a send transport (the room\'s streamer only)');
    // A send transport made just before the show ended must not put it back on air.
    if ((await this.#rooms.roomInfo(roomId)).state === 'ended') throw new ProtocolError('ROOM_ENDED', 'the show has ended: it cannot go back on air');
    const room = this.#room(roomId);
    this.#cluster?.becomeOrigin(room); // a copy piped in from another node gives way to this publish
    const producer = await this.#mediasoupCall(() => transport.produce({ kind, rtpParameters: rtpParameters as unknown as types.RtpParameters, paused }));
    // One track per kind per streamer: a new camera (or microphone) replaces the old one, and the
    // page replaces a stream the streamer published from outside (RTP ingest, WHIP, RTMP).
    for (const old of media.producers.values()) if (old.kind === kind) old.close();
    for (const ingest of this.#room(roomId).ingest.splice(0)) ingest.close();
    media.producers.set(producer.id, producer);
    producer.observer.once('close', () => media.producers.delete(producer.id));
    await this.#adoptProducer(room, producer);
    this.#announce(room, `${kind} live`);
    this.#cluster?.ownStreamChanged(room);
    return { producerId: producer.id };
  }

  /**
   * A new producer of the room (`own`: published here; else piped in from another node): piped to
   * every other router of the room, so their viewers can consume it.
   */
  async #adoptProducer(room: RoomMedia, producer: types.Producer, own = true): Promise<void> {
    room.producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      if (room.producers.delete(producer.id)) this.#announce(room, `${producer.kind} ended`);
      if (own) {
        this.#cluster?.ownStreamChanged(room);
        this.#hls?.changed(room);
      }
    });
    if (own) this.#hls?.changed(room);
    await this.#routers?.spread(room, producer);
  }

  async #consume(member: Member, roomId: string, transportId: string, rtpCapabilities: Record<string, unknown>): Promise<ConsumeResult> {
    const media = this.#memberMedia(member, roomId);
    const transport = this.#transport(member, roomId, transportId);
    if (transport.appData.direction !== 'recv' || media.recvSlot === undefined) throw new ProtocolError('BAD_REQUEST', 'consume needs a receive transport');
    const room = this.#room(roomId);
    const slot = media.recvSlot;
    const consuming = new Set([...media.consumers.values()].map((c) => c.producerId));
    const consumers: ConsumerInfo[] = [];
    let unplayable = 0;
    for (const producer of room.producers.values()) {
      if (consuming.has(producer.id)) continue;
      const caps = rtpCapabilities as unknown as types.RtpCapabilities;
      if (!slot.router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) {
        unplayable++;
        continue;
      }
      const consumer = await this.#mediasoupCall(() => transport.consume({
        producerId: producer.id,
        rtpCapabilities: caps,
        paused: true,
        ...(producer.kind === 'video' ? { preferredLayers: { spatialLayer: spatialLayerFor(room.level) } } : {}),
      }));
      media.consumers.set(consumer.id, consumer);
      const forget = () => media.consumers.delete(consumer.id);
      consumer.on('transportclose', forget);
      consumer.on('producerclose', forget);
      consumers.push({ consumerId: consumer.id, producerId: producer.id, kind: consumer.kind as MediaKind, rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>, producerPaused: consumer.producerPaused });
    }
    if (unplayable > 0 && consumers.length === 0) {
      throw new ProtocolError('BAD_REQUEST', 'these RTP capabilities cannot receive any track of the stream (unsupported codecs, or malformed)');
    }
    // The reservation made at transport time grows if the stream gained tracks since.
    if (media.consumers.size > media.reserved) {
      slot.worker.load += media.consumers.size - media.reserved;
      media.reserved = media.consumers.size;
    }
    return { consumers };
  }

  #capLayers(consumer: types.Consumer, level: DegradeLevel): void {
    if (consumer.kind !== 'video' || consumer.closed || consumer.type !== 'simulcast') return;
    consumer.setPreferredLayers({ spatialLayer: spatialLayerFor(level) }).catch(() => undefined);
  }

  /** The stream changed: tell this node's members of the room that use media. */
  #announce(room: RoomMedia, reason: string, stopped = false): void {
    const frame = encode({ t: 'stream', ...room.stream(), reason, ...(stopped ? { stopped: true } : {}) });
    for (const media of room.members.values()) media.member.send(frame);
  }

  #forgetIfIdle(room: RoomMedia): void {
    if (room.members.size > 0 || room.ownProducers().length > 0 || room.ingest.length > 0 || room.served.size > 0) return;
    if (this.#byRoom.get(room.roomId) !== room) return;
    this.#cluster?.forget(room);
    room.closeRouters();
    this.#byRoom.delete(room.roomId);
  }

  /**
   * A worker died. Rooms whose origin was on it lose their stream: every member rebuilds (the
   * streamer publishes again). Rooms that only had viewers on it: those viewers rebuild elsewhere.
   */
  #workerDied(worker: PooledWorker): void {
    for (const room of [...this.#byRoom.values()]) {
      const slot = room.slots.get(worker);
      if (slot === undefined) continue;
      const originLost = room.origin === slot;
      const affected = [...room.members.values()].filter((m) => originLost || m.recvSlot === slot);
      for (const media of affected) {
        media.release();
        room.members.delete(media.member);
      }
      if (originLost) {
        room.closeRouters();
        this.#cluster?.ownStreamChanged(room); // the claim goes with the producers; the streamer publishes again
      } else room.slots.delete(worker);
      const frame = encode({ t: 'mediaReset', reason: 'a media worker restarted' });
      for (const media of affected) media.member.send(frame);
      this.#log.warn({ roomId: room.roomId, originLost, members: affected.length }, 'room media reset after a worker died');
      if (room.members.size === 0 && room.producers.size === 0) this.#byRoom.delete(room.roomId);
    }
  }

  async #sample(): Promise<void> {
    if (this.#pool === undefined) return;
    await this.#pool.sampleCpu();
    const { inBps, outBps } = await sampleBitrates(transportsOf(this.#byRoom.values()));
    this.#bitrateIn = inBps;
    this.#bitrateOut = outBps;
  }
}
