import type { Role } from '../../../protocol/src/index.ts';
import { Deque } from '../util/Deque.ts';

/** The transport's side of fan-out: send the same bytes to every subscriber of a topic. */
export interface TopicPublisher {
  /** Returns false when nobody was subscribed (not an error). */
  publish(topic: string, frame: Uint8Array): boolean;
}

/**
 * Writes a small room's frame to each of its sockets now, in the caller's turn: uWS writes a
 * publish only when the turn's I/O is done, so in a busy turn a small room's comment waited for
 * every read of the turn. Returns false when it cannot (the room is not known there).
 * uWS flushes a socket's pending topic messages before a direct send, so order is kept when a
 * room moves between the two paths.
 */
export type DirectSender = (roomId: string, audience: FrameAudience, frame: Uint8Array) => boolean;

/**
 * Who a frame goes to: the whole room (commerce), the room's chatter (viewers and staff), or the
 * staff's chatter only (viewers' chatter cut by the room's degrade level).
 */
export type FrameAudience = 'commerce' | 'chatter' | 'staffChatter';

/**
 * A room's audience is split into units: viewer shards of at most `shardSize` sockets, and one
 * unit for the staff (streamer, operators). Every socket is in exactly one unit, and a unit's
 * sockets subscribe to its two topics (commerce, chatter), so publishing a unit's frames in order
 * keeps every socket's order.
 */
export function topicOf(roomId: string, lane: 'commerce' | 'chatter', role: Role = 'viewer', shard = 0): string {
  if (role !== 'viewer') return lane === 'commerce' ? `${roomId}#cs` : `${roomId}#s`;
  return lane === 'commerce' ? `${roomId}#c${shard}` : `${roomId}#x${shard}`;
}

interface Unit {
  readonly commerceTopic: string;
  readonly chatterTopic: string;
  readonly staff: boolean;
  sockets: number;
  /** Absolute index (see `RoomQueue.base`) of the next waiting frame this unit has not been sent. */
  next: number;
  /** The highest seq this unit's sockets have been sent (or passed, when the frame was not for them). */
  sentSeq: number;
}

interface Job {
  readonly audience: FrameAudience;
  /** State updates with the same key: latest value wins (replaced while no unit has it, skipped by a unit that has a newer one waiting). */
  readonly replaceKey: string | undefined;
  /** The key of the state updates this frame makes out of date: one waiting before it is skipped, and none after it replaces one before it. */
  readonly clears: string | undefined;
  frame: Uint8Array;
  /** Viewer chatter the room cut (degrade level 2) before every shard had it: only the staff still get it. */
  viewersCut: boolean;
  /** The room event's seq (state updates have none). */
  readonly seq: number | undefined;
  /** When the frame reached the pacer (`now()`): how long a unit not yet sent it has been behind. */
  readonly at: number;
}

class RoomQueue {
  /** units[0] is the staff's; then the viewer shards, shard k at units[k + 1]. */
  readonly units: Unit[];
  readonly jobs = new Deque<Job>();
  /** Absolute index of `jobs`' first frame: frames leave the front once every unit has them. */
  base = 0;
  /** The unit served next when the room gets its turn. */
  unitCursor = 0;
  /** Whether the room is in the pacer's rotation. */
  ready = false;

  constructor(readonly roomId: string) {
    this.units = [{ commerceTopic: topicOf(roomId, 'commerce', 'streamer'), chatterTopic: topicOf(roomId, 'chatter', 'streamer'), staff: true, sockets: 0, next: 0, sentSeq: 0 }];
  }

  get end(): number {
    return this.base + this.jobs.size;
  }

  addShard(): number {
    const shard = this.units.length - 1;
    this.units.push({ commerceTopic: topicOf(this.roomId, 'commerce', 'viewer', shard), chatterTopic: topicOf(this.roomId, 'chatter', 'viewer', shard), staff: false, sockets: 0, next: this.end, sentSeq: 0 });
    return shard;
  }

  /** The topic `unit` receives `job` on, or undefined when the job is not for it. */
  topicFor(job: Job, unit: Unit): string | undefined {
    if (job.audience === 'commerce') return unit.commerceTopic;
    if (unit.staff) return unit.chatterTopic;
    return job.audience === 'chatter' && !job.viewersCut ? unit.chatterTopic : undefined;
  }

  /** Socket writes `job` costs when published to the whole room at once. */
  costOf(audience: FrameAudience): number {
    if (audience === 'staffChatter') return this.units[0]!.sockets;
    let sockets = 0;
    for (const unit of this.units) sockets += unit.sockets;
    return sockets;
  }

