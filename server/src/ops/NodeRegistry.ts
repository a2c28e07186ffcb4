import type { DegradeLevelValue, NodeRecord, NodeRoomEntry, NodeStatus, RoomSettings } from '../../../protocol/src/index.ts';
import type { Logger } from '../log.ts';
import type { NodeDirectory } from '../store/NodeDirectory.ts';

/** A hosted room as the registry reports it (the room layer's `Room`). */
export interface RegistryRoom {
  readonly id: string;
  readonly viewerCount: number;
  readonly memberCount: number;
  readonly degrade: { readonly level: DegradeLevelValue; readonly reason: string };
  readonly settings: RoomSettings;
}

/** What a node's record is made of, read at each heartbeat. Structural, so tests can pass plain objects. */
export interface NodeSources {
  readonly rooms: { hostedRooms(): Iterable<RegistryRoom> };
  readonly gateway: { readonly stats: { readonly connectionsOpen: number } };
  readonly guard: { readonly eventLoopDelayMs: number; readonly rssMb: number; readonly overloaded: boolean };
  readonly admission: { readonly inFlight: number } | undefined;
  /** Whether the node is draining (moving its sockets to other nodes, taking no new ones). */
  readonly drain?: { readonly draining: boolean };
}

export interface NodeRegistryOptions {
  /** How often this node writes its record. */
  readonly heartbeatMs: number;
  /** A record older than this many of its writer's intervals shows as down... */
  readonly downAfterBeats: number;
  /** ...and older than this many is removed. */
  readonly forgetAfterBeats: number;
  /** Hosted rooms listed in this node's record at most (most viewers first). */
  readonly maxRooms: number;
}

/** Every node's status; `complete` false when the shared registry could not be read (only this node is in `nodes` then). */
export interface RegistryView {
  readonly nodes: NodeStatus[];
  readonly complete: boolean;
}

/**
 * This node's entry in the node registry, and the registry as operators see it: every node writes
 * its record (address, rooms with viewers, sockets, load) every `heartbeatMs`; a record that
 * stopped coming shows as down after `downAfterBeats` of its writer's intervals and is removed after
 * `forgetAfterBeats` (by whichever node reads it then; each node also sweeps now and then, so a
 * cluster nobody watches does not keep its dead nodes). A node that stops cleanly removes its own
 * record. Ages are judged by the reading node's clock: node clocks must agree well within
 * `downAfterBeats` intervals.
 */
export class NodeRegistry {
  readonly nodeId: string;
  readonly startedAt: number;
  #url = '';
  readonly #directory: NodeDirectory;
  readonly #sources: NodeSources;
  readonly #options: NodeRegistryOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** The write under way (one at a time), which `close` waits for before it removes the record. */
  #writing: Promise<void> | undefined;
  #closed = false;
  #beats = 0;
  #failing = false;
  #cpu = { usage: process.cpuUsage(), at: 0, percent: 0 };

  constructor(deps: { directory: NodeDirectory; nodeId: string; sources: NodeSources; options: NodeRegistryOptions; log: Logger; now?: () => number }) {
    this.#directory = deps.directory;
    this.nodeId = deps.nodeId;
    this.#sources = deps.sources;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.startedAt = this.#now();
    this.#cpu.at = this.startedAt;
  }

  /** Where operators reach this node (known once it listens). */
  get url(): string {
    return this.#url;
  }

