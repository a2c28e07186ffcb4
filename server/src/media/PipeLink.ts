import type { MediaKind } from '../../../protocol/src/index.ts';

/**
 * What nodes say to each other to carry a room's video from the node that has it (its origin, or
 * a relay of it) to another node that has viewers: a mediasoup pipe transport on each side,
 * connected to each other, and the same producers (same ids) on the far side.
 */

/** One end of a pipe: where it takes RTP, and its SRTP key when the pipe is encrypted. */
export interface PipeEndpoint {
  readonly ip: string;
  readonly port: number;
  /** mediasoup's SrtpParameters; absent: plain RTP (the asking node decides, the other follows). */
  readonly srtpParameters?: Record<string, unknown> | undefined;
}

export interface PipeOpenRequest {
  readonly roomId: string;
  /** The asking node, and where it is reached (for a node fed past its pipe limit: see `PipeFull`). */
  readonly nodeId: string;
  readonly url: string;
  readonly endpoint: PipeEndpoint;
}

export interface PipeOpened {
  readonly pipeId: string;
  readonly endpoint: PipeEndpoint;
  /** The origin the serving node follows (itself, or the one it relays), and its claim's version. */
  readonly originNodeId: string;
  readonly originVersion: number;
}

/** The serving node feeds as many nodes as it may: ask one of those instead. */
export interface PipeFull {
  readonly full: true;
  readonly relays: ReadonlyArray<{ readonly nodeId: string; readonly url: string }>;
}

/** A producer as the far side recreates it: `pipeTransport.produce({ id: producerId, kind, rtpParameters, paused })`. */
export interface PipedProducer {
  readonly producerId: string;
  readonly kind: MediaKind;
  readonly rtpParameters: Record<string, unknown>;
  readonly paused: boolean;
}

export interface PipeConsumeRequest {
  readonly roomId: string;
  readonly pipeId: string;
  readonly producerIds: readonly string[];
}

export interface PipeConsumed {
  readonly producers: readonly PipedProducer[];
  /** Asked for but not on the serving node (yet: a relay still piping it in, or closed). */
  readonly missing: readonly string[];
}

export interface PipeRef {
  readonly roomId: string;
  readonly pipeId: string;
}

/** How a node calls another node's media (signed HTTP between nodes; see transport/MediaPipeClient). */
export interface PipeLink {
  open(url: string, request: PipeOpenRequest): Promise<PipeOpened | PipeFull>;
  consume(url: string, request: PipeConsumeRequest): Promise<PipeConsumed>;
  /** Resolves while the pipe exists; throws `PipeLinkError` 'gone' once the serving node closed it. */
  keepalive(url: string, ref: PipeRef): Promise<void>;
  close(url: string, ref: PipeRef): Promise<void>;
  /** Ends the room's stream on its origin (a moderator on another node stopped it). */
  stopStream(url: string, roomId: string, reason: string): Promise<void>;
}

/**
 * A node-to-node call failed: `unreachable` (no answer in time, refused connection), `gone` (the
 * pipe or the stream is not there), `refused` (anything else the other node answered).
 */
export class PipeLinkError extends Error {
  override readonly name = 'PipeLinkError';

  constructor(
    readonly reason: 'unreachable' | 'gone' | 'refused',
    message: string,
  ) {
    super(message);
  }
}
