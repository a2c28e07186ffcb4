import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../log.ts';
import { type HlsFile, HlsRendition, type HlsRenditionOptions, PLAYLIST_NAME, RENDITION_FOLDER, SEGMENT_NAME } from './HlsRendition.ts';
import type { RoomMedia } from './RoomMedia.ts';
import type { ShowRecorder } from './ShowRecorder.ts';

export interface HlsOriginOptions extends HlsRenditionOptions {
  /** How long the room's stream must hold still before ffmpeg (re)starts: an ingest adds video, then audio. */
  readonly settleMs: number;
  /** Delay before ffmpeg is started again after it died. */
  readonly restartMs: number;
}

/** What the HTTP edge reads: a room's playlist and segments on this node. */
export interface HlsSource {
  /** The file, or undefined when this node has no rendition of the room or no such file. Throws nothing. */
  read(roomId: string, name: string): Promise<HlsFile | undefined>;
  /** True while this node renders the room (it is the room's media origin and ffmpeg runs). */
  renders(roomId: string): boolean;
}

interface Slot {
  rendition: HlsRendition | undefined;
  /** A start or stop under way. */
  busy: Promise<void>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * HLS renditions of the rooms whose stream is published on this node (their media origin): one
 * ffmpeg per room with a live, unmuted video track, started when the stream settles, restarted when
 * its tracks change or ffmpeg dies, stopped (its folder removed) when the stream ends or the camera
 * is muted.
 */
export class HlsOrigin implements HlsSource {
  readonly #options: HlsOriginOptions;
  readonly #log: Logger;
  readonly #rooms = new Map<string, Slot>();
  /** Keeps the segments of live shows (absent with --recording false). */
  readonly #recorder: ShowRecorder | undefined;
  #disabled: string | undefined;
  #closed = false;
  #swept = false;

  constructor(options: HlsOriginOptions, log: Logger, recorder?: ShowRecorder) {
    this.#options = options;
    this.#log = log;
    this.#recorder = recorder;
    if (options.ffmpegBin.includes('/') && !existsSync(options.ffmpegBin)) this.#disable(`${options.ffmpegBin} does not exist (apt-get install ffmpeg)`);
  }

  /** The room's own stream changed (a track added or ended): the rendition follows once it settles. */
  changed(room: RoomMedia): void {
    if (this.#disabled !== undefined || this.#closed) return;
    const slot = this.#slot(room.roomId);
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => { slot.timer = undefined; slot.busy = slot.busy.then(() => this.#sync(room, slot)); }, this.#options.settleMs).unref();
  }

  /** Renditions running (ffmpeg started, not stopped). */
  get count(): number {
    let running = 0;
    for (const slot of this.#rooms.values()) if (slot.rendition !== undefined && !slot.rendition.stopped) running++;
    return running;
  }

  renders(roomId: string): boolean {
    const rendition = this.#rooms.get(roomId)?.rendition;
    return rendition !== undefined && !rendition.stopped;
  }

  async read(roomId: string, name: string): Promise<HlsFile | undefined> {
    const rendition = this.#rooms.get(roomId)?.rendition;
    if (rendition === undefined || rendition.stopped) return undefined;
    const kind = name === PLAYLIST_NAME ? 'playlist' : SEGMENT_NAME.test(name) ? 'segment' : undefined;
    if (kind === undefined) return undefined;
    try {
      const body = await readFile(join(rendition.folder, name));
      return { kind, body };
    } catch {
      return undefined; // not written yet, or slid out of the playlist
    }
  }

  close(): void {
    this.#closed = true;
    this.#recorder?.close();
    for (const slot of this.#rooms.values()) {
      clearTimeout(slot.timer);
      slot.rendition?.stopNow();
    }
    this.#rooms.clear();
  }

  #slot(roomId: string): Slot {
    let slot = this.#rooms.get(roomId);
    if (slot === undefined) this.#rooms.set(roomId, (slot = { rendition: undefined, busy: Promise.resolve(), timer: undefined }));
    return slot;
  }

  async #sync(room: RoomMedia, slot: Slot): Promise<void> {
    const own = room.origin === undefined ? [] : room.ownProducers().filter((p) => !p.closed);
    // A muted camera sends nothing, and ffmpeg gives up on silent input: the rendition waits for it.
    const video = own.find((p) => p.kind === 'video' && !p.paused);
    const audio = own.find((p) => p.kind === 'audio');
    const wanted = video === undefined || this.#closed || this.#disabled !== undefined ? [] : [video, ...(audio === undefined ? [] : [audio])];
    const current = slot.rendition;
    if (current !== undefined && !current.stopped && sameIds(current.producerIds, wanted.map((p) => p.id))) return;
    slot.rendition = undefined;
    await current?.stop(this.#keepSegments);
    if (wanted.length === 0 || room.origin === undefined) {
      if (this.#rooms.get(room.roomId) === slot && slot.timer === undefined) this.#rooms.delete(room.roomId);
      return;
    }
    try {
      await mkdir(this.#options.dir, { recursive: true });
      if (!this.#swept) {
        this.#swept = true;
        await this.#sweep();
      }
      const rendition = await HlsRendition.start(room.origin, wanted, this.#options, this.#log);
      slot.rendition = rendition;
      this.#recorder?.follow(room.roomId, rendition.folder);
      this.#log.info({ roomId: room.roomId, folder: rendition.folder }, 'HLS rendition started');
      void rendition.exited.then((why) => {
        if (rendition.stopped || slot.rendition !== rendition) return;
        if (why.includes('could not start')) this.#disable(why);
        else this.#log.warn({ roomId: room.roomId, why }, 'HLS rendition stopped unexpectedly; restarting');
        slot.rendition = undefined;
        // In the slot's turn: the next rendition of the room starts after this one's segments are kept.
        slot.busy = slot.busy.then(() => rendition.stop(this.#keepSegments));
        if (this.#disabled === undefined) setTimeout(() => this.changed(room), this.#options.restartMs).unref();
      });
    } catch (error) {
      this.#log.warn({ err: error, roomId: room.roomId }, 'HLS rendition could not start; retrying');
      setTimeout(() => this.changed(room), this.#options.restartMs).unref();
    }
  }

  /** A stopped rendition's last segments go into its show's recording before its folder is removed. */
  readonly #keepSegments = (folder: string): Promise<void> => this.#recorder?.finish(folder) ?? Promise.resolve();

  /**
   * Removes renditions left behind by a process that was killed: a live rendition rewrites its
   * playlist every segment, so a folder untouched for a minute belongs to no running ffmpeg.
   */
  async #sweep(): Promise<void> {
    const entries = await readdir(this.#options.dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || !RENDITION_FOLDER.test(entry.name)) continue;
      const folder = join(this.#options.dir, entry.name);
      if (resolve(folder) === this.#recorder?.dir) continue; // the recordings may live in the HLS folder
      const changed = await stat(join(folder, PLAYLIST_NAME)).catch(() => stat(folder)).then((s) => s.mtimeMs, () => Date.now());
      if (Date.now() - changed > STALE_FOLDER_MS) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  #disable(reason: string): void {
    if (this.#disabled !== undefined) return;
    this.#disabled = reason;
    this.#log.error(`HLS UNAVAILABLE: ${reason}. Viewers past WebRTC capacity wait for a seat instead.`);
  }
}

/** How long a rendition's folder may stay unchanged before another node's sweep takes it for left behind. */
const STALE_FOLDER_MS = 60_000;

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
