/**
 * The media bench's stream: ffmpeg publishing VP8 + Opus into a room through RTP ingest
 * (`POST /api/rooms/:id/ingest`), either a clip encoded once with the server's suggested settings
 * and looped with `-c copy` (about 1 % of a core), or the server's suggested command as is (a live
 * libvpx encode).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killOnExit, pinned, stopChild } from './servers.ts';

export const FFMPEG = '/usr/bin/ffmpeg';

export type IngestKind = 'copy' | 'encode';

/** Where the server told the sender to send one kind. */
export interface IngestEndpoint { ip: string; port: number; rtcpPort: number; payloadType: number; ssrc: number; producerId: string }

export interface RunningIngest {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly video: IngestEndpoint;
  readonly audio: IngestEndpoint;
  /** Throws with ffmpeg's last words when it has exited. */
  check(): void;
  stop(): Promise<void>;
}

function splitCommand(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The server's suggested command, with every input read at its native rate, quiet. */
function encodeArgs(command: string, videoSize: string): string[] {
  const [, ...args] = splitCommand(command.replace('size=640x360', `size=${videoSize}`));
  const out = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-re') continue;
    if (args[i] === '-f' && args[i + 1] === 'lavfi') out.push('-re');
    out.push(args[i]!);
  }
  return out;
}

/** A 20 s clip encoded with the server's suggested encoder settings (VP8 800k, key frame every 60, Opus 64k). */
function ensureClip(videoSize: string): string {
  const file = path.join(os.tmpdir(), `livecart-bench-media-${videoSize}.webm`);
  if (existsSync(file)) return file;
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=${videoSize}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20',
    '-c:v', 'libvpx', '-b:v', '800k', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p', '-g', '60',
    '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k', file]);
  return file;
}

function copyArgs(clip: string, video: IngestEndpoint, audio: IngestEndpoint): string[] {
  const rtp = (e: IngestEndpoint) => ['-ssrc', String(e.ssrc), '-payload_type', String(e.payloadType), '-f', 'rtp', `rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort}&pkt_size=1200`];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip,
    '-map', '0:v:0', '-c:v', 'copy', ...rtp(video), '-map', '0:a:0', '-c:a', 'copy', ...rtp(audio)];
}

/** Opens RTP ingest for video and audio in `room` on the node at `base` and starts ffmpeg on `core`. */
export async function startRtpIngest(o: { base: string; room: string; streamerToken: string; core: string; kind: IngestKind; videoSize: string }): Promise<RunningIngest> {
  if (!existsSync(FFMPEG)) throw new Error(`${FFMPEG} is missing (apt-get install ffmpeg)`);
  const response = await fetch(`${o.base}/api/rooms/${o.room}/ingest`, {
    method: 'POST', headers: { authorization: `Bearer ${o.streamerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ video: true, audio: true }),
  });
  const endpoints = (await response.json()) as { video: IngestEndpoint; audio: IngestEndpoint; ffmpeg: string };
  if (response.status !== 201) throw new Error(`POST ingest: ${response.status} ${JSON.stringify(endpoints)}`);
  const args = o.kind === 'encode' ? encodeArgs(endpoints.ffmpeg, o.videoSize) : copyArgs(ensureClip(o.videoSize), endpoints.video, endpoints.audio);
  const [cmd, argv] = pinned(o.core, [FFMPEG, ...args]);
  const child = killOnExit(spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000); });
  return {
    child,
    pid: child.pid!,
    video: endpoints.video,
    audio: endpoints.audio,
    check: () => { if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ffmpeg exited: ${stderr}`); },
    stop: () => stopChild(child, 2000),
  };
}
