/**
 * A room's streamer socket posting timestamped comments (`chat t=<epoch ms>`) at a steady rate;
 * the load generators read the time back out of the text (double11Load.ts) for the delivery latency.
 */
import WebSocket from 'ws';
import { decode, encode } from '../protocol/src/codec.ts';
import { signToken } from './servers.ts';

export interface ChatStreamer {
  stop(): void;
  sent(): number;
  failed(): number;
  send(message: object): void;
}

export async function chatStreamer(o: { host: string; port: number; secret: string; room: string; perSecond: number; lockstep: boolean }): Promise<ChatStreamer> {
  const token = await signToken(o.secret, `streamer-${o.room}`, `Streamer ${o.room}`, 'streamer');
  const ws = new WebSocket(`ws://${o.host}:${o.port}/ws`);
  ws.binaryType = 'nodebuffer';
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(encode({ t: 'hello', id: 0, v: 1, token, room: o.room }));
  let sent = 0;
  let failed = 0;
  ws.on('message', (data: Buffer) => {
    const m = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as { t: string };
    if (m.t === 'err') failed++;
  });
  let id = 1;
  let timer: NodeJS.Timeout | undefined;
  let start: NodeJS.Timeout | undefined;
  if (o.perSecond > 0) {
    const period = 1000 / o.perSecond;
    // Each streamer on its own phase, as real rooms are: in lockstep, all rooms' comments leave in
    // the same millisecond and a phase's p99 is decided by the two or three instants it contains.
    start = setTimeout(() => {
      timer = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(encode({ t: 'comment', id: id++, text: `chat t=${Date.now()}` }));
        sent++;
      }, period);
    }, o.lockstep ? 0 : Math.random() * period);
  }
  return { stop: () => (clearTimeout(start), clearInterval(timer), ws.close()), sent: () => sent, failed: () => failed, send: (message: object) => ws.send(encode(message)) };
}
