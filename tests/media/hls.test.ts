import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { FFPROBE, hasFfmpeg, runIngest } from '../helpers/ffmpegIngest.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { eventually } from '../helpers/webrtc.ts';

/**
 * HLS past WebRTC capacity: ffmpeg publishes into a room over RTP on node 1 (its media origin);
 * node 1 renders HLS; both nodes serve the playlist and its segments with CDN-fit headers.
 */
if (!hasFfmpeg) console.warn('tests/media/hls.test.ts skipped: ffmpeg/ffprobe missing (apt-get install ffmpeg)');

const INGEST_SECONDS = 40;
const run = promisify(execFile);

async function call(node: Node, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The media sequence and segment names of a playlist. */
function parsePlaylist(text: string): { sequence: number; segments: string[] } {
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN);
  return { sequence, segments: text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) };
}

describe.skipIf(!hasFfmpeg)('HLS rendition of a stream (ffmpeg RTP ingest, two nodes)', () => {
  const prefix = uniquePrefix('hls');
  const dirs = [mkdtempSync(join(tmpdir(), 'livecart-hls-test-')), mkdtempSync(join(tmpdir(), 'livecart-hls-test-'))];
  let nodes: Node[];

  beforeAll(async () => {
    // Left behind by a node killed earlier (untouched for minutes), and a file that is not a rendition's.
    const stale = join(dirs[0]!, 'mxaaaaaa1b2c3d');
    mkdirSync(stale);
    writeFileSync(join(stale, 'index.m3u8'), '#EXTM3U\n');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(stale, 'index.m3u8'), old, old);
    writeFileSync(join(dirs[0]!, 'notes.txt'), 'the operator\'s');
    nodes = await startNodes(2, REDIS_URL, prefix, (i) => [
      '--media-workers', '1', '--media-port-min', String(43000 + i * 100), '--media-port-max', String(43099 + i * 100), '--hls-dir', dirs[i]!,
    ]);
  }, 60_000);
  afterAll(async () => {
    await stopNodes(nodes ?? []);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('the origin writes a sliding playlist whose segments decode; the other node serves the same; the stream\'s end removes it', async () => {
    const [origin, other] = nodes as [Node, Node];
    const streamer = await tokens.mint({ userId: 'hls-streamer', name: 'S', role: 'streamer' });
    expect((await call(origin, 'POST', '/api/rooms', streamer, { title: 'hls', id: 'hls-room' })).status).toBe(201);
    expect((await call(origin, 'POST', '/api/rooms/hls-room/start', streamer)).status).toBe(200);

    // Nothing to play yet; names outside the rendition's pattern are never looked up.
    for (const path of ['/hls/hls-room/index.m3u8', '/hls/hls-room/secret.txt', '/hls/hls-room/..%2Finput.sdp', '/hls/bad%20room/index.m3u8']) {
      const response = await fetch(`${origin.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }

    const created = await call(origin, 'POST', '/api/rooms/hls-room/ingest', streamer, { video: true, audio: true });
    expect(created.status).toBe(201);
    const ingest = runIngest(created.body.ffmpeg as string, INGEST_SECONDS);
    const failFast = ingest.exited.then((why) => { throw new Error(why); });
    failFast.catch(() => undefined);
    try {
      const playlistUrl = `${origin.url}/hls/hls-room/index.m3u8`;
      let first = { sequence: NaN, segments: [] as string[] };
      await Promise.race([failFast, eventually(async () => {
        const response = await fetch(playlistUrl);
        if (response.status !== 200) return false;
        first = parsePlaylist(await response.text());
        return first.segments.length >= 2;
      }, 'a playlist with two segments on the origin', 30_000)]);

      const response = await fetch(playlistUrl);
      expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      expect(response.headers.get('cache-control')).toBe('public, max-age=1');
      const text = await response.text();
      expect(text).toContain('#EXT-X-TARGETDURATION:');
      expect(text).not.toContain('#EXT-X-ENDLIST');
      // Names carry the media sequence: monotonic, and a name is never reused for other bytes.
      const numbers = parsePlaylist(text).segments.map((name) => Number(/-(\d+)\.ts$/.exec(name)?.[1]));
      expect(numbers.every((n, i) => Number.isInteger(n) && (i === 0 || n === numbers[i - 1]! + 1))).toBe(true);
      expect(numbers[0]).toBe(parsePlaylist(text).sequence);

      // A segment: immutable, and it decodes as H.264 video with AAC audio.
      const name = parsePlaylist(text).segments.at(-1)!;
      const segment = await fetch(`${origin.url}/hls/hls-room/${name}`);
      expect(segment.status).toBe(200);
      expect(segment.headers.get('content-type')).toBe('video/mp2t');
      expect(segment.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const file = join(dirs[0]!, 'probe.ts');
      writeFileSync(file, Buffer.from(await segment.arrayBuffer()));
      const { stdout } = await run(FFPROBE, ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', file]);
      rmSync(file);
      const streams = (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; width?: number; nb_read_frames?: string }> }).streams;
      const video = streams.find((s) => s.codec_type === 'video');
      expect(video).toMatchObject({ codec_name: 'h264', width: 640 });
      expect(Number(video!.nb_read_frames)).toBeGreaterThan(5);
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });

      // Operators see the rendition on the origin only.
      const operator = await tokens.mint({ userId: 'hls-ops', name: 'Ops', role: 'operator' });
      const renditions = await Promise.all([origin, other].map(async (node) => ((await call(node, 'GET', '/api/ops/node', operator)).body.media as { hlsRenditions: number }).hlsRenditions));
      expect(renditions).toEqual([1, 0]);
      expect(await (await fetch(`${origin.url}/metrics`)).text()).toMatch(/^livecart_media_hls_renditions 1$/m);

      // The playlist slides on.
      await eventually(async () => parsePlaylist(await (await fetch(playlistUrl)).text()).sequence > first.sequence + 1, 'the playlist advancing', 15_000);

      // The other node is not the origin: it serves the same playlist and segment, fetched from the origin.
      const [fromOrigin, fromOther] = await Promise.all([origin, other].map(async (node) => {
        const r = await fetch(`${node.url}/hls/hls-room/index.m3u8`);
        return { status: r.status, type: r.headers.get('content-type'), segments: parsePlaylist(await r.text()).segments };
      })) as [{ status: number; type: string | null; segments: string[] }, { status: number; type: string | null; segments: string[] }];
      expect(fromOther.status).toBe(200);
      expect(fromOther.type).toBe('application/vnd.apple.mpegurl');
      expect(fromOther.segments.filter((s) => fromOrigin.segments.includes(s)).length).toBeGreaterThan(0);
      const shared = fromOther.segments.at(-1)!;
      const [a, b] = await Promise.all([origin, other].map(async (node) => {
        const r = await fetch(`${node.url}/hls/hls-room/${shared}`);
        expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        return Buffer.from(await r.arrayBuffer());
      }));
      expect(b!.length).toBeGreaterThan(1000);
      expect(b!.equals(a!)).toBe(true);
      expect(readdirSync(dirs[1]!)).toEqual([]); // the other node renders nothing itself

      // The streamer stops: the playlist goes on neither node, and the origin's folder is removed.
      expect((await call(origin, 'DELETE', '/api/rooms/hls-room/ingest', streamer)).status).toBe(200);
      await eventually(async () => (await Promise.all([origin, other].map((n) => fetch(`${n.url}/hls/hls-room/index.m3u8`)))).every((r) => r.status === 404), 'the playlist gone on both nodes');
      // Its folder is removed, and so was the one left behind; nothing else is touched (the show's recording stays).
      await eventually(() => readdirSync(dirs[0]!).sort().join() === 'notes.txt,recordings', 'the rendition\'s folder removed');
    } finally {
      ingest.kill();
    }
  }, 90_000);
});
