import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Principal } from '../auth/TokenService.ts';
import type { Logger } from '../log.ts';
import type { MediaService } from './MediaService.ts';
import { readWhipOffer, type WhipOffer, writeWhipAnswer } from './whipSdp.ts';

export interface WhipOptions {
  /** A session whose publisher has not connected (ICE and DTLS) by then is closed. */
  readonly connectTimeoutMs: number;
  /** Bits per second the publisher may send into its transport. */
  readonly maxIncomingBitrate: number;
}

interface WhipSession {
  readonly roomId: string;
  readonly transport: types.WebRtcTransport;
}

/**
 * WHIP (RFC 9725) publishing: an encoder's SDP offer becomes one WebRTC transport on the room's
 * origin router with a producer per track, the room's stream like the streamer page's (same
 * viewers, same replacement rules); the answer carries mediasoup's ICE-lite candidates, so no
 * trickle is needed. A session is its transport: it ends on DELETE, when the stream is replaced or
 * stopped, when the publisher goes (DTLS closed or failed, ICE consent lost) or never connects.
 */
export class WhipIngest {
  readonly #media: MediaService;
  readonly #options: WhipOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, WhipSession>();

  constructor(media: MediaService, options: WhipOptions, log: Logger) {
    this.#media = media;
    this.#options = options;
    this.#log = log;
  }

  /** Sessions open on this node. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Publishes the offer into the room for `principal` (its streamer); resolves with the session's id and the SDP answer. */
  async publish(principal: Principal, roomId: string, offerSdp: string): Promise<{ sessionId: string; answer: string }> {
    let offer: WhipOffer | undefined;
    const { transport } = await this.#media.publishExternal(principal, roomId, {
      label: 'WHIP stream',
      check: (capabilities) => {
        offer = readWhipOffer(offerSdp, capabilities);
      },
      open: async (site) => {
        const transport = await site.router.createWebRtcTransport({ listenInfos: [site.listenInfo('udp'), site.listenInfo('tcp')], preferUdp: true, appData: { direction: 'send', whip: true } });
        try {
          await transport.setMaxIncomingBitrate(this.#options.maxIncomingBitrate);
          await transport.connect({ dtlsParameters: offer!.remoteDtls });
          const producers: types.Producer[] = [];
          for (const track of offer!.tracks) producers.push(await transport.produce({ kind: track.kind, rtpParameters: track.rtpParameters }));
          return { transports: [transport], producers, transport };
        } catch (error) {
          transport.close();
          throw error;
        }
      },
    });
    const sessionId = randomUUID();
    this.#sessions.set(sessionId, { roomId, transport });
    const end = (why: string) => {
      if (transport.closed) return;
      this.#log.info({ roomId, sessionId, why }, 'WHIP session ended');
      transport.close();
    };
    const timer = setTimeout(() => {
      if (transport.dtlsState !== 'connected') end('the publisher did not connect in time');
    }, this.#options.connectTimeoutMs);
    timer.unref();
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') end(`DTLS ${state}`);
    });
    transport.on('icestatechange', (state) => {
      if (state === 'disconnected' || state === 'closed') end(`ICE ${state}`);
    });
    transport.observer.once('close', () => {
      clearTimeout(timer);
      this.#sessions.delete(sessionId);
    });
    this.#log.info({ roomId, sessionId, tracks: offer!.tracks.map((t) => `${t.kind}:${t.rtpParameters.codecs[0]?.mimeType}x${t.rtpParameters.encodings?.length ?? 1}`) }, 'WHIP session started');
    return { sessionId, answer: writeWhipAnswer(offer!, transport) };
  }

  /** Ends the room's session `sessionId` (DELETE of its resource): the room's stream stops. False when there is no such session. */
  end(roomId: string, sessionId: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (session === undefined || session.roomId !== roomId) return false;
    this.#media.stopStream(roomId, 'the streamer ended the stream');
    session.transport.close(); // closed with the stream already, unless the room's media was reset meanwhile
    return true;
  }
}
