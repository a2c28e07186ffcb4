/**
 * What the fan-out bench sends: the room, the catalog, the streamer's identity and the comment text
 * format that carries the sender's timestamp. Shared by the orchestrator, the streamer, the load
 * generators and the raw uWS baseline so both servers see byte-identical requests.
 */
import type { ProductInput } from '../protocol/src/messages.ts';

export const ROOM_ID = 'bench';
export const ROOM_TITLE = 'bench';
export const STREAMER = { userId: 'bench-streamer', name: 'Bench Streamer' } as const;

export const PRODUCTS: readonly ProductInput[] = [
  { sku: 'BENCH-1', title: 'Bench product one', priceCents: 1999, currency: 'USD', imageUrl: 'https://example.com/p/1.jpg', stock: 1_000_000 },
  { sku: 'BENCH-2', title: 'Bench product two', priceCents: 2999, currency: 'USD', imageUrl: 'https://example.com/p/2.jpg', stock: 1_000_000 },
];

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const TEXT_LENGTH = 100;
const PAD = 'x'.repeat(TEXT_LENGTH);

/** `lc:<sent ms>:<n>:xxxx…`, exactly 100 ASCII characters. */
export function commentText(sentMs: number, n: number): string {
  const head = `lc:${sentMs.toFixed(3)}:${n}:`;
  return head + PAD.slice(head.length);
}

/** The send timestamp embedded by `commentText`, or NaN for a foreign comment. */
export function sentMsOf(text: string): number {
  if (!text.startsWith('lc:')) return Number.NaN;
  const end = text.indexOf(':', 3);
  return end < 0 ? Number.NaN : Number(text.slice(3, end));
}

/** Viewer `i`'s identity (`sub`, `name`). */
export function viewerIdentity(i: number): { userId: string; name: string } {
  return { userId: `bench-viewer-${i}`, name: `Viewer ${i}` };
}
