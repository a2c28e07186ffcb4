import { z } from 'zod';
import { productInputSchema, roomIdSchema } from '../../../protocol/src/index.ts';
import type { Principal, TokenService } from '../auth/TokenService.ts';
import type { Config } from '../config.ts';
import { httpStatusOf, ProtocolError, toErrFrame } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CommerceService } from '../commerce/CommerceService.ts';
import type { RoomService } from '../rooms/RoomService.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.ts';

interface Reply {
  status: number;
  body: unknown;
}

/** What a handler may use. uWS's request object dies at the first await, so everything is read up front. */
interface RequestContext {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly authorization: string;
  /** `Idempotency-Key` header, or empty. */
  readonly idempotencyKey: string;
  /** Parsed JSON body (resolves to undefined for an empty body). */
  body(): Promise<unknown>;
}

type Handler = (ctx: RequestContext) => Promise<Reply>;

const statusText: Record<number, string> = {
  200: '200 OK', 201: '201 Created', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found',
  409: '409 Conflict', 413: '413 Payload Too Large', 429: '429 Too Many Requests', 500: '500 Internal Server Error', 503: '503 Service Unavailable',
};

const createRoomSchema = z.object({ title: z.string().min(1).max(200), id: roomIdSchema.optional() });
const idempotencyKeySchema = z.string().min(1, 'an Idempotency-Key header (or "key" in the body) is required').max(64);
const addItemSchema = z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().min(1).max(10_000), key: idempotencyKeySchema.optional() });
const setItemSchema = z.object({ quantity: z.number().int().min(0).max(10_000), key: idempotencyKeySchema.optional() });
const keyOnlySchema = z.object({ key: idempotencyKeySchema.optional() }).optional();
const stockSchema = z.object({ available: z.number().int().min(0).max(1_000_000_000) });

/** JSON HTTP API on the same uWS app and port as the WebSocket. */
export class HttpApi {
  readonly #tokens: TokenService;
  readonly #rooms: RoomService;
  readonly #config: Config;
  readonly #log: Logger;

