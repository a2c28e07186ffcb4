import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { MediaOrigin } from '../store/MediaOriginDirectory.ts';
import { type PipeLink, PipeLinkError, type PipeOpened } from './PipeLink.ts';
import type { RoomMedia, Upstream } from './RoomMedia.ts';
import type { RoomRouters } from './RoomRouters.ts';
import type { PooledWorker } from './WorkerPool.ts';

/** Nodes asked in turn for a pipe (the origin, then the nodes it sends us to) before giving up until the next check. */
const MAX_OPEN_ATTEMPTS = 8;

export interface RoomRelayDeps {
  readonly link: PipeLink;
  readonly routers: RoomRouters;
  readonly listenInfo: (worker: PooledWorker) => types.TransportListenInfo;
  /** Encrypt the pipes this node asks for. */
  readonly srtp: boolean;
  readonly self: () => { nodeId: string; url: string };
  /** Puts a producer into the room on this node (its viewers' routers get it). */
  readonly adopt: (room: RoomMedia, producer: types.Producer) => Promise<void>;
  readonly log: Logger;
}

/** What following the origin changed on this node. */
export interface FollowResult {
  /** Producers piped in or muted/unmuted: the room's members are told. */
  readonly changed: boolean;
  /** Producers the feeding node does not have yet (a relay still piping them in): try again soon. */
  readonly incomplete: boolean;
}

/**
 * This node's copy of a room's stream when the room's origin is another node: one pipe transport
 * on the room's router here, connected to a pipe transport on the feeding node (the origin, or a
 * node it feeds when it is full), and the origin's producers recreated on it with their ids,
 * exactly as mediasoup's `router.pipeToRouter` does between two routers of one host.
 */
export class RoomRelay {
  readonly #deps: RoomRelayDeps;

  constructor(deps: RoomRelayDeps) {
    this.#deps = deps;
  }

