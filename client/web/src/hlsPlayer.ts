/**
 * Plays HLS in a <video>: a room's live rendition (GET /hls/ROOM/index.m3u8), which the viewer page
 * plays while WebRTC is full, or a show's recording (`replay`: from its start, seekable), which it
 * plays after the show. Through hls.js where the browser has Media Source Extensions, natively
 * where it plays HLS itself (Safari, iOS). A playlist that is not there yet (the rendition
 * starting) or a broken load is tried again after `retryMs`, then less and less often, until
 * `stop()`. hls.js is loaded only when needed (its own chunk): most viewers watch over WebRTC.
 */
import type Hls from 'hls.js';

/** Media Source Extensions that take the rendition's H.264 + AAC. */
const mse = (): boolean => typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
const native = (): boolean => document.createElement('video').canPlayType('application/vnd.apple.mpegurl') !== '';

export interface HlsPlayerOptions {
  readonly retryMs?: number;
  /** A recording: played from its start, never measured against a live edge. */
  readonly replay?: boolean;
  /** Called when playback starts, stops or its delay behind live changes. */
  readonly onChange: () => void;
}

const MAX_RETRY_MS = 20_000;

export class HlsPlayer {
  readonly #video: HTMLVideoElement;
  readonly #url: string;
  readonly #options: HlsPlayerOptions;
  #hls: Hls | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #active = false;
  #playing = false;
  #behind: number | undefined;
  /** Failed loads in a row: the wait between tries doubles (a server without HLS is not asked every 2 s). */
  #failures = 0;

  constructor(video: HTMLVideoElement, url: string, options: HlsPlayerOptions) {
    this.#video = video;
    this.#url = url;
    this.#options = options;
  }

  /** True when this browser can play HLS at all. */
  static get supported(): boolean {
    return mse() || native();
  }

  get active(): boolean {
    return this.#active;
  }

  /** Frames are showing. */
  get playing(): boolean {
    return this.#playing;
  }

  /** Seconds behind live (rounded, estimated from the playlist's edge), while playing. */
  get behindSeconds(): number | undefined {
    return this.#behind;
  }

  /** Moves playback to `seconds` into the stream, and plays. */
  seek(seconds: number): void {
    this.#video.currentTime = seconds;
    this.#video.play().catch(() => undefined);
  }

  start(): void {
    if (this.#active) return;
    this.#active = true;
    this.#failures = 0;
    this.#video.addEventListener('playing', this.#onPlaying);
    this.#tick = setInterval(() => this.#measure(), 1000);
    void this.#load();
  }

  /** Stops playback and leaves the <video> empty (the page may then give it a WebRTC stream). */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    clearTimeout(this.#retry);
    clearInterval(this.#tick);
    this.#video.removeEventListener('playing', this.#onPlaying);
    this.#hls?.destroy();
    this.#hls = undefined;
    if (this.#video.getAttribute('src') !== null) {
      this.#video.removeAttribute('src');
      this.#video.load();
    }
    this.#playing = false;
    this.#behind = undefined;
    this.#options.onChange();
  }

  readonly #onPlaying = (): void => {
    if (this.#playing) return;
    this.#playing = true;
    this.#failures = 0;
    this.#measure();
    this.#options.onChange();
  };

  async #load(): Promise<void> {
    this.#video.srcObject = null;
    if (mse()) {
      let Player: typeof Hls;
      try {
        Player = (await import('hls.js')).default;
      } catch {
        this.#again(); // the chunk did not load (network): later
        return;
      }
      if (!this.#active || this.#hls !== undefined) return;
      // No worker: the pages' Content-Security-Policy allows scripts from this origin only.
      const hls = new Player({ enableWorker: false, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 0, levelLoadingMaxRetry: 2, ...(this.#options.replay ? { startPosition: 0 } : {}) });
      this.#hls = hls;
      hls.on(Player.Events.ERROR, (_event, data) => {
        if (data.fatal) this.#again();
      });
      hls.on(Player.Events.MANIFEST_PARSED, () => { this.#video.play().catch(() => undefined); });
      hls.loadSource(this.#url);
      hls.attachMedia(this.#video);
    } else {
      this.#video.src = this.#url;
      this.#video.addEventListener('error', () => this.#again(), { once: true });
      this.#video.play().catch(() => undefined);
    }
  }

  /** The load failed (no playlist yet, the origin restarting): try again later. */
  #again(): void {
    this.#hls?.destroy();
    this.#hls = undefined;
    const wasPlaying = this.#playing;
    this.#playing = false;
    this.#behind = undefined;
    if (wasPlaying) this.#options.onChange();
    if (!this.#active) return;
    clearTimeout(this.#retry);
    const wait = Math.min(MAX_RETRY_MS, (this.#options.retryMs ?? 2000) * 2 ** Math.min(this.#failures++, 4));
    this.#retry = setTimeout(() => { if (this.#active) void this.#load(); }, wait);
  }

  #measure(): void {
    if (!this.#playing || this.#options.replay) return;
    let behind: number | undefined;
    // Behind the playlist's edge, plus the segment being written (a segment is listed once complete).
    if (this.#hls !== undefined) behind = this.#hls.latency + (this.#hls.levels[this.#hls.currentLevel]?.details?.targetduration ?? 0);
    else if (this.#video.seekable.length > 0) behind = this.#video.seekable.end(this.#video.seekable.length - 1) - this.#video.currentTime;
    const rounded = behind === undefined || !Number.isFinite(behind) ? undefined : Math.max(1, Math.round(behind));
    if (rounded !== this.#behind) {
      this.#behind = rounded;
      this.#options.onChange();
    }
  }
}
