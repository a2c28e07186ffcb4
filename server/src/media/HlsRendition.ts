import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { RouterSlot } from './RoomMedia.ts';

/** A file of a room's rendition, read for HTTP. */
export interface HlsFile {
  readonly kind: 'playlist' | 'segment';
  readonly body: Buffer;
}

export interface HlsRenditionOptions {
  /** Where the rendition's folder is made (one folder per rendition). */
  readonly dir: string;
  readonly ffmpegBin: string;
  readonly segmentSeconds: number;
  readonly listSize: number;
}

/** One track fed to ffmpeg: its plain transport and consumer, and the UDP ports ffmpeg reads. */
interface FedTrack {
  readonly transport: types.PlainTransport;
  readonly consumer: types.Consumer;
  readonly port: number;
}

/** Segment names: the rendition's id, a dash, the media sequence number (monotonic: it starts at the clock's seconds). */
export const SEGMENT_NAME = /^[a-z0-9]{1,16}-\d{1,16}\.ts$/;
export const PLAYLIST_NAME = 'index.m3u8';
/** A rendition's folder: its id and a random suffix (only such folders are ever removed from the HLS folder). */
export const RENDITION_FOLDER = /^[a-z0-9]{8,30}$/;

/**
 * One room's HLS rendition on its media origin: each track (one video, at most one audio) is
 * consumed into a plain RTP transport that sends to a local ffmpeg, which reads them through an SDP
 * file, encodes H.264 + AAC and writes a sliding playlist of short MPEG-TS segments.
 */
export class HlsRendition {
  readonly #tracks: FedTrack[];
  readonly #child: ChildProcess;
  readonly #log: Logger;
  #stopped = false;
  #keyFrames: NodeJS.Timeout | undefined;
  /** Resolves with a description of how ffmpeg ended (never rejects). */
  readonly exited: Promise<string>;

  private constructor(
    readonly id: string,
    readonly folder: string,
    readonly producerIds: readonly string[],
    tracks: FedTrack[],
    child: ChildProcess,
    log: Logger,
  ) {
    this.#tracks = tracks;
    this.#child = child;
    this.#log = log;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => resolve(`ffmpeg could not start (${error.message})`));
      child.once('exit', (code, signal) => resolve(`ffmpeg exited with ${signal ?? code}${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  }

  /** Starts ffmpeg on the room's origin router for `producers` (a video one first). Throws when a transport cannot be made. */
  static async start(slot: RouterSlot, producers: readonly types.Producer[], options: HlsRenditionOptions, log: Logger): Promise<HlsRendition> {
    const id = Date.now().toString(36);
    const folder = join(options.dir, `${id}${Math.random().toString(36).slice(2, 8)}`);
    await mkdir(folder, { recursive: true });
    const tracks: FedTrack[] = [];
    const opened: types.PlainTransport[] = [];
    let child: ChildProcess | undefined;
    try {
      for (const producer of producers) {
        const port = await freePortPair();
        const transport = await slot.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: slot.worker.portRange }, rtcpMux: false, comedia: false });
        opened.push(transport);
        await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
        const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: slot.router.rtpCapabilities, paused: true });
        tracks.push({ transport, consumer, port });
      }
      const sdpPath = join(folder, 'input.sdp');
      await writeFile(sdpPath, sdpOf(tracks));
      child = spawn(options.ffmpegBin, ffmpegArgs(sdpPath, folder, id, tracks.some((t) => t.consumer.kind === 'audio'), options), { stdio: ['ignore', 'ignore', 'pipe'] });
      const rendition = new HlsRendition(id, folder, producers.map((p) => p.id), tracks, child, log);
      await rendition.#resume();
      return rendition;
    } catch (error) {
      for (const transport of opened) transport.close();
      child?.kill('SIGKILL');
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Stops ffmpeg, closes the transports and removes the folder; `beforeRemove` runs once ffmpeg
   * has exited (what it wrote is final) and before the folder goes.
   */
  async stop(beforeRemove?: (folder: string) => Promise<void>): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#keyFrames);
    for (const track of this.#tracks) track.transport.close();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.exited;
    await beforeRemove?.(this.folder).catch((error: unknown) => this.#log.warn({ err: error, folder: this.folder }, 'HLS rendition\'s last segments not kept'));
    await rm(this.folder, { recursive: true, force: true }).catch((error: unknown) => this.#log.warn({ err: error, folder: this.folder }, 'HLS folder could not be removed'));
  }

  /** The process is closing: ffmpeg is killed and the folder removed before this returns. */
  stopNow(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#keyFrames);
    for (const track of this.#tracks) track.transport.close();
    this.#child.kill('SIGKILL');
    try {
      rmSync(this.folder, { recursive: true, force: true });
    } catch (error) {
      this.#log.warn({ err: error, folder: this.folder }, 'HLS folder could not be removed');
    }
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * ffmpeg needs a key frame to learn the picture: the consumers start once ffmpeg listens, and
   * key frames are asked for until the first segment is written (ffmpeg sends no PLI of its own).
   */
  async #resume(): Promise<void> {
    for (const track of this.#tracks) await track.consumer.resume();
    const video = this.#tracks.find((t) => t.consumer.kind === 'video')?.consumer;
    if (video === undefined) return;
    const playlist = join(this.folder, PLAYLIST_NAME);
    const ask = () => {
      if (existsSync(playlist)) clearInterval(this.#keyFrames);
      else if (!video.closed) video.requestKeyFrame().catch(() => undefined);
    };
    ask();
    this.#keyFrames = setInterval(ask, 1000).unref();
  }
}

/** An even UDP port whose odd neighbour is free too (RTP and RTCP for ffmpeg), found by binding both. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 9000);
    if (await canBind(port) && await canBind(port + 1)) return port;
  }
  throw new Error('no free UDP port pair for the HLS rendition');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => { socket.close(); resolve(false); });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** The SDP that tells ffmpeg where each track arrives and in which codec. */
function sdpOf(tracks: readonly FedTrack[]): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=livecart', 'c=IN IP4 127.0.0.1', 't=0 0'];
  for (const { consumer, port } of tracks) {
    const codec = consumer.rtpParameters.codecs[0]!;
    const [, name] = codec.mimeType.split('/');
    lines.push(`m=${consumer.kind} ${port} RTP/AVP ${codec.payloadType}`, `a=rtcp:${port + 1}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ''}`);
    const fmtp = Object.entries(codec.parameters ?? {}).map(([key, value]) => `${key}=${String(value)}`).join(';');
    if (fmtp) lines.push(`a=fmtp:${codec.payloadType} ${fmtp}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

function ffmpegArgs(sdpPath: string, folder: string, id: string, audio: boolean, options: HlsRenditionOptions): string[] {
  const seconds = options.segmentSeconds;
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-protocol_whitelist', 'file,udp,rtp', '-fflags', '+genpts', '-i', sdpPath,
    '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    // A key frame at every segment boundary, so every segment starts one.
    '-force_key_frames', `expr:gte(t,n_forced*${seconds})`, '-sc_threshold', '0',
    ...(audio ? ['-map', '0:a:0', '-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000'] : []),
    '-f', 'hls', '-hls_time', String(seconds), '-hls_list_size', String(options.listSize),
    '-hls_flags', 'delete_segments+independent_segments+temp_file+program_date_time',
    '-hls_start_number_source', 'epoch',
    '-hls_segment_filename', join(folder, `${id}-%d.ts`),
    join(folder, PLAYLIST_NAME),
  ];
}
