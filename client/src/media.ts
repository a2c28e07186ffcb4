import { Device, type types as ms } from 'mediasoup-client';
import type { ConsumerInfo, MediaKind, StreamProducer } from '../../protocol/src/media.ts';
import type { LivecartClient } from './LivecartClient.ts';
import { isLivecartError } from './LivecartError.ts';
import { TypedEmitter } from '../../protocol/src/TypedEmitter.ts';

/**
 * Video for livecart rooms, over the room's own WebSocket: `StreamPublisher` for the streamer,
 * `StreamViewer` for everyone else. Both rebuild by themselves after a reconnect or a `mediaReset`
 * (the server's media worker restarted), and report where they stand as `state` events.
 *
 *   const viewer = new StreamViewer(client);
 *   viewer.on('track', ({ track }) => video.srcObject = new MediaStream([track]));
 *   viewer.on('state', ({ state }) => badge(state));     // connecting, waiting, playing, full, unavailable…
 *   await viewer.start();
 *
 *   const publisher = new StreamPublisher(client);
 *   await publisher.publish({ video: cameraTrack, audio: micTrack });  // video in 3 simulcast layers
 *   await publisher.setMuted('audio', true);
 */

export type MediaState =
  /** Not started, or stopped. */
  | 'idle'
  /** Talking to the server / connecting the WebRTC transport. */
  | 'connecting'
  /** Viewer: joined, but the streamer is not live. */
  | 'waiting'
  /** Viewer: receiving at least one track. Publisher: at least one track is live. */
  | 'live'
  /** Viewer: every media worker of the node is full; retrying after `retryAfterMs`. */
  | 'full'
  /** The node has no video (its log says why); retrying after `retryAfterMs`. */
  | 'unavailable'
  /** Something failed; retrying after `retryAfterMs`. */
  | 'retrying';

export interface MediaStateEvent {
  state: MediaState;
  reason?: string | undefined;
  retryAfterMs?: number | undefined;
}

export interface MediaOptions {
  /** mediasoup-client handler; detected from the browser when absent (Node with @roamhq/wrtc: 'Chrome111'). */
  handlerName?: ms.BuiltinHandlerName;
  iceServers?: RTCIceServer[];
  /** Delay before retrying after an unexpected failure (server-given retry-afters win). */
  retryMs?: number;
}

interface PeerEvents {
  state: MediaStateEvent;
}

