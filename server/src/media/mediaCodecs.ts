import type { types } from 'mediasoup';
import type { DegradeLevel } from '../fanout/DegradePolicy.ts';

/** The codecs every router of every node offers: the same list everywhere, so producers can be piped between any two routers. */
export const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 600 } },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
];

/** Highest simulcast layer viewers get at each room degrade level: video steps down before chatter is cut further. */
export const spatialLayerFor = (level: DegradeLevel): number => (level === 0 ? 2 : level === 1 ? 1 : 0);
