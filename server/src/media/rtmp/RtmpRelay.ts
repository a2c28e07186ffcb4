import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { types } from 'mediasoup';
import type { Principal } from '../../auth/TokenService.ts';
import type { Logger } from '../../log.ts';
import type { MediaService } from '../MediaService.ts';
import type { Amf0Object } from './amf0.ts';
import { FLV_AUDIO, FLV_SCRIPT, FLV_VIDEO, flvHeader, flvTag } from './flv.ts';
import { encodeAmf0 } from './amf0.ts';
import type { RtmpMessage } from './RtmpChunkReader.ts';

export interface RelayOptions {
  readonly ffmpegBin: string;
  /** VP8 bits per second. */
  readonly videoBitrate: number;
  /** Bytes of the stream held while the relay starts, at most. */
  readonly maxHeldBytes: number;
}

/** What ffmpeg sends each track as: the producers are made for exactly these. */
const TRACKS = {
  video: { payloadType: 102, codec: { mimeType: 'video/VP8', payloadType: 102, clockRate: 90_000 } },
  audio: { payloadType: 101, codec: { mimeType: 'audio/opus', payloadType: 101, clockRate: 48_000, channels: 2, parameters: { 'sprop-stereo': 1 } } },
} as const;

type Kind = keyof typeof TRACKS;

/**
 * One accepted RTMP publish, relayed into its room: the stream's FLV goes into an ffmpeg that
 * transcodes it to VP8 and Opus (what every viewer's browser decodes; encoders send H.264 and AAC)
 * and sends it as RTP to plain transports on the room's origin router, whose producers are the
 * room's stream like the page's. The tracks are those the stream's metadata names (both when it
 * names none). Ends with the publisher, with ffmpeg, or when the stream is replaced or stopped.
 */
export class RtmpRelay {
  readonly #media: MediaService;
  readonly #principal: Principal;
  readonly #roomId: string;
  readonly #options: RelayOptions;
  readonly #socket: Socket;
  readonly #log: Logger;
  readonly #ended: (relay: RtmpRelay) => void;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #metadata: Amf0Object | undefined;
  #starting = false;
  #ffmpeg: ChildProcess | undefined;
  #transports: types.Transport[] = [];
  #done = false;
  #paused = false;

  constructor(deps: { media: MediaService; principal: Principal; roomId: string; options: RelayOptions; socket: Socket; log: Logger; ended: (relay: RtmpRelay) => void }) {
    this.#media = deps.media;
    this.#principal = deps.principal;
    this.#roomId = deps.roomId;
    this.#options = deps.options;
    this.#socket = deps.socket;
    this.#log = deps.log;
    this.#ended = deps.ended;
  }

  get roomId(): string {
    return this.#roomId;
  }

  /** Whether ffmpeg is running for it. */
  get relaying(): boolean {
    return this.#ffmpeg !== undefined && this.#ffmpeg.exitCode === null && this.#ffmpeg.signalCode === null;
  }

  metadata(values: Amf0Object): void {
    this.#metadata = values;
    this.#feed(flvTag(FLV_SCRIPT, 0, encodeAmf0('onMetaData', values)));
    this.#start();
  }

  media(message: RtmpMessage): void {
    this.#feed(flvTag(message.typeId === 8 ? FLV_AUDIO : FLV_VIDEO, message.timestamp, message.payload));
    this.#start();
  }

