/**
 * Shapes of the operator API's answers (`GET /api/ops/rooms`), shared by the server and the
 * operator console. Not validated on the wire: the server produces them, operators read them.
 */

/** One room's admission state on this node. */
export interface RoomAdmissionStats {
  roomId: string;
  /** Requests waiting now. */
  queued: number;
  /** Store calls under way for the room. */
  inFlight: number;
  admitted: number;
  completed: number;
  /** Refused at once: queue full, or shed for a more important request. */
  rejected: number;
  /** Answered OVERLOADED after waiting past the deadline. */
  expired: number;
  /** Answered sold out without the store. */
  soldOutFast: number;
  /** Taps that joined a pending request of the same user and product. */
  deduplicated: number;
  /** Requests answered per second (EWMA). */
  drainRate: number;
  storeLatencyMs: { ewma: number; p99: number };
  queueLimit: number;
}
