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

/** A degrade level: 0 normal, 1 comments sampled, 2 chatter off for viewers, 3 commerce only. */
export type DegradeLevelValue = 0 | 1 | 2 | 3;

/**
 * A room's operator settings: set on any node, kept with the room in its directory, and in force
 * on every node that hosts it (or serves its carts), including nodes that start hosting it later.
 */
export interface RoomSettings {
  /** Grows with every change; a node takes settings only newer than the ones it holds (0: never set). */
  version: number;
  /** A fixed degrade level, or null: each node judges the room's level from its own load. */
  degradeOverride: DegradeLevelValue | null;
  /** The room's admission queue limit, or null: each node's `--admission-queue-limit`. */
  queueLimit: number | null;
}

/** One room on one node, as that node's registry record tells it. */
export interface NodeRoomEntry {
  roomId: string;
  /** Viewers' sockets in the room on the node (staff not counted). */
  viewers: number;
  /** All the room's sockets on the node. */
  sockets: number;
  /** The room's degrade level on the node, and why. */
  level: DegradeLevelValue;
  reason: string;
  /** The settings the node applies to the room. */
  settings: RoomSettings;
}

/** A node's load, as of its last heartbeat. */
export interface NodeLoad {
  /** Event-loop delay p99, ms. */
  eventLoopDelayMs: number;
  rssMb: number;
  /** CPU time the process used since its previous heartbeat, in percent of one core. */
  cpuPercent: number;
  /** Process protection refuses new connections now. */
  overloaded: boolean;
  /** Hosted rooms at degrade level 0, 1, 2 and 3. */
  roomsByLevel: [number, number, number, number];
  /** Store calls the admission controller has under way (null with `--admission false`). */
  admissionInFlight: number | null;
}

/** What each node writes into the node registry at every heartbeat. */
export interface NodeRecord {
  nodeId: string;
  /** Where operators and other nodes reach it (`--public-url`). */
  url: string;
  startedAt: number;
  /** When it wrote this record (its own clock, epoch ms). */
  heartbeatAt: number;
  /** How often it writes its record. */
  heartbeatMs: number;
  /** The node is draining: it moves its sockets to other nodes and takes no new ones (`POST /api/ops/drain`, SIGTERM). */
  draining: boolean;
  /** WebSocket connections open. */
  sockets: number;
  /** Its hosted rooms, most viewers first, at most `--node-record-max-rooms`. */
  rooms: NodeRoomEntry[];
  /** Hosted rooms left out of `rooms`. */
  roomsOmitted: number;
  load: NodeLoad;
}

/** A node as `GET /api/ops/nodes` shows it. */
export interface NodeStatus extends NodeRecord {
  /** No heartbeat for `--node-down-after-beats` of its intervals: it is probably gone (its record goes later). */
  down: boolean;
  /** Since its last heartbeat, by the clock of the node that answers. */
  heartbeatAgeMs: number;
  /** The node that answers. */
  self: boolean;
}

/** `GET /api/ops/nodes`. */
export interface OpsNodes {
  nodeId: string;
  nodes: NodeStatus[];
}

/** The signals a room's degrade level is judged on, on one node (see docs/OPERATIONS.md). */
export interface RoomSignalsView {
  eventLoopDelayMs: number;
  viewerLagMs: number;
  backloggedShare: number;
  queueFill: number;
  storeLatencyMs: number;
}

/** A room as the node that answers hosts it: its degrade state, traffic and admission on this node. */
export interface LocalRoomDetail {
  roomId: string;
  level: DegradeLevelValue;
  reason: string;
  override: DegradeLevelValue | null;
  /** Sockets in the room on this node. */
  members: number;
  /** Cumulative: client frames from the room's sockets, and fan-out deliveries to them. */
  messagesIn: number;
  messagesOut: number;
  signals: RoomSignalsView;
  /** Median over the room's users of how far behind their acks say they are (for information). */
  clientLagMs: number;
  /** This node issues the room's seqs itself (sequencer lease). */
  sequencedHere: boolean;
  admission: RoomAdmissionStats | null;
}

/** One node's part of a room in `GET /api/ops/rooms`. */
export interface ClusterRoomNode extends NodeRoomEntry {
  nodeId: string;
  url: string;
  down: boolean;
}

/** A room's giveaway taking entries, as `GET /api/ops/rooms` shows it. */
export interface OpsGiveaway {
  id: string;
  /** The prize sku. */
  sku: string;
  entrants: number;
  winnersWanted: number;
  /** Entries are taken before this (epoch ms). */
  closesAt: number;
}

/** A room's open auction, as `GET /api/ops/rooms` shows it. */
export interface OpsAuction {
  id: string;
  /** The lot's sku. */
  sku: string;
  /** The price now in the minor unit (the start price before any bid). */
  priceCents: number;
  /** The leader as the room sees them (name or pseudonym); null before the first bid. */
  leader: string | null;
  /** Bids that moved the price. */
  bids: number;
  /** The end now, anti-sniping included (epoch ms); an auction past it stays open until it is settled. */
  endsAt: number;
  status: 'open' | 'ended' | 'cancelled';
}

/** One room over every node that hosts it (`GET /api/ops/rooms`). */
export interface ClusterRoom {
  roomId: string;
  /** Viewers over the nodes that are up. */
  viewers: number;
  /** Sockets over the nodes that are up. */
  sockets: number;
  /** The newest settings any node reports for the room. */
  settings: RoomSettings;
  /** Each node hosting the room, most viewers first; nodes that are down are marked and not summed. */
  nodes: ClusterRoomNode[];
  /** This node's detail of the room, or null when it does not host it. */
  local: LocalRoomDetail | null;
  /** The room's giveaway taking entries; absent when none is. */
  giveaway?: OpsGiveaway;
  /** The room's open auction; absent when none is. */
  auction?: OpsAuction;
}

/** `GET /api/ops/rooms`. */
export interface OpsRooms {
  nodeId: string;
  rooms: ClusterRoom[];
}
