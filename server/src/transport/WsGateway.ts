import {
  type ClientMessage,
  clientMessageSchema,
  clientMessageTypes,
  CloseCode,
  type CloseCodeValue,
  CodecError,
  decode,
  encode,
  type ErrorCodeName,
  type Hello,
  isCartRequest,
} from '../../../protocol/src/index.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { Progress } from '../admission/PositionTeller.ts';
import type { Config } from '../config.ts';
import { ProtocolError, toErrFrame } from '../errors.ts';
import { backpressureAction } from '../fanout/Fanout.ts';
import type { Logger } from '../log.ts';
import type { RequestHandler } from '../requests.ts';
import type { ProcessGuard } from '../ops/ProcessGuard.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { TokenBucketLimiter } from '../rooms/TokenBucketLimiter.ts';
import { PerTurnQueue } from '../util/PerTurnQueue.ts';
import { Connection, type SendStats, type SocketData } from './Connection.ts';
import uWS, { type TemplatedApp, type WebSocket } from './uws.ts';
import { FailureLog, toWireError } from './wireErrors.ts';

interface DeferredFrame {
  readonly connection: Connection;
  readonly bytes: Uint8Array;
  /** When the node read it: a cart request's deadline counts from there. */
  readonly readAt: number;
}

/** uWS's reason when it drops a socket whose frame exceeds `maxPayloadLength`. */
const UWS_TOO_BIG = 'Received too big message';

/** The backpressure scan covers every socket once per `backpressureScanMs`, a slice per tick. */
const SCAN_SLICES = 8;

/**
 * zod's words for a schema issue, except for an integer beyond ±(2^53 − 1), which the codec leaves
 * a BigInt (a number would lose precision): "expected number, received bigint" would puzzle a
 * client that sent an integer.
 */
