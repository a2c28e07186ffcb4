import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { roomIdSchema, type RoomInfo } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { RecordingDirectory } from '../store/RecordingDirectory.ts';
import { type HlsFile, PLAYLIST_NAME, SEGMENT_NAME } from './HlsRendition.ts';
import { parseMediaPlaylist } from './mediaPlaylist.ts';
import { ShowRecording } from './ShowRecording.ts';

export interface ShowRecorderOptions {
  /** Where recordings are kept: DIR/ROOM/SHOW/. */
  readonly dir: string;
  /** A recording untouched this long is deleted (and its record expires with it). */
  readonly retentionMs: number;
  readonly sweepMs: number;
  /** The renditions' segment length: their playlists are read twice per segment. */
  readonly segmentSeconds: number;
  readonly nodeId: string;
}

/** What the HTTP edge reads: a show's recorded playlist and segments on this node. */
export interface RecordingSource {
  /** The file, or undefined when this node holds no such recording or file. Throws nothing. */
  read(roomId: string, show: string, name: string): Promise<HlsFile | undefined>;
}

/** A show is named by its room's `createdAt`. */
export const SHOW_NAME = /^\d{1,16}$/;

/** A live rendition whose segments go into its room's recording. */
interface Following {
  readonly roomId: string;
  readonly folder: string;
  readonly timer: NodeJS.Timeout;
  /** The catch-up under way (one at a time: a slow one is not queued behind). */
  busy: Promise<void> | undefined;
  recording: ShowRecording | undefined;
  show: string | undefined;
  /** Segments listed while the room was not live (before the show): never recorded. */
  readonly skipped: Set<string>;
  /**
   * What to add to ffmpeg's program date times to get the wall time a frame was live: ffmpeg starts
   * its clock once it has probed its input, seconds after the first frames it then writes arrived.
   * Measured on the first segments seen: a segment is listed about when its last frame arrived.
   */
  skewMs: number | undefined;
  /** The room as last read: a store that cannot answer for a while does not stop the recording. */
  room: RoomInfo | undefined;
  /** The last write of the record failed (said once, not per segment). */
  unannounced: boolean;
}

/**
 * Records shows on the node that renders their HLS: while a room is live, every segment its
 * rendition writes is kept in the show's recording (read from the rendition's playlist twice per
 * segment, and once more when the rendition stops, before its folder goes), and the recording's
 * place and parts are written to the recording directory, where any node finds them. Recordings
 * older than the retention are deleted by a sweep (at start, then every `sweepMs`).
 */
export class ShowRecorder implements RecordingSource {
  readonly #options: ShowRecorderOptions;
  readonly #rooms: { roomInfo(roomId: string): Promise<RoomInfo> };
  readonly #directory: RecordingDirectory;
  readonly #log: Logger;
  readonly #following = new Map<string, Following>();
  #sweeper: NodeJS.Timeout | undefined;
  #url: string | undefined;
  #sweeping: Promise<void> | undefined;
  #closed = false;

  constructor(options: ShowRecorderOptions, deps: { rooms: { roomInfo(roomId: string): Promise<RoomInfo> }; directory: RecordingDirectory }, log: Logger) {
    this.#options = options;
    this.#rooms = deps.rooms;
    this.#directory = deps.directory;
    this.#log = log;
  }

  get dir(): string {
    return this.#options.dir;
  }

