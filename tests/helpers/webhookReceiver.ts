import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { WebhookEvent } from '../../protocol/src/index.ts';
import { waitUntil } from './rawClient.ts';

/** One POST as the receiver saw it. */
export interface ReceivedRequest {
  readonly deliveryId: string;
  readonly eventHeader: string;
  readonly verified: boolean;
  /** What the receiver answered. */
  readonly status: number;
  readonly event: WebhookEvent | undefined;
}

/**
 * A shop backend's webhook endpoint, as the README tells one to write it: a real HTTP server that
 * verifies each POST's `Livecart-Signature` (HMAC-SHA256 of "t.body" with the shared secret, `t`
 * within five minutes) with its own code, not the server's, refuses what fails (400), answers 500 to
 * the first `failFirst` attempts of each delivery (to make the sender retry), and handles each
 * delivery id once (a repeat is answered 200 and not handled again).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** The events handled, once per delivery id, in order. */
  readonly handled: WebhookEvent[] = [];
  #server: Server;
  #port = 0;

  private constructor(readonly secret: string, readonly failFirst: number) {
    this.#server = this.#create();
  }

  static async start(secret: string, options: { failFirst?: number; port?: number } = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret, options.failFirst ?? 0);
    await receiver.listen(options.port ?? 0);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks/livecart`;
  }

  get port(): number {
    return this.#port;
  }

  /** Listens (again, after `stop`) on `port` (0: a free one). */
  async listen(port: number): Promise<void> {
    if (this.#server.listening) return;
    this.#server = this.#create();
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as { port: number }).port;
  }

  /** Down: closes the port and every open connection. */
  async stop(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  /** Waits until `count` events were handled; answers them. */
  async waitForHandled(count: number, timeoutMs = 10_000): Promise<WebhookEvent[]> {
    await waitUntil(() => this.handled.length >= count, timeoutMs, `${count} webhook events handled (got ${this.handled.length})`);
    return this.handled.slice(0, count);
  }

  attemptsOf(deliveryId: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.deliveryId === deliveryId);
  }

  #create(): Server {
    return createServer((req, res) => {
      void readBody(req).then((raw) => {
        const deliveryId = header(req, 'livecart-delivery');
        const verified = verifySignature(this.secret, header(req, 'livecart-signature'), raw);
        let event: WebhookEvent | undefined;
        let status: number;
        if (!verified) {
          status = 400;
        } else {
          event = JSON.parse(raw) as WebhookEvent;
          const earlier = this.requests.filter((r) => r.deliveryId === deliveryId && r.verified).length;
          if (earlier < this.failFirst) status = 500;
          else {
            status = 200;
            if (!this.handled.some((e) => e.id === event!.id)) this.handled.push(event);
          }
        }
        this.requests.push({ deliveryId, eventHeader: header(req, 'livecart-event'), verified, status, event });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      });
    });
  }
}

/**
 * The README's check: `t` and every `v1` of the header, the HMAC of "t.rawBody", compared in
 * constant time, and `t` at most `toleranceSec` old (a replayed old request fails).
 */
export function verifySignature(secret: string, headerValue: string, rawBody: string, toleranceSec = 300): boolean {
  const pairs = headerValue.split(',').map((part) => part.split('=', 2) as [string, string]);
  const t = Number(pairs.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSec) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return pairs.filter(([k]) => k === 'v1').some(([, hex]) => {
    const given = Buffer.from(hex ?? '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value ?? '';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