  /** The frames every unit has been sent leave the queue. */
  trim(): number {
    let lowest = this.end;
    for (const unit of this.units) if (unit.next < lowest) lowest = unit.next;
    let dropped = 0;
    while (this.base < lowest) {
      this.jobs.shift();
      this.base++;
      dropped++;
    }
    return dropped;
  }
}

export interface PacerStats {
  /** Frames that waited for a later event-loop turn (a big room's share of a turn was used up). */
  framesPaced: number;
  /** Waiting state updates replaced, or skipped for a newer value, before they went out. */
  framesReplaced: number;
  /** Frames waiting now, all rooms. */
  framesWaiting: number;
  /** Frames published to a whole room at once, past the turn's budget (a room with too many frames waiting). */
  framesUrgent: number;
  /** Socket writes of the room broadcasts one event-loop turn publishes at most now (adapted to the turn length). */
  turnBudget: number;
}

export interface PacerOptions {
  readonly shardSize: number;
  /** Socket writes one turn publishes at most. */
  readonly deliveriesPerTurn: number;
  /** The event-loop turn length the budget is adapted to while a backlog lasts. */
  readonly turnTargetMs: number;
  /** Frames one room may have waiting; past it the room's backlog goes out at once (memory stays bounded, nothing is dropped). */
  readonly maxWaitingPerRoom: number;
}

/**
 * Spreads big rooms' fan-out over event-loop turns. uWS writes a publish to every subscriber's
 * socket when the loop turn ends: one frame to 10,000 viewers holds the loop ~100 ms here, and
 * every small room's frames wait behind it.
 *
 * - A room's audience is split into units (viewer shards and the staff); one turn serves units
 *   of the waiting rooms in rotation until its budget of socket writes is spent, so a big room's
 *   frame spreads over several turns. A room no bigger than one shard is never paced: its frame
 *   is written to each member at once (`direct`), or published at once without one.
 * - A unit, when served, is sent every frame it is behind on at once. uWS corks a socket's
 *   messages of one drain into one write, so a backlog costs one write per socket per visit,
 *   not one per frame: the further behind the node is, the more frames each write carries.
 *   A state update that a newer one with the same key follows is skipped.
 * - The budget follows the loop: while a backlog lasts it shrinks when turns run longer than
 *   `turnTargetMs` (a burst of reads is using the loop) and grows back up to
 *   `deliveriesPerTurn` when they run shorter. The small rooms' wait stays about one target turn.
 *   "Sold out" gets no larger budget: measured, a sweep at the full budget made turns of 70-140 ms
 *   (each long turn lets more taps pile up for the next one) and reached the room no sooner.
 */
export class FanoutPacer {
  readonly stats: PacerStats;
  readonly #rooms = new Map<string, RoomQueue>();
  /** Rooms with waiting frames, in turn order. */
  readonly #ready: RoomQueue[] = [];
  #cursor = 0;
  /** Socket writes published in the current turn. */
  #spent = 0;
  #budget: number;
  #turnScheduled = false;
  /** When the last turn ran, if it left a backlog (the next turn's distance from it is a loop turn's length). */
  #backlogTurnAt: number | undefined;
  /** Set by the room layer: how a room no bigger than one shard is written to directly. */
  direct: DirectSender | undefined;

