import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { type Amf0Object, type Amf0Value, decodeAmf0, encodeAmf0 } from './amf0.ts';
import { type RtmpMessage, RtmpChunkReader } from './RtmpChunkReader.ts';

const HANDSHAKE_SIZE = 1536;
const RTMP_VERSION = 3;
/** Chunk size the server writes with (it tells the peer first); its answers fit one chunk. */
const OUT_CHUNK_SIZE = 4096;
/** Bytes the peer may send before it should hear an acknowledgement; also what the server asks the peer to ack. */
const WINDOW_ACK_SIZE = 2_500_000;
/** The one message stream a publisher gets from createStream. */
const PUBLISH_STREAM_ID = 1;
/**
 * Largest message before a publish is accepted: the commands up to it are a few hundred bytes, so
 * a peer without a stream key cannot make the server hold (or copy) a frame-sized message.
 */
const BEFORE_PUBLISH_MAX_MESSAGE_BYTES = 16 * 1024;

const MSG = { setChunkSize: 1, ack: 3, userControl: 4, windowAckSize: 5, setPeerBandwidth: 6, audio: 8, video: 9, dataAmf3: 15, commandAmf3: 17, dataAmf0: 18, commandAmf0: 20 } as const;

/** What the relay does with a connection's publish and what it sends after. */
export interface RtmpHandlers {
  /**
   * The peer asks to publish `streamName` (the stream key, as encoders put it in the URL's last
   * part) in `app` (the URL's path before it). Resolves to accept; throws (an Error with a message
   * for the peer) to refuse, after which the connection closes.
   */
  publish(app: string, streamName: string): Promise<void>;
  /** The stream's metadata (`onMetaData`), as an object; then audio and video. */
  metadata(values: Amf0Object): void;
  /** An audio (8) or video (9) message of the accepted publish: an FLV tag's body as it is. */
  media(message: RtmpMessage): void;
  /** The connection is done: the peer went or stopped publishing, or broke the protocol (`error`). */
  closed(error: Error | undefined): void;
}

/**
 * The server side of one RTMP publisher's connection, as much of RTMP as an encoder needs to
 * publish (OBS, ffmpeg, hardware encoders): the plain handshake (the peer's version 3 echoed; no
 * digest, which the publishing clients do without), connect, createStream and publish with their
 * answers, the acknowledgements the peer's window asks for, and the metadata and media messages.
 * Anything outside that is ignored; anything malformed closes the connection.
 */
export class RtmpConnection {
  readonly #socket: Socket;
  readonly #handlers: RtmpHandlers;
  readonly #reader: RtmpChunkReader;
  #handshake: Buffer | undefined = Buffer.alloc(0);
  #app = '';
  #state: 'connecting' | 'authorising' | 'publishing' | 'closed' = 'connecting';
  #received = 0;
  #ackedAt = 0;
  #peerWindow = WINDOW_ACK_SIZE;
  #outChunkSize = 128;
  readonly #maxMessageBytes: number;

