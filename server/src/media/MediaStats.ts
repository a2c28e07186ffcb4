import type { types } from 'mediasoup';
import type { RoomMedia } from './RoomMedia.ts';

/** What this node's media carries, for operators (`GET /api/ops/node`) and /metrics. */
export interface MediaStatus {
  available: boolean;
  /** Why video is unavailable (absent when available). */
  reason?: string;
  workers: Array<{ index: number; pid: number; consumers: number; routers: number; cpu: number }>;
  workerDeaths: number;
  rooms: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Pipes feeding rooms' streams from this node to other nodes. */
  pipesServed: number;
  /** Rooms whose stream is piped in from another node. */
  roomsRelayed: number;
  /** Rooms whose HLS rendition this node makes (ffmpeg running; it is their media origin). */
  hlsRenditions: number;
  bitrateInBps: number;
  bitrateOutBps: number;
}

/** Routers, transports, producers and consumers of the rooms, summed. */
export function countMedia(rooms: Iterable<RoomMedia>): Pick<MediaStatus, 'rooms' | 'routers' | 'transports' | 'producers' | 'consumers'> {
  const counts = { rooms: 0, routers: 0, transports: 0, producers: 0, consumers: 0 };
  for (const room of rooms) {
    counts.rooms++;
    counts.routers += room.slots.size;
    counts.producers += room.producers.size;
    counts.transports += room.ingest.length;
    for (const media of room.members.values()) {
      counts.transports += media.transports.size;
      counts.consumers += media.consumers.size;
    }
  }
  return counts;
}

/** Every transport of the rooms whose bitrates count (members' WebRTC transports, RTP ingest). */
export function transportsOf(rooms: Iterable<RoomMedia>): types.Transport[] {
  const transports: types.Transport[] = [];
  for (const room of rooms) {
    transports.push(...room.ingest);
    for (const media of room.members.values()) transports.push(...media.transports.values());
  }
  return transports;
}

/** Bits per second in and out over the transports, from their last stats. */
export async function sampleBitrates(transports: readonly types.Transport[]): Promise<{ inBps: number; outBps: number }> {
  let inBps = 0;
  let outBps = 0;
  await Promise.all(transports.map(async (t) => {
    if (t.closed) return;
    const stats = (await t.getStats().catch(() => [])) as ReadonlyArray<{ recvBitrate?: number; sendBitrate?: number }>;
    for (const s of stats) {
      inBps += s.recvBitrate ?? 0;
      outBps += s.sendBitrate ?? 0;
    }
  }));
  return { inBps, outBps };
}
