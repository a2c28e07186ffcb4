/**
 * npm run bench:media -- --layers — what a viewer receives as the room's degrade level caps its
 * simulcast layer.
 *
 * The server's part (level 1 caps a viewer's consumer at the middle spatial layer, 2 and 3 at the
 * lowest) is asserted by tests/media/webrtc.test.ts every time. What the viewer then decodes also
 * depends on the sender: libwebrtc sends its upper simulcast layers only while its encoder has CPU
 * to spare, so the received width is measured here, on the bench's quiet cores, not in the suite.
 *
 * One livecart node with one media worker on the server core; a streamer (Node + @roamhq/wrtc
 * behind the SDK's StreamPublisher, a 960×540 synthetic camera: three layers of 240, 480 and 960
 * pixels wide) and one viewer (the SDK's StreamViewer) in this process on the load core. An
 * operator sets the room to level 0, 2, 1 and back to automatic (0); each phase samples every
 * 250 ms, for `--layer-seconds`, the width the viewer decodes and the layers the streamer sends.
 * Prints one row per phase: the cap, the widths the viewer decoded (first, last, most), how long
 * the width took to reach the cap (or leave it), and the upper layers the streamer sent.
 */
import { markdownTable } from './stats.ts';
import { type RunningServer, setupLivecartRoom, signToken, startServer, streamerToken } from './servers.ts';
import { ROOM_ID } from './scenario.ts';

export interface LayerOptions {
  port: number;
  serverCore: string;
  secret: string;
  /** How long each level is held and sampled. */
  phaseSeconds: number;
}

interface Phase {
  level: number | null;
  /** Widest layer the level allows (the lowest layer is 240 wide from a 960-wide camera). */
  capWidth: number;
}

interface PhaseResult {
  phase: Phase;
  widths: number[];
  /** Seconds until the decoded width first respected the cap (≤ capWidth), or, back at level 0, first exceeded the lowest layer. */
  settledAfter: number | undefined;
  /** Most simulcast layers the streamer was sending at once during the phase. */
  layersSent: number;
}

const LOWEST_WIDTH = 240;
const PHASES: Phase[] = [
  { level: 0, capWidth: 960 },
  { level: 2, capWidth: LOWEST_WIDTH },
  { level: 1, capWidth: 480 },
  { level: null, capWidth: 960 },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Stat = { type: string; kind?: string; ssrc?: number; frameWidth?: number; bytesSent?: number };

export async function runLayers(o: LayerOptions, log: (line: string) => void): Promise<string> {
  // Installs @roamhq/wrtc as the browser globals before the SDK's media code loads.
  const { NODE_HANDLER, syntheticCamera, watch } = await import('../tests/helpers/webrtc.ts');
  const { connect } = await import('../client/src/index.ts');
  const { StreamPublisher } = await import('../client/src/media.ts');
  const host = '127.0.0.1';
  const server: RunningServer = await startServer({
    kind: 'livecart', port: o.port, host, core: o.serverCore, secret: o.secret, rawMaxBackpressure: 0,
    extraArgs: ['--media-workers', '1', '--media-initial-outgoing-bitrate', '3000000'],
  });
  const camera = syntheticCamera(960, 540);
  try {
    const streamer = await streamerToken(o.secret);
    await setupLivecartRoom(host, o.port, streamer, log);
    const wsUrl = `ws://${host}:${o.port}/ws`;
    const publisherClient = connect({ url: wsUrl, token: streamer, room: ROOM_ID });
    await publisherClient.ready;
    const publisher = new StreamPublisher(publisherClient, { handlerName: NODE_HANDLER });
    await publisher.publish({ video: camera.track });
    const { client, viewer } = await watch(wsUrl, await signToken(o.secret, 'layers-viewer', 'Viewer', 'viewer'), ROOM_ID);
    const operator = await signToken(o.secret, 'layers-operator', 'Operator', 'operator');

    const decodedWidth = async (): Promise<number> => {
      let width = 0;
      (await viewer.stats())?.forEach((s: Stat) => { if (s.type === 'inbound-rtp' && s.kind === 'video') width = s.frameWidth ?? 0; });
      return width;
    };
    /** Simulcast streams whose bytes grew since the last call (one outbound-rtp entry per layer). */
    const bytesBySsrc = new Map<number, number>();
    const layersSent = async (): Promise<number> => {
      let layers = 0;
      (await publisher.stats())?.forEach((s: Stat) => {
        if (s.type !== 'outbound-rtp' || s.kind !== 'video' || s.ssrc === undefined) return;
        if ((s.bytesSent ?? 0) > (bytesBySsrc.get(s.ssrc) ?? 0)) layers++;
        bytesBySsrc.set(s.ssrc, s.bytesSent ?? 0);
      });
      return layers;
    };
    const setLevel = async (level: number | null): Promise<void> => {
      const res = await fetch(`http://${host}:${o.port}/api/ops/rooms/${ROOM_ID}/degrade`, {
        method: 'PUT', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ level }),
      });
      if (res.status !== 200) throw new Error(`PUT degrade ${level}: ${res.status} ${await res.text()}`);
    };

    const results: PhaseResult[] = [];
    for (const phase of PHASES) {
      await setLevel(phase.level);
      const start = performance.now();
      const result: PhaseResult = { phase, widths: [], settledAfter: undefined, layersSent: 0 };
      const backUp = phase.capWidth > LOWEST_WIDTH && results.length > 0;
      while (performance.now() - start < o.phaseSeconds * 1000) {
        const width = await decodedWidth();
        result.widths.push(width);
        result.layersSent = Math.max(result.layersSent, await layersSent());
        const settled = backUp ? width > LOWEST_WIDTH : width > 0 && width <= phase.capWidth;
        if (settled && result.settledAfter === undefined) result.settledAfter = (performance.now() - start) / 1000;
        await sleep(250);
      }
      results.push(result);
      log(`level ${phase.level ?? 'auto'}: widths ${result.widths.join(' ')}`);
    }
    viewer.dispose();
    client.close();
    publisherClient.close();
    const mode = (values: number[]) => {
      const counts = new Map<number, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
    };
    const table = markdownTable(
      ['level', 'cap (width)', 'decoded width first / last / most', 'reached after s', 'layers the streamer sent (most)'],
      results.map((r) => [
        r.phase.level === null ? 'auto (0)' : String(r.phase.level),
        String(r.phase.capWidth),
        `${r.widths[0] ?? 0} / ${r.widths.at(-1) ?? 0} / ${mode(r.widths)}`,
        r.settledAfter === undefined ? 'never' : r.settledAfter.toFixed(1),
        `${r.layersSent} of 3`,
      ]),
    );
    const upper = results.every((r) => r.layersSent >= 2);
    const note = upper
      ? 'The streamer sent its upper layers throughout: the widths show the cap as a viewer sees it.'
      : 'The streamer did not send its upper layers in every phase (its encoder was short of CPU): a width under the cap there says nothing about the cap.';
    return `${table}\n\n${note}`;
  } finally {
    camera.stop();
    await server.stop();
  }
}
