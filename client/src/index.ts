export { connect, LivecartClient, ListenerError, ProtocolViolation } from './LivecartClient.ts';
export { LivecartError, isLivecartError, type LivecartErrorInit, type LivecartErrorName } from './LivecartError.ts';
export { TypedEmitter, type Listener, type ListenerErrorHandler, type TypedEmitterOptions } from './TypedEmitter.ts';
export { Backoff, backoffCeiling, defaultBackoff, fullJitterDelay, type BackoffOptions } from './backoff.ts';
export { LikeBatcher, type LikeBatcherOptions } from './LikeBatcher.ts';
export { PendingRequests } from './PendingRequests.ts';
export { RoomModel, type RoomSnapshot, type WelcomeKind } from './RoomModel.ts';
export { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './transport.ts';
export type * from './types.ts';
export {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  shouldReconnect,
  type ErrorCodeName,
  type HistoryComment,
  type Popup,
  type Product,
  type ProductInput,
  type RoomInfo,
  type RoomState,
  type Welcome,
} from '../../protocol/src/index.ts';