  /** The node listens at `url`: the other nodes fetch its recordings there. The sweeps start (the first one now). */
  listening(url: string): void {
    this.#url = url;
    if (this.#sweeper !== undefined || this.#closed) return;
    this.#sweeper = setInterval(() => void this.sweep(), this.#options.sweepMs).unref();
    void this.sweep();
  }

  /** A rendition of the room started writing into `folder`. */
  follow(roomId: string, folder: string): void {
    if (this.#closed || this.#following.has(folder)) return;
    const following: Following = {
      roomId, folder, busy: undefined, recording: undefined, show: undefined, skipped: new Set(), skewMs: undefined, room: undefined, unannounced: false,
      timer: setInterval(() => {
        following.busy ??= this.#catchUp(following).finally(() => { following.busy = undefined; });
      }, Math.max(250, this.#options.segmentSeconds * 500)).unref(),
    };
    this.#following.set(folder, following);
  }

  /** The rendition in `folder` stopped (its ffmpeg exited): its last segments are taken, and its part of the recording closes. */
  async finish(folder: string): Promise<void> {
    const following = this.#following.get(folder);
    if (following === undefined) return;
    this.#following.delete(folder);
    clearInterval(following.timer);
    await following.busy;
    await this.#catchUp(following);
    if (following.recording?.open !== true) return;
    try {
      await following.recording.endPart();
      await this.#announce(following);
    } catch (error) {
      this.#log.warn({ err: error, roomId: following.roomId }, 'recording could not be closed');
    }
  }

  async read(roomId: string, show: string, name: string): Promise<HlsFile | undefined> {
    const kind = name === PLAYLIST_NAME ? 'playlist' : SEGMENT_NAME.test(name) ? 'segment' : undefined;
    if (kind === undefined || !SHOW_NAME.test(show) || !roomIdSchema.safeParse(roomId).success) return undefined;
    try {
      return { kind, body: await readFile(join(this.#options.dir, roomId, show, name)) };
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes the recordings untouched for the retention, and closes those a killed process left
   * open (their stream is gone). Only ROOM/SHOW folders are looked at; nothing else is touched.
   */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().catch((error: unknown) => this.#log.warn({ err: error }, 'recording sweep failed')).finally(() => { this.#sweeping = undefined; });
    return this.#sweeping;
  }

  /** The process is closing: recordings being made are closed at once (their last segments may be lost). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const following of this.#following.values()) {
      clearInterval(following.timer);
      try {
        following.recording?.endNow();
      } catch (error) {
        this.#log.warn({ err: error, roomId: following.roomId }, 'recording could not be closed');
      }
    }
    this.#following.clear();
  }

  async #catchUp(following: Following): Promise<void> {
    try {
      const text = await readFile(join(following.folder, PLAYLIST_NAME), 'utf8').catch(() => undefined);
      if (text === undefined) return; // no segment written yet
      const listed = parseMediaPlaylist(text).segments;
      const now = Date.now();
      // Only names still in the live window can come up again.
      const inWindow = new Set(listed.map((s) => s.uri));
      for (const uri of following.skipped) if (!inWindow.has(uri)) following.skipped.delete(uri);
      following.skewMs ??= listed.reduce<number | undefined>((min, s) => (s.programDateTime === undefined ? min : Math.min(min ?? Infinity, now - (s.programDateTime + s.durationS * 1000))), undefined);
      const segments = listed.filter((s) => SEGMENT_NAME.test(s.uri) && !following.skipped.has(s.uri) && following.recording?.has(s.uri) !== true);
      if (segments.length === 0) return;
      const info = await this.#rooms.roomInfo(following.roomId).catch((error: unknown) => {
        if (following.room === undefined) throw error;
        return following.room;
      });
      following.room = info;
      if (info.state !== 'live') {
        // Before the show: a rehearsal, not part of it. After it: the show's recording is complete,
        // whether or not its stream has stopped yet.
        for (const segment of segments) following.skipped.add(segment.uri);
        if (info.state === 'ended' && following.recording?.open === true) {
          await following.recording.endPart();
          await this.#announce(following);
        }
        return;
      }
      const recording = await this.#recordingOf(following, String(info.createdAt));
      await recording.beginPart();
      for (const segment of segments) {
        // Without a program date time, the segment was written about now.
        // Whole milliseconds, as the playlist keeps it (a recording read back has the same times).
        const at = Math.round(segment.programDateTime === undefined ? now - segment.durationS * 1000 : segment.programDateTime + (following.skewMs ?? 0));
        if (!(await recording.add({ uri: segment.uri, durationS: segment.durationS, at }, join(following.folder, segment.uri)))) {
          this.#log.warn({ roomId: following.roomId, segment: segment.uri }, 'a segment left the live window before it was recorded');
        }
      }
      await this.#announce(following);
    } catch (error) {
      this.#log.warn({ err: error, roomId: following.roomId }, 'recording fell behind; retrying');
    }
  }

  async #recordingOf(following: Following, show: string): Promise<ShowRecording> {
    if (following.recording !== undefined && following.show === show) return following.recording;
    following.show = show;
    following.recording = await ShowRecording.open(join(this.#options.dir, following.roomId, show), this.#options.segmentSeconds + 1);
    return following.recording;
  }

  /** Tells every node where the recording is and what it holds. */
  async #announce(following: Following): Promise<void> {
    const { recording, show } = following;
    if (recording === undefined || show === undefined || this.#url === undefined) return;
    const record = { nodeId: this.#options.nodeId, url: this.#url, show, recording: recording.open, parts: recording.parts() };
    try {
      await this.#directory.put(following.roomId, record, this.#options.retentionMs);
      following.unannounced = false;
    } catch (error) {
      if (!following.unannounced) this.#log.warn({ err: error, roomId: following.roomId }, 'recording could not be announced; retrying with its next segments');
      following.unannounced = true;
    }
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    // A room being recorded is left alone: its recording is open (or about to be read back).
    const recorded = new Set([...this.#following.values()].map((f) => f.roomId));
    for (const room of await readdir(this.#options.dir, { withFileTypes: true }).catch(() => [])) {
      if (!room.isDirectory() || !roomIdSchema.safeParse(room.name).success || recorded.has(room.name)) continue;
      const roomFolder = join(this.#options.dir, room.name);
      for (const show of await readdir(roomFolder, { withFileTypes: true }).catch(() => [])) {
        if (!show.isDirectory() || !SHOW_NAME.test(show.name)) continue;
        const folder = join(roomFolder, show.name);
        const changed = await stat(join(folder, PLAYLIST_NAME)).catch(() => stat(folder)).then((s) => s.mtimeMs, () => now);
        if (now - changed > this.#options.retentionMs) {
          await rm(folder, { recursive: true, force: true });
          this.#log.info({ roomId: room.name, show: show.name }, 'recording deleted past its retention');
        } else await this.#closeLeftOpen(room.name, show.name, folder);
      }
      await rmdir(roomFolder).catch(() => undefined); // only when no show is left in it
    }
  }

  /** A recording a killed process was making: nothing writes it any more, so it is closed as it is. */
  async #closeLeftOpen(roomId: string, show: string, folder: string): Promise<void> {
    const text = await readFile(join(folder, PLAYLIST_NAME), 'utf8').catch(() => undefined);
    if (text === undefined || parseMediaPlaylist(text).ended) return;
    const recording = await ShowRecording.open(folder, this.#options.segmentSeconds + 1);
    await recording.beginPart();
    await recording.endPart();
    // The record is this node's if it names this node, or its address (the node id changes with each start).
    const record = await this.#directory.get(roomId).catch(() => undefined);
    if (record !== undefined && (record.nodeId === this.#options.nodeId || record.url === this.#url) && record.show === show) await this.#directory.put(roomId, { ...record, recording: false }, this.#options.retentionMs).catch(() => undefined);
    this.#log.info({ roomId, show }, 'recording left open by a stopped process closed');
  }
}
