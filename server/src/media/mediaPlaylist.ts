import type { RecordingPart } from '../store/RecordingDirectory.ts';

/** One segment of an HLS media playlist, with the tags that apply to it. */
export interface PlaylistSegment {
  readonly uri: string;
  readonly durationS: number;
  /** Its EXT-X-PROGRAM-DATE-TIME (epoch ms), when the playlist gives one. */
  readonly programDateTime: number | undefined;
  /** An EXT-X-DISCONTINUITY precedes it. */
  readonly discontinuity: boolean;
}

export interface MediaPlaylist {
  readonly segments: PlaylistSegment[];
  /** EXT-X-ENDLIST: no segment will be added. */
  readonly ended: boolean;
}

/** A segment of a recording: where its first frame sits in wall time. */
export interface RecordedSegment {
  readonly uri: string;
  readonly durationS: number;
  /** Wall time of its first frame (epoch ms). */
  readonly at: number;
  readonly discontinuity: boolean;
}

/**
 * Reads a media playlist: ffmpeg's live one (it writes EXTINF before PROGRAM-DATE-TIME) and the
 * recordings' own. Tags before a URI apply to it; unknown tags and malformed lines are skipped.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const segments: PlaylistSegment[] = [];
  let durationS: number | undefined;
  let programDateTime: number | undefined;
  let discontinuity = false;
  let ended = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXTINF:')) durationS = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programDateTime = parseDateTime(line.slice(25));
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#')) {
      if (durationS !== undefined && Number.isFinite(durationS) && durationS >= 0) segments.push({ uri: line, durationS, programDateTime, discontinuity });
      durationS = undefined;
      programDateTime = undefined;
      discontinuity = false;
    }
  }
  return { segments, ended };
}

/** ISO 8601 as ffmpeg writes it (`2026-01-02T03:04:05.678+0000`, no colon in the offset) or with one. */
function parseDateTime(text: string): number | undefined {
  const ms = Date.parse(text.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The recording as a playlist. While a part is being recorded (`open`) it is an EVENT playlist that
 * grows; closed, a VOD playlist with its end. Each segment carries its wall time, so a player (and
 * the replay's timeline) can map media time to the moment it was live.
 */
export function renderRecording(segments: readonly RecordedSegment[], open: boolean, minTargetS: number): string {
  // A segment's duration, rounded, may not exceed the target duration.
  const target = Math.max(minTargetS, ...segments.map((s) => Math.round(s.durationS)));
  const head = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${open ? 'EVENT' : 'VOD'}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  return `${head.join('\n')}\n${segments.map(segmentLines).join('')}${open ? '' : '#EXT-X-ENDLIST\n'}`;
}

/** The lines of one segment, appended to an open recording's playlist. */
export function segmentLines(segment: RecordedSegment): string {
  return `${segment.discontinuity ? '#EXT-X-DISCONTINUITY\n' : ''}#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.at).toISOString()}\n#EXTINF:${segment.durationS.toFixed(6)},\n${segment.uri}\n`;
}

/** The recording's parts (runs between discontinuities), each placed in wall time and media time. */
export function partsOf(segments: readonly RecordedSegment[]): RecordingPart[] {
  const parts: Array<{ at: number; offsetMs: number; durationMs: number }> = [];
  let offsetMs = 0;
  for (const [i, segment] of segments.entries()) {
    const ms = segment.durationS * 1000;
    const current = parts.at(-1);
    if (i === 0 || segment.discontinuity || current === undefined) parts.push({ at: segment.at, offsetMs, durationMs: ms });
    else current.durationMs += ms;
    offsetMs += ms;
  }
  return parts.map((p) => ({ at: p.at, offsetMs: Math.round(p.offsetMs), durationMs: Math.round(p.durationMs) }));
}
