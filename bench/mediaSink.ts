/**
 * The media bench's UDP sink: where plain RTP viewers (bench/mediaServerHost.ts) send. A few
 * sockets with large receive buffers; per packet only the RTP header is read (SRTP leaves it in the
 * clear): per SSRC, packets, bytes and sequence gaps (lost). It answers `sample` with totals per
 * payload type and the drops the kernel counted on its own sockets (packets it could not keep up
 * with: the sink, not the server, fell behind).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export interface SinkTotals {
  packets: number;
  /** Sequence numbers never received, over every stream of the payload type (cumulative). */
  lost: number;
  bytes: number;
  streams: number;
}

export interface SinkSample {
  t: 'sample';
  at: number;
  byPayloadType: Record<string, SinkTotals>;
  /** Streams (SSRCs) that received a packet since the previous sample. */
  activeStreams: number;
  rtcp: number;
  /** Datagrams the kernel dropped on the sink's sockets (receive buffers full). */
  drops: number;
}

export type ToSink = { t: 'sample' } | { t: 'stop' };
export type FromSink = { t: 'ready'; ip: string; ports: number[] } | SinkSample | { t: 'stopped' };

const SINK_IP = '127.0.0.1';
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** One RTP stream's extended sequence numbers (RFC 3550 A.1, without probation). */
class Stream {
  received = 0;
  bytes = 0;
  seen = 0;
  #base = -1;
  #max = 0;
  #cycles = 0;

  constructor(readonly payloadType: number) {}

  add(seq: number, bytes: number): void {
    this.received++;
    this.seen++;
    this.bytes += bytes;
    if (this.#base < 0) {
      this.#base = seq;
      this.#max = seq;
      return;
    }
    const ahead = (seq - this.#max) & 0xffff;
    if (ahead === 0 || ahead >= 0x8000) return; // duplicate or late
    if (seq < this.#max) this.#cycles += 0x10000;
    this.#max = seq;
  }

  get lost(): number {
    return this.#base < 0 ? 0 : Math.max(0, this.#cycles + this.#max - this.#base + 1 - this.received);
  }
}

function kernelDrops(ports: ReadonlySet<number>): number {
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const port = parseInt(f[1]?.split(':')[1] ?? '', 16);
    if (ports.has(port)) drops += Number(f.at(-1));
  }
  return drops;
}

async function main(): Promise<void> {
  const send = (m: FromSink) => process.send!(m);
  const count = Number(process.env['BENCH_SINK_SOCKETS'] ?? '8');
  const streams = new Map<number, Stream>();
  let rtcp = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
    socket.on('message', (packet) => {
      if (packet.length < 12) return;
      const second = packet[1]!;
      if (second >= 192 && second <= 223) { // RTCP (rtcp-mux): SR, RR, SDES, BYE, APP, feedback
        rtcp++;
        return;
      }
      const ssrc = packet.readUInt32BE(8);
      let stream = streams.get(ssrc);
      if (stream === undefined) streams.set(ssrc, (stream = new Stream(second & 0x7f)));
      stream.add(packet.readUInt16BE(2), packet.length);
    });
    await new Promise<void>((resolve) => socket.bind(0, SINK_IP, resolve));
    sockets.push(socket);
  }
  const ports = sockets.map((s) => s.address().port);
  const portSet = new Set(ports);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToSink) => {
    if (m.t === 'stop') {
      for (const s of sockets) s.close();
      send({ t: 'stopped' });
      setTimeout(() => process.exit(0), 100);
      return;
    }
    const byPayloadType: Record<string, SinkTotals> = {};
    let activeStreams = 0;
    for (const stream of streams.values()) {
      const totals = (byPayloadType[stream.payloadType] ??= { packets: 0, lost: 0, bytes: 0, streams: 0 });
      totals.packets += stream.received;
      totals.lost += stream.lost;
      totals.bytes += stream.bytes;
      totals.streams++;
      if (stream.seen > 0) activeStreams++;
      stream.seen = 0;
    }
    send({ t: 'sample', at: Date.now(), byPayloadType, activeStreams, rtcp, drops: kernelDrops(portSet) });
  });
  send({ t: 'ready', ip: SINK_IP, ports });
}

main().catch((error: unknown) => process.send!({ t: 'error', message: (error as Error).stack ?? String(error) }));
