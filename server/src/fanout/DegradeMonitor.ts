import { encode, TypedEmitter } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { DegradeLevel, DegradeState, DegradeThresholds, RoomSignals } from './DegradePolicy.ts';
import type { Fanout } from './Fanout.ts';

/** A socket as the monitor measures it. */
export interface MonitoredMember {
  readonly lagMs: number;
  readonly lastAckAt: number;
  bufferedBytes(): number;
}

/** A hosted room as the monitor measures and steers it (the room layer's `Room`). */
export interface MonitoredRoom {
  readonly id: string;
  readonly memberCount: number;
  readonly degrade: DegradeState;
  /** The operators' settings of the room, the same on every node. */
  readonly settings: { readonly degradeOverride: DegradeLevel | null };
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Once per user in the room on this node, with that user's sockets. */
  forEachUser(visit: (members: ReadonlySet<MonitoredMember>) => void): void;
  /** Counts one fanned-out frame's deliveries (see `Fanout.publish`'s audience). */
  countOut(audience: number): void;
}

/** The rooms this node hosts, as the monitor needs them. */
export interface MonitoredRooms {
  hostedRooms(): Iterable<MonitoredRoom>;
}

/** Commerce's view of a room's pressure, for the degrade level (the admission controller's queue and store latency). */
export interface RoomPressure {
  pressureOf(roomId: string): { queueFill: number; storeLatencyMs: number };
}

export interface DegradeMonitorOptions {
  readonly thresholds: DegradeThresholds;
  /** How often every hosted room is measured. */
  readonly checkMs: number;
  /** A socket past this many buffered bytes counts as backlogged. */
  readonly softBufferBytes: number;
  /** A room's sockets hear its level at most once per this many ms (0: at every change). */
  readonly noticeIntervalMs?: number;
}

export interface DegradeEvents {
  /** A hosted room's level on this node changed (the media layer lowers video layers). */
  levelChanged: { roomId: string; level: DegradeLevel };
}

export interface RoomDegradeStatus {
  roomId: string;
  level: DegradeLevel;
  reason: string;
  override: DegradeLevel | null;
  members: number;
  messagesIn: number;
  messagesOut: number;
  signals: RoomSignals;
  clientLagMs: number;
}

const noPressure = { queueFill: 0, storeLatencyMs: 0 };

/**
 * Measures each hosted room and moves its degrade level (`DegradeState`, kept on the room so the
 * delivery path reads it without a lookup); tells a change to the room's sockets and to whoever
 * listens. An operator's override comes with the room's settings (`MonitoredRoom.settings`), the
 * same on every node.
 */
export class DegradeMonitor {
  readonly events: TypedEmitter<DegradeEvents>;
  readonly #rooms: MonitoredRooms;
  readonly #fanout: Pick<Fanout, 'lagMs' | 'cutViewerChatter' | 'publish'>;
  readonly #pressure: RoomPressure | undefined;
  readonly #eventLoopDelayMs: () => number;
  readonly #options: DegradeMonitorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #schedule: (run: () => void) => void;
  /** Reused by each measurement for the users' lags (grows to the biggest room). */
  #lagScratch = new Float64Array(1024);
  /** Per room whose sockets heard a level here: that level and when (dropped once they heard 0 long enough ago, or the room is gone). */
  readonly #told = new Map<string, { level: DegradeLevel; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #lastCheckAt = 0;
  #earlyCheckPending = false;
  #checks = 0;

