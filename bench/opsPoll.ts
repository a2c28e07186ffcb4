/**
 * `--ops-poll`: reads livecart's operator API (`GET /api/ops/rooms`) every `intervalMs` while a run
 * measures, and sums up the signals the server judged the room's degrade level by: its fan-out lag
 * (`viewerLagMs`, how far behind its own writes to the room's sockets run) and the event-loop delay
 * as it lasted. Each poll costs the server one pass over the room's members.
 */
import { percentileSorted } from './stats.ts';

export interface OpsSample {
  /** ms since the poll started. */
  at: number;
  level: number;
  viewerLagMs: number;
  eventLoopDelayMs: number;
  backloggedShare: number;
}

export interface OpsSummary {
  samples: OpsSample[];
  viewerLagMs: { p50: number; p90: number; max: number };
  eventLoopDelayMsMax: number;
  backloggedShareMax: number;
}

export function startOpsPoll(baseUrl: string, token: string, roomId: string, intervalMs = 250): { stop(): OpsSummary } {
  const samples: OpsSample[] = [];
  const began = performance.now();
  let stopped = false;
  const poll = async (): Promise<void> => {
    while (!stopped) {
      const at = performance.now() - began;
      try {
        const res = await fetch(`${baseUrl}/api/ops/rooms`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { rooms?: Array<{ roomId: string; local: { level: number; signals: { viewerLagMs: number; eventLoopDelayMs: number; backloggedShare: number } } | null }> };
        const room = body.rooms?.find((r) => r.roomId === roomId)?.local; // the polled node's own view of the room
        if (room != null) samples.push({ at: Math.round(at), level: room.level, ...room.signals });
      } catch {
        // a busy server answers late or not at all: that sample is missing
      }
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - began - at))));
    }
  };
  void poll();
  return {
    stop(): OpsSummary {
      stopped = true;
      const lags = samples.map((s) => s.viewerLagMs).sort((a, b) => a - b);
      return {
        samples,
        viewerLagMs: { p50: percentileSorted(lags, 50), p90: percentileSorted(lags, 90), max: lags.at(-1) ?? Number.NaN },
        eventLoopDelayMsMax: Math.max(0, ...samples.map((s) => s.eventLoopDelayMs)),
        backloggedShareMax: Math.max(0, ...samples.map((s) => s.backloggedShare)),
      };
    },
  };
}
