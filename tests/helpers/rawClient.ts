import WebSocket from 'ws';
import { decode, encode, type ServerMessage } from '../../protocol/src/index.ts';

export interface Closed {
  code: number;
  reason: string;
}

/**
 * A deliberately thin WebSocket client for server tests: raw frames in and out, no SDK logic, so a
 * server bug cannot be hidden by client behaviour.
 */
export class RawClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  #nextId = 1;
  #waiters: Array<{ match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      const message = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as ServerMessage;
      this.messages.push(message);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Opens a socket and completes the handshake; resolves with the client and its welcome. */
  static async join(url: string, token: string, room: string, resume?: { seq: number; epoch: string }) {
    const client = await RawClient.open(url);
    const welcome = await client.hello(token, room, resume);
    if (welcome.t !== 'welcome') throw new Error(`join failed: ${JSON.stringify(welcome)}`);
    return { client, welcome };
  }

  nextId(): number {
    return this.#nextId++;
  }

  send(message: object): void {
    this.ws.send(encode(message));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  hello(token: string, room: string, resume?: { seq: number; epoch: string }) {
    const id = this.nextId();
    this.send({ t: 'hello', id, v: 1, token, room, ...(resume ? { resume } : {}) });
    return this.waitFor((m) => (m.t === 'welcome' || m.t === 'err') && m.id === id);
  }

  /** Sends a request and resolves with its `ok` or `err` reply. */
  request(message: { t: string } & Record<string, unknown>) {
    const id = this.nextId();
    this.send({ ...message, id });
    return this.waitFor((m) => (m.t === 'ok' || m.t === 'err') && m.id === id) as Promise<Extract<ServerMessage, { t: 'ok' | 'err' }>>;
  }

  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: ServerMessage) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting; last messages: ${JSON.stringify(this.messages.slice(-3))}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  of<T extends ServerMessage['t']>(type: T): Array<Extract<ServerMessage, { t: T }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { t: T }> => m.t === type);
  }

  close(): void {
    this.ws.close();
  }
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition', pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The `seq` in an `ok` reply; throws on an `err`, so a failed request fails the test loudly. */
export function seqOf(reply: ServerMessage): number {
  if (reply.t !== 'ok' || typeof reply.result?.seq !== 'number') throw new Error(`expected ok with seq, got ${JSON.stringify(reply)}`);
  return reply.result.seq;
}