  /** `eventLoopDelayMs`: p99 event-loop delay of the node, ms, as it lasted (see `ProcessGuard.sustainedEventLoopDelayMs`). */
  constructor(deps: {
    rooms: MonitoredRooms;
    fanout: Pick<Fanout, 'lagMs' | 'cutViewerChatter' | 'publish'>;
    pressure?: RoomPressure | undefined;
    eventLoopDelayMs: () => number;
    options: DegradeMonitorOptions;
    log: Logger;
    now?: () => number;
    schedule?: (run: () => void) => void;
  }) {
    this.#rooms = deps.rooms;
    this.#fanout = deps.fanout;
    this.#pressure = deps.pressure;
    this.#eventLoopDelayMs = deps.eventLoopDelayMs;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#schedule = deps.schedule ?? setImmediate;
    this.events = new TypedEmitter<DegradeEvents>({
      onListenerError: (error, event) => this.#log.error({ err: error, event }, 'a degrade listener threw'),
    });
  }

  /** Checks every `checkMs` from now on. */
  start(): void {
    this.#timer ??= setInterval(() => this.check(), this.#options.checkMs).unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Waiting work grew past a step (admission says): check the levels now rather than at the next
   * tick, which a busy loop delays further. A burst degrades its room within a few milliseconds,
   * before the chatter queued ahead of it costs the node its first second. At most one early
   * check per fifth of `checkMs`.
   */
  checkSoon(): void {
    if (this.#earlyCheckPending || this.#now() - this.#lastCheckAt < this.#options.checkMs / 5) return;
    this.#earlyCheckPending = true;
    this.#schedule(() => {
      this.#earlyCheckPending = false;
      this.check();
    });
  }

  /** Checks done so far (operators and tests can tell that levels were judged again). */
  get checks(): number {
    return this.#checks;
  }

