import { createRequire } from 'node:module';
import { connect, type LivecartClient } from '../../client/src/index.ts';
import { StreamViewer } from '../../client/src/media.ts';
import type { MediaKind } from '../../protocol/src/media.ts';
import { waitUntil } from './rawClient.ts';

/**
 * Real WebRTC peers in Node: @roamhq/wrtc (libwebrtc) behind the same mediasoup-client SDK the
 * pages use. mediasoup-client looks for the browser globals, so they are installed from wrtc.
 */
interface Wrtc {
  RTCPeerConnection: unknown;
  MediaStream: unknown;
  MediaStreamTrack: unknown;
  RTCRtpSender: unknown;
  RTCRtpReceiver: unknown;
  RTCRtpTransceiver: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): MediaStreamTrack; onFrame(frame: { width: number; height: number; data: Uint8ClampedArray }): void };
    RTCVideoSink: new (track: MediaStreamTrack) => { onframe: (() => void) | null; stop(): void };
    RTCAudioSource: new () => { createTrack(): MediaStreamTrack; onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample: number; channelCount: number; numberOfFrames: number }): void };
  };
}

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
for (const name of ['RTCPeerConnection', 'MediaStream', 'MediaStreamTrack', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver', 'RTCSessionDescription', 'RTCIceCandidate'] as const) {
  (globalThis as Record<string, unknown>)[name] ??= wrtc[name];
}

export const NODE_HANDLER = 'Chrome111' as const;

/** A synthetic camera: a moving gradient at 30 fps, so the encoder always has work. */
export function syntheticCamera(width = 320, height = 240): { track: MediaStreamTrack; stop(): void } {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const frame = new Uint8ClampedArray(width * height * 1.5);
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (let y = 0; y < height; y++) frame.fill((y + n * 3) & 0xff, y * width, (y + 1) * width);
    frame.fill(128, width * height);
    source.onFrame({ width, height, data: frame });
  }, 33);
  return { track, stop: () => { clearInterval(timer); track.stop(); } };
}

/** A synthetic microphone: a 440 Hz tone, 10 ms frames of 48 kHz mono. */
export function syntheticMicrophone(): { track: MediaStreamTrack; stop(): void } {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack();
  const samples = new Int16Array(480);
  let t = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < samples.length; i++, t++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * t) / 48_000));
    source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: samples.length });
  }, 10);
  return { track, stop: () => { clearInterval(timer); track.stop(); } };
}

/** Video frames decoded so far by a viewer (inbound-rtp of its receive transport). */
export async function framesDecoded(viewer: StreamViewer): Promise<number> {
  const report = await viewer.stats();
  let frames = 0;
  report?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
  });
  return frames;
}

/** Polls until `check` holds (stats reads are async and cost a round trip: every 100 ms). */
/** RTP packets of `kind` a viewer's transport has received so far (audio has no frames to count). */
export async function packetsReceived(viewer: { stats(): Promise<RTCStatsReport | undefined> }, kind: MediaKind): Promise<number> {
  const report = await viewer.stats();
  let packets = 0;
  report?.forEach((s: { type: string; kind?: string; packetsReceived?: number }) => {
    if (s.type === 'inbound-rtp' && s.kind === kind) packets += s.packetsReceived ?? 0;
  });
  return packets;
}

export function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return waitUntil(check, timeoutMs, what, 100);
}

/** A joined SDK client and a started viewer. */
export async function watch(url: string, token: string, room: string): Promise<{ client: LivecartClient; viewer: StreamViewer }> {
  const client = connect({ url, token, room, reconnect: { baseMs: 50, maxMs: 200 } });
  await client.ready;
  const viewer = new StreamViewer(client, { handlerName: NODE_HANDLER, retryMs: 300 });
  await viewer.start();
  return { client, viewer };
}
