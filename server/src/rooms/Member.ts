import type { CloseCodeValue } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';

/**
 * A joined socket as the room layer sees it. The transport implements it; rooms decide what goes
 * to whom and never touch uWS.
 */
export interface Member {
  readonly connectionId: number;
  readonly principal: Principal;
  /** Measured from the client's acks: how far behind what this node sent it the client is, ms, and when it last said. */
  lagMs: number;
  lastAckAt: number;
  /**
   * The last seq the client processed as far as this node believes it: the room's seq when it
   * joined, then its acks, held between that and the last seq its socket was sent (never lower
   * than before).
   */
  ackedSeq: number;
  /** Joined with `follow: 'orders'`: it hears its user's own news only, and is not in the room (not `present`). */
  readonly followsOrders?: boolean;
  /** Subscribed to its role's chatter (false while demoted as slow). */
  readonly inChatter: boolean;
  /** Behind by more than `lagDemoteMs`: kept out of chatter until it catches up. */
  lagging: boolean;
  /** A frame for this member only (replies, welcome, replay): must be delivered, or the socket is closed as slow. */
  send(frame: Uint8Array): void;
  /** Several frames in one syscall where the transport can (resume replay). */
  sendMany(frames: readonly Uint8Array[]): void;
  /** Start receiving the room's lanes on fan-out shard `shard` (the chatter topic depends on the member's role). */
  subscribeRoom(roomId: string, shard: number): void;
  /** The fan-out shard given at `subscribeRoom`. */
  readonly shard: number;
  /** Outbound bytes waiting in the transport for this member, as of the transport's last backpressure scan. */
  bufferedBytes(): number;
  close(code: CloseCodeValue, reason: string): void;
}