  constructor(app: TemplatedApp, deps: { config: Config; tokens: TokenService; rooms: RoomService; commerce: CommerceService; log: Logger }) {
    this.#tokens = deps.tokens;
    this.#rooms = deps.rooms;
    this.#config = deps.config;
    this.#log = deps.log;
    const { rooms, commerce } = deps;

    this.#route(app, 'get', '/healthz', async () => ({ status: 200, body: { ok: true } }));
    if (this.#tokens.devMode) {
      // Dev mode only: lets anyone open the pages without setup. Never exists with a configured secret.
      this.#route(app, 'get', '/api/dev/token', async (ctx) => {
        const name = (ctx.query.get('name') ?? '').trim().slice(0, 40) || `viewer-${Math.floor(Math.random() * 1e6)}`;
        const userId = `v-${crypto.randomUUID().slice(0, 8)}`;
        const token = await this.#tokens.mint({ userId, name, role: 'viewer' });
        return { status: 200, body: { token, userId, name, role: 'viewer' } };
      });
    }
    this.#route(app, 'get', '/api/rooms', async () => ({ status: 200, body: { rooms: await rooms.listRooms() } }));
    this.#route(app, 'post', '/api/rooms', async (ctx) => {
      const principal = await this.#principal(ctx);
      const input = parse(createRoomSchema, await ctx.body());
      return { status: 201, body: { room: await rooms.createRoom(principal, input) } };
    });
    this.#route(app, 'get', '/api/rooms/:id', async (ctx) => ({ status: 200, body: await rooms.snapshot(ctx.params[0]!) }));
    this.#route(app, 'post', '/api/rooms/:id/start', async (ctx) => ({
      status: 200, body: { room: await rooms.setShowState(await this.#principal(ctx), ctx.params[0]!, 'live') },
    }));
    this.#route(app, 'post', '/api/rooms/:id/end', async (ctx) => ({
      status: 200, body: { room: await rooms.setShowState(await this.#principal(ctx), ctx.params[0]!, 'ended') },
    }));
    this.#route(app, 'post', '/api/rooms/:id/products', async (ctx) => {
      const principal = await this.#principal(ctx);
      const product = parse(productInputSchema, await ctx.body());
      return { status: 201, body: { product: await rooms.addProduct(principal, ctx.params[0]!, product) } };
    });

    // Carts: the same operations as over the WebSocket, for HTTP-only clients and load tools.
    this.#route(app, 'post', '/api/rooms/:id/cart/items', async (ctx) => {
      const principal = await this.#principal(ctx);
      const body = parse(addItemSchema, await ctx.body());
      return { status: 200, body: await commerce.addToCart(principal, ctx.params[0]!, body.sku, body.quantity, keyOf(ctx, body.key)) };
    });
    this.#route(app, 'put', '/api/rooms/:id/cart/items/:sku', async (ctx) => {
      const principal = await this.#principal(ctx);
      const body = parse(setItemSchema, await ctx.body());
      return { status: 200, body: await commerce.setQuantity(principal, ctx.params[0]!, ctx.params[1]!, body.quantity, keyOf(ctx, body.key)) };
    });
    this.#route(app, 'del', '/api/rooms/:id/cart/items/:sku', async (ctx) => {
      const principal = await this.#principal(ctx);
      return { status: 200, body: await commerce.removeFromCart(principal, ctx.params[0]!, ctx.params[1]!, keyOf(ctx, ctx.query.get('key') ?? undefined)) };
    });
    this.#route(app, 'get', '/api/rooms/:id/cart', async (ctx) => ({
      status: 200, body: { status: 'cart', cart: await commerce.cart(await this.#principal(ctx), ctx.params[0]!) },
    }));
    this.#route(app, 'post', '/api/rooms/:id/checkout', async (ctx) => {
      const principal = await this.#principal(ctx);
      const body = parse(keyOnlySchema, await ctx.body());
      return { status: 200, body: await commerce.checkout(principal, ctx.params[0]!, keyOf(ctx, body?.key)) };
    });
    this.#route(app, 'get', '/api/orders/:id', async (ctx) => ({
      status: 200, body: { order: await commerce.order(await this.#principal(ctx), ctx.params[0]!) },
    }));
    this.#route(app, 'get', '/api/rooms/:id/orders', async (ctx) => ({
      status: 200, body: { orders: await commerce.roomOrders(await this.#principal(ctx), ctx.params[0]!) },
    }));
    this.#route(app, 'get', '/api/rooms/:id/inventory', async (ctx) => {
      const principal = await this.#principal(ctx);
      const skus = (await rooms.snapshot(ctx.params[0]!)).products.map((p) => p.sku);
      return { status: 200, body: { inventory: await commerce.inventory(principal, ctx.params[0]!, skus) } };
    });
    this.#route(app, 'put', '/api/rooms/:id/products/:sku/stock', async (ctx) => {
      const principal = await this.#principal(ctx);
      const body = parse(stockSchema, await ctx.body());
      return { status: 200, body: { stock: await commerce.setAvailable(principal, ctx.params[0]!, ctx.params[1]!, body.available) } };
    });
    app.any('/*', (res) => {
      res.cork(() => writeJson(res, 404, { error: { code: 404, name: 'NOT_FOUND', message: 'no such route', temporary: false } }));
    });
  }

  async #principal(ctx: RequestContext): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.authorization);
    if (!match) throw new ProtocolError('UNAUTHORIZED', 'missing Authorization: Bearer <token>');
    return this.#tokens.verify(match[1]!);
  }

  #route(app: TemplatedApp, method: 'get' | 'post' | 'put' | 'del', pattern: string, handler: Handler): void {
    const paramCount = (pattern.match(/:/g) ?? []).length;
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const params = Array.from({ length: paramCount }, (_, i) => req.getParameter(i));
      const query = new URLSearchParams(req.getQuery() ?? '');
      const authorization = req.getHeader('authorization');
      const idempotencyKey = req.getHeader('idempotency-key');
      const bodyPromise = method === 'post' || method === 'put' ? readBody(res, this.#config.maxHttpBodyBytes) : Promise.resolve(Buffer.alloc(0));
      // Reading must start now (uWS streams the body right after this callback returns).
      bodyPromise.catch(() => undefined);
      const ctx: RequestContext = {
        params,
        query,
        authorization,
        idempotencyKey,
        body: async () => {
          const bytes = await bodyPromise;
          if (bytes.length === 0) return undefined;
          try {
            return JSON.parse(bytes.toString('utf8')) as unknown;
          } catch {
            throw new ProtocolError('BAD_REQUEST', 'body is not valid JSON');
          }
        },
      };
      handler(ctx).then(
        (reply) => {
          if (!aborted) res.cork(() => writeJson(res, reply.status, reply.body));
        },
        (error: unknown) => {
          if (error instanceof BodyTooLarge) {
            if (!aborted) res.cork(() => writeJson(res, 413, { error: { code: 413, name: 'PAYLOAD_TOO_LARGE', message: `body over ${this.#config.maxHttpBodyBytes} bytes`, temporary: false } }, true));
            return;
          }
          if (!(error instanceof ProtocolError)) this.#log.error({ err: error, route: pattern }, 'http request failed');
          const frame = toErrFrame(error, undefined);
          const name = error instanceof ProtocolError ? error.code : 'INTERNAL';
          const body = { error: { code: frame.code, name, message: frame.message, temporary: frame.temporary, ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }) } };
          if (!aborted) res.cork(() => writeJson(res, httpStatusOf(name), body));
        },
      );
    });
  }
}

class BodyTooLarge extends Error {}

/** Every mutating cart request needs an idempotency key: the header, or `key` in the body. */
function keyOf(ctx: RequestContext, fromBody: string | undefined): string {
  return parse(idempotencyKeySchema, ctx.idempotencyKey || fromBody || '');
}

function readBody(res: HttpResponse, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        reject(new BodyTooLarge());
        return;
      }
      // uWS neuters the chunk after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ProtocolError('BAD_REQUEST', issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid body');
  }
  return result.data;
}

function writeJson(res: HttpResponse, status: number, body: unknown, closeConnection = false): void {
  res
    .writeStatus(statusText[status] ?? `${status} Status`)
    .writeHeader('Content-Type', 'application/json')
    .writeHeader('Cache-Control', 'no-store')
    .end(JSON.stringify(body), closeConnection);
}
