/**
 * livecart as `server/src/main.ts serve …` runs it (same flags, same startServer), in a process
 * the media bench can also ask, over IPC, for plain RTP viewers: each a PlainTransport on the
 * router of a producer the server made (found through mediasoup's observer), consuming it into a
 * UDP sink (bench/mediaSink.ts). They load the server's worker as WebRTC viewers do (a consumer
 * per track, SRTP-encrypted when asked), without a WebRTC peer on the other side, so a generator
 * core carries many more of them. Bench-only: livecart has no such API.
 */
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { loadConfig } from '../server/src/config.ts';
import { createLogger } from '../server/src/log.ts';
import { startServer } from '../server/src/server.ts';

export interface PlainRequest {
  t: 'plain';
  /** The producers each plain viewer consumes (video and audio of a stream). */
  producerIds: string[];
  /** Where the viewers send, spread over these sockets in turn. */
  sinks: Array<{ ip: string; port: number }>;
  count: number;
  /** Encrypt as WebRTC does (SRTP); the sink reads the RTP headers, which SRTP leaves in the clear. */
  srtp: boolean;
  /** Ports the plain transports take on the worker (apart from the server's own range). */
  portRange: { min: number; max: number };
}

export interface PlainAdded {
  t: 'plain-added';
  ok: number;
  failed: number;
  errors: string[];
  /** Plain consumers open now, all viewers together. */
  consumers: number;
  /** The payload type of each kind the plain consumers send. */
  payloadTypes: Record<string, 'audio' | 'video'>;
}

export type ToHost = PlainRequest;
export type FromHost = PlainAdded;

const producers = new Map<string, { producer: types.Producer; router: types.Router }>();
mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newproducer', (producer) => {
        producers.set(producer.id, { producer, router });
        producer.observer.once('close', () => producers.delete(producer.id));
      });
    });
  });
});

const transports: types.PlainTransport[] = [];
let plainConsumers = 0;

async function addPlainViewer(request: PlainRequest, index: number, payloadTypes: Record<string, 'audio' | 'video'>): Promise<void> {
  const found = request.producerIds.map((id) => producers.get(id));
  const router = found[0]?.router;
  if (router === undefined || found.some((f) => f === undefined || f.router !== router)) throw new Error(`producers ${request.producerIds.join(', ')} are not on one router of this server`);
  const sink = request.sinks[index % request.sinks.length]!;
  const transport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: request.portRange },
    rtcpMux: true,
    comedia: false,
    enableSrtp: request.srtp,
  });
  transports.push(transport);
  // The sink never sends: any valid key does for the direction it would.
  await transport.connect({ ip: sink.ip, port: sink.port, ...(request.srtp ? { srtpParameters: transport.srtpParameters! } : {}) });
  for (const { producer } of found as Array<{ producer: types.Producer }>) {
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    plainConsumers++;
    consumer.observer.once('close', () => plainConsumers--);
    payloadTypes[String(consumer.rtpParameters.codecs[0]!.payloadType)] = consumer.kind;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'serve') throw new Error('usage: mediaServerHost.ts serve [livecart options]');
  const { config } = loadConfig(rest, process.env);
  const log = createLogger(config);
  const server = await startServer(config, log);
  log.info({ url: server.url }, 'listening');
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  process.on('message', (m: ToHost) => {
    void (async () => {
      const payloadTypes: Record<string, 'audio' | 'video'> = {};
      const errors: string[] = [];
      let ok = 0;
      const start = transports.length;
      for (let i = 0; i < m.count; i++) {
        try {
          await addPlainViewer(m, start + i, payloadTypes);
          ok++;
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
      process.send!({ t: 'plain-added', ok, failed: errors.length, errors: errors.slice(0, 5), consumers: plainConsumers, payloadTypes } satisfies FromHost);
    })().catch((error: unknown) => process.send!({ t: 'error', message: (error as Error).stack ?? String(error) }));
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
