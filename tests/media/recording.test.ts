import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayInfo } from '../../protocol/src/index.ts';
import { parseMediaPlaylist } from '../../server/src/media/mediaPlaylist.ts';
import { call, type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { hasFfmpeg, runIngest } from '../helpers/ffmpegIngest.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { eventually } from '../helpers/webrtc.ts';

/**
 * Recording a show for its replay: ffmpeg publishes into a room on node 1 (its media origin, which
 * renders HLS with a 3-segment window and records every segment); a moderator on node 2 pins
 * products; the stream is replaced mid-show; the show ends. Both nodes answer the replay: a closed
 * VOD playlist of the whole show with a discontinuity where the stream was replaced, its segments,
 * and the pins on the recording's clock.
 */
if (!hasFfmpeg) console.warn('tests/media/recording.test.ts skipped: ffmpeg/ffprobe missing (apt-get install ffmpeg)');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasFfmpeg)('show recording and replay (ffmpeg RTP ingest, two nodes)', () => {
  const prefix = uniquePrefix('recording');
  const hlsDirs = [mkdtempSync(join(tmpdir(), 'livecart-rec-hls-')), mkdtempSync(join(tmpdir(), 'livecart-rec-hls-'))];
  const recordingDirs = [mkdtempSync(join(tmpdir(), 'livecart-rec-')), mkdtempSync(join(tmpdir(), 'livecart-rec-'))];
  let nodes: Node[];

  beforeAll(async () => {
    // Node 1's recordings folder holds one recording past its retention and a file of the operator's.
    const old = join(recordingDirs[0]!, 'old-room', '1700000000000');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'index.m3u8'), '#EXTM3U\n#EXT-X-ENDLIST\n');
    const longAgo = new Date(Date.now() - 3 * 3_600_000);
    utimesSync(join(old, 'index.m3u8'), longAgo, longAgo);
    writeFileSync(join(recordingDirs[0]!, 'notes.txt'), 'the operator\'s');
    nodes = await startNodes(2, REDIS_URL, prefix, (i) => [
      '--media-workers', '1', '--media-port-min', String(44000 + i * 100), '--media-port-max', String(44099 + i * 100),
      '--hls-dir', hlsDirs[i]!, '--hls-list-size', '3', '--recording-dir', recordingDirs[i]!, '--recording-retention-hours', '2',
    ]);
  }, 60_000);
  afterAll(async () => {
    await stopNodes(nodes ?? []);
    for (const dir of [...hlsDirs, ...recordingDirs]) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the whole show past the live window, closes it when the show ends, and places every pin on its clock', async () => {
    const [origin, other] = nodes as [Node, Node];
    const room = 'rec-room';
    const streamer = await tokens.mint({ userId: 'rec-streamer', name: 'S', role: 'streamer' });
    expect((await call(origin, 'POST', '/api/rooms', streamer, { title: 'Recorded', id: room })).status).toBe(201);
    for (const sku of ['a', 'b']) {
      expect((await call(origin, 'POST', `/api/rooms/${room}/products`, streamer, { sku, title: `Product ${sku}`, priceCents: 500, currency: 'USD', stock: 5 })).status).toBe(201);
    }
    expect((await call(origin, 'POST', `/api/rooms/${room}/start`, streamer)).status).toBe(200);
    // The old recording went at start; the operator's file stayed.
    expect(readdirSync(recordingDirs[0]!)).toEqual(['notes.txt']);

    // Typed errors before anything is recorded, and for bad input.
    for (const node of [origin, other]) {
      expect((await call(node, 'GET', `/api/rooms/${room}/replay`)).body.error).toMatchObject({ name: 'REPLAY_NOT_FOUND', code: 1024 });
      expect((await call(node, 'GET', `/api/rooms/${room}/replay`)).status).toBe(404);
      expect((await call(node, 'GET', '/api/rooms/no-such-room/replay')).body.error.name).toBe('ROOM_NOT_FOUND');
      const bad = await call(node, 'GET', '/api/rooms/bad%20room/replay');
      expect([bad.status, bad.body.error.name]).toEqual([400, 'BAD_REQUEST']);
    }
    const replayOf = async (node: Node) => (await call(node, 'GET', `/api/rooms/${room}/replay`)).body as ReplayInfo;

    const first = await call(origin, 'POST', `/api/rooms/${room}/ingest`, streamer, { video: true, audio: true });
    expect(first.status).toBe(201);
    let ingest = runIngest(first.body.ffmpeg as string, 60);
    const { client: host } = await RawClient.join(other.wsUrl, streamer, room);
    try {
      // Recorded past the live window (3 segments): the first segment left the live playlist, not the recording.
      await eventually(async () => (await replayOf(other)).durationMs >= 6000, 'six seconds recorded', 30_000);
      const live = parseMediaPlaylist(await (await fetch(`${origin.url}/hls/${room}/index.m3u8`)).text()).segments.map((s) => s.uri);
      const replay = await replayOf(other);
      expect(replay).toMatchObject({ roomId: room, state: 'live', complete: false, onSale: true, timeline: [] });
      const open = await fetch(`${other.url}${replay.playlistUrl}`);
      expect(open.headers.get('cache-control')).toBe('public, max-age=1');
      const recorded = parseMediaPlaylist(await open.text());
      expect(recorded.ended).toBe(false);
      expect(recorded.segments.length).toBeGreaterThan(live.length);
      const earliest = recorded.segments[0]!.uri;
      expect(live).not.toContain(earliest);
      const [fromOrigin, fromOther] = await Promise.all([origin, other].map(async (node) => {
        const response = await fetch(`${node.url}${replay.playlistUrl.replace('index.m3u8', earliest)}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('video/mp2t');
        expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        return Buffer.from(await response.arrayBuffer());
      }));
      expect(fromOrigin!.length).toBeGreaterThan(1000);
      expect(fromOrigin![0]).toBe(0x47); // an MPEG-TS packet
      expect(fromOther!.equals(fromOrigin!)).toBe(true);

      // Two pins three seconds apart (through node 2: the pin log is shared).
      const pinA = Date.now();
      expect((await host.request({ t: 'pin', sku: 'a' })).t).toBe('ok');
      await sleep(3000);
      const pinB = Date.now();
      expect((await host.request({ t: 'pin', sku: 'b' })).t).toBe('ok');
      await sleep(1500);

      // The stream is replaced mid-show: the recording goes on in a second part.
      const second = await call(origin, 'POST', `/api/rooms/${room}/ingest`, streamer, { video: true, audio: true });
      expect(second.status).toBe(201);
      ingest.kill();
      ingest = runIngest(second.body.ffmpeg as string, 60);
      const partTwo = async () => {
        const segments = parseMediaPlaylist(await (await fetch(`${origin.url}${replay.playlistUrl}`)).text()).segments;
        const restart = segments.findIndex((s) => s.discontinuity);
        return restart < 0 ? 0 : segments.length - restart;
      };
      await eventually(async () => (await partTwo()) > 3, 'the second part recorded', 30_000);
      const pinAgain = Date.now();
      expect((await host.request({ t: 'pin', sku: 'a' })).t).toBe('ok');
      await sleep(2000);
      expect((await call(origin, 'POST', `/api/rooms/${room}/end`, streamer)).status).toBe(200);

      // The show ended: its recording closes, on every node.
      await eventually(async () => (await replayOf(other)).complete, 'the recording closed', 15_000);
      const done = await replayOf(other);
      expect(done).toMatchObject({ state: 'ended', complete: true, onSale: true, playlistUrl: replay.playlistUrl, startedAt: replay.startedAt });
      const closed = await fetch(`${other.url}${done.playlistUrl}`);
      expect(closed.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      expect(closed.headers.get('cache-control')).toBe('public, max-age=60');
      const text = await closed.text();
      expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
      expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
      const whole = parseMediaPlaylist(text);
      expect(whole.segments[0]!.uri).toBe(earliest);
      expect(whole.segments.filter((s) => s.discontinuity).length).toBe(1);
      expect(new Set(whole.segments.map((s) => s.uri.split('-')[0])).size).toBe(2); // two renditions
      expect(whole.segments.every((s) => s.programDateTime !== undefined)).toBe(true);
      const total = whole.segments.reduce((sum, s) => sum + s.durationS * 1000, 0);
      expect(Math.abs(done.durationMs - total)).toBeLessThan(5);
      expect(done.startedAt).toBe(whole.segments[0]!.programDateTime);
      const restart = whole.segments.reduce((at, s, i) => (s.discontinuity ? whole.segments.slice(0, i).reduce((sum, p) => sum + p.durationS * 1000, 0) : at), 0);

      // The pins on the recording's clock: where they happened, in order, with the products as sold now.
      expect(done.timeline.map((m) => m.product.sku)).toEqual(['a', 'b', 'a']);
      const [atA, atB, atAgain] = done.timeline.map((m) => m.atMs) as [number, number, number];
      expect(done.timeline.map((m) => m.pinnedAt)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
      expect(Math.abs(done.timeline[0]!.pinnedAt - pinA)).toBeLessThan(1000);
      expect(Math.abs(atA - (done.timeline[0]!.pinnedAt - done.startedAt))).toBeLessThan(5); // the first part runs on the wall clock
      expect(Math.abs((atB - atA) - (pinB - pinA))).toBeLessThan(600);
      expect(atB).toBeLessThan(restart);
      expect(atAgain).toBeGreaterThanOrEqual(restart);
      expect(Math.abs(done.timeline[2]!.pinnedAt - pinAgain)).toBeLessThan(1000);
      expect(atAgain).toBeLessThanOrEqual(done.durationMs);
      expect(done.timeline[1]).toMatchObject({ product: { sku: 'b', title: 'Product b', priceCents: 500 }, available: 5 });

      // Nothing else is served.
      for (const path of [`/replay/${room}/1/index.m3u8`, `${done.playlistUrl.replace('index.m3u8', 'secret.txt')}`, `${done.playlistUrl.replace('index.m3u8', '..%2Findex.m3u8')}`, `/replay/${room}/x/index.m3u8`, '/replay/bad%20room/1/index.m3u8']) {
        for (const node of [origin, other]) {
          const response = await fetch(`${node.url}${path}`);
          expect(response.status, path).toBe(404);
          expect(response.headers.get('cache-control')).toBe('no-store');
        }
      }
      // The live rendition is gone; the recording (and only it) stays on the origin's disk.
      expect(readdirSync(recordingDirs[1]!)).toEqual([]);
      expect(readdirSync(join(recordingDirs[0]!, room))).toEqual([done.playlistUrl.split('/')[3]]);
    } finally {
      ingest.kill();
      host.close();
    }
  }, 120_000);
});
