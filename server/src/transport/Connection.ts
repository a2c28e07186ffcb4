import { CloseCode, type CloseCodeValue } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { topicOf } from '../fanout/Fanout.ts';
import type { Logger } from '../log.ts';
import type { Member } from '../rooms/Member.ts';
import type { WebSocket } from './uws.ts';

export type ConnectionState = 'new' | 'joining' | 'joined' | 'closed';
export interface SocketData {
  connection: Connection;
}

export interface SendStats {
  framesSent: number;
  bytesSent: number;
  slowConsumerCloses: number;
}

/**
 * One WebSocket's life: handshake state, the joined room, lane subscriptions, flood counter.
 * Implements `Member` for the room layer. A uWS socket is unusable after its close event, so every
 * method checks `state` first.
 */
export class Connection implements Member {
  state: ConnectionState = 'new';
  roomId: string | undefined;
  inChatter = false;
  /** Joined with `follow: 'orders'` (set as its hello is read). */
  followsOrders = false;
  lagMs = 0;
  lastAckAt = 0;
  ackedSeq = 0;
  lagging = false;
  helloTimer: NodeJS.Timeout | undefined;
  /** This socket's frames read but held for a later turn (the gateway keeps its order by holding the rest too). */
  framesDeferred = 0;
  /** Requests read from this socket whose answer is not sent yet. */
  requestsInFlight = 0;
  /** The node drains and this socket's turn came: it closes with MOVED once its answers are out. */
  moving = false;
  #principal: Principal | undefined;
  #log: Logger | undefined;
  #framesInWindow = 0;
  #windowStartedAt = 0;

  constructor(
    readonly connectionId: number,
    readonly ws: WebSocket<SocketData>,
    readonly stats: SendStats,
    readonly parentLog: Logger,
  ) {}

  /** A child logger for this connection, made on first use (most sockets never log). */
  get log(): Logger {
    if (this.#log === undefined) {
      this.#log = this.parentLog.child(
        this.roomId === undefined ? { connectionId: this.connectionId } : { connectionId: this.connectionId, roomId: this.roomId, userId: this.#principal?.userId },
      );
    }
    return this.#log;
  }

  /** Joined: later log lines carry the room and user. */
  joined(roomId: string): void {
    this.roomId = roomId;
    this.state = 'joined';
    this.#log = undefined;
  }

  get principal(): Principal {
    if (this.#principal === undefined) throw new Error('connection has no principal before hello');
    return this.#principal;
  }

  set principal(principal: Principal) {
    this.#principal = principal;
  }

  /** Counts a received frame; false when the socket exceeded `maxPerSecond` in the current window. */
  countFrame(now: number, maxPerSecond: number): boolean {
    if (now - this.#windowStartedAt >= 1000) {
      this.#windowStartedAt = now;
      this.#framesInWindow = 0;
    }
    return ++this.#framesInWindow <= maxPerSecond;
  }

  send(frame: Uint8Array): void {
    if (this.state === 'closed') return;
    this.#sendOne(frame);
  }

  sendMany(frames: readonly Uint8Array[]): void {
    if (this.state === 'closed') return;
    this.ws.cork(() => {
      for (const frame of frames) if (!this.#sendOne(frame)) break;
    });
  }

  /** 1 sent, 0 buffered (fine: the scanner watches the buffer), 2 dropped: this frame must not be lost, so the socket goes. */
  #sendOne(frame: Uint8Array): boolean {
    const status = this.ws.send(frame, true);
    if (status === 2) {
      this.stats.slowConsumerCloses++;
      this.close(CloseCode.SLOW_CONSUMER, 'outbound buffer full');
      return false;
    }
    this.stats.framesSent++;
    this.stats.bytesSent += frame.byteLength;
    return true;
  }

  shard = 0;

  subscribeRoom(roomId: string, shard: number): void {
    this.shard = shard; // even when closed: leaving the room gives the shard's place back
    if (this.state === 'closed') return;
    this.ws.subscribe(topicOf(roomId, 'commerce', this.principal.role, shard));
    this.ws.subscribe(topicOf(roomId, 'chatter', this.principal.role, shard));
    this.inChatter = true;
  }

  /** Set by the gateway's backpressure scan: the socket's buffer is read once per scan, not again per consumer. */
  lastBufferedBytes = 0;

  bufferedBytes(): number {
    return this.state === 'closed' ? 0 : this.lastBufferedBytes;
  }

  setChatter(on: boolean): void {
    if (this.state === 'closed' || this.roomId === undefined || this.inChatter === on) return;
    const topic = topicOf(this.roomId, 'chatter', this.principal.role, this.shard);
    if (on) this.ws.subscribe(topic);
    else this.ws.unsubscribe(topic);
    this.inChatter = on;
  }

  close(code: CloseCodeValue, reason: string): void {
    if (this.state === 'closed') return;
    // uWS calls the close handler synchronously from end(), which marks us closed.
    this.ws.end(code, reason);
  }
}
