/**
 * An in-memory WebSocket the test plays the server on, for SDK tests without a server. Pass the
 * class as the `WebSocket` option; every socket the client opens lands in `ScriptedSocket.all`.
 */
import { decode, encode } from '../../../protocol/src/codec.ts';
import type { Welcome, WebSocketLike } from '../../../client/src/index.ts';

export type Frame = Record<string, unknown> & { t: string; id?: number; key?: string };

export class ScriptedSocket implements WebSocketLike {
  static readonly all: ScriptedSocket[] = [];
  binaryType = 'arraybuffer';
  readyState = 0;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  readonly sent: Frame[] = [];

  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
  }

  send(data: Uint8Array): void {
    this.sent.push(decode(data) as Frame);
  }

  close(): void {
    this.readyState = 3;
  }

  /** The connection opens; the client sends `hello`. */
  open(): void {
    this.readyState = 1;
    (this.onopen as ((event: unknown) => void) | null)?.({});
  }

  receive(frame: object): void {
    (this.onmessage as ((event: { data: unknown }) => void) | null)?.({ data: encode(frame) });
  }

  /** The server (or the network) closes the socket. */
  drop(code = 4000, reason = 'server restarting'): void {
    this.readyState = 3;
    (this.onclose as ((event: { code: number; reason: string }) => void) | null)?.({ code, reason });
  }

  of(t: string): Frame[] {
    return this.sent.filter((f) => f.t === t);
  }

  /** The last frame of type `t` sent; throws when there is none. */
  last(t: string): Frame {
    const frame = this.of(t).at(-1);
    if (!frame) throw new Error(`no ${t} frame was sent`);
    return frame;
  }
}

export const product = { sku: 'mug', title: 'Mug', priceCents: 1200, currency: 'USD', stock: 5 };

export function welcomeFor(hello: Frame, over: Partial<Welcome> = {}): Welcome {
  return {
    t: 'welcome', id: hello.id!, v: 1,
    room: { id: 'r1', title: 'Show', streamerId: 's1', state: 'live', createdAt: 1 },
    you: { userId: 'u1', name: 'Ann', role: 'viewer' },
    seq: 3, epoch: 'e1', resumed: false, historyLost: false,
    comments: [], popup: null, products: [product], likes: 0, viewers: 1, muted: [], stock: { mug: 5 }, degradeLevel: 0, moderators: [], pinnedComment: null, coupon: { card: null, version: 0 }, giveaway: null,
    ...over,
  };
}

/** Resolves when `check()` holds, polling with real timers; fails after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