  constructor(
    readonly publisher: TopicPublisher,
    readonly options: PacerOptions,
    readonly schedule: (next: () => void) => void = setImmediate,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#budget = options.deliveriesPerTurn;
    this.stats = { framesPaced: 0, framesReplaced: 0, framesWaiting: 0, framesUrgent: 0, turnBudget: this.#budget };
  }

  /** A socket joins `roomId` on this node: its shard (viewers: the first one with room; staff: 0, their own unit). */
  join(roomId: string, role: Role): number {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = new RoomQueue(roomId)));
    if (role !== 'viewer') {
      room.units[0]!.sockets++;
      return 0;
    }
    let shard = room.units.findIndex((unit, index) => index > 0 && unit.sockets < this.options.shardSize) - 1;
    if (shard < 0) shard = room.addShard();
    room.units[shard + 1]!.sockets++;
    return shard;
  }

  leave(roomId: string, role: Role, shard: number): void {
    const unit = this.#rooms.get(roomId)?.units[role === 'viewer' ? shard + 1 : 0];
    if (unit !== undefined && unit.sockets > 0) unit.sockets--;
  }

  /**
   * Publishes `frame` to `audience`: now if the room has nothing waiting and the turn's budget
   * allows, else unit by unit in later turns, after the room's waiting frames. `seq` is the room
   * event's seq (none for state updates): what each unit was sent up to (`sentSeq`). `clears`: the
   * key of the state updates the frame makes out of date (see `Job.clears`).
   */
  publish(roomId: string, audience: FrameAudience, frame: Uint8Array, replaceKey?: string, seq?: number, clears?: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    if (room.jobs.size === 0) {
      const cost = room.costOf(audience);
      // A room no bigger than a shard is never paced: its frame is as cheap as one unit's visit,
      // and a small room's chat must not wait for a big room's turn, nor for the turn's I/O to end.
      if (cost <= this.options.shardSize && this.direct?.(roomId, audience, frame) === true) {
        this.#sentToAll(room, seq);
        this.#spent += cost;
        this.#scheduleTurn();
        return;
      }
      if (this.#spent + cost <= this.#budget || cost <= this.options.shardSize) {
        this.#publishAll(room, { audience, replaceKey, clears, frame, viewersCut: false, seq, at: 0 });
        this.#sentToAll(room, seq);
        this.#spent += cost;
        this.#scheduleTurn();
        return;
      }
    }
    if (replaceKey !== undefined && this.#replace(room, replaceKey, frame)) return;
    const job: Job = { audience, replaceKey, clears, frame, viewersCut: false, seq, at: this.now() };
    if (room.jobs.size >= this.options.maxWaitingPerRoom) {
      this.#publishNow(room, job);
      return;
    }
    this.stats.framesPaced++;
    this.stats.framesWaiting++;
    room.jobs.push(job);
    if (!room.ready) {
      room.ready = true;
      this.#ready.push(room);
    }
    this.#scheduleTurn();
  }

  /** A room whose backlog is full: every unit is sent what it is behind on, and then `job`, now, whatever the turn's budget. */
  #publishNow(room: RoomQueue, job: Job): void {
    room.jobs.push(job);
    for (const unit of room.units) this.#catchUp(room, unit);
    this.#spent += room.costOf('commerce');
    this.stats.framesWaiting -= room.trim() - 1;
    this.stats.framesUrgent++;
    this.#unready(room);
    this.#scheduleTurn();
  }

  /**
   * The room stopped sending chatter to viewers (degrade level 2): waiting viewer chatter goes
   * no further than the staff and the shards it already reached. Returns the frames cut.
   */
  cutViewerChatter(roomId: string): number {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return 0;
    let cut = 0;
    for (const job of room.jobs) {
      if (job.audience !== 'chatter' || job.viewersCut) continue;
      job.viewersCut = true;
      cut++;
    }
    return cut;
  }

  /** Frames of `roomId` still waiting. */
  waiting(roomId: string): number {
    return this.#rooms.get(roomId)?.jobs.size ?? 0;
  }

  /** The highest seq the unit of a socket with `role` on `shard` has been sent (0 when unknown). */
  sentSeq(roomId: string, role: Role, shard: number): number {
    return this.#rooms.get(roomId)?.units[role === 'viewer' ? shard + 1 : 0]?.sentSeq ?? 0;
  }

  /**
   * How far behind this node's writes to the room's sockets run, ms: for each socket, how long
   * the oldest frame its unit has not been sent yet has waited here; the value 90 % of the sockets
   * are within. 0 when nothing waits (a room no bigger than a shard never waits).
   */
  lagMs(roomId: string): number {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.jobs.size === 0) return 0;
    const now = this.now();
    let sockets = 0;
    const lags: Array<{ lag: number; sockets: number }> = [];
    for (const unit of room.units) {
      if (unit.sockets === 0) continue;
      sockets += unit.sockets;
      lags.push({ lag: this.#waitOf(room, unit, now), sockets: unit.sockets });
    }
    lags.sort((a, b) => b.lag - a.lag);
    // Skip the tenth of the sockets furthest behind: the value the other nine tenths are within.
    let skip = sockets * 0.1;
    for (const { lag, sockets: n } of lags) {
      skip -= n;
      if (skip < 0) return lag;
    }
    return 0;
  }

  /** How long the oldest waiting frame meant for `unit` has waited (0: it is not behind). */
  #waitOf(room: RoomQueue, unit: Unit, now: number): number {
    for (let i = unit.next - room.base; i < room.jobs.size; i++) {
      const job = room.jobs.at(i)!;
      if (room.topicFor(job, unit) !== undefined) return Math.max(0, now - job.at);
    }
    return 0;
  }

  #sentToAll(room: RoomQueue, seq: number | undefined): void {
    if (seq === undefined) return;
    for (const unit of room.units) unit.sentSeq = seq;
  }

  /** A room no longer hosted: its waiting frames have nobody to go to. */
  /** Rooms with pacing state here. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  forget(roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    this.stats.framesWaiting -= room.jobs.size;
    this.#rooms.delete(roomId);
    this.#unready(room);
  }

  #replace(room: RoomQueue, replaceKey: string, frame: Uint8Array): boolean {
    let started = room.base;
    for (const unit of room.units) if (unit.next > started) started = unit.next;
    // The last one no unit has yet, unless a frame that clears the key follows it: the newer value goes after that frame.
    let replaced: Job | undefined;
    let index = room.base;
    for (const job of room.jobs) {
      if (job.clears === replaceKey) replaced = undefined;
      else if (index >= started && job.replaceKey === replaceKey) replaced = job;
      index++;
    }
    if (replaced === undefined) return false;
    replaced.frame = frame;
    this.stats.framesReplaced++;
    return true;
  }

  #publishAll(room: RoomQueue, job: Job): void {
    for (const unit of room.units) {
      if (unit.sockets === 0) continue;
      const topic = room.topicFor(job, unit);
      if (topic !== undefined) this.publisher.publish(topic, job.frame);
    }
  }

  /** Publishes to `unit` every waiting frame it has not had, in order (skipping state updates a newer one replaces, or a frame after them clears). */
  #catchUp(room: RoomQueue, unit: Unit): void {
    const from = unit.next - room.base;
    const to = room.jobs.size;
    unit.next = room.end;
    for (let i = to - 1; i >= from; i--) {
      const seq = room.jobs.at(i)!.seq;
      if (seq !== undefined) {
        unit.sentSeq = seq;
        break;
      }
    }
    if (unit.sockets === 0) return;
    // Latest value wins: a state update is skipped when a newer one with its key follows.
    let superseded: Set<Job> | undefined;
    if (to - from > 1) {
      let newer: Set<string> | undefined;
      for (let i = to - 1; i >= from; i--) {
        const job = room.jobs.at(i)!;
        if (job.clears !== undefined) (newer ??= new Set()).add(job.clears);
        if (job.replaceKey === undefined) continue;
        if (newer?.has(job.replaceKey)) (superseded ??= new Set()).add(job);
        else (newer ??= new Set()).add(job.replaceKey);
      }
    }
    for (let i = from; i < to; i++) {
      const job = room.jobs.at(i)!;
      const topic = room.topicFor(job, unit);
      if (topic === undefined) continue;
      if (superseded?.has(job)) {
        this.stats.framesReplaced++;
        continue;
      }
      this.publisher.publish(topic, job.frame);
    }
  }

  #unready(room: RoomQueue): void {
    if (!room.ready) return;
    room.ready = false;
    const index = this.#ready.indexOf(room);
    if (index >= 0) this.#ready.splice(index, 1);
    if (index >= 0 && index < this.#cursor) this.#cursor--;
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    this.schedule(() => this.#turn());
  }

  /** A turn's length while a backlog lasts moves the budget toward `turnTargetMs`. */
  #adapt(now: number): void {
    if (this.#backlogTurnAt === undefined) return;
    const turnMs = Math.max(now - this.#backlogTurnAt, 0.1);
    const factor = Math.min(1.25, Math.max(0.5, this.options.turnTargetMs / turnMs));
    this.#budget = Math.round(Math.min(this.options.deliveriesPerTurn, Math.max(this.options.shardSize, this.#budget * factor)));
    this.stats.turnBudget = this.#budget;
  }

  /** A new turn: the budget is fresh; waiting rooms send one unit each in rotation until it is spent. */
  #turn(): void {
    this.#turnScheduled = false;
    const now = this.now();
    this.#adapt(now);
    this.#spent = 0;
    while (this.#ready.length > 0 && this.#spent < this.#budget) {
      if (this.#cursor >= this.#ready.length) this.#cursor = 0;
      const room = this.#ready[this.#cursor]!;
      const unit = this.#nextBehind(room);
      if (unit !== undefined) {
        this.#spent += Math.max(1, unit.sockets);
        this.#catchUp(room, unit);
      }
      this.stats.framesWaiting -= room.trim();
      if (room.jobs.size === 0) this.#unready(room);
      else this.#cursor++;
    }
    this.#backlogTurnAt = this.#ready.length > 0 ? now : undefined;
    // Also after the last waiting frame went out: the next turn's budget must start fresh.
    if (this.#ready.length > 0 || this.#spent > 0) this.#scheduleTurn();
  }

  /** The room's next unit (in rotation) that is behind. */
  #nextBehind(room: RoomQueue): Unit | undefined {
    const units = room.units;
    for (let i = 0; i < units.length; i++) {
      const index = (room.unitCursor + i) % units.length;
      if (units[index]!.next < room.end) {
        room.unitCursor = index + 1;
        return units[index];
      }
    }
    return undefined;
  }
}