  constructor(socket: Socket, maxMessageBytes: number, handlers: RtmpHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#reader = new RtmpChunkReader(Math.min(maxMessageBytes, BEFORE_PUBLISH_MAX_MESSAGE_BYTES), maxMessageBytes);
    this.#maxMessageBytes = maxMessageBytes;
    socket.on('data', (data: Buffer) => {
      try {
        this.#read(data);
      } catch (error) {
        this.close(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.once('close', () => this.close(undefined));
    socket.on('error', () => undefined); // 'close' follows
  }

  get publishing(): boolean {
    return this.#state === 'publishing';
  }

  /** Closes the connection; `closed` is told once. */
  close(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#socket.destroy();
    this.#handlers.closed(error);
  }

  #read(data: Buffer): void {
    if (this.#state === 'closed') return;
    this.#received += data.length;
    if (this.#handshake !== undefined) {
      const bytes = Buffer.concat([this.#handshake, data]);
      // C0 and C1 come first; the answer (S0, S1, S2) goes once both are here.
      if (this.#handshake.length < 1 + HANDSHAKE_SIZE && bytes.length >= 1 + HANDSHAKE_SIZE) {
        if (bytes[0] !== RTMP_VERSION) throw new Error(`RTMP version ${bytes[0]} (only 3 is spoken)`);
        const s1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE_SIZE - 8)]);
        this.#socket.write(Buffer.concat([Buffer.from([RTMP_VERSION]), s1, bytes.subarray(1, 1 + HANDSHAKE_SIZE)]));
      }
      if (bytes.length < 1 + 2 * HANDSHAKE_SIZE) {
        this.#handshake = bytes;
        return;
      }
      // C2 (the echo of S1) is not checked: a publisher that got this far spoke RTMP.
      this.#handshake = undefined;
      data = bytes.subarray(1 + 2 * HANDSHAKE_SIZE);
    }
    for (const message of this.#reader.push(data)) this.#message(message);
    if (this.#received - this.#ackedAt >= this.#peerWindow) {
      this.#ackedAt = this.#received;
      const ack = Buffer.alloc(4);
      ack.writeUInt32BE(this.#received >>> 0);
      this.#send(2, MSG.ack, 0, ack);
    }
  }

  #message(message: RtmpMessage): void {
    switch (message.typeId) {
      case MSG.windowAckSize:
        if (message.payload.length >= 4) this.#peerWindow = Math.max(1, message.payload.readUInt32BE(0));
        return;
      case MSG.commandAmf0:
      case MSG.commandAmf3:
        this.#command(decodeAmf0(message.typeId === MSG.commandAmf3 ? message.payload.subarray(1) : message.payload), message.streamId);
        return;
      case MSG.dataAmf0:
      case MSG.dataAmf3: {
        if (this.#state !== 'publishing') return;
        const values = decodeAmf0(message.typeId === MSG.dataAmf3 ? message.payload.subarray(1) : message.payload);
        // Encoders send ['@setDataFrame', 'onMetaData', {...}] (ffmpeg, OBS) or ['onMetaData', {...}].
        const at = values.indexOf('onMetaData');
        const metadata = at >= 0 ? values[at + 1] : undefined;
        if (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) && !(metadata instanceof Date)) this.#handlers.metadata(metadata);
        return;
      }
      case MSG.audio:
      case MSG.video:
        if (this.#state === 'publishing' && message.payload.length > 0) this.#handlers.media(message);
        return;
      default:
        return; // acknowledgements, user control (pings), bandwidth: nothing the relay needs
    }
  }

  #command(values: Amf0Value[], streamId: number): void {
    const [name, transaction] = values;
    if (typeof name !== 'string') throw new Error('an RTMP command without a name');
    const txn = typeof transaction === 'number' ? transaction : 0;
    switch (name) {
      case 'connect': {
        const command = values[2];
        const app = command !== null && typeof command === 'object' && !Array.isArray(command) && !(command instanceof Date) ? command.app : undefined;
        if (typeof app !== 'string') throw new Error('connect without an app');
        this.#app = app;
        this.#control(MSG.windowAckSize, WINDOW_ACK_SIZE);
        const bandwidth = Buffer.alloc(5);
        bandwidth.writeUInt32BE(WINDOW_ACK_SIZE);
        bandwidth.writeUInt8(2, 4); // dynamic
        this.#send(2, MSG.setPeerBandwidth, 0, bandwidth);
        this.#control(MSG.setChunkSize, OUT_CHUNK_SIZE);
        this.#outChunkSize = OUT_CHUNK_SIZE;
        this.#invoke(0, '_result', txn, { fmsVer: 'FMS/3,5,7,7009', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
        this.#invoke(0, '_result', txn, null, undefined);
        return;
      case 'createStream':
        this.#invoke(0, '_result', txn, null, PUBLISH_STREAM_ID);
        return;
      case 'publish': {
        const streamName = values[3];
        if (this.#state !== 'connecting') return; // one publish per connection
        if (typeof streamName !== 'string' || streamName === '') throw new Error('publish without a stream name');
        this.#state = 'authorising';
        const target = streamId || PUBLISH_STREAM_ID;
        this.#handlers.publish(this.#app, streamName).then(
          () => {
            if (this.#state !== 'authorising') return;
            this.#state = 'publishing';
            this.#reader.maxMessageBytes = this.#maxMessageBytes;
            const begin = Buffer.alloc(6); // user control: Stream Begin
            begin.writeUInt32BE(target, 2);
            this.#send(2, MSG.userControl, 0, begin);
            this.#invoke(target, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'publishing' });
          },
          (error: unknown) => {
            if (this.#state !== 'authorising') return;
            this.#invoke(target, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: (error as Error).message });
            this.#socket.end();
            this.close(undefined);
          },
        );
        return;
      }
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.#state === 'publishing' || this.#state === 'authorising') this.close(undefined);
        return;
      default:
        return;
    }
  }

  #control(typeId: number, value: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(value);
    this.#send(2, typeId, 0, payload);
  }

  #invoke(streamId: number, ...values: Amf0Value[]): void {
    this.#send(streamId === 0 ? 3 : 5, MSG.commandAmf0, streamId, encodeAmf0(...values));
  }

  /** One message in chunks: a type 0 header, then type 3 headers for the rest (timestamp 0). */
  #send(csid: number, typeId: number, streamId: number, payload: Buffer): void {
    if (this.#socket.destroyed) return;
    const parts: Buffer[] = [];
    for (let offset = 0; offset < payload.length || offset === 0; offset += this.#outChunkSize) {
      if (offset === 0) {
        const header = Buffer.alloc(12);
        header.writeUInt8(csid, 0);
        header.writeUIntBE(payload.length, 4, 3);
        header.writeUInt8(typeId, 7);
        header.writeUInt32LE(streamId, 8);
        parts.push(header);
      } else {
        parts.push(Buffer.from([0xc0 | csid]));
      }
      parts.push(payload.subarray(offset, offset + this.#outChunkSize));
      if (payload.length === 0) break;
    }
    this.#socket.write(Buffer.concat(parts));
  }
}
