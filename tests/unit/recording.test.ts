import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMediaPlaylist, partsOf, type RecordedSegment, renderRecording } from '../../server/src/media/mediaPlaylist.ts';
import { ShowRecorder } from '../../server/src/media/ShowRecorder.ts';
import { ShowRecording } from '../../server/src/media/ShowRecording.ts';
import { mediaOffsetAt } from '../../server/src/rooms/ReplayService.ts';
import { MemoryRecordingDirectory } from '../../server/src/store/MemoryRecordingDirectory.ts';
import { captureLog } from '../helpers/captureLog.ts';
import { eventually } from '../helpers/webrtc.ts';

/** ffmpeg's sliding playlist as it writes it: EXTINF before the program date time, an offset without a colon. */
const FFMPEG_PLAYLIST = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:1796585521
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-06T19:32:01.846+0000
x-1796585521.ts
#EXTINF:1.040000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-06T19:32:02.846+0000
x-1796585522.ts
`;

const segment = (uri: string, at: number, durationS = 1, discontinuity = false): RecordedSegment => ({ uri, at, durationS, discontinuity });

let folders: string[] = [];
afterEach(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders = [];
});
function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'livecart-recording-unit-'));
  folders.push(folder);
  return folder;
}

describe('recording playlists', () => {
  it('read ffmpeg\'s live playlist: each segment with its duration and wall time', () => {
    const { segments, ended } = parseMediaPlaylist(FFMPEG_PLAYLIST);
    expect(ended).toBe(false);
    expect(segments).toEqual([
      { uri: 'x-1796585521.ts', durationS: 1, programDateTime: Date.UTC(2026, 11, 6, 19, 32, 1, 846), discontinuity: false },
      { uri: 'x-1796585522.ts', durationS: 1.04, programDateTime: Date.UTC(2026, 11, 6, 19, 32, 2, 846), discontinuity: false },
    ]);
  });

  it('render open as a growing EVENT playlist, closed as VOD with its end; both read back the same', () => {
    const segments = [segment('a-1.ts', 10_000), segment('a-2.ts', 11_000, 2.6), segment('b-9.ts', 30_000, 1, true)];
    const open = renderRecording(segments, true, 2);
    expect(open).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(open).not.toContain('#EXT-X-ENDLIST');
    const closed = renderRecording(segments, false, 2);
    expect(closed).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(closed).toContain('#EXT-X-TARGETDURATION:3'); // 2.6 s rounds to 3: no segment longer than the target
    expect(closed.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(closed.split('#EXT-X-DISCONTINUITY').length - 1).toBe(1);
    const back = parseMediaPlaylist(closed);
    expect(back.ended).toBe(true);
    expect(back.segments.map((s) => ({ uri: s.uri, at: s.programDateTime, durationS: s.durationS, discontinuity: s.discontinuity }))).toEqual(segments);
  });

  it('place wall time on the recording\'s clock: inside a part as far into it, in a gap where the next part starts, clamped at both ends', () => {
    const parts = partsOf([segment('a-1.ts', 10_000), segment('a-2.ts', 11_000), segment('b-1.ts', 30_000, 1.5, true)]);
    expect(parts).toEqual([{ at: 10_000, offsetMs: 0, durationMs: 2000 }, { at: 30_000, offsetMs: 2000, durationMs: 1500 }]);
    expect(mediaOffsetAt(parts, 5_000)).toBe(0); // pinned before the recording began
    expect(mediaOffsetAt(parts, 11_250)).toBe(1250);
    expect(mediaOffsetAt(parts, 20_000)).toBe(2000); // the stream was off: where it came back
    expect(mediaOffsetAt(parts, 30_600)).toBe(2600);
    expect(mediaOffsetAt(parts, 99_000)).toBe(3500);
    expect(mediaOffsetAt([], 1)).toBe(0);
  });
});

describe('ShowRecording', () => {
  it('keeps segments the live window deletes; a new part follows a discontinuity; read back after a restart it goes on', async () => {
    const live = tempFolder();
    const folder = join(tempFolder(), 'room', '17');
    const recording = await ShowRecording.open(folder, 2);
    await recording.beginPart();
    for (const [uri, at] of [['a-1.ts', 1_000], ['a-2.ts', 2_000]] as const) {
      writeFileSync(join(live, uri), `bytes of ${uri}`);
      expect(await recording.add({ uri, durationS: 1, at }, join(live, uri))).toBe(true);
      rmSync(join(live, uri)); // the live window slid past it
    }
    expect(await recording.add({ uri: 'a-3.ts', durationS: 1, at: 3_000 }, join(live, 'a-3.ts'))).toBe(false); // gone before it was taken
    expect(readFileSync(join(folder, 'a-1.ts'), 'utf8')).toBe('bytes of a-1.ts');
    expect(parseMediaPlaylist(readFileSync(join(folder, 'index.m3u8'), 'utf8'))).toMatchObject({ ended: false, segments: [{ uri: 'a-1.ts' }, { uri: 'a-2.ts' }] });
    await recording.endPart();
    expect(readFileSync(join(folder, 'index.m3u8'), 'utf8')).toContain('#EXT-X-ENDLIST');

    const resumed = await ShowRecording.open(folder, 2);
    expect(resumed.parts()).toEqual([{ at: 1_000, offsetMs: 0, durationMs: 2000 }]);
    await resumed.beginPart();
    writeFileSync(join(live, 'b-1.ts'), 'bytes of b-1.ts');
    await resumed.add({ uri: 'b-1.ts', durationS: 1, at: 9_000 }, join(live, 'b-1.ts'));
    resumed.endNow();
    const text = readFileSync(join(folder, 'index.m3u8'), 'utf8');
    expect(parseMediaPlaylist(text)).toMatchObject({ ended: true, segments: [{ uri: 'a-1.ts' }, { uri: 'a-2.ts' }, { uri: 'b-1.ts', discontinuity: true }] });
    expect(resumed.parts()).toEqual([{ at: 1_000, offsetMs: 0, durationMs: 2000 }, { at: 9_000, offsetMs: 2000, durationMs: 1000 }]);
  });
});

describe('ShowRecorder sweep', () => {
  it('closes a recording a killed process left open, deletes recordings past a tiny retention, and touches nothing else', async () => {
    const dir = tempFolder();
    const show = (roomId: string, name: string, text: string) => {
      mkdirSync(join(dir, roomId, name), { recursive: true });
      writeFileSync(join(dir, roomId, name, 'index.m3u8'), text);
      return join(dir, roomId, name);
    };
    const closed = show('room-a', '100', renderRecording([segment('a-1.ts', 1_000)], false, 2));
    const leftOpen = show('room-b', '200', renderRecording([segment('b-1.ts', 1_000)], true, 2));
    const old = show('room-c', '300', renderRecording([segment('c-1.ts', 1_000)], false, 2));
    const longAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(old, 'index.m3u8'), longAgo, longAgo);
    writeFileSync(join(dir, 'notes.txt'), 'the operator\'s');
    mkdirSync(join(dir, 'not a room', '1'), { recursive: true });
    const directory = new MemoryRecordingDirectory();
    // Written by this node before a restart: another node id, the same address.
    await directory.put('room-b', { nodeId: 'n0', url: 'http://n1:8080', show: '200', recording: true, parts: [{ at: 1_000, offsetMs: 0, durationMs: 1000 }] }, 60_000);
    const { log } = captureLog();

    const recorder = new ShowRecorder(
      { dir, retentionMs: 1500, sweepMs: 100, segmentSeconds: 1, nodeId: 'n1' },
      { rooms: { roomInfo: () => Promise.reject(new Error('not asked')) }, directory },
      log,
    );
    recorder.listening('http://n1:8080');
    try {
      // At start: the old one goes at once, the one left open is closed (and its record says so).
      await eventually(() => !existsSync(join(dir, 'room-c')), 'the recording past its retention deleted at start');
      await eventually(() => readFileSync(join(leftOpen, 'index.m3u8'), 'utf8').includes('#EXT-X-ENDLIST'), 'the recording left open closed');
      expect(parseMediaPlaylist(readFileSync(join(leftOpen, 'index.m3u8'), 'utf8')).segments.map((s) => s.uri)).toEqual(['b-1.ts']);
      expect((await directory.get('room-b'))?.recording).toBe(false);
      expect(existsSync(closed)).toBe(true);
      // Once they are older than the retention, the next sweeps delete them and their room folders.
      await eventually(() => !existsSync(join(dir, 'room-a')) && !existsSync(join(dir, 'room-b')), 'recordings deleted past their retention', 5000);
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('the operator\'s');
      expect(existsSync(join(dir, 'not a room', '1'))).toBe(true);
      expect(await recorder.read('room-a', '100', 'index.m3u8')).toBeUndefined();
    } finally {
      recorder.close();
    }
  });

  it('reads only a recording\'s playlist and segments', async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, 'room', '5'), { recursive: true });
    writeFileSync(join(dir, 'room', '5', 'index.m3u8'), '#EXTM3U\n');
    writeFileSync(join(dir, 'room', '5', 'abc-12.ts'), 'ts');
    writeFileSync(join(dir, 'room', '5', 'index.m3u8.tmp'), 'half');
    const recorder = new ShowRecorder({ dir, retentionMs: 60_000, sweepMs: 60_000, segmentSeconds: 1, nodeId: 'n1' }, { rooms: { roomInfo: () => Promise.reject(new Error('not asked')) }, directory: new MemoryRecordingDirectory() }, captureLog().log);
    try {
      expect(await recorder.read('room', '5', 'index.m3u8')).toMatchObject({ kind: 'playlist' });
      expect(await recorder.read('room', '5', 'abc-12.ts')).toMatchObject({ kind: 'segment' });
      for (const [room, show, name] of [['room', '5', 'index.m3u8.tmp'], ['room', '6', 'index.m3u8'], ['room', '..', 'index.m3u8'], ['..', '5', 'index.m3u8'], ['room', '5', '../5/index.m3u8']]) {
        expect(await recorder.read(room!, show!, name!), `${room}/${show}/${name}`).toBeUndefined();
      }
    } finally {
      recorder.close();
    }
  });
});
