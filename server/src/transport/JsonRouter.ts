import type { z } from 'zod';
import type { Principal, TokenService } from '../auth/TokenService.ts';
import { httpStatusOf, ProtocolError, toErrFrame } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.ts';
import { FailureLog, toWireError } from './wireErrors.ts';

interface Reply {
  status: number;
  body: unknown;
  /** Set for a non-JSON answer: `body` is then a string sent as is with this Content-Type (e.g. /metrics). */
  contentType?: string;
  /** More response headers (e.g. WHIP's Location). */
  headers?: Readonly<Record<string, string>>;
}

/** What a handler may use. uWS's request object dies at the first await, so everything is read up front. */
export interface RequestContext {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly authorization: string;
  /** `Idempotency-Key` header, or empty. */
  readonly idempotencyKey: string;
  /** `Content-Type` header, or empty. */
  readonly contentType: string;
  /** `Host` header, or empty. */
  readonly host: string;
  /** Parsed JSON body (resolves to undefined for an empty body). */
  body(): Promise<unknown>;
  /** The body's bytes as received (for signed calls). */
  rawBody(): Promise<Buffer>;
  /** The body as UTF-8 text (for routes that take another format than JSON, e.g. SDP). */
  text(): Promise<string>;
}

/** Headers a route adds to every answer, errors included (e.g. CORS for browser clients of another origin). */
export interface RouteOptions {
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

const statusText: Record<number, string> = {
  200: '200 OK', 201: '201 Created', 204: '204 No Content', 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found', 405: '405 Method Not Allowed',
  409: '409 Conflict', 413: '413 Payload Too Large', 429: '429 Too Many Requests', 500: '500 Internal Server Error', 503: '503 Service Unavailable',
};

/**
 * JSON routes on the uWS app: reads the request up front, authenticates on demand, answers typed
 * errors with the matching status (and Retry-After for temporary ones), never writes after an abort.
 */
export class JsonRouter {
  readonly #failures = new FailureLog();
  /** Requests being handled now (read, not yet answered). */
  #inFlight = 0;
  readonly #idleWaiters: Array<() => void> = [];

  constructor(
    readonly app: TemplatedApp,
    readonly tokens: TokenService,
    readonly maxBodyBytes: number,
    readonly log: Logger,
  ) {}

  /** The caller's identity from `Authorization: Bearer <token>`; UNAUTHORIZED otherwise. */
  async principal(ctx: RequestContext): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.authorization);
    if (!match) throw new ProtocolError('UNAUTHORIZED', 'missing Authorization: Bearer <token>');
    return this.tokens.verify(match[1]!);
  }

  /** Resolves once no request is being handled, or at `deadline` (epoch ms), whichever comes first. */
  whenIdle(deadline: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** An operator token; FORBIDDEN for any other role. */
  async operator(ctx: RequestContext): Promise<Principal> {
    const principal = await this.principal(ctx);
    if (principal.role !== 'operator') throw new ProtocolError('FORBIDDEN', 'operators only');
    return principal;
  }

  route(method: 'get' | 'post' | 'put' | 'patch' | 'del' | 'options', pattern: string, handler: Handler, options: RouteOptions = {}): void {
    const routeHeaders = options.headers ?? {};
    const paramCount = (pattern.match(/:/g) ?? []).length;
    this.app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
      const rawQuery = req.getQuery() ?? '';
      let query: URLSearchParams | undefined;
      const authorization = req.getHeader('authorization');
      const idempotencyKey = req.getHeader('idempotency-key');
      const contentType = req.getHeader('content-type');
      const host = req.getHeader('host');
      // Reading must start now (uWS streams the body right after this callback returns).
      const bodyPromise = method === 'post' || method === 'put' || method === 'patch' ? readBody(res, this.maxBodyBytes) : Promise.resolve(Buffer.alloc(0));
      bodyPromise.catch(() => undefined);
      const ctx: RequestContext = {
        params,
        get query() {
          return (query ??= new URLSearchParams(rawQuery));
        },
        authorization,
        idempotencyKey,
        rawBody: () => bodyPromise,
        contentType,
        host,
        text: async () => (await bodyPromise).toString('utf8'),
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
      this.#inFlight++;
      handler(ctx).then(
        (reply) => {
          if (aborted) return;
          const headers = reply.headers === undefined ? routeHeaders : { ...routeHeaders, ...reply.headers };
          res.cork(() => (reply.contentType === undefined ? writeJson(res, reply.status, reply.body, false, undefined, headers) : writeText(res, reply.status, reply.contentType, String(reply.body), headers)));
        },
        (error: unknown) => {
          if (aborted) return;
          if (error instanceof BodyTooLarge) {
            res.cork(() => writeJson(res, 413, { error: { code: 413, name: 'PAYLOAD_TOO_LARGE', message: `body over ${this.maxBodyBytes} bytes`, temporary: false } }, true, undefined, routeHeaders));
            return;
          }
          this.#failures.failed(this.log, error, { route: pattern });
          const wire = toWireError(error);
          const frame = toErrFrame(wire, undefined);
          const name = wire.code;
          const body = { error: { code: frame.code, name, message: frame.message, temporary: frame.temporary, ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }) } };
          res.cork(() => writeJson(res, httpStatusOf(name), body, false, frame.retryAfterMs, routeHeaders));
        },
      ).finally(() => this.#settled());
    });
  }

  #settled(): void {
    if (--this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Everything not routed: a JSON 404. Register last. */
  notFound(): void {
    this.app.any('/*', (res) => {
      res.cork(() => writeJson(res, 404, { error: { code: 404, name: 'NOT_FOUND', message: 'no such route', temporary: false } }));
    });
  }
}

class BodyTooLarge extends Error {}

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
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        done = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      }
    });
  });
}

/** Validates a body or query value; the first issue becomes a BAD_REQUEST naming the field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ProtocolError('BAD_REQUEST', issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid body');
  }
  return result.data;
}

function writeText(res: HttpResponse, status: number, contentType: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeStatus(statusText[status] ?? `${status} Status`).writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
  res.end(body);
}

function writeJson(res: HttpResponse, status: number, body: unknown, closeConnection = false, retryAfterMs?: number, headers: Readonly<Record<string, string>> = {}): void {
  res.writeStatus(statusText[status] ?? `${status} Status`).writeHeader('Content-Type', 'application/json').writeHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
  if (retryAfterMs !== undefined) res.writeHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  res.end(JSON.stringify(body), closeConnection);
}