  /** Measures each hosted room and moves its degrade level; a change is told to the room's sockets here. */
  check(): void {
    this.#checks++;
    const now = this.#now();
    this.#lastCheckAt = now;
    const sockets = this.#nodeSockets();
    const hosted = this.#told.size > 0 ? new Set<string>() : undefined;
    for (const room of this.#rooms.hostedRooms()) {
      hosted?.add(room.id);
      if (room.degrade.update(this.#measure(room, sockets).signals, this.#options.thresholds, now)) this.#changed(room);
      this.#tellWhenDue(room, now);
    }
    if (hosted !== undefined) for (const [roomId, told] of this.#told) if (!hosted.has(roomId) || (told.level === 0 && now - told.at >= this.#noticeIntervalMs)) this.#told.delete(roomId);
  }

  get #noticeIntervalMs(): number {
    return this.#options.noticeIntervalMs ?? 0;
  }

  /** A room this node starts hosting takes the operators' override from its settings. */
  hosted(room: MonitoredRoom): void {
    room.degrade.setOverride(room.settings.degradeOverride ?? undefined);
    // Its sockets' welcomes carry this level: nothing to tell them until it changes.
    if (room.degrade.level !== 0) this.#told.set(room.id, { level: room.degrade.level, at: Number.NEGATIVE_INFINITY });
  }

  /** The room's settings changed (an operator, on any node): its override holds at once, and a new level is told to its sockets here. */
  settingsChanged(room: MonitoredRoom): void {
    const before = room.degrade.level;
    room.degrade.setOverride(room.settings.degradeOverride ?? undefined);
    if (room.degrade.level === before) return;
    this.#changed(room);
    // An operator's decision is told at once.
    this.#tell(room, this.#now());
  }

  /** For the operator console: each hosted room's level and what drives it. */
  status(): RoomDegradeStatus[] {
    const sockets = this.#nodeSockets();
    const out: RoomDegradeStatus[] = [];
    for (const room of this.#rooms.hostedRooms()) {
      const { signals, clientLagMs } = this.#measure(room, sockets);
      out.push({
        roomId: room.id, level: room.degrade.level, reason: room.degrade.reason, override: room.degrade.override ?? null, members: room.memberCount,
        messagesIn: room.messagesIn, messagesOut: room.messagesOut, signals, clientLagMs,
      });
    }
    return out;
  }

  #nodeSockets(): number {
    let sockets = 0;
    for (const room of this.#rooms.hostedRooms()) sockets += room.memberCount;
    return sockets;
  }

  /**
   * What the node measures itself, robust to a minority of clients: how far behind its own writes
   * to the room's sockets run (the fan-out pacer), the share of the room's users whose every socket
   * is past the soft buffer cap (one user, one voice), the event loop, the cart queue and the store.
   * A slow event loop is the node's problem, but shedding helps only where the load comes from: it
   * counts for rooms holding a large share of the node's sockets, so a hot room degrades while the
   * small rooms next to it keep their chat. Clients' acks are not among the signals (a client may
   * only hurt itself): `clientLagMs`, the median over the users of their least-behind socket's ack
   * lag, is for operators only.
   */
  #measure(room: MonitoredRoom, nodeSockets: number): { signals: RoomSignals; clientLagMs: number } {
    const sockets = room.memberCount;
    // Numeric typed-array sort: a 10,000-member room is measured several times a second, during a burst too.
    const lags = this.#lagScratch.length >= sockets ? this.#lagScratch : (this.#lagScratch = new Float64Array(Math.max(sockets, this.#lagScratch.length * 2)));
    let lagCount = 0;
    let users = 0;
    let backlogged = 0;
    const softBufferBytes = this.#options.softBufferBytes;
    room.forEachUser((members) => {
      users++;
      let allBacklogged = true;
      let leastLag = Number.POSITIVE_INFINITY;
      for (const member of members) {
        if (member.bufferedBytes() <= softBufferBytes) allBacklogged = false;
        if (member.lastAckAt !== 0 && member.lagMs < leastLag) leastLag = member.lagMs;
      }
      if (allBacklogged) backlogged++;
      if (leastLag !== Number.POSITIVE_INFINITY) lags[lagCount++] = leastLag;
    });
    const measured = lags.subarray(0, lagCount).sort();
    const pressure = this.#pressure?.pressureOf(room.id) ?? noPressure;
    const bigRoom = sockets >= Math.max(100, nodeSockets * 0.1);
    return {
      signals: {
        eventLoopDelayMs: bigRoom ? this.#eventLoopDelayMs() : 0,
        viewerLagMs: this.#fanout.lagMs(room.id),
        backloggedShare: users === 0 ? 0 : backlogged / users,
        queueFill: pressure.queueFill,
        storeLatencyMs: pressure.storeLatencyMs,
      },
      clientLagMs: lagCount === 0 ? 0 : measured[Math.floor(lagCount / 2)]!,
    };
  }

  /** The node acts on a new level at once (listeners, chatter); its sockets hear it when due (`#tellWhenDue`). */
  #changed(room: MonitoredRoom): void {
    const level = room.degrade.level;
    this.events.emit('levelChanged', { roomId: room.id, level });
    this.#log.info({ roomId: room.id, level, reason: room.degrade.reason }, 'degrade level changed');
    if (level >= 2) this.#fanout.cutViewerChatter(room.id);
  }

  /** Tells the room's sockets its level if it differs from what they last heard here and the last notice is old enough. */
  #tellWhenDue(room: MonitoredRoom, now: number): void {
    const told = this.#told.get(room.id);
    if (room.degrade.level === (told?.level ?? 0)) return;
    if (told !== undefined && now - told.at < this.#noticeIntervalMs) return;
    this.#tell(room, now);
  }

  #tell(room: MonitoredRoom, now: number): void {
    const level = room.degrade.level;
    this.#told.set(room.id, { level, at: now });
    const update = { t: 'degrade' as const, level, reason: room.degrade.reason };
    // Each node judges its own load, so the level goes to this node's sockets only.
    // Latest value wins in a big room's queue too: each frame is a write per viewer.
    room.countOut(this.#fanout.publish(room.id, 'commerce', 'degrade', encode(update), level, 'degrade'));
  }

  /** Rooms whose sockets' last heard level is kept here (dropped at the first check after the room is gone). */
  perRoomState(): Record<string, number> {
    return { toldLevels: this.#told.size };
  }
}