  /** The node listens at `url`: writes the first record now, then one every `heartbeatMs`. */
  start(url: string): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#url = url;
    this.#timer = setInterval(() => void this.beat(), this.#options.heartbeatMs).unref();
    void this.beat();
  }

  /**
   * Writes this node's record; every so often also removes records past `forgetAfterBeats`. Never
   * throws. A beat while the previous write is still under way (Redis slow) is skipped: writes
   * never pile up, and `close` has one write to wait for.
   */
  beat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#writing !== undefined) return this.#writing;
    const writing = this.#write().finally(() => {
      if (this.#writing === writing) this.#writing = undefined;
    });
    this.#writing = writing;
    return writing;
  }

  async #write(): Promise<void> {
    this.#sampleCpu();
    try {
      await this.#directory.put(this.record());
      if (this.#failing) this.#log.info('node registry heartbeat written again');
      this.#failing = false;
      if (++this.#beats % Math.max(1, Math.floor(this.#options.forgetAfterBeats / 2)) === 0) await this.view();
    } catch (error) {
      if (!this.#failing) this.#log.warn({ err: error }, 'node registry heartbeat failed; retrying at the next beat');
      this.#failing = true;
    }
  }

  /** This node's record as of now, its rooms capped at `maxRooms` (most viewers first). */
  record(maxRooms = this.#options.maxRooms): NodeRecord {
    const { rooms, gateway, guard, admission, drain } = this.#sources;
    const entries: NodeRoomEntry[] = [];
    const roomsByLevel: [number, number, number, number] = [0, 0, 0, 0];
    for (const room of rooms.hostedRooms()) {
      roomsByLevel[room.degrade.level]++;
      entries.push({ roomId: room.id, viewers: room.viewerCount, sockets: room.memberCount, level: room.degrade.level, reason: room.degrade.reason, settings: room.settings });
    }
    entries.sort((a, b) => b.viewers - a.viewers || b.sockets - a.sockets);
    const listed = entries.length > maxRooms ? entries.slice(0, maxRooms) : entries;
    return {
      nodeId: this.nodeId,
      url: this.url,
      startedAt: this.startedAt,
      heartbeatAt: this.#now(),
      heartbeatMs: this.#options.heartbeatMs,
      draining: drain?.draining ?? false,
      sockets: gateway.stats.connectionsOpen,
      rooms: listed,
      roomsOmitted: entries.length - listed.length,
      load: {
        eventLoopDelayMs: Math.round(guard.eventLoopDelayMs * 10) / 10,
        rssMb: Math.round(guard.rssMb),
        cpuPercent: this.#cpu.percent,
        overloaded: guard.overloaded,
        roomsByLevel,
        admissionInFlight: admission?.inFlight ?? null,
      },
    };
  }

  /**
   * Every node in the registry, this one first and live (all its rooms), the others as their last
   * record says, oldest start first; records past `forgetAfterBeats` are removed and left out.
   * When the registry cannot be read, this node alone, with `complete` false.
   */
  async view(): Promise<RegistryView> {
    const self: NodeStatus = { ...this.record(Number.POSITIVE_INFINITY), down: false, heartbeatAgeMs: 0, self: true };
    let records: NodeRecord[];
    try {
      records = await this.#directory.all();
    } catch (error) {
      this.#log.debug({ err: error }, 'node registry unreadable');
      return { nodes: [self], complete: false };
    }
    const now = this.#now();
    const others: NodeStatus[] = [];
    for (const record of records) {
      if (record.nodeId === this.nodeId) continue;
      const heartbeatAgeMs = Math.max(0, now - record.heartbeatAt);
      if (heartbeatAgeMs > this.#options.forgetAfterBeats * record.heartbeatMs) {
        this.#directory.removeStale(record.nodeId, record.heartbeatAt).catch(() => undefined); // the next reader tries again
        continue;
      }
      others.push({ ...record, down: heartbeatAgeMs > this.#options.downAfterBeats * record.heartbeatMs, heartbeatAgeMs, self: false });
    }
    others.sort((a, b) => a.startedAt - b.startedAt || a.nodeId.localeCompare(b.nodeId));
    return { nodes: [self, ...others], complete: true };
  }

  /** Stops the heartbeat and removes this node's record (at once: other nodes need not wait for it to go stale). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    await this.#directory.remove(this.nodeId).catch((error: unknown) => this.#log.debug({ err: error }, 'node record not removed; it goes stale'));
  }

  /** CPU time used since the previous heartbeat, in percent of one core. */
  #sampleCpu(): void {
    const now = this.#now();
    const usage = process.cpuUsage();
    const elapsedMs = now - this.#cpu.at;
    if (elapsedMs <= 0) return;
    const usedMs = (usage.user - this.#cpu.usage.user + usage.system - this.#cpu.usage.system) / 1000;
    this.#cpu = { usage, at: now, percent: Math.round((usedMs / elapsedMs) * 1000) / 10 };
  }
}
