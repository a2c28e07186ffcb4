import { writeFileSync } from 'node:fs';
import { appendFile, copyFile, link, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingPart } from '../store/RecordingDirectory.ts';
import { parseMediaPlaylist, partsOf, type RecordedSegment, renderRecording, segmentLines } from './mediaPlaylist.ts';
import { PLAYLIST_NAME } from './HlsRendition.ts';

/**
 * One show's recording in its folder: the segments taken from the live renditions (hard links, so
 * the live window deleting them does not), and a playlist of all of them. Each run of the encoder
 * is a part; the next part starts after a discontinuity. While a part is recorded the playlist is an
 * EVENT playlist that segments are appended to; between parts, and once the show is over, it is
 * rewritten as a VOD playlist with its end. Calls must not overlap (the recorder runs them in turn).
 */
export class ShowRecording {
  readonly folder: string;
  readonly #minTargetS: number;
  readonly #segments: RecordedSegment[];
  readonly #uris: Set<string>;
  #open = false;
  /** The next segment starts a new part. */
  #newPart: boolean;

  private constructor(folder: string, minTargetS: number, segments: RecordedSegment[]) {
    this.folder = folder;
    this.#minTargetS = minTargetS;
    this.#segments = segments;
    this.#uris = new Set(segments.map((s) => s.uri));
    this.#newPart = segments.length > 0;
  }

  /**
   * The recording in `folder`, made if missing, or read back (a show whose stream comes back after
   * the process restarted goes on in the same recording). `minTargetS` bounds the target duration of
   * the playlist while it grows (segments of that length, and some slack).
   */
  static async open(folder: string, minTargetS: number): Promise<ShowRecording> {
    await mkdir(folder, { recursive: true });
    const text = await readFile(join(folder, PLAYLIST_NAME), 'utf8').catch(() => '');
    const segments = parseMediaPlaylist(text).segments.map((s) => ({ uri: s.uri, durationS: s.durationS, at: s.programDateTime ?? 0, discontinuity: s.discontinuity }));
    return new ShowRecording(folder, minTargetS, segments);
  }

  /** A part is being recorded. */
  get open(): boolean {
    return this.#open;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  has(uri: string): boolean {
    return this.#uris.has(uri);
  }

  parts(): RecordingPart[] {
    return partsOf(this.#segments);
  }

  /** A new run of the encoder: the playlist grows again, its next segment after a discontinuity. */
  async beginPart(): Promise<void> {
    if (this.#open) return;
    this.#open = true;
    await this.#rewrite();
  }

  /**
   * Keeps the segment at `source` (a hard link; a copy across file systems) and lists it. False
   * when the file is gone already (the live window slid past it).
   */
  async add(segment: Omit<RecordedSegment, 'discontinuity'>, source: string): Promise<boolean> {
    if (this.#uris.has(segment.uri)) return true;
    const target = join(this.folder, segment.uri);
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      // EEXIST: taken by a run that stopped before listing it.
      if (code !== 'EEXIST') {
        try {
          await copyFile(source, target);
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === 'ENOENT') return false;
          throw copyError;
        }
      }
    }
    const recorded = { ...segment, discontinuity: this.#newPart };
    this.#newPart = false;
    this.#segments.push(recorded);
    this.#uris.add(recorded.uri);
    await appendFile(join(this.folder, PLAYLIST_NAME), segmentLines(recorded));
    return true;
  }

  /** The encoder's run ended: the playlist is closed (VOD, with its end); a later part follows a discontinuity. */
  async endPart(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#newPart = this.#segments.length > 0;
    await this.#rewrite();
  }

  /** The process is closing: the playlist is written closed before this returns. */
  endNow(): void {
    if (!this.#open) return;
    this.#open = false;
    writeFileSync(join(this.folder, PLAYLIST_NAME), renderRecording(this.#segments, false, this.#minTargetS));
  }

  /** Whole, through a temporary file: a reader never sees half a playlist. */
  async #rewrite(): Promise<void> {
    const temporary = join(this.folder, `${PLAYLIST_NAME}.tmp`);
    await writeFile(temporary, renderRecording(this.#segments, this.#open, this.#minTargetS));
    await rename(temporary, join(this.folder, PLAYLIST_NAME));
  }
}
