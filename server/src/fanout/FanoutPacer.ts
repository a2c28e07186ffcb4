import { Deque } from '../util/Deque.ts';

/** The transport's side of fan-out: send the same bytes to every subscriber of a topic. */
export interface TopicPublisher {
  /** Returns false when nobody was subscribed (not an error). */
  publish(topic: string, frame: Uint8Array): boolean;
}

/** One topic of a frame's publish; `counts[index]` is how many sockets it reaches at most (what it costs). */
export interface TopicShare {
  readonly topic: string;
  readonly counts: readonly number[];
  readonly index: number;
}

const costOf = (share: TopicShare): number => share.counts[share.index] ?? 0;

interface Job {
  readonly topics: readonly TopicShare[];
  /** State updates with the same key replace one another while waiting (latest value wins). */
  readonly replaceKey: string | undefined;
  frameToSend: Uint8Array;
  /** Index of the next topic to publish to. */
  next: number;
}

export interface PacerStats {
  /** Frames that waited for a later event-loop turn (a big room's share of a turn was used up). */
  framesPaced: number;
  /** Waiting state updates replaced by a newer value before they went out. */
  framesReplaced: number;
  /** Frames waiting now, all rooms. */
  framesWaiting: number;
  /** Frames published to a whole room at once, past the turn's budget ("sold out", or a room with too many frames waiting). */
  framesUrgent: number;
}

/**
 * Spreads a big room's fan-out over event-loop turns. uWS writes a publish to every subscriber's
 * socket when the loop turn ends: one frame to 10,000 viewers holds the loop ~80 ms here, and every
 * small room's frames wait behind it. Each room's audience is split into shard topics; one turn
 * publishes at most `deliveriesPerTurn` socket writes, rooms take turns shard by shard, so a small
 * room's frame goes out within a turn while the big room's frame spreads over a few. A room's
 * frames keep their order for every socket: the next frame starts only after the previous one
 * reached all of the room's shards.
 */
export class FanoutPacer {
  readonly stats: PacerStats = { framesPaced: 0, framesReplaced: 0, framesWaiting: 0, framesUrgent: 0 };
  readonly #queues = new Map<string, Deque<Job>>();
  /** Rooms with waiting frames, in turn order. */
  readonly #ready: string[] = [];
  #cursor = 0;
  /** Socket writes published in the current turn. */
  #spent = 0;
  #turnScheduled = false;

  constructor(
    readonly publisher: TopicPublisher,
    readonly deliveriesPerTurn: number,
    /** Frames one room may have waiting; past it the room's backlog goes out at once (memory stays bounded, nothing is dropped). */
    readonly maxWaitingPerRoom: number,
    readonly schedule: (next: () => void) => void = setImmediate,
  ) {}

  /**
   * Publishes `frame` to `topics` in order: now if the room has nothing waiting and the turn's
   * budget allows, else in later turns. A frame with a `replaceKey` takes the place of a waiting
   * one with the same key that has not started going out (state updates: latest value wins).
   */
  publish(roomId: string, topics: readonly TopicShare[], frame: Uint8Array, replaceKey?: string): void {
    const queue = this.#queues.get(roomId);
    if (queue === undefined) {
      let cost = 0;
      for (const share of topics) cost += costOf(share);
      if (this.#spent + cost <= this.deliveriesPerTurn) {
        for (const share of topics) this.publisher.publish(share.topic, frame);
        this.#spent += cost;
        this.#scheduleTurn();
        return;
      }
    }
    if (queue !== undefined && queue.size >= this.maxWaitingPerRoom) {
      this.publishNow(roomId, topics, frame);
      return;
    }
    if (queue !== undefined && replaceKey !== undefined) {
      for (const job of queue) {
        if (job.replaceKey === replaceKey && job.next === 0) {
          job.frameToSend = frame;
          this.stats.framesReplaced++;
          return;
        }
      }
    }
    this.stats.framesPaced++;
    this.stats.framesWaiting++;
    const job: Job = { topics, replaceKey, frameToSend: frame, next: 0 };
    if (queue === undefined) {
      this.#queues.set(roomId, new Deque<Job>());
      this.#queues.get(roomId)!.push(job);
      this.#ready.push(roomId);
    } else {
      queue.push(job);
    }
    this.#scheduleTurn();
  }

  /**
   * Publishes `frame` to all of `topics` now, whatever the turn's budget: after the room's waiting
   * frames, which go out now too, so every socket keeps the order. For the one frame whose delay
   * costs more than the stall: "sold out", which stops every viewer's taps at once; and the frame
   * that finds its room's backlog full.
   */
  publishNow(roomId: string, topics: readonly TopicShare[], frame: Uint8Array): void {
    const queue = this.#queues.get(roomId);
    if (queue !== undefined) {
      for (const job of queue) {
        while (job.next < job.topics.length) {
          const share = job.topics[job.next++]!;
          this.#spent += costOf(share);
          this.publisher.publish(share.topic, job.frameToSend);
        }
      }
      this.forget(roomId);
    }
    for (const share of topics) {
      this.#spent += costOf(share);
      this.publisher.publish(share.topic, frame);
    }
    this.stats.framesUrgent++;
    this.#scheduleTurn();
  }

  /** Frames of `roomId` still waiting. */
  waiting(roomId: string): number {
    return this.#queues.get(roomId)?.size ?? 0;
  }

  /** A room no longer hosted: its waiting frames have nobody to go to. */
  forget(roomId: string): void {
    const queue = this.#queues.get(roomId);
    if (queue === undefined) return;
    this.stats.framesWaiting -= queue.size;
    this.#queues.delete(roomId);
    const index = this.#ready.indexOf(roomId);
    if (index >= 0) this.#ready.splice(index, 1);
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    this.schedule(() => this.#turn());
  }

  /** A new turn: the budget is fresh; waiting rooms publish one shard each in rotation until it is spent. */
  #turn(): void {
    this.#turnScheduled = false;
    this.#spent = 0;
    while (this.#ready.length > 0 && this.#spent < this.deliveriesPerTurn) {
      if (this.#cursor >= this.#ready.length) this.#cursor = 0;
      const roomId = this.#ready[this.#cursor]!;
      const queue = this.#queues.get(roomId)!;
      const job = queue.peek()!;
      const share = job.topics[job.next++]!;
      this.#spent += Math.max(1, costOf(share));
      this.publisher.publish(share.topic, job.frameToSend);
      if (job.next < job.topics.length) {
        this.#cursor++;
        continue;
      }
      queue.shift();
      this.stats.framesWaiting--;
      if (queue.size > 0) {
        this.#cursor++;
        continue;
      }
      this.#queues.delete(roomId);
      this.#ready.splice(this.#cursor, 1);
    }
    // Also after the last waiting frame went out: the next turn's budget must start fresh.
    if (this.#ready.length > 0 || this.#spent > 0) this.#scheduleTurn();
  }
}
