/**
 * The SDK's side of a draining node, over scripted sockets with fake timers: several endpoints,
 * each client's own order of them, the prompt reconnect after 4006 MOVED (to the next endpoint,
 * resuming), and the backoff again once every endpoint answered MOVED.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseCode, connect, type ConnectOptions, type LivecartClient, type ReconnectingEvent } from '../../client/src/index.ts';
import { ScriptedSocket, welcomeFor } from './support/scriptedSocket.ts';

const clients: LivecartClient[] = [];
const URLS = ['ws://node-a/ws', 'ws://node-b/ws', 'ws://node-c/ws'] as const;
/** A backoff far longer than any wait in these tests: a reconnect that comes at all came without it. */
const LONG_BACKOFF = { baseMs: 60_000, maxMs: 60_000 };

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  ScriptedSocket.all.length = 0;
  vi.useRealTimers();
});

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Opens the newest socket and answers its hello with a welcome at `seq`. */
async function welcomeLatest(seq: number, resumed = false): Promise<ScriptedSocket> {
  const socket = ScriptedSocket.all.at(-1)!;
  socket.open();
  socket.receive(welcomeFor(socket.last('hello'), { seq, resumed }));
  await advance(0);
  return socket;
}

function start(options: Partial<ConnectOptions> = {}) {
  const client = connect({ url: [...URLS], shuffleEndpoints: false, token: 't', room: 'r1', WebSocket: ScriptedSocket, reconnect: LONG_BACKOFF, requestTimeoutMs: 5000, ...options });
  clients.push(client);
  const reconnecting: ReconnectingEvent[] = [];
  client.on('reconnecting', (r) => reconnecting.push(r));
  return { client, reconnecting };
}

