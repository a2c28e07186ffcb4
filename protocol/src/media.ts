import { z } from 'zod';

/**
 * WebRTC signaling over the room's WebSocket (mediasoup SFU). Requests follow the usual
 * request/`ok`/`err` rule. mediasoup's own parameter objects (RTP capabilities and parameters, ICE
 * and DTLS parameters) travel as opaque maps: zod bounds their shape and size here, and mediasoup
 * validates their meaning on the server (a bad one is answered BAD_REQUEST).
 *
 * Flow, streamer: `mediaCapabilities` → `createTransport {direction:'send'}` → `connectTransport`
 * → `produce` (video with simulcast, audio). Viewer: `mediaCapabilities` → `createTransport
 * {direction:'recv'}` → `connectTransport` → `consume` (consumers start paused) → `resumeConsumer`.
 * Every member hears `stream` when the room's producers change, and `mediaReset` when its media
 * must be rebuilt (the worker carrying it died).
 */

const mediaId = z.string().min(1).max(64);
const requestId = z.number().int().nonnegative().max(0xffffffff);
/** A mediasoup parameter object, passed through as is (mediasoup validates it). */
const opaque = z.record(z.string(), z.unknown());
export const mediaKindSchema = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof mediaKindSchema>;

const dtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.object({ algorithm: z.string().max(16), value: z.string().max(256) })).min(1).max(8),
});

export const mediaRequestSchemas = [
  /** Router RTP capabilities and the room's current stream; refused with MEDIA_UNAVAILABLE when this node has no media. */
  z.object({ t: z.literal('mediaCapabilities'), id: requestId }),
  /** `send`: the room's streamer only. `recv`: anyone in the room (VIDEO_FULL when every worker is full). */
  z.object({ t: z.literal('createTransport'), id: requestId, direction: z.enum(['send', 'recv']) }),
  z.object({ t: z.literal('connectTransport'), id: requestId, transportId: mediaId, dtlsParameters: dtlsParametersSchema }),
  z.object({ t: z.literal('produce'), id: requestId, transportId: mediaId, kind: mediaKindSchema, rtpParameters: opaque, paused: z.boolean().optional() }),
  /** Consumes every producer of the room this socket does not consume yet; consumers start paused. */
  z.object({ t: z.literal('consume'), id: requestId, transportId: mediaId, rtpCapabilities: opaque }),
  z.object({ t: z.literal('resumeConsumer'), id: requestId, consumerId: mediaId }),
  /** Streamer: mute or unmute one of their producers (viewers see it in `stream`). */
  z.object({ t: z.literal('setProducerPaused'), id: requestId, producerId: mediaId, paused: z.boolean() }),
  z.object({ t: z.literal('restartIce'), id: requestId, transportId: mediaId }),
  /** The streamer ends their stream, or an operator stops it: every producer and consumer closes. */
  z.object({ t: z.literal('stopStream'), id: requestId }),
] as const;
export const mediaRequestTypes: ReadonlySet<string> = new Set(mediaRequestSchemas.map((s) => s.shape.t.value));

export const streamProducerSchema = z.object({ producerId: mediaId, kind: mediaKindSchema, paused: z.boolean() });
export type StreamProducer = z.infer<typeof streamProducerSchema>;

export const streamStateSchema = z.object({
  /** The streamer is publishing (at least one producer). */
  live: z.boolean(),
  producers: z.array(streamProducerSchema),
});
export type StreamState = z.infer<typeof streamStateSchema>;

/** Results of the media requests (the `result` of their `ok`). */
export type MediaCapabilitiesResult = { routerRtpCapabilities: Record<string, unknown>; stream: StreamState };
export type TransportResult = {
  transportId: string;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
};
export type ProduceResult = { producerId: string };
export type ConsumerInfo = { consumerId: string; producerId: string; kind: MediaKind; rtpParameters: Record<string, unknown>; producerPaused: boolean };
export type ConsumeResult = { consumers: ConsumerInfo[] };
export type RestartIceResult = { iceParameters: Record<string, unknown> };

/** Server → client media frames (this node's members of the room only: media is per node). */
export const mediaServerMessageSchemas = [
  /** The room's stream changed (went live, a producer was muted or unmuted, ended). Consume new producers; drop consumers of ones not listed. */
  z.object({
    t: z.literal('stream'), ...streamStateSchema.shape, reason: z.string().max(200).optional(),
    /** Set when the stream was ended on purpose (`stopStream`, an operator, the show ending): a publisher stops instead of publishing again. */
    stopped: z.literal(true).optional(),
  }),
  /** This socket's media is gone (its worker died or the stream was reset): create transports again; the streamer publishes again. */
  z.object({ t: z.literal('mediaReset'), reason: z.string().max(200) }),
] as const;
