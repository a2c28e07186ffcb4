/**
 * The media bench's WebRTC viewer generator (a child process on the load core): Node +
 * @roamhq/wrtc behind the SDK's StreamViewer, one per subscriber, added on request into a room of
 * a node, and sampled (inbound-rtp and transport stats summed over the subscribers).
 *
 * Two kinds of subscriber (BENCH_MEDIA_MODE):
 *   decode        the SDK's StreamViewer as is. libwebrtc decodes every video frame whether or not
 *                 the track is attached anywhere (wrtc has no renderer; framesDecoded rises anyway),
 *                 so each subscriber costs the generator a VP8 decoder.
 *   receive-only  the same StreamViewer, but this process rewrites the video payload types in the
 *                 remote SDP before libwebrtc sees it (and drops RTX and the NACK/PLI/FIR feedback):
 *                 the packets still arrive, are decrypted (SRTP) and counted in inbound-rtp, then
 *                 dropped as an unknown payload type before depacketizing and decoding. Bench-only;
 *                 the SDK has no receive-without-decode option. Audio is left as is in both modes.
 */
import { fileURLToPath } from 'node:url';
import { IpcChild } from './generatorPool.ts';
import { signToken } from './servers.ts';

export type ViewerMode = 'decode' | 'receive-only';

/** mediasoup-client's bandwidth probator stream (not media). */
const PROBATOR_SSRC = 1234;

/** Totals over the subscribers of one generator, at one instant. */
export interface GenSample {
  t: 'sample';
  at: number;
  subscribers: number;
  live: number;
  states: Record<string, number>;
  video: { packets: number; lost: number; bytes: number; decoded: number; dropped: number; received: number };
  audio: { packets: number; lost: number };
  /** Packets and bytes received by the subscribers' transports (RTP and RTCP of every stream), and the probator's packets. */
  transportPackets: number;
  transportBytes: number;
  probatorPackets: number;
  /** framesDecoded per subscriber id. */
  frames: Record<string, number>;
}

/** `add`: subscribers with these ids join `room` on `url` and wait until live. */
export type ToGen = { t: 'add'; ids: number[]; url: string; room: string } | { t: 'sample' } | { t: 'stop' };
export type GenAdded = { t: 'added'; ok: number; failed: number; errors: string[] };
export type FromGen = { t: 'ready' } | GenAdded | GenSample | { t: 'stopped' };

/**
 * receive-only: the audio and video m-sections of every remote description get fresh payload types
 * for their codecs (libwebrtc drops the packets, which keep mediasoup's, as an unknown payload type:
 * video after counting them in inbound-rtp, audio before), no RTX, and only transport-wide feedback
 * (so no PLI/NACK for streams that never decode).
 */
export function mungePayloadTypes(sdp: string): string {
  const used = new Set([...sdp.matchAll(/^a=rtpmap:(\d+) /gm)].map((m) => Number(m[1])));
  let next = 126; // 127 stays free (mediasoup's probation payload type)
  const fresh = (): number => {
    while (used.has(next) && next > 96) next--;
    used.add(next);
    return next;
  };
  const sections = sdp.split(/\r\n(?=m=)/);
  return sections.map((section) => {
    if (!section.startsWith('m=video') && !section.startsWith('m=audio')) return section;
    const lines = section.split('\r\n');
    const mLine = lines[0]!.split(' ');
    const codecOf = new Map<string, string>();
    for (const l of lines) {
      const r = /^a=rtpmap:(\d+) ([^/]+)/.exec(l);
      if (r) codecOf.set(r[1]!, r[2]!.toLowerCase());
    }
    const map = new Map<string, string>();
    for (const pt of mLine.slice(3)) if (codecOf.get(pt) !== 'rtx') map.set(pt, String(fresh()));
    const rtxSsrcs = new Set<string>();
    for (const l of lines) {
      const g = /^a=ssrc-group:FID \d+ (\d+)/.exec(l);
      if (g) rtxSsrcs.add(g[1]!);
    }
    const out = [[...mLine.slice(0, 3), ...map.values()].join(' ')];
    for (const l of lines.slice(1)) {
      const r = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)(.*)$/.exec(l);
      if (r) {
        const pt = map.get(r[2]!);
        if (pt === undefined) continue;
        if (r[1] === 'rtcp-fb' && !/transport-cc|goog-remb/.test(r[3]!)) continue;
        out.push(`a=${r[1]}:${pt}${r[3]}`);
        continue;
      }
      if (l.startsWith('a=ssrc-group:FID')) continue;
      const s = /^a=ssrc:(\d+) /.exec(l);
      if (s && rtxSsrcs.has(s[1]!)) continue;
      out.push(l);
    }
    return out.join('\r\n');
  }).join('\r\n');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

