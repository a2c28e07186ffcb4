import { createServer, type Server, type Socket } from 'node:net';
import { roomIdSchema, type RoomInfo } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { StreamKeys } from '../rooms/StreamKeys.ts';
import type { MediaService } from './MediaService.ts';
import { RtmpConnection } from './rtmp/RtmpConnection.ts';
import { RtmpRelay } from './rtmp/RtmpRelay.ts';

export interface RtmpOptions {
  readonly host: string;
  readonly port: number;
  /** Connections at once (publishing or not yet); more are closed at once. */
  readonly maxConnections: number;
  /** Time a connection has to get a publish accepted. */
  readonly publishTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly videoBitrate: number;
  readonly ffmpegBin: string;
}

/** What the listener asks of the rest of the server. */
export interface RtmpDeps {
  readonly media: MediaService;
  readonly streamKeys: StreamKeys;
  readonly rooms: { roomInfo(roomId: string): Promise<RoomInfo> };
}

/**
 * RTMP for encoders that do not speak WHIP: one TCP listener for every room. A publisher connects
 * to rtmp://HOST:PORT/ROOM and publishes with the room's stream key as its stream name; the server
 * speaks RTMP itself up to the publish (so it can check the key before anything runs), then an
 * ffmpeg per live stream transcodes it into the room (RtmpRelay). ffmpeg's own RTMP listener was
 * not used: it takes one publisher per port and accepts any stream name.
 */
export class RtmpIngest {
  readonly #server: Server;
  readonly #options: RtmpOptions;
  readonly #deps: RtmpDeps;
  readonly #log: Logger;
  readonly #connections = new Set<RtmpConnection>();
  readonly #relays = new Set<RtmpRelay>();

  private constructor(server: Server, options: RtmpOptions, deps: RtmpDeps, log: Logger) {
    this.#server = server;
    this.#options = options;
    this.#deps = deps;
    this.#log = log;
  }

  /** Listens on `options.port`; rejects when the port cannot be had. */
  static async start(options: RtmpOptions, deps: RtmpDeps, log: Logger): Promise<RtmpIngest> {
    const server = createServer();
    const ingest = new RtmpIngest(server, options, deps, log);
    server.on('connection', (socket) => ingest.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => log.error({ err: error }, 'RTMP listener error'));
    log.info({ port: ingest.port }, 'RTMP ingest listening');
    return ingest;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** RTMP streams relayed into rooms now. */
  get relays(): number {
    return this.#relays.size;
  }

  /** Stops listening and ends every connection (and the streams they publish). */
  close(): void {
    this.#server.close();
    for (const relay of [...this.#relays]) relay.end('the server is stopping', 'the server is restarting');
    for (const connection of [...this.#connections]) connection.close(undefined);
  }

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.#options.maxConnections) {
      this.#log.warn({ remote: socket.remoteAddress, max: this.#options.maxConnections }, 'RTMP connection refused: too many at once');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    let relay: RtmpRelay | undefined;
    const timer = setTimeout(() => {
      if (relay === undefined) connection.close(new Error('no accepted publish in time'));
    }, this.#options.publishTimeoutMs);
    timer.unref();
    const connection: RtmpConnection = new RtmpConnection(socket, this.#options.maxMessageBytes, {
      publish: async (app, streamName) => {
        const { roomId, principal } = await this.#authorise(app, streamName);
        if (!this.#connections.has(connection)) return; // the publisher went while its key was checked
        relay = new RtmpRelay({
          media: this.#deps.media,
          principal,
          roomId,
          options: { ffmpegBin: this.#options.ffmpegBin, videoBitrate: this.#options.videoBitrate, maxHeldBytes: 4 * this.#options.maxMessageBytes },
          socket,
          log: this.#log,
          ended: (done) => this.#relays.delete(done),
        });
        this.#relays.add(relay);
        this.#log.info({ roomId, remote: socket.remoteAddress }, 'RTMP publish accepted');
      },
      metadata: (values) => relay?.metadata(values),
      media: (message) => relay?.media(message),
      closed: (error) => {
        clearTimeout(timer);
        this.#connections.delete(connection);
        if (error !== undefined) this.#log.info({ remote: socket.remoteAddress, reason: error.message }, 'RTMP connection closed');
        relay?.end('the publisher stopped');
      },
    });
    this.#connections.add(connection);
  }

  /** The room and its streamer for a publish to `app` with `streamName`; throws with a reason the encoder shows. */
  async #authorise(app: string, streamName: string): Promise<{ roomId: string; principal: Awaited<ReturnType<StreamKeys['publisherOf']>> }> {
    const roomId = app.replace(/^\/+|\/+$/g, '');
    const key = streamName.split('?')[0]!;
    if (!roomIdSchema.safeParse(roomId).success) throw new Error('publish to rtmp://HOST:PORT/ROOM with the room\'s stream key');
    const principal = await this.#deps.streamKeys.publisherOf(roomId, key);
    if ((await this.#deps.rooms.roomInfo(roomId)).state === 'ended') throw new Error('the show has ended: it cannot go back on air');
    if (!this.#deps.media.available) throw new Error('video is unavailable on this server');
    return { roomId, principal };
  }
}
