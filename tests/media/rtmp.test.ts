import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../protocol/src/media.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { freePort } from '../helpers/redisServer.ts';
import { http, saleRoom, startTestServer, viewerToken } from '../helpers/server.ts';
import { eventually, framesDecoded, packetsReceived, watch } from '../helpers/webrtc.ts';

/**
 * RTMP ingest, with ffmpeg as the encoder (H.264 + AAC in FLV, as OBS sends): it publishes to
 * rtmp://HOST:PORT/ROOM with the room's stream key, the server relays the stream into the room
 * through an ffmpeg of its own, and Node WebRTC viewers decode it.
 */
const FFMPEG = '/usr/bin/ffmpeg';
const hasFfmpeg = existsSync(FFMPEG);
if (!hasFfmpeg) console.warn(`tests/media/rtmp.test.ts skipped: ${FFMPEG} is missing (apt-get install ffmpeg)`);

/** ffmpeg publishing a test pattern and a tone for `seconds` to `url`; resolves its exit code and last error lines when it quits. */
function publish(url: string, seconds: number): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-t', String(seconds), '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30',
    '-re', '-t', String(seconds), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

describe.skipIf(!hasFfmpeg)('RTMP ingest (ffmpeg as the encoder, Node viewers)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ media: true, mediaWorkers: 1, rtmpPort: await freePort(), rtmpFfmpegBin: FFMPEG, rtmpPublishTimeoutMs: 2000 });
  });
  afterAll(() => server?.close());

  it('a publish with the stream key reaches viewers (video decoded, audio heard); stopping the encoder ends the stream', async () => {
    expect(server.rtmp).toBeDefined();
    const streamer = await saleRoom(server, 'rtmp-live', 1);
    const settings = (await http(server, 'GET', '/api/rooms/rtmp-live/stream-key', streamer)).body as { key: string; rtmp: { server: string; streamKey: string } };
    expect(settings.rtmp).toEqual({ server: `rtmp://127.0.0.1:${server.rtmp!.port}/rtmp-live`, streamKey: settings.key });

    const { client, viewer } = await watch(server.wsUrl, await viewerToken(server, 'rtmp-1'), 'rtmp-live');
    const ended = new Promise<void>((resolve) => {
      const kinds = new Set<MediaKind>();
      viewer.on('trackEnded', ({ kind }) => { kinds.add(kind); if (kinds.size === 2) resolve(); });
    });
    const encoder = publish(`${settings.rtmp.server}/${settings.rtmp.streamKey}`, 30);
    try {
      const failFast = encoder.exited.then(({ code, stderr }) => { throw new Error(`the encoder quit (${code}): ${stderr}`); });
      failFast.catch(() => undefined);
      await Promise.race([failFast, eventually(() => server.rtmp!.relays === 1 && viewer.state === 'live' && viewer.tracks.length === 2, 'the viewer consuming the relayed video and audio', 20_000)]);
      await Promise.race([failFast, eventually(async () => (await framesDecoded(viewer)) >= 15, 'frames decoded by the viewer', 20_000)]);
      const before = await framesDecoded(viewer);
      await eventually(async () => (await framesDecoded(viewer)) > before + 15, 'decoded frames still rising');
      await eventually(async () => (await packetsReceived(viewer, 'audio')) > 0, 'audio packets at the viewer');
      expect(server.media.status().producers).toBe(2);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^livecart_rtmp_relays 1$/m);

      // The encoder stops (ffmpeg closes its stream on SIGINT): the stream ends for viewers, the relay goes.
      encoder.child.kill('SIGINT');
      await encoder.exited;
      await ended;
      await eventually(() => server.rtmp!.relays === 0 && server.media.status().producers === 0, 'the relay and its producers gone');
      await eventually(() => viewer.state === 'waiting', 'the viewer back to waiting');
    } finally {
      if (encoder.child.exitCode === null && encoder.child.signalCode === null) encoder.child.kill('SIGKILL');
      viewer.dispose();
      client.close();
    }
  }, 90_000);

  it('refuses a wrong key, a room that does not exist and an ended show; garbage and silent sockets are closed; no relay starts', async () => {
    const streamer = await saleRoom(server, 'rtmp-bad', 1);
    const { key, rtmp } = (await http(server, 'GET', '/api/rooms/rtmp-bad/stream-key', streamer)).body as { key: string; rtmp: { server: string } };
    const base = rtmp.server.slice(0, rtmp.server.lastIndexOf('/'));
    for (const url of [`${rtmp.server}/sk_${'x'.repeat(43)}`, `${rtmp.server}/${streamer}`, `${base}/no-such-room/${key}`, `${base}/live/rtmp-bad/${key}`]) {
      const { code } = await publish(url, 5).exited;
      expect(code, url).not.toBe(0);
    }
    await http(server, 'POST', '/api/rooms/rtmp-bad/end', streamer);
    expect((await publish(`${rtmp.server}/${key}`, 5).exited).code).not.toBe(0);
    expect(server.rtmp!.relays).toBe(0);
    expect(server.media.status().producers).toBe(0);

    // Not RTMP at all: closed at the first byte. Silent: closed after the publish timeout.
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(0)]) {
      const socket = tcpConnect(server.rtmp!.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      if (bytes.length > 0) socket.write(bytes);
      const started = Date.now();
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (bytes.length === 0) expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    }
  }, 60_000);
});
