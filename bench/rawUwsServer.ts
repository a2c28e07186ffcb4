/**
 * The baseline: the least a uWebSockets.js server can do for the same scenario. Every socket that
 * says `hello` is subscribed to one topic; each streamer `comment` (and `pin`) is encoded once into
 * a msgpack frame of the same shape and size as livecart's sequenced event and `app.publish`ed.
 * An add-to-cart (a WebSocket `addToCart`, or `POST /api/rooms/:id/cart/items` with a JSON body)
 * takes a unit from one in-memory counter per sku (`--cart-stock` each) and answers in livecart's
 * shape. No auth checks, no history, no rate limits, no lanes, no idempotency: its throughput is
 * the ceiling livecart is measured against.
 *
 *   node --import tsx bench/rawUwsServer.ts --port 9500 [--host 127.0.0.1] [--max-backpressure BYTES] [--cart-stock N]
 */
import uWS from '@trufflesuite/uws-js-unofficial';
import { parseArgs } from 'node:util';
import { decode, encode, encodeSequenced } from '../protocol/src/codec.ts';
import type { ProductInput } from '../protocol/src/messages.ts';
import { PRODUCTS, ROOM_ID, ROOM_TITLE, STREAMER } from './scenario.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9500' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-backpressure': { type: 'string', default: String(4 * 1024 * 1024) },
    'cart-stock': { type: 'string', default: '1000000000' },
  },
});

const cartStock = Number(values['cart-stock']);
const stockLeft = new Map<string, number>();

/** One add-to-cart against the counters, answered as livecart answers it. */
function addToCart(sku: string, quantity: number): Record<string, unknown> {
  const left = stockLeft.get(sku) ?? cartStock;
  if (left <= 0) return { status: 'sold_out', sku };
  const granted = Math.min(left, quantity);
  stockLeft.set(sku, left - granted);
  return { status: 'reserved', sku, quantity: granted, granted, expiresAt: Date.now() + 600_000, available: left - granted };
}

const TOPIC = 'room';
const createdAt = Date.now();
const epoch = `raw-${createdAt.toString(36)}`;
let seq = 0;

interface User {
  userId: string;
  name: string;
  role: string;
  joined: boolean;
}

/** Reads the JWT claims without verifying (the baseline trusts everyone). */
function claimsOf(token: unknown): { userId: string; name: string; role: string } {
  try {
    const payload = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return { userId: String(payload['sub'] ?? 'anon'), name: String(payload['name'] ?? 'anon'), role: String(payload['role'] ?? 'viewer') };
  } catch {
    return { userId: 'anon', name: 'anon', role: 'viewer' };
  }
}

const products = new Map<string, ProductInput>(PRODUCTS.map((p) => [p.sku, p]));

const app = uWS.App();
app.ws<User>('/ws', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: Number(values['max-backpressure']),
  idleTimeout: 120,
  compression: uWS.DISABLED,
  upgrade: (res, req, context) => {
    res.upgrade<User>(
      { userId: '', name: '', role: 'viewer', joined: false },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  message: (ws, message) => {
    let msg: Record<string, unknown>;
    try {
      msg = decode(new Uint8Array(message)) as Record<string, unknown>;
    } catch {
      ws.end(4500, 'PROTOCOL_ERROR');
      return;
    }
    const user = ws.getUserData();
    const id = msg['id'] as number;
    switch (msg['t']) {
      case 'hello': {
        Object.assign(user, claimsOf(msg['token']), { joined: true });
        ws.subscribe(TOPIC);
        ws.send(
          encode({
            t: 'welcome', id, v: 1,
            room: { id: ROOM_ID, title: ROOM_TITLE, streamerId: STREAMER.userId, state: 'live', createdAt },
            you: { userId: user.userId, name: user.name, role: user.role },
            seq, epoch, resumed: false, historyLost: false, comments: [], popup: null,
            products: [...products.values()], likes: 0, viewers: app.numSubscribers(TOPIC), muted: [],
          }),
          true,
        );
        return;
      }
      case 'comment': {
        const s = ++seq;
        const frame = encodeSequenced({ t: 'comment', userId: user.userId, name: user.name, text: String(msg['text']), ts: Date.now() }, s);
        app.publish(TOPIC, frame, true);
        ws.send(encode({ t: 'ok', id, result: { seq: s } }), true);
        return;
      }
      case 'pin': {
        const product = products.get(String(msg['sku']));
        if (!product) {
          ws.send(encode({ t: 'err', id, code: 1011, message: 'no such product', temporary: false }), true);
          return;
        }
        const s = ++seq;
        app.publish(TOPIC, encodeSequenced({ t: 'popup', popup: { product, pinnedAt: Date.now() } }, s), true);
        ws.send(encode({ t: 'ok', id, result: { seq: s } }), true);
        return;
      }
      case 'ack':
      case 'like':
        return; // notices: no reply
      case 'ping':
        ws.send(encode({ t: 'ok', id, result: { now: Date.now() } }), true);
        return;
      case 'addToCart':
        ws.send(encode({ t: 'ok', id, result: addToCart(String(msg['sku']), Number(msg['quantity'])) }), true);
        return;
      default:
        ws.send(encode({ t: 'err', id, code: 1001, message: 'unknown type', temporary: false }), true);
    }
  },
});
app.get('/healthz', (res) => {
  res.writeHeader('content-type', 'application/json').end('{"ok":true}');
});
app.post('/api/rooms/:id/cart/items', (res) => {
  let aborted = false;
  res.onAborted(() => (aborted = true));
  const chunks: Buffer[] = [];
  res.onData((chunk, last) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!last || aborted) return;
    let answer: Record<string, unknown>;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sku: string; quantity: number };
      answer = addToCart(String(body.sku), Number(body.quantity));
    } catch {
      res.cork(() => res.writeStatus('400 Bad Request').end());
      return;
    }
    res.cork(() => res.writeHeader('content-type', 'application/json').end(JSON.stringify(answer)));
  });
});
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').end();
});

app.listen(values.host!, Number(values.port), (listenSocket) => {
  if (!listenSocket) {
    console.error(`rawUwsServer: cannot listen on ${values.host}:${values.port}`);
    process.exit(1);
  }
  console.error(`rawUwsServer: listening on ${values.host}:${values.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
