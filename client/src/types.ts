import type { BackoffOptions } from './backoff.ts';
import type { LikeBatcherOptions } from './LikeBatcher.ts';
import type { WebSocketConstructor } from './transport.ts';
import type { LivecartError } from './LivecartError.ts';
import type { Product, SequencedEvent, Welcome } from '../../protocol/src/messages.ts';

export interface ConnectOptions {
  /** WebSocket URL of the server, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** A livecart JWT (HS256, claims `sub`, `name`, `role`). */
  token: string;
  /** Room id to join. */
  room: string;
  /** WebSocket implementation; default `globalThis.WebSocket`, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff (full jitter); `false` never reconnects. Default `{ baseMs: 500, maxMs: 30000 }`, unlimited attempts. */
  reconnect?: Partial<BackoffOptions> | false;
  /** A request without a reply after this long is rejected (temporary `UNAVAILABLE`). Also bounds the handshake. Default 10 000. */
  requestTimeoutMs?: number;
  /** Comments kept in `state.comments`. Default 200. */
  maxComments?: number;
  /** Like coalescing. Default: one notice per 100 ms window, at most 100 taps each. */
  likes?: LikeBatcherOptions;
}

type EventOf<T extends SequencedEvent['t']> = Extract<SequencedEvent, { t: T }>;
export type CommentEvent = EventOf<'comment'>;
export type CommentDeletedEvent = EventOf<'commentDeleted'>;
export type PopupEvent = EventOf<'popup'>;
export type ProductEvent = EventOf<'product'>;
export type RoomStateEvent = EventOf<'roomState'>;
export type UserMutedEvent = EventOf<'userMuted'>;

export interface ReconnectingEvent {
  /** 1 for the first retry after a connection was lost, reset by every successful `welcome`. */
  attempt: number;
  delayMs: number;
  /** Close code of the lost connection (1006 when it never opened or dropped without a close frame). */
  code: number;
  reason: string;
}

export interface ClosedEvent {
  code: number;
  reason: string;
  willReconnect: false;
  /** Why the client gave up, when known: the server's `err` for `hello` (e.g. `UNAUTHORIZED`), or `UNAVAILABLE` when reconnect attempts ran out. */
  error?: LivecartError;
}

/** Event name → payload. */
export interface LivecartEvents {
  /** Every `welcome`: the first, and one after each reconnect. */
  welcome: Welcome;
  /** A `welcome` that could not resume (events missed): the state was replaced by its snapshot; re-render. */
  historyLost: Welcome;
  comment: CommentEvent;
  commentDeleted: CommentDeletedEvent;
  popup: PopupEvent;
  product: ProductEvent;
  roomState: RoomStateEvent;
  userMuted: UserMutedEvent;
  /** The room's like total (coalesced by the server). */
  likes: { total: number };
  /** The room's viewer count (coalesced by the server). */
  viewers: { count: number };
  /**
   * Problems not tied to a request: `err` frames without a known id (`LivecartError`), frames that
   * cannot be decoded, a failed `hello` on reconnect, and errors thrown by other event listeners.
   */
  error: Error;
  /** The connection was lost; another attempt starts after `delayMs`. */
  reconnecting: ReconnectingEvent;
  /** The client stopped for good (terminal close code, attempts exhausted, or `close()`). */
  closed: ClosedEvent;
}

export interface SeqResult {
  /** Seq of the room event the request produced. */
  seq: number;
}
export interface PingResult {
  /** Server clock, epoch ms. */
  now: number;
}
export interface AddProductResult {
  product: Product;
}
export interface KickResult {
  /** Sockets the server closed (with 4505). */
  closed: number;
}

/** What each request's `ok` carries. */
export interface RequestResults {
  ping: PingResult;
  comment: SeqResult;
  addProduct: AddProductResult;
  pin: SeqResult;
  unpin: SeqResult;
  deleteComment: SeqResult;
  mute: SeqResult;
  unmute: SeqResult;
  kick: KickResult;
}