  /** Pipes in what `origin` lists and this node lacks, drops what it no longer lists, and follows its mute states. */
  async follow(room: RoomMedia, origin: MediaOrigin): Promise<FollowResult> {
    const current = room.upstream;
    if (current !== undefined && (current.transport.closed || current.originNodeId !== origin.nodeId || current.originVersion !== origin.version)) {
      this.drop(room);
    }
    const upstream = room.upstream ?? (await this.#open(room, origin));
    const wanted = new Map(origin.producers.map((p) => [p.producerId, p]));
    let changed = false;
    for (const [id, producer] of [...upstream.producers]) {
      if (!wanted.has(id)) producer.close(); // the room's members hear it through the producer's close
    }
    const lacking = [...wanted.keys()].filter((id) => !upstream.producers.has(id));
    let incomplete = false;
    if (lacking.length > 0) {
      const answer = await this.#deps.link.consume(upstream.url, { roomId: room.roomId, pipeId: upstream.pipeId, producerIds: lacking });
      incomplete = answer.missing.length > 0;
      for (const piped of answer.producers) {
        if (room.upstream !== upstream || upstream.producers.has(piped.producerId)) continue;
        const producer = await upstream.transport.produce({
          id: piped.producerId,
          kind: piped.kind,
          rtpParameters: piped.rtpParameters as unknown as types.RtpParameters,
          paused: piped.paused,
        });
        upstream.producers.set(producer.id, producer);
        producer.observer.once('close', () => upstream.producers.delete(producer.id));
        await this.#deps.adopt(room, producer);
        changed = true;
      }
    }
    for (const producer of upstream.producers.values()) {
      const paused = wanted.get(producer.id)?.paused;
      if (paused === undefined || paused === producer.paused) continue;
      if (paused) await producer.pause();
      else await producer.resume();
      changed = true;
    }
    return { changed, incomplete };
  }

  /** Tells the feeding node this node still wants the stream; a pipe it closed (or a node gone) drops the copy here. */
  async keepalive(room: RoomMedia): Promise<void> {
    const upstream = room.upstream;
    if (upstream === undefined) return;
    try {
      await this.#deps.link.keepalive(upstream.url, { roomId: room.roomId, pipeId: upstream.pipeId });
    } catch (error) {
      if (room.upstream !== upstream) return;
      this.#deps.log.info({ roomId: room.roomId, from: upstream.nodeId, err: error }, 'the node feeding the room\'s stream is gone; its copy here closes');
      this.drop(room, false);
    }
  }

  /** The copy here goes: the pipe closes and with it the piped producers (their consumers hear `producerclose`). */
  drop(room: RoomMedia, tellFeeder = true): void {
    const upstream = room.upstream;
    if (upstream === undefined) return;
    room.upstream = undefined;
    upstream.transport.close();
    if (tellFeeder) this.#deps.link.close(upstream.url, { roomId: room.roomId, pipeId: upstream.pipeId }).catch(() => undefined);
  }

  async #open(room: RoomMedia, origin: MediaOrigin): Promise<Upstream> {
    const { link, routers, srtp, self } = this.#deps;
    const slot = await routers.origin(room);
    const transport = await slot.router.createPipeTransport({ listenInfo: this.#deps.listenInfo(slot.worker), enableRtx: true, enableSrtp: srtp });
    const me = self();
    const request = {
      roomId: room.roomId,
      nodeId: me.nodeId,
      url: me.url,
      endpoint: {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        ...(srtp && transport.srtpParameters !== undefined ? { srtpParameters: transport.srtpParameters as unknown as Record<string, unknown> } : {}),
      },
    };
    const candidates: Array<{ nodeId: string; url: string }> = [{ nodeId: origin.nodeId, url: origin.url }];
    const asked = new Set<string>([me.nodeId]);
    let failure: unknown;
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS && candidates.length > 0; attempt++) {
      const feeder = candidates.shift()!;
      if (asked.has(feeder.nodeId)) continue;
      asked.add(feeder.nodeId);
      let answer: Awaited<ReturnType<PipeLink['open']>>;
      try {
        answer = await link.open(feeder.url, request);
      } catch (error) {
        failure = error;
        continue;
      }
      if ('full' in answer) {
        candidates.push(...answer.relays);
        continue;
      }
      if (answer.originNodeId !== origin.nodeId || answer.originVersion !== origin.version) {
        link.close(feeder.url, { roomId: room.roomId, pipeId: answer.pipeId }).catch(() => undefined);
        failure = new PipeLinkError('gone', `${feeder.nodeId} follows another claim of the room's origin`);
        continue;
      }
      try {
        await this.#connect(transport, answer);
      } catch (error) {
        link.close(feeder.url, { roomId: room.roomId, pipeId: answer.pipeId }).catch(() => undefined);
        transport.close();
        throw error;
      }
      if (room.upstream !== undefined || transport.closed) {
        // Dropped meanwhile (the room's router closed, or a local publish took over).
        link.close(feeder.url, { roomId: room.roomId, pipeId: answer.pipeId }).catch(() => undefined);
        transport.close();
        throw new PipeLinkError('gone', 'the room changed while its pipe was opened');
      }
      const upstream: Upstream = { nodeId: feeder.nodeId, url: feeder.url, originNodeId: origin.nodeId, originVersion: origin.version, pipeId: answer.pipeId, transport, producers: new Map() };
      room.upstream = upstream;
      transport.observer.once('close', () => {
        if (room.upstream === upstream) room.upstream = undefined;
      });
      this.#deps.log.info({ roomId: room.roomId, from: feeder.nodeId, origin: origin.nodeId }, 'the room\'s stream is piped in from another node');
      return upstream;
    }
    transport.close();
    throw failure ?? new PipeLinkError('refused', 'every node feeding the room\'s stream is full');
  }

  async #connect(transport: types.PipeTransport, answer: PipeOpened): Promise<void> {
    await transport.connect({
      ip: answer.endpoint.ip,
      port: answer.endpoint.port,
      ...(answer.endpoint.srtpParameters === undefined ? {} : { srtpParameters: answer.endpoint.srtpParameters as unknown as types.SrtpParameters }),
    });
  }
}
