import type { types } from 'mediasoup';
import type { RouterSlot } from './RoomMedia.ts';

export interface IngestEndpoint {
  ip: string;
  port: number;
  rtcpPort: number;
  payloadType: number;
  ssrc: number;
  producerId: string;
}

/** RTP ingest (ffmpeg / OBS-like senders): fixed payload types and SSRCs the sender is told to use. */
const INGEST = {
  video: { payloadType: 102, ssrc: 22222222, codec: { mimeType: 'video/VP8', payloadType: 102, clockRate: 90000 } },
  audio: { payloadType: 101, ssrc: 11111111, codec: { mimeType: 'audio/opus', payloadType: 101, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } } },
} as const;

/** One kind's ingest: the plain transport the sender feeds, its producer, and where to send. */
export interface IngestTrack {
  readonly transport: types.PlainTransport;
  readonly producer: types.Producer;
  readonly endpoint: IngestEndpoint;
}

/** Opens a plain RTP transport and its producer on `slot` (comedia: the sender's first packet fixes its address). */
export async function openRtpIngest(slot: RouterSlot, kind: 'video' | 'audio', listenInfo: types.TransportListenInfo): Promise<IngestTrack> {
  const spec = INGEST[kind];
  const transport = await slot.router.createPlainTransport({ listenInfo, rtcpMux: false, comedia: true });
  try {
    const producer = await transport.produce({
      kind,
      rtpParameters: { codecs: [spec.codec as types.RtpCodecParameters], encodings: [{ ssrc: spec.ssrc }] },
    });
    return {
      transport,
      producer,
      endpoint: {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort + 1,
        payloadType: spec.payloadType,
        ssrc: spec.ssrc,
        producerId: producer.id,
      },
    };
  } catch (error) {
    transport.close();
    throw error;
  }
}