async function generatorMain(): Promise<void> {
  const send = (m: FromGen) => process.send!(m);
  const mode = process.env['BENCH_MEDIA_MODE'] as ViewerMode;
  const secret = process.env['BENCH_MEDIA_SECRET']!;
  const concurrency = Number(process.env['BENCH_MEDIA_JOIN_CONCURRENCY'] ?? '8');
  // Installs @roamhq/wrtc as the browser globals, then the SDK viewer on top.
  const { watch } = await import('../tests/helpers/webrtc.ts');
  if (mode === 'receive-only') {
    const proto = (globalThis as unknown as { RTCPeerConnection: { prototype: RTCPeerConnection } }).RTCPeerConnection.prototype;
    const original = proto.setRemoteDescription as (this: RTCPeerConnection, description: RTCSessionDescriptionInit) => Promise<void>;
    proto.setRemoteDescription = function (this: RTCPeerConnection, description: RTCSessionDescriptionInit) {
      const munged = description?.sdp === undefined ? description : { type: description.type, sdp: mungePayloadTypes(description.sdp) };
      return original.call(this, munged);
    } as typeof proto.setRemoteDescription;
  }
  type Sub = Awaited<ReturnType<typeof watch>>;
  const subs = new Map<number, Sub>();

  const join = async (id: number, url: string, room: string): Promise<void> => {
    const token = await signToken(secret, `bench-media-${id}`, `Subscriber ${id}`, 'viewer');
    const sub = await withTimeout(watch(url, token, room), 30_000, 'join');
    subs.set(id, sub);
    const deadline = Date.now() + 20_000;
    while (sub.viewer.state !== 'live' || sub.viewer.tracks.length < 2) {
      if (Date.now() > deadline) throw new Error(`state ${sub.viewer.state}, ${sub.viewer.tracks.length} tracks after 20 s`);
      await sleep(50);
    }
  };

  const sample = async (): Promise<GenSample> => {
    const s: GenSample = { t: 'sample', at: 0, subscribers: subs.size, live: 0, states: {}, video: { packets: 0, lost: 0, bytes: 0, decoded: 0, dropped: 0, received: 0 }, audio: { packets: 0, lost: 0 }, transportPackets: 0, transportBytes: 0, probatorPackets: 0, frames: {} };
    await Promise.all([...subs].map(async ([id, { viewer }]) => {
      s.states[viewer.state] = (s.states[viewer.state] ?? 0) + 1;
      if (viewer.state === 'live') s.live++;
      const report = await viewer.stats().catch(() => undefined);
      let frames = 0;
      report?.forEach((r: { type: string; kind?: string; ssrc?: number; packetsReceived?: number; packetsLost?: number; bytesReceived?: number; framesDecoded?: number; framesDropped?: number; framesReceived?: number }) => {
        if (r.type === 'transport') {
          s.transportPackets += r.packetsReceived ?? 0;
          s.transportBytes += r.bytesReceived ?? 0;
        }
        if (r.type === 'inbound-rtp' && r.ssrc === PROBATOR_SSRC) s.probatorPackets += r.packetsReceived ?? 0;
        if (r.type !== 'inbound-rtp' || r.ssrc === PROBATOR_SSRC) return;
        if (r.kind === 'video') {
          s.video.packets += r.packetsReceived ?? 0;
          s.video.lost += Math.max(0, r.packetsLost ?? 0);
          s.video.bytes += r.bytesReceived ?? 0;
          s.video.decoded += r.framesDecoded ?? 0;
          s.video.dropped += r.framesDropped ?? 0;
          s.video.received += r.framesReceived ?? 0;
          frames += r.framesDecoded ?? 0;
        } else if (r.kind === 'audio') {
          s.audio.packets += r.packetsReceived ?? 0;
          s.audio.lost += Math.max(0, r.packetsLost ?? 0);
        }
      });
      s.frames[id] = frames;
    }));
    s.at = Date.now();
    return s;
  };

  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToGen) => {
    void (async () => {
      if (m.t === 'add') {
        const queue = [...m.ids];
        let ok = 0;
        const errors: string[] = [];
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
            try {
              await join(id, m.url, m.room);
              ok++;
            } catch (error) {
              errors.push(`subscriber ${id}: ${(error as Error).message}`);
            }
          }
        }));
        send({ t: 'added', ok, failed: errors.length, errors: errors.slice(0, 5) });
      } else if (m.t === 'sample') {
        send(await sample());
      } else {
        for (const { client, viewer } of subs.values()) {
          viewer.dispose();
          client.close();
        }
        send({ t: 'stopped' });
        setTimeout(() => process.exit(0), 200);
      }
    })().catch((error: unknown) => process.send!({ t: 'error', message: (error as Error).stack ?? String(error) }));
  });
  send({ t: 'ready' });
}

/** A generator process on `core`, ready to take subscribers. */
export async function startViewerGenerator(core: string, mode: ViewerMode, secret: string, joinConcurrency: number): Promise<IpcChild<ToGen, FromGen>> {
  const generator = IpcChild.spawn<ToGen, FromGen>(core, fileURLToPath(import.meta.url), [], {
    BENCH_MEDIA_MODE: mode, BENCH_MEDIA_SECRET: secret, BENCH_MEDIA_JOIN_CONCURRENCY: String(joinConcurrency),
  });
  await generator.next('ready', 60_000);
  return generator;
}

if (process.send !== undefined && process.env['BENCH_MEDIA_MODE'] !== undefined) await generatorMain();