describe('several endpoints and MOVED', () => {
  it('starts on the first endpoint; after MOVED it reconnects to the next one within the jitter, not the backoff, and resumes', async () => {
    const { client, reconnecting } = start({ moveJitterMs: 100 });
    await advance(0);
    expect(ScriptedSocket.all.map((s) => s.url)).toEqual([URLS[0]]);
    const first = await welcomeLatest(7);
    await client.ready;
    first.receive({ t: 'comment', seq: 8, userId: 'u2', name: 'Bob', text: 'hi', ts: 1 });

    first.drop(CloseCode.MOVED, 'node draining');
    expect(reconnecting).toEqual([{ attempt: 1, delayMs: expect.any(Number), code: CloseCode.MOVED, reason: 'node draining', url: URLS[1] }]);
    expect(reconnecting[0]!.delayMs).toBeLessThan(100);
    await advance(100);
    expect(ScriptedSocket.all.map((s) => s.url)).toEqual([URLS[0], URLS[1]]);
    expect(client.url).toBe(URLS[1]);
    const second = ScriptedSocket.all[1]!;
    second.open();
    expect(second.last('hello').resume).toEqual({ seq: 8, epoch: 'e1' });
    await welcomeLatest(8, true);
    expect(client.connected).toBe(true);
  });

  it('a single URL (behind a load balancer) reconnects to it promptly after MOVED', async () => {
    const { client } = start({ url: 'ws://lb/ws' });
    await advance(0);
    await welcomeLatest(1);
    await client.ready;
    ScriptedSocket.all[0]!.drop(CloseCode.MOVED, 'node draining');
    await advance(250);
    expect(ScriptedSocket.all.map((s) => s.url)).toEqual(['ws://lb/ws', 'ws://lb/ws']);
  });

  it('goes round the endpoints promptly while they answer MOVED, then backs off; a welcome makes MOVED prompt again', async () => {
    const { client, reconnecting } = start({ moveJitterMs: 10, reconnect: { baseMs: 5000, maxMs: 5000 } });
    await advance(0);
    await welcomeLatest(1);
    await client.ready;
    // Every node drains: each refuses the socket with MOVED as soon as it opens.
    for (let i = 0; i < 3; i++) {
      ScriptedSocket.all.at(-1)!.drop(CloseCode.MOVED, 'node draining');
      await advance(10);
      expect(ScriptedSocket.all).toHaveLength(i + 2);
    }
    expect(ScriptedSocket.all.map((s) => s.url)).toEqual([URLS[0], URLS[1], URLS[2], URLS[0]]);
    ScriptedSocket.all.at(-1)!.drop(CloseCode.MOVED, 'node draining');
    expect(reconnecting.at(-1)).toMatchObject({ attempt: 1, code: CloseCode.MOVED, url: URLS[1] });
    await advance(10);
    expect(ScriptedSocket.all).toHaveLength(4); // now the backoff: up to 5 s
    await advance(5000);
    expect(ScriptedSocket.all).toHaveLength(5);
    await welcomeLatest(1, true);
    ScriptedSocket.all.at(-1)!.drop(CloseCode.MOVED, 'node draining');
    await advance(10);
    expect(ScriptedSocket.all).toHaveLength(6);
  });

  it('other reconnects go to the next endpoint too, after the backoff', async () => {
    const { client, reconnecting } = start({ reconnect: { baseMs: 1000, maxMs: 1000 } });
    await advance(0);
    await welcomeLatest(1);
    await client.ready;
    ScriptedSocket.all[0]!.drop(1006, '');
    expect(reconnecting).toEqual([expect.objectContaining({ code: 1006, url: URLS[1] })]);
    await advance(1000);
    expect(ScriptedSocket.all.map((s) => s.url)).toEqual([URLS[0], URLS[1]]);
  });

  it('resends a cart request whose socket moved away before the reply, with the same key, on the next endpoint', async () => {
    const { client } = start({ moveJitterMs: 10, retry: { baseMs: 10, maxMs: 10 } });
    await advance(0);
    await welcomeLatest(1);
    await client.ready;
    const answer = client.addToCart('mug');
    await advance(0);
    const sent = ScriptedSocket.all[0]!.last('addToCart');
    ScriptedSocket.all[0]!.drop(CloseCode.MOVED, 'node draining');
    await advance(10);
    const next = await welcomeLatest(1, true);
    await advance(20);
    const resent = next.last('addToCart');
    expect(resent.key).toBe(sent.key);
    next.receive({ t: 'ok', id: resent.id, result: { status: 'reserved', sku: 'mug', quantity: 1, granted: 1, expiresAt: 9e12, available: 4 } });
    await expect(answer).resolves.toMatchObject({ status: 'reserved' });
  });

  it('by default each client goes round the endpoints in an order of its own: clients spread over the nodes, and a lost node\'s clients over the others', async () => {
    const urls = ['ws://n1/ws', 'ws://n2/ws', 'ws://n3/ws', 'ws://n4/ws'];
    const count = (sockets: readonly ScriptedSocket[]) => urls.map((url) => sockets.filter((s) => s.url === url).length);
    for (let i = 0; i < 800; i++) clients.push(connect({ url: urls, token: 't', room: 'r1', WebSocket: ScriptedSocket, reconnect: { baseMs: 10, maxMs: 10 } }));
    await advance(0);
    const first = [...ScriptedSocket.all];
    // 800 over 4: 200 each expected, and far outside 130–270 only by a broken shuffle.
    for (const n of count(first)) {
      expect(n).toBeGreaterThan(130);
      expect(n).toBeLessThan(270);
    }
    // Node 1 falls over: its clients go to the three others, about a third each.
    const lost = first.filter((s) => s.url === urls[0]);
    for (const socket of lost) socket.drop(1006, '');
    await advance(10);
    const moved = count(ScriptedSocket.all.slice(first.length));
    expect(moved[0]).toBe(0);
    expect(moved.reduce((a, b) => a + b, 0)).toBe(lost.length);
    for (const n of moved.slice(1)) {
      expect(n).toBeGreaterThan(lost.length / 3 - 30);
      expect(n).toBeLessThan(lost.length / 3 + 30);
    }
  });

  it('refuses an empty list of endpoints and a negative jitter', () => {
    expect(() => connect({ url: [], token: 't', room: 'r1', WebSocket: ScriptedSocket })).toThrow(TypeError);
    expect(() => connect({ url: 'ws://a/ws', token: 't', room: 'r1', WebSocket: ScriptedSocket, moveJitterMs: -1 })).toThrow(RangeError);
  });
});