function issueMessage(issue: { path: readonly PropertyKey[]; message: string }, raw: unknown): string {
  let value = raw;
  for (const key of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return typeof value === 'bigint' ? `integer ${value} is outside the safe range ±(2^53 - 1)` : issue.message;
}

/** A failed `hello` ends the socket with the close code that tells the client whether to retry. */
const helloCloseCodes: Partial<Record<ErrorCodeName, CloseCodeValue>> = {
  UNAUTHORIZED: CloseCode.UNAUTHORIZED,
  UNSUPPORTED_VERSION: CloseCode.UNSUPPORTED_VERSION,
  ROOM_NOT_FOUND: CloseCode.ROOM_NOT_FOUND,
  KICKED: CloseCode.KICKED,
};

export interface GatewayStats extends SendStats {
  connectionsOpen: number;
  connectionsTotal: number;
  framesIn: number;
  /** Frames read in one turn and handled in a later one (a hot room's viewers' frames). */
  framesDeferred: number;
  /** Frames waiting to be handled now. */
  framesDeferredWaiting: number;
  badFrames: number;
  chatterDemotions: number;
  /** Sockets closed with MOVED: their turn came while the node drained, or they opened on a draining node. */
  movedCloses: number;
  /** Valid client messages by type `t` (the keys are the protocol's message types, a bounded set). */
  messagesIn: Record<string, number>;
}

/**
 * The WebSocket edge: frames in, validated messages to the room layer, replies out. Validates once
 * here; past this point code trusts the types. Watches every socket's outbound buffer.
 */
export class WsGateway {
  readonly stats: GatewayStats = {
    connectionsOpen: 0, connectionsTotal: 0, framesIn: 0, framesDeferred: 0, framesDeferredWaiting: 0, badFrames: 0, framesSent: 0, bytesSent: 0, slowConsumerCloses: 0, chatterDemotions: 0, movedCloses: 0, messagesIn: {},
  };
  readonly #connections = new Set<Connection>();
  readonly #config: Config;
  readonly #tokens: TokenService;
  readonly #rooms: RoomRegistry;
  readonly #requests: RequestHandler;
  readonly #guard: ProcessGuard;
  readonly #log: Logger;
  readonly #scanTimer: NodeJS.Timeout;
  #nextConnectionId = 1;
  /** Viewers' frames of hot rooms, read but not yet handled, in arrival order (so in each socket's order), `inboundTurnBudgetMs` of them per turn, and every one held `inboundMaxHoldMs`. */
  readonly #deferred: PerTurnQueue<DeferredFrame>;
  /** Where the backpressure scan goes on at its next slice. */
  #scanCursor: SetIterator<Connection> | undefined;
  #accepting = true;
  /** The node drains: a socket that opens is closed with MOVED at once. */
  #sendingElsewhere = false;
  readonly #emptyWaiters: Array<() => void> = [];
  readonly #failures = new FailureLog();
  /** Hellos per user: each welcome encodes the room's whole catalog for its socket. */
  readonly #helloLimiter: TokenBucketLimiter;

  constructor(app: TemplatedApp, deps: { config: Config; tokens: TokenService; rooms: RoomRegistry; requests: RequestHandler; guard: ProcessGuard; log: Logger; schedule?: (run: () => void) => void }) {
    this.#config = deps.config;
    this.#tokens = deps.tokens;
    this.#rooms = deps.rooms;
    this.#requests = deps.requests;
    this.#guard = deps.guard;
    this.#log = deps.log;
    const { config } = deps;
    this.#helloLimiter = new TokenBucketLimiter(config.helloRate, config.helloBurst, config.rateLimiterMaxKeys);
    app.ws<SocketData>('/ws', {
      // Between our limit and this one we read the frame and close with 4504. Above it uWS refuses
      // the frame from its header, before buffering it, and drops the TCP connection without a
      // close frame (the client sees 1006); a higher limit would let each socket make us buffer it.
      maxPayloadLength: Math.min(config.maxFrameBytes * 4, 16 * 1024 * 1024),
      // Our scanner closes at hardBufferBytes with 4001. uWS's own limit sits above it as a last
      // resort between scans: past it uWS would skip the socket on publish, so it closes it instead
      // and the client resumes from the ring rather than silently losing a commerce event.
      maxBackpressure: config.hardBufferBytes * 2,
      closeOnBackpressureLimit: 1,
      idleTimeout: config.idleTimeoutSec,
      sendPingsAutomatically: true,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => {
        if (!this.#accepting) {
          res.writeStatus('503 Service Unavailable').writeHeader('Retry-After', '1').end('server restarting');
          return;
        }
        // Process protection: the rooms already here keep working; newcomers try again later.
        if (this.#guard.overloaded) {
          this.#guard.refusedConnections++;
          res.writeStatus('503 Service Unavailable').writeHeader('Retry-After', '5').end(`overloaded: ${this.#guard.reason}`);
          return;
        }
        res.upgrade<Partial<SocketData>>(
          {},
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => this.#open(ws as WebSocket<SocketData>),
      message: (ws, data, isBinary) => this.#message(ws.getUserData().connection, data, isBinary),
      drain: (ws) => this.#checkBackpressure(ws.getUserData().connection),
      close: (ws, code, message) => this.#close(ws.getUserData().connection, code, message),
    });
    this.#scanTimer = setInterval(() => this.#scan(), Math.max(1, config.backpressureScanMs / SCAN_SLICES)).unref();
    this.#deferred = new PerTurnQueue(
      Number.POSITIVE_INFINITY, (held) => this.#handleHeld(held), deps.schedule ?? setImmediate, config.inboundTurnBudgetMs,
      // Held no longer than this: a cart request's wait in its room's queue counts from the read.
      (held) => Date.now() - held.readAt >= config.inboundMaxHoldMs,
    );
  }

  /** Refuse new sockets and close the open ones with 4000 so clients reconnect elsewhere. */
  shutdown(): void {
    this.#accepting = false;
    clearInterval(this.#scanTimer);
    for (const connection of [...this.#connections]) connection.close(CloseCode.SERVER_RESTARTING, 'server restarting');
  }

  /**
   * From now on a socket that opens is closed with MOVED at once: a typed "go to another node"
   * that a client can act on, where a refused upgrade would only show it a failed connection.
   */
  sendNewSocketsElsewhere(): void {
    this.#sendingElsewhere = true;
  }

  /** The sockets open now, oldest first. */
  openConnections(): Connection[] {
    return [...this.#connections];
  }

  /**
   * Sends `connection` to another node: closes it with MOVED once the answers to the requests it
   * sent are out (at once when none is pending), so nothing it was told "accepted" goes unanswered.
   */
  move(connection: Connection): void {
    if (connection.state === 'closed' || connection.moving) return;
    connection.moving = true;
    this.#moveWhenAnswered(connection);
  }

  /** Closes every socket still open with MOVED now, answered or not. */
  moveAllNow(): void {
    for (const connection of [...this.#connections]) this.#closeMoved(connection);
  }

  /** Resolves once no socket is open. */
  whenEmpty(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  #moveWhenAnswered(connection: Connection): void {
    if (connection.moving && connection.requestsInFlight === 0 && connection.framesDeferred === 0) this.#closeMoved(connection);
  }

  #closeMoved(connection: Connection): void {
    if (connection.state === 'closed') return;
    this.stats.movedCloses++;
    connection.close(CloseCode.MOVED, 'node draining: reconnect to another node');
  }

  /** One request of `connection` got its answer. */
  #answered(connection: Connection): void {
    connection.requestsInFlight--;
    if (connection.moving) this.#moveSoon(connection);
  }

  /**
   * `#moveWhenAnswered` once the code that sent the answer is done: answers go out from inside the
   * cart desk's and the rooms' loops, which a close (leaving the room) must not run into.
   */
  #moveSoon(connection: Connection): void {
    queueMicrotask(() => this.#moveWhenAnswered(connection));
  }

  #open(ws: WebSocket<SocketData>): void {
    const connection = new Connection(this.#nextConnectionId++, ws, this.stats, this.#log);
    ws.getUserData().connection = connection;
    this.#connections.add(connection);
    this.stats.connectionsOpen++;
    this.stats.connectionsTotal++;
    if (this.#sendingElsewhere) {
      this.#closeMoved(connection);
      return;
    }
    connection.helloTimer = setTimeout(() => connection.close(CloseCode.HELLO_TIMEOUT, 'no hello'), this.#config.helloTimeoutMs);
  }

  #close(connection: Connection, code: number, message: ArrayBuffer): void {
    if (connection.state === 'closed') return;
    connection.state = 'closed';
    if (code === 1006 && Buffer.from(message).toString() === UWS_TOO_BIG) {
      this.stats.badFrames++;
      connection.log.info({ code, reason: UWS_TOO_BIG }, 'protocol violation');
    }
    clearTimeout(connection.helloTimer);
    this.#connections.delete(connection);
    this.stats.connectionsOpen--;
    if (connection.roomId !== undefined) {
      this.#rooms.leave(connection, connection.roomId);
      this.#requests.left(connection, connection.roomId);
    }
    connection.log.debug({ code }, 'socket closed');
    if (this.#connections.size === 0) for (const wake of this.#emptyWaiters.splice(0)) wake();
  }

  #message(connection: Connection, data: ArrayBuffer, isBinary: boolean): void {
    if (connection.state === 'closed') return;
    this.stats.framesIn++;
    const readAt = Date.now();
    if (!connection.countFrame(readAt, this.#config.maxFramesPerSecond)) {
      this.stats.badFrames++;
      connection.close(CloseCode.FLOODING, 'too many frames');
      return;
    }
    if (!isBinary) return this.#reject(connection, CloseCode.PROTOCOL_ERROR, 'text frames are not accepted');
    if (data.byteLength > this.#config.maxFrameBytes) return this.#reject(connection, CloseCode.FRAME_TOO_LARGE, 'frame too large');
    if (this.#shouldDefer(connection)) {
      // `data` is only valid until we return: the held frame is a copy.
      connection.framesDeferred++;
      this.stats.framesDeferred++;
      this.stats.framesDeferredWaiting++;
      this.#deferred.push({ connection, bytes: new Uint8Array(data.slice(0)), readAt });
      return;
    }
    this.#handle(connection, new Uint8Array(data), readAt);
  }

  /**
   * A viewer's frame in a room at degrade level 1 or above is held for a later turn, as is every
   * frame of a socket with frames already held (its order is kept). In a burst the node reads taps
   * in clumps of hundreds per turn; handling them there made the turn, and a small room's comment
   * read in it, wait for all of them.
   */
  #shouldDefer(connection: Connection): boolean {
    if (connection.framesDeferred > 0) return true;
    if (connection.state !== 'joined' || connection.roomId === undefined || connection.principal.role !== 'viewer') return false;
    return this.#deferred.size < this.#config.inboundMaxDeferred && this.#rooms.degradeLevelOf(connection.roomId) >= 1;
  }

  #handleHeld(held: DeferredFrame): boolean {
    this.stats.framesDeferredWaiting--;
    held.connection.framesDeferred--;
    if (held.connection.state !== 'closed') {
      this.#handle(held.connection, held.bytes, held.readAt);
      if (held.connection.moving) this.#moveSoon(held.connection);
    }
    return true;
  }

  /** Decodes, validates and dispatches one frame. */
  #handle(connection: Connection, bytes: Uint8Array, readAt: number): void {
    let raw: unknown;
    try {
      raw = decode(bytes);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      // The reason names what was wrong (an extension type, say): a close reason holds 123 bytes.
      return this.#reject(connection, CloseCode.PROTOCOL_ERROR, error.message.slice(0, 100));
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.stats.badFrames++;
      const fields = raw as { t?: unknown; id?: unknown };
      const id = typeof fields.id === 'number' && Number.isInteger(fields.id) && fields.id >= 0 && fields.id <= 0xffffffff ? fields.id : undefined;
      const known = typeof fields.t === 'string' && clientMessageTypes.has(fields.t);
      const issue = parsed.error.issues[0];
      const error = known
        ? new ProtocolError('BAD_REQUEST', `invalid ${String(fields.t)}: ${issue ? `${issue.path.join('.') || '(frame)'}: ${issueMessage(issue, raw)}` : 'schema violation'}`)
        : new ProtocolError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(String(fields.t)).slice(0, 80)}`);
      connection.send(encode(toErrFrame(error, id)));
      // A hello that fails its schema is a refused hello, and every refused hello closes the
      // socket (a second hello on a joined socket is not: that one only gets its error).
      if (fields.t === 'hello' && connection.state === 'new') connection.close(CloseCode.PROTOCOL_ERROR, error.message.slice(0, 100));
      return;
    }
    this.#dispatch(connection, parsed.data, readAt);
  }

  #reject(connection: Connection, code: CloseCodeValue, reason: string): void {
    this.stats.badFrames++;
    connection.log.info({ code, reason }, 'protocol violation');
    connection.close(code, reason);
  }

  #dispatch(connection: Connection, message: ClientMessage, readAt: number): void {
    this.stats.messagesIn[message.t] = (this.stats.messagesIn[message.t] ?? 0) + 1;
    if (message.t === 'hello') {
      void this.#hello(connection, message);
      return;
    }
    if (connection.roomId !== undefined) this.#rooms.countMessageIn(connection.roomId);
    if (connection.state !== 'joined' || connection.roomId === undefined) {
      connection.send(encode(toErrFrame(new ProtocolError('NOT_JOINED', 'send hello first'), 'id' in message ? message.id : undefined)));
      return;
    }
    if (message.t === 'like') {
      this.#requests.like(connection, connection.roomId, message.n ?? 1);
      return;
    }
    if (message.t === 'ack') {
      this.#rooms.ack(connection, connection.roomId, message.seq);
      return;
    }
    const roomId = connection.roomId;
    // Per-request helpers are methods and inline arrows, not named closures: this runs once per tap
    // of a burst, and every named closure costs a defineProperty under the dev loader.
    connection.requestsInFlight++;
    if (isCartRequest(message)) {
      // The cart desk does everything else (idempotency, the room's rules, its turn, the deadline, notices).
      this.#requests.cart(connection, roomId, message, (error, answer) => {
        if (answer === undefined) this.#replyError(connection, message.id, error, message.t);
        else connection.send(encode({ t: 'ok', id: message.id, result: answer }));
        this.#answered(connection);
      }, readAt, this.#progressOf(connection, message.id));
      return;
    }
    this.#requests.handle(connection, roomId, message).then(
      (result) => {
        connection.send(encode({ t: 'ok', id: message.id, result }));
        this.#answered(connection);
      },
      (error: unknown) => {
        this.#replyError(connection, message.id, error, message.t);
        this.#answered(connection);
      },
    );
  }

  #progressOf(connection: Connection, id: number): Progress {
    return (position, etaMs) => connection.send(encode({ t: 'queued', id, position, etaMs }));
  }

  async #hello(connection: Connection, hello: Hello): Promise<void> {
    if (connection.state !== 'new') {
      connection.send(encode(toErrFrame(new ProtocolError('ALREADY_JOINED', 'this socket already sent hello'), hello.id)));
      return;
    }
    connection.state = 'joining';
    try {
      connection.principal = await this.#tokens.verify(hello.token);
      const waitMs = this.#helloLimiter.take(connection.principal.userId);
      if (waitMs > 0) throw new ProtocolError('RATE_LIMITED', `too many hellos: retry in ${waitMs} ms`, waitMs);
      connection.followsOrders = hello.follow === 'orders';
      if (connection.state !== 'joining') return; // closed while verifying
      const room = await this.#rooms.join(connection, hello);
      if ((connection.state as string) === 'closed') {
        this.#rooms.leave(connection, room.id);
        return;
      }
      connection.joined(room.id);
      clearTimeout(connection.helloTimer);
    } catch (error) {
      if ((connection.state as string) === 'closed') return;
      this.#replyError(connection, hello.id, error, 'hello');
      // Every refused hello closes: the code says whether trying again can help.
      const wire = toWireError(error);
      connection.close(helloCloseCodes[wire.code] ?? CloseCode.TRY_AGAIN_LATER, wire.code === 'INTERNAL' ? 'try again later' : wire.message.slice(0, 100));
    }
  }

  #replyError(connection: Connection, id: number | undefined, error: unknown, type: string): void {
    this.#failures.failed(connection.log, error, { type });
    connection.send(encode(toErrFrame(toWireError(error), id)));
  }

  /**
   * Checks the next slice of the sockets: each one once per `backpressureScanMs`, but spread over
   * SCAN_SLICES ticks, since a sweep of 10,000 sockets in one go held the loop for several ms.
   */
  #scan(): void {
    let left = Math.ceil(this.#connections.size / SCAN_SLICES);
    // A Set iterator stays valid while sockets come and go: new ones are visited in this round or the next.
    this.#scanCursor ??= this.#connections.values();
    while (left-- > 0) {
      const next = this.#scanCursor.next();
      if (next.done === true) {
        this.#scanCursor = undefined;
        return;
      }
      if (next.value.state === 'joined') this.#checkBackpressure(next.value);
    }
  }

  #checkBackpressure(connection: Connection): void {
    if (connection.state !== 'joined') return;
    const buffered = connection.ws.getBufferedAmount();
    connection.lastBufferedBytes = buffered;
    const action = backpressureAction(buffered, connection.inChatter, this.#config, connection.lagging);
    if (action === 'keep') return;
    if (action === 'close') {
      this.stats.slowConsumerCloses++;
      connection.log.info({ buffered }, 'slow consumer closed');
      connection.close(CloseCode.SLOW_CONSUMER, 'slow consumer');
    } else {
      if (action === 'demote') this.stats.chatterDemotions++;
      connection.setChatter(action === 'promote');
    }
  }
}