/** What publisher and viewer share: the device, the server's media events, retries, one operation at a time. */
abstract class MediaPeer<Events extends PeerEvents> extends TypedEmitter<Events> {
  protected readonly client: LivecartClient;
  protected readonly options: MediaOptions;
  protected device: Device | undefined;
  protected transport: ms.Transport | undefined;
  #state: MediaState = 'idle';
  #running = false;
  #queue: Promise<unknown> = Promise.resolve();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(client: LivecartClient, options: MediaOptions = {}) {
    super();
    this.client = client;
    this.options = options;
    // A new socket (reconnect) or a reset means the server forgot this socket's media: rebuild.
    this.#unsubscribe.push(client.on('mediaReset', ({ reason }) => this.#rebuild(reason)));
    this.#unsubscribe.push(client.on('welcome', () => {
      if (this.transport !== undefined) this.#rebuild('reconnected');
    }));
  }

  get state(): MediaState {
    return this.#state;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The WebRTC transport's stats (inbound-rtp for a viewer, outbound-rtp for a publisher). */
  async stats(): Promise<RTCStatsReport | undefined> {
    return this.transport?.getStats();
  }

  protected setState(state: MediaState, extra: Omit<MediaStateEvent, 'state'> = {}): void {
    if (state === this.#state && extra.retryAfterMs === undefined) return;
    this.#state = state;
    (this as unknown as TypedEmitter<PeerEvents>).emit('state', { state, ...extra });
  }

  /** Runs media operations one after another (server events can arrive while one is in progress). */
  protected serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(step, step);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  protected begin(): void {
    this.#running = true;
  }

  /** Builds the transport (and, for a publisher, produces). Called again after a reset. */
  protected abstract build(): Promise<void>;

  /** Drops local media objects; the server side is gone already or closes with them. */
  protected teardown(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  protected async connectTransport(direction: 'send' | 'recv'): Promise<ms.Transport> {
    const caps = await this.client.signal({ t: 'mediaCapabilities' });
    if (this.device === undefined) {
      this.device = await Device.factory(this.options.handlerName === undefined ? {} : { handlerName: this.options.handlerName });
    }
    if (!this.device.loaded) await this.device.load({ routerRtpCapabilities: caps.routerRtpCapabilities as unknown as ms.RtpCapabilities });
    const params = await this.client.signal({ t: 'createTransport', direction });
    const init = {
      id: params.transportId,
      iceParameters: params.iceParameters as unknown as ms.IceParameters,
      iceCandidates: params.iceCandidates as unknown as ms.IceCandidate[],
      dtlsParameters: params.dtlsParameters as unknown as ms.DtlsParameters,
      ...(this.options.iceServers === undefined ? {} : { iceServers: this.options.iceServers }),
    };
    const transport = direction === 'send' ? this.device.createSendTransport(init) : this.device.createRecvTransport(init);
    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      this.client.signal({ t: 'connectTransport', transportId: transport.id, dtlsParameters: dtlsParameters as never }).then(() => done(), fail);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed') {
        // ICE broke (network change): ask for new ICE parameters first, rebuild if that does not help.
        this.client.signal({ t: 'restartIce', transportId: transport.id })
          .then(({ iceParameters }) => transport.restartIce({ iceParameters: iceParameters as unknown as ms.IceParameters }))
          .catch(() => this.#rebuild('connection failed'));
      }
    });
    this.transport = transport;
    return transport;
  }

  protected async run(): Promise<void> {
    clearTimeout(this.#retryTimer);
    if (!this.#running) return;
    this.setState('connecting');
    try {
      await this.build();
    } catch (error) {
      this.teardown();
      if (!this.#running) return;
      const code = isLivecartError(error) ? error.name : undefined;
      if (code === 'ROOM_ENDED') {
        this.end((error as Error).message); // an ended show never comes back on air: retrying cannot help
        return;
      }
      const retryAfterMs = (isLivecartError(error) ? error.retryAfterMs : undefined) ?? this.options.retryMs ?? 3000;
      const state: MediaState = code === 'VIDEO_FULL' ? 'full' : code === 'MEDIA_UNAVAILABLE' ? 'unavailable' : 'retrying';
      this.setState(state, { reason: (error as Error).message, retryAfterMs });
      this.#retryTimer = setTimeout(() => void this.serial(() => this.run()), retryAfterMs);
    }
  }

  #rebuild(reason: string): void {
    if (!this.#running) return;
    void this.serial(async () => {
      this.teardown();
      this.setState('connecting', { reason });
      await this.run();
    });
  }

  /** Stops; `reason` says why when the server ended it (the `idle` state carries it). */
  protected end(reason?: string): void {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.teardown();
    this.setState('idle', reason === undefined ? {} : { reason });
  }

  /** Stops listening to the client for good. */
  dispose(): void {
    this.end();
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}

// ---------------------------------------------------------------------------------------------

export interface ViewerEvents extends PeerEvents {
  /** A track to play (attach to a <video>/<audio> element). */
  track: { track: MediaStreamTrack; kind: MediaKind; producerId: string };
  /** A track ended (the streamer stopped it, or the stream ended). */
  trackEnded: { kind: MediaKind; producerId: string };
  /** The streamer muted or unmuted a track. */
  muted: { kind: MediaKind; producerId: string; muted: boolean };
}

/** Watches the room's stream; follows it going live, muting, ending and coming back. */
export class StreamViewer extends MediaPeer<ViewerEvents> {
  readonly #consumers = new Map<string, ms.Consumer>();
  #producers: StreamProducer[] = [];

  constructor(client: LivecartClient, options: MediaOptions = {}) {
    super(client, options);
    client.on('stream', (stream) => {
      if (!this.running) return;
      void this.serial(() => this.#onStream(stream.producers));
    });
  }

  /** The tracks being received now. */
  get tracks(): MediaStreamTrack[] {
    return [...this.#consumers.values()].map((c) => c.track);
  }

  start(): Promise<void> {
    this.begin();
    return this.serial(() => this.run());
  }

  stop(): void {
    this.end();
  }

  protected async build(): Promise<void> {
    const transport = await this.connectTransport('recv');
    await this.#consumeNew(transport);
  }

  protected override teardown(): void {
    for (const consumer of this.#consumers.values()) {
      consumer.close();
      this.emit('trackEnded', { kind: consumer.kind, producerId: consumer.producerId });
    }
    this.#consumers.clear();
    super.teardown();
  }

  async #onStream(producers: StreamProducer[]): Promise<void> {
    const listed = new Map(producers.map((p) => [p.producerId, p]));
    for (const [id, consumer] of this.#consumers) {
      if (listed.has(consumer.producerId)) continue;
      consumer.close();
      this.#consumers.delete(id);
      this.emit('trackEnded', { kind: consumer.kind, producerId: consumer.producerId });
    }
    for (const p of producers) {
      const before = this.#producers.find((old) => old.producerId === p.producerId);
      if (before !== undefined && before.paused !== p.paused) this.emit('muted', { kind: p.kind, producerId: p.producerId, muted: p.paused });
    }
    this.#producers = producers;
    if (this.transport !== undefined) await this.#consumeNew(this.transport);
    else if (this.state !== 'full' && this.state !== 'unavailable' && this.state !== 'retrying') await this.run();
  }

  async #consumeNew(transport: ms.Transport): Promise<void> {
    if (this.device === undefined) return;
    const { consumers } = await this.client.signal({ t: 'consume', transportId: transport.id, rtpCapabilities: this.device.recvRtpCapabilities as unknown as Record<string, unknown> });
    for (const info of consumers) await this.#receive(transport, info);
    this.setState(this.#consumers.size > 0 ? 'live' : 'waiting');
  }

  async #receive(transport: ms.Transport, info: ConsumerInfo): Promise<void> {
    const consumer = await transport.consume({ id: info.consumerId, producerId: info.producerId, kind: info.kind, rtpParameters: info.rtpParameters as unknown as ms.RtpParameters });
    this.#consumers.set(consumer.id, consumer);
    // Remember the producer's mute state now, so the next `stream` update has something to compare with.
    if (!this.#producers.some((p) => p.producerId === info.producerId)) this.#producers.push({ producerId: info.producerId, kind: info.kind, paused: info.producerPaused });
    await this.client.signal({ t: 'resumeConsumer', consumerId: consumer.id });
    this.emit('track', { track: consumer.track, kind: info.kind, producerId: info.producerId });
    if (info.producerPaused) this.emit('muted', { kind: info.kind, producerId: info.producerId, muted: true });
  }
}

// ---------------------------------------------------------------------------------------------

export interface PublishOptions {
  video?: MediaStreamTrack | undefined;
  audio?: MediaStreamTrack | undefined;
  /** Send video in three simulcast layers, so each viewer gets what its link carries (default true). */
  simulcast?: boolean;
}

const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * The streamer's side: publishes camera and microphone; publishes again by itself after a reset.
 * When the server ends the stream (an operator stopped it, the show ended) it stops too, and goes
 * `idle` with the server's reason; an ended show refuses to go on air again (`idle`, no retry).
 */
export class StreamPublisher extends MediaPeer<PeerEvents> {
  readonly #producers = new Map<MediaKind, ms.Producer>();
  readonly #muted = new Set<MediaKind>();
  #tracks: PublishOptions = {};

  constructor(client: LivecartClient, options: MediaOptions = {}) {
    super(client, options);
    client.on('stream', (stream) => {
      // Stopped on purpose, and none of our tracks listed: the server closed them. (A worker's death
      // lists none either, but says nothing of the kind: `mediaReset` follows and we publish again.)
      if (stream.stopped !== true || !this.running || this.state !== 'live' || this.#producers.size === 0) return;
      const ours = new Set([...this.#producers.values()].map((p) => p.id));
      if (stream.producers.some((p) => ours.has(p.producerId))) return;
      void this.serial(async () => {
        // Unless a newer publish replaced those tracks meanwhile.
        if (this.running && [...this.#producers.values()].some((p) => ours.has(p.id))) this.end(stream.reason ?? 'the stream was stopped');
      });
    });
  }

  /** Publishes the tracks (replacing what was published before). */
  publish(tracks: PublishOptions): Promise<void> {
    this.#tracks = tracks;
    this.begin();
    return this.serial(async () => {
      this.teardown();
      await this.run();
      if (this.state !== 'live') throw new Error(`publishing failed (${this.state})`);
    });
  }

  /** Mute or unmute a published track; viewers are told. */
  setMuted(kind: MediaKind, muted: boolean): Promise<void> {
    return this.serial(async () => {
      if (muted) this.#muted.add(kind);
      else this.#muted.delete(kind);
      const producer = this.#producers.get(kind);
      if (producer === undefined) return;
      if (muted) producer.pause();
      else producer.resume();
      await this.client.signal({ t: 'setProducerPaused', producerId: producer.id, paused: muted });
    });
  }

  /** Ends the stream for every viewer. */
  stop(): Promise<void> {
    return this.serial(async () => {
      const wasLive = this.#producers.size > 0;
      this.end();
      if (wasLive) await this.client.signal({ t: 'stopStream' });
    });
  }

  protected async build(): Promise<void> {
    const transport = await this.connectTransport('send');
    transport.on('produce', ({ kind, rtpParameters }, done, fail) => {
      this.client.signal({ t: 'produce', transportId: transport.id, kind, rtpParameters: rtpParameters as unknown as Record<string, unknown>, paused: this.#muted.has(kind) })
        .then(({ producerId }) => done({ id: producerId }), fail);
    });
    if (this.#tracks.video !== undefined) {
      const simulcast = this.#tracks.simulcast ?? true;
      const producer = await transport.produce({
        track: this.#tracks.video,
        ...(simulcast ? { encodings: SIMULCAST } : {}),
        codecOptions: { videoGoogleStartBitrate: 1000 },
        stopTracks: false,
      });
      this.#producers.set('video', producer);
    }
    if (this.#tracks.audio !== undefined) {
      this.#producers.set('audio', await transport.produce({ track: this.#tracks.audio, stopTracks: false }));
    }
    for (const kind of this.#muted) this.#producers.get(kind)?.pause();
    this.setState(this.#producers.size > 0 ? 'live' : 'idle');
  }

  protected override teardown(): void {
    for (const producer of this.#producers.values()) producer.close();
    this.#producers.clear();
    super.teardown();
  }
}
