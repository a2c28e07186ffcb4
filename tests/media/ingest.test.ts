import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../protocol/src/media.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { eventually, framesDecoded, watch } from '../helpers/webrtc.ts';

/**
 * RTP ingest: a streamer publishes from ffmpeg (VP8 + Opus over plain RTP) instead of the page,
 * using the command line the server hands out; Node WebRTC viewers decode it.
 */
const FFMPEG = '/usr/bin/ffmpeg';
const hasFfmpeg = existsSync(FFMPEG);
if (!hasFfmpeg) console.warn(`tests/media/ingest.test.ts skipped: ${FFMPEG} is missing (apt-get install ffmpeg)`);

/** Seconds of test pattern ffmpeg sends. */
const INGEST_SECONDS = 6;

/** Splits the suggested command (words, "double-quoted" words) into argv. */
function splitCommand(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/**
 * The server's suggested command, as argv: every input limited to `seconds` (and read at its
 * native rate), quiet, no stdin. Inputs and encoder settings are the server's own.
 */
function ingestArgs(command: string, seconds: number): string[] {
  const [program, ...args] = splitCommand(command);
  expect(program).toBe('ffmpeg');
  const out: string[] = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-re') continue; // added per input below
    if (args[i] === '-f' && args[i + 1] === 'lavfi') out.push('-re', '-t', String(seconds));
    out.push(args[i]!);
  }
  return out;
}

interface Inbound { type: string; kind?: string; packetsReceived?: number; framesDecoded?: number }

async function packetsReceived(viewer: { stats(): Promise<RTCStatsReport | undefined> }, kind: MediaKind): Promise<number> {
  const report = await viewer.stats();
  let packets = 0;
  report?.forEach((s: Inbound) => {
    if (s.type === 'inbound-rtp' && s.kind === kind) packets += s.packetsReceived ?? 0;
  });
  return packets;
}

describe.skipIf(!hasFfmpeg)('RTP ingest from ffmpeg (real Node viewers)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 1 });
  });
  afterAll(() => server?.close());

  it('only the room\'s streamer may ingest; ffmpeg\'s VP8 + Opus reach two viewers; DELETE ends their tracks', async () => {
    expect(server.media.available).toBe(true);
    const streamer = await saleRoom(server, 'rtp', 1);
    const path = '/api/rooms/rtp/ingest';

    // Refused: a viewer, and the streamer of another room.
    const asViewer = await http(server, 'POST', path, await viewerToken(server, 'rtp-intruder'), { video: true, audio: true });
    expect(asViewer.status).toBe(403);
    const otherStreamer = await server.mintToken({ userId: 'someone-else', name: 'Other', role: 'streamer' });
    const asOther = await http(server, 'POST', path, otherStreamer, { video: true, audio: true });
    expect(asOther.status).toBe(403);
    expect(server.media.status().producers).toBe(0);
    const otherStop = await http(server, 'DELETE', path, otherStreamer);
    expect(otherStop.status).toBe(403);

    // Two viewers wait for the stream, so they consume before ffmpeg's first key frame.
    const viewers = await Promise.all([1, 2].map(async (n) => watch(server.wsUrl, await viewerToken(server, `rtp-${n}`), 'rtp')));
    const tracks: MediaStreamTrack[] = [];
    const ended = viewers.map(({ viewer }) => {
      viewer.on('track', ({ track }) => tracks.push(track));
      const kinds = new Set<MediaKind>();
      return new Promise<void>((resolve) => viewer.on('trackEnded', ({ kind }) => {
        kinds.add(kind);
        if (kinds.size === 2) resolve();
      }));
    });
    await eventually(() => viewers.every((v) => v.viewer.state === 'waiting'), 'viewers waiting for the stream');

    const created = await http(server, 'POST', path, streamer, { video: true, audio: true });
    expect(created.status).toBe(201);
    const { video, audio, ffmpeg: firstCommand } = created.body as { video: Record<string, number | string>; audio: Record<string, number | string>; ffmpeg: string };
    expect(video).toMatchObject({ payloadType: 102, ssrc: 22222222 });
    expect(audio).toMatchObject({ payloadType: 101, ssrc: 11111111 });
    for (const e of [video, audio]) {
      expect(firstCommand).toContain(`rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort}`);
      expect(firstCommand).toContain(`-ssrc ${e.ssrc} -payload_type ${e.payloadType}`);
    }
    expect(server.media.status()).toMatchObject({ producers: 2 });
    // The streamer restarts the encoder: a second ingest replaces the first, never two streams at once.
    const again = await http(server, 'POST', path, streamer, { video: true, audio: true });
    expect(again.status).toBe(201);
    const command = (again.body as { ffmpeg: string }).ffmpeg;
    expect(server.media.status()).toMatchObject({ producers: 2, transports: 2 + 2 }); // the viewers' two, and one plain transport per kind
    await eventually(() => viewers.every((v) => v.viewer.state === 'live' && v.viewer.tracks.length === 2), 'both viewers consuming video and audio');

    let child: ChildProcess | undefined;
    let stderr = '';
    try {
      child = spawn(FFMPEG, ingestArgs(command, INGEST_SECONDS), { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
      const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(`ffmpeg exited with ${signal ?? code}: ${stderr}`)));
      const failFast = exited.then((why) => { throw new Error(why); });
      failFast.catch(() => undefined);

      // Video plays: decoded frames keep rising (not one stray key frame), on both viewers.
      const decoded = () => Promise.all(viewers.map((v) => framesDecoded(v.viewer)));
      await Promise.race([failFast, eventually(async () => (await decoded()).every((f) => f >= 15), 'frames decoded by both viewers', INGEST_SECONDS * 1000)]);
      const before = await decoded();
      await eventually(async () => (await decoded()).every((f, i) => f > before[i]!), 'decoded frames still rising on both viewers', 10_000);
      // Audio arrives too.
      for (const { viewer } of viewers) expect(await packetsReceived(viewer, 'audio')).toBeGreaterThan(0);
      expect(server.media.status().consumers).toBe(4);

      // The streamer stops the ingest: both tracks of both viewers end, no producer is left.
      const stopped = await http(server, 'DELETE', path, streamer);
      expect(stopped).toMatchObject({ status: 200, body: { stopped: true } });
      await Promise.all(ended);
      await eventually(() => viewers.every((v) => v.viewer.state === 'waiting' && v.viewer.tracks.length === 0), 'viewers back to waiting');
      expect(tracks).toHaveLength(4);
      for (const track of tracks) expect(track.readyState).toBe('ended');
      expect(server.media.status().producers).toBe(0);
      await eventually(() => server.media.status().consumers === 0, 'consumers closed on the server');
    } finally {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const { client, viewer } of viewers) { viewer.dispose(); client.close(); }
    }
    // Nobody left and no stream: the room's routers close.
    await eventually(() => server.media.status().rooms === 0 && server.media.status().routers === 0, 'room media released');
  }, 60_000);
});