  /** Stops the relay: ffmpeg goes, and the room's stream with it if it is still this one. */
  end(reason: string, forViewers = 'the streamer ended the stream'): void {
    if (this.#done) return;
    this.#done = true;
    if (this.relaying) this.#ffmpeg!.kill('SIGKILL');
    if (this.#transports.some((t) => !t.closed)) this.#media.stopStream(this.#roomId, forViewers);
    this.#socket.destroy();
    this.#log.info({ roomId: this.#roomId, reason }, 'RTMP relay ended');
    this.#ended(this);
  }

  #feed(tag: Buffer): void {
    if (this.#done) return;
    if (this.#ffmpeg === undefined) {
      this.#held.push(tag);
      this.#heldBytes += tag.length;
      if (this.#heldBytes > this.#options.maxHeldBytes) this.end('the stream came faster than the relay could start');
      return;
    }
    if (!this.#ffmpeg.stdin!.write(tag) && !this.#paused) {
      // ffmpeg is behind: stop reading the publisher until it catches up (TCP slows the encoder down).
      this.#paused = true;
      this.#socket.pause();
      this.#ffmpeg.stdin!.once('drain', () => {
        this.#paused = false;
        this.#socket.resume();
      });
    }
  }

  #start(): void {
    if (this.#starting || this.#done) return;
    this.#starting = true;
    const meta = this.#metadata;
    // Encoders name their codecs in the metadata; without it, both tracks are assumed.
    const named = meta !== undefined && ('videocodecid' in meta || 'audiocodecid' in meta);
    const kinds: Kind[] = (['video', 'audio'] as const).filter((kind) => !named || `${kind}codecid` in meta!);
    this.#open(kinds).catch((error: unknown) => this.end(`the stream could not start: ${(error as Error).message}`, 'the stream could not start'));
  }

  async #open(kinds: Kind[]): Promise<void> {
    const ssrcs = new Map(kinds.map((kind) => [kind, randomInt(1, 2 ** 31)]));
    const stream = await this.#media.publishExternal(this.#principal, this.#roomId, {
      label: 'RTMP stream',
      check: () => undefined, // the relay's own codecs, which the router has
      open: async (site) => {
        const transports: types.PlainTransport[] = [];
        const producers: types.Producer[] = [];
        try {
          for (const kind of kinds) {
            const transport = await site.router.createPlainTransport({ listenInfo: site.listenInfo('udp'), rtcpMux: false, comedia: true });
            transports.push(transport);
            producers.push(await transport.produce({ kind, rtpParameters: { codecs: [TRACKS[kind].codec as types.RtpCodecParameters], encodings: [{ ssrc: ssrcs.get(kind)! }] } }));
          }
        } catch (error) {
          for (const transport of transports) transport.close();
          throw error;
        }
        return { transports, producers };
      },
    });
    this.#transports = [...stream.transports];
    if (this.#done) {
      for (const transport of this.#transports) transport.close();
      return;
    }
    for (const transport of this.#transports) transport.observer.once('close', () => this.end('the stream was replaced or stopped', 'the stream was stopped'));

    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'flv', '-i', 'pipe:0'];
    stream.transports.forEach((transport, i) => {
      const kind = kinds[i]!;
      const plain = transport as types.PlainTransport;
      const target = `rtp://${plain.tuple.localAddress ?? plain.tuple.localIp}:${plain.tuple.localPort}?rtcpport=${plain.rtcpTuple?.localPort ?? plain.tuple.localPort + 1}&pkt_size=1200`;
      const encode = kind === 'video'
        ? ['-map', '0:v:0', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-b:v', String(this.#options.videoBitrate), '-maxrate', String(this.#options.videoBitrate), '-bufsize', String(this.#options.videoBitrate), '-pix_fmt', 'yuv420p', '-force_key_frames', 'expr:gte(t,n_forced*2)']
        : ['-map', '0:a:0', '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '128k'];
      args.push(...encode, '-ssrc', String(ssrcs.get(kind)), '-payload_type', String(TRACKS[kind].payloadType), '-f', 'rtp', target);
    });
    const ffmpeg = spawn(this.#options.ffmpegBin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#ffmpeg = ffmpeg;
    let stderr = '';
    ffmpeg.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    ffmpeg.stdin!.on('error', () => undefined); // EPIPE when ffmpeg quits: its exit says why
    ffmpeg.once('error', (error) => this.end(`ffmpeg could not run (${this.#options.ffmpegBin}): ${error.message}`, 'the stream could not start'));
    ffmpeg.once('exit', (code, signal) => {
      if (!this.#done) this.#log.warn({ roomId: this.#roomId, code, signal, stderr: stderr.trim() }, 'RTMP relay: ffmpeg exited');
      this.end(`ffmpeg exited (${signal ?? code})`);
    });
    ffmpeg.stdin!.write(flvHeader({ audio: kinds.includes('audio'), video: kinds.includes('video') }));
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const tag of held) this.#feed(tag);
    this.#log.info({ roomId: this.#roomId, tracks: kinds, pid: ffmpeg.pid }, 'RTMP relay started');
  }
}
