import { randomBytes } from 'node:crypto';
import { DomainError } from '../DomainError.ts';
import { decode, type Lane, readSeq, type RoomSettings, stampSeq, type SequencedEvent, type StateUpdate, type UnsequencedEvent } from '../../../protocol/src/index.ts';
import { createSubscriber, type RedisConnection, type RedisTarget, redisTarget } from '../redis/client.ts';
import { roomChannel, roomKey, roomOfChannel } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { Broker, Delivery, KeywordFilter, RecentEvents, SequencedDelivery, SequencerStats } from './Broker.ts';

/**
 * Issues the room's seq, stamps it into the frame at bytes 7..10 (SEQ_OFFSET 6, 0-based), keeps the
 * message in the room's ring list and publishes it, all atomically: publish order is seq order.
 * While another node holds the room's sequencer lease it asks that node to let go ("r" + node id on
 * the room's channel) and returns -1: the caller retries.
 * KEYS: seq counter, ring list, lease. ARGV: channel, message head ("q" + lane), frame, ring size, node id.
 */
const publishScript = (publish: string) => `
local owner = redis.call('GET', KEYS[3])
if owner and owner ~= ARGV[5] then
  redis.call('${publish}', ARGV[1], 'r' .. ARGV[5])
  return -1
end
local seq = redis.call('INCR', KEYS[1])
local frame = ARGV[3]
local msg = ARGV[2] .. string.sub(frame, 1, 6) .. struct.pack('>I4', seq) .. string.sub(frame, 11)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('${publish}', ARGV[1], msg)
return seq
`;

/** Takes the room's lease if nobody holds it; returns the room's latest seq, or -1. KEYS: lease, seq counter. ARGV: node id, lease ms. */
const acquireScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return tonumber(redis.call('GET', KEYS[2]) or '0') end
return -1
`;

/**
 * The lease holder's append of an event it sequenced itself: only while it still holds the lease
 * and the seq follows the log's, so a node that lost its lease cannot write a second history.
 * Renews the lease. Returns 1, or 0 when fenced off.
 * KEYS: seq counter, ring list, lease. ARGV: channel, message ("q" + lane + stamped frame), ring size, node id, seq, lease ms.
 */
const appendScript = (publish: string) => `
if redis.call('GET', KEYS[3]) ~= ARGV[4] then return 0 end
if tonumber(redis.call('GET', KEYS[1]) or '0') + 1 ~= tonumber(ARGV[5]) then return 0 end
redis.call('SET', KEYS[1], ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('${publish}', ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return 1
`;

/** Renews (lease ms > 0) or gives up (0) the lease if this node holds it; returns 1 if it did. KEYS: lease. ARGV: node id, lease ms. */
const leaseScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1
`;

type BrokerCommands = {
  lcPublish(seqKey: string, ringKey: string, leaseKey: string, channel: string, head: string, frame: Buffer, ringSize: number, nodeId: string): Promise<number>;
  lcAcquire(leaseKey: string, seqKey: string, nodeId: string, leaseMs: number): Promise<number>;
  lcAppend(seqKey: string, ringKey: string, leaseKey: string, channel: string, message: Buffer, ringSize: number, nodeId: string, seq: number, leaseMs: number): Promise<number>;
  lcLease(leaseKey: string, nodeId: string, leaseMs: number): Promise<number>;
};

/** A room this node sequences itself while it holds the room's lease in Redis. */
interface Lease {
  /** The last seq issued here. */
  issued: number;
  /** The last seq Redis's log confirmed. */
  confirmed: number;
  /** When the last call Redis confirmed the lease with was sent. */
  confirmedAt: number;
  lost: boolean;
}

const laneCode: Record<Lane, string> = { commerce: 'c', chatter: 'x' };
const laneOfCode = (code: number): Lane => (code === 0x63 ? 'commerce' : 'chatter');

export interface RedisBrokerOptions {
  /** A redis:// URL (one server) or a target (one server or a cluster's seeds). */
  readonly url: string | RedisTarget;
  readonly prefix: string;
  readonly ringSize: number;
  readonly retryAfterMs: number;
  /**
   * A node hosting a room takes the room's sequencer lease when nobody holds it (as it starts
   * hosting the room, or later as it publishes there, after a cooldown), and while it holds
   * it issues the room's seqs itself: its own sockets get an event in the turn that made it, and the
   * log append follows (fenced on the lease). Other nodes' publishes ask it to let go first.
   * 0 (default) = off: every seq comes from Redis.
   */
  readonly sequencerLeaseMs?: number;
}

/** How long (in leases) a node waits before it takes a room's lease again after it let go of it or was refused it by a holder. */
const LEASE_COOLDOWN_LEASES = 10;

/**
 * Cross-node fan-out over Redis pub/sub, one channel per room. A node subscribes only to the rooms
 * it has members in (unlike Socket.IO's adapter, which sends everything to every node). On Redis
 * Cluster the channels are sharded (SPUBLISH/SSUBSCRIBE): a room's messages stay on the shard that
 * owns the room's slot instead of being broadcast to every shard.
 *
 * Messages on a room channel: "q" lane frame (sequenced), "s" lane frame (state update),
 * "d" len(2) userId frame (direct), "k" until(8) userId (kick), "r" nodeId (let go of the lease),
 * "o" settings JSON (an operator changed the room's settings), "m" (the room's media origin changed),
 * "f" filter JSON (a moderator changed the room's keyword filter).
 */
export class RedisBroker implements Broker {
  readonly #publisher: RedisConnection & BrokerCommands;
  readonly #subscriber: RedisConnection;
  readonly #options: RedisBrokerOptions;
  /** Sharded pub/sub (a cluster) or the classic kind (one Redis, any version). */
  readonly #sharded: boolean;
  readonly #subscribed = new Set<string>();
  #handler: ((delivery: Delivery) => void) | undefined;
  readonly #nodeId = randomBytes(9).toString('base64url');
  readonly #leaseMs: number;
  readonly #leases = new Map<string, Lease>();
  readonly #acquiring = new Set<string>();
  /** Publishes through Redis's INCR still waiting for their reply, per room: no local seq until they are back. */
  readonly #viaRedis = new Map<string, number>();
  /** Rooms another node wants to publish in: no lease here before this time. */
  readonly #cooldownUntil = new Map<string, number>();
  #renewTimer: NodeJS.Timeout | undefined;
  readonly #counts = { sequencedLocally: 0, leasesReleased: 0, resets: 0 };
  #reconnectHandler: (() => void) | undefined;
  #wasReady = false;

  /** `publisher` is the node's connection for room events (shared with the room directory, closed here); the broker opens its own subscriber. */
  constructor(publisher: RedisConnection, options: RedisBrokerOptions) {
    const target = typeof options.url === 'string' ? redisTarget(options.url) : options.url;
    this.#sharded = target.cluster;
    const publish = this.#sharded ? 'SPUBLISH' : 'PUBLISH';
    publisher.defineCommand('lcPublish', { numberOfKeys: 3, lua: publishScript(publish) });
    publisher.defineCommand('lcAcquire', { numberOfKeys: 2, lua: acquireScript });
    publisher.defineCommand('lcAppend', { numberOfKeys: 3, lua: appendScript(publish) });
    publisher.defineCommand('lcLease', { numberOfKeys: 1, lua: leaseScript });
    this.#leaseMs = options.sequencerLeaseMs ?? 0;
    if (this.#leaseMs > 0) this.#renewTimer = setInterval(() => this.#renewLeases(), this.#leaseMs / 3).unref();
    this.#publisher = publisher as RedisConnection & BrokerCommands;
    this.#options = options;
    this.#subscriber = createSubscriber(target);
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('ready', () => {
      // ioredis resubscribes by itself; what was published meanwhile must be refilled from the rings.
      if (this.#wasReady) this.#reconnectHandler?.();
      this.#wasReady = true;
    });
    this.#subscriber.on(this.#sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
  }

  get sequencerStats(): SequencerStats {
    return { leasesHeld: this.#leases.size, ...this.#counts };
  }

  /** Whether this node issues the room's seqs itself now (its publish delivers here before it returns). */
  sequencesLocally(roomId: string): boolean {
    const lease = this.#leases.get(roomId);
    // Only while Redis answers: an event delivered here whose append then fails resets the room's
    // sockets, so with Redis away (or a lease maybe run out) publishes take Redis's path and fail
    // alone, as without a lease.
    return lease !== undefined && this.#publisher.status === 'ready' && this.#subscriber.status === 'ready' && Date.now() - lease.confirmedAt < this.#leaseMs / 2
      && (this.#viaRedis.get(roomId) ?? 0) === 0 && this.#subscribed.has(roomId) && this.#handler !== undefined;
  }

  async publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number> {
    if (this.sequencesLocally(roomId)) return this.#publishLocally(this.#leases.get(roomId)!, roomId, lane, frame, event);
    this.#viaRedis.set(roomId, (this.#viaRedis.get(roomId) ?? 0) + 1);
    let seq: number;
    try {
      seq = await this.#publishViaRedis(roomId, lane, frame);
    } finally {
      const left = this.#viaRedis.get(roomId)! - 1;
      if (left === 0) this.#viaRedis.delete(roomId);
      else this.#viaRedis.set(roomId, left);
    }
    // Sent after the lease was taken (Redis runs one connection's calls in order): the lease goes on from it.
    const lease = this.#leases.get(roomId);
    if (lease !== undefined && seq > lease.issued) lease.issued = lease.confirmed = seq;
    // A node that publishes in a room takes its lease when it is free (and not cooling down): nodes
    // that only host the room leave it to those that publish.
    else if (lease === undefined && this.#subscribed.has(roomId)) void this.#acquire(roomId);
    // The reply and the pub/sub copy are written by Redis together but often read in different
    // loop turns (each turn is 10-30 ms under load): deliver at whichever comes first.
    if (this.#subscribed.has(roomId) && this.#handler !== undefined) {
      stampSeq(frame, seq);
      this.#handler({ kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent, early: true });
    }
    return seq;
  }

  async #publishViaRedis(roomId: string, lane: Lane, frame: Uint8Array): Promise<number> {
    // Another node holds the lease: it lets go within a round trip, or it is gone and its lease
    // runs out. Until then, retry with backoff.
    const giveUpAt = Date.now() + this.#leaseMs + this.#options.retryAfterMs;
    for (let delayMs = 2; ; delayMs = Math.min(delayMs * 2, 50)) {
      const seq = await redisCall(
        () => this.#publisher.lcPublish(this.#key('seq', roomId), this.#key('ring', roomId), this.#key('lease', roomId), this.#channel(roomId), `q${laneCode[lane]}`, Buffer.from(frame), this.#options.ringSize, this.#nodeId),
        this.#options.retryAfterMs,
        'broker',
      );
      if (seq >= 0) return seq;
      // Shared with another node for now: do not take the lease back at once.
      this.#coolDown(roomId, LEASE_COOLDOWN_LEASES * this.#leaseMs);
      if (Date.now() > giveUpAt) throw new DomainError('UNAVAILABLE', 'the room\'s sequencer lease is held by an unresponsive node', { retryAfterMs: this.#options.retryAfterMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /**
   * Delivers here at once, then appends to the log. The promise settles with the append, so what
   * the caller acknowledges is in the log; if the append fails, this node's sockets may have seen
   * events the log does not hold, and the room is reset (`Delivery` kind 'reset').
   */
  async #publishLocally(lease: Lease, roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number> {
    const seq = ++lease.issued;
    this.#counts.sequencedLocally++;
    stampSeq(frame, seq);
    // The seq is spent: whatever the handler does, the append must follow, or the next one is fenced off.
    let handlerError: unknown;
    try {
      this.#handler!({ kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent, early: true });
    } catch (error) {
      handlerError = error;
    }
    let appended = 0;
    const sentAt = Date.now();
    try {
      appended = await redisCall(
        () => this.#publisher.lcAppend(this.#key('seq', roomId), this.#key('ring', roomId), this.#key('lease', roomId), this.#channel(roomId), Buffer.concat([Buffer.from(`q${laneCode[lane]}`), frame]), this.#options.ringSize, this.#nodeId, seq, this.#leaseMs),
        this.#options.retryAfterMs,
        'broker',
      );
    } finally {
      if (appended !== 1) this.#loseLease(roomId, lease);
    }
    if (appended !== 1) throw new DomainError('UNAVAILABLE', 'this node lost the room\'s sequencer lease; retry', { retryAfterMs: this.#options.retryAfterMs });
    lease.confirmed = Math.max(lease.confirmed, seq);
    lease.confirmedAt = Math.max(lease.confirmedAt, sentAt);
    if (handlerError !== undefined) throw handlerError;
    return seq;
  }

  /** An append failed: what this node delivered past the log's last confirmed seq may be no one else's history. */
  #loseLease(roomId: string, lease: Lease): void {
    if (lease.lost) return;
    lease.lost = true;
    if (this.#leases.get(roomId) === lease) this.#leases.delete(roomId);
    this.#coolDown(roomId, LEASE_COOLDOWN_LEASES * this.#leaseMs);
    // After the failed publish's answer went out: its sender hears UNAVAILABLE before its socket closes.
    if (lease.issued > lease.confirmed) {
      this.#counts.resets++;
      setImmediate(() => this.#handler?.({ kind: 'reset', roomId, fromSeq: lease.confirmed + 1 }));
    }
  }

  async #acquire(roomId: string): Promise<void> {
    if (this.#leaseMs <= 0 || this.#leases.has(roomId) || this.#acquiring.has(roomId)) return;
    if ((this.#cooldownUntil.get(roomId) ?? 0) > Date.now()) return;
    this.#acquiring.add(roomId);
    const sentAt = Date.now();
    try {
      const latest = await this.#publisher.lcAcquire(this.#key('lease', roomId), this.#key('seq', roomId), this.#nodeId, this.#leaseMs);
      if (latest < 0) {
        // Held elsewhere: ask again a lease later at the earliest, not at every publish.
        this.#coolDown(roomId, this.#leaseMs);
        return;
      }
      if (!this.#subscribed.has(roomId)) {
        await this.#release(roomId);
        return;
      }
      this.#cooldownUntil.delete(roomId);
      this.#leases.set(roomId, { issued: latest, confirmed: latest, confirmedAt: sentAt, lost: false });
    } catch {
      // Redis is away: the room goes on through Redis's seqs; the next host or renewal tick tries again.
    } finally {
      this.#acquiring.delete(roomId);
    }
  }

  /** Only for rooms hosted here (unsubscribe clears it): a node publishing in rooms it does not host keeps no entries. */
  #coolDown(roomId: string, ms: number): void {
    if (this.#subscribed.has(roomId)) this.#cooldownUntil.set(roomId, Date.now() + ms);
  }

  /** Gives the lease up: sent on the same connection after this node's appends, so they land first. */
  async #release(roomId: string): Promise<void> {
    this.#leases.delete(roomId);
    await this.#publisher.lcLease(this.#key('lease', roomId), this.#nodeId, 0).catch(() => undefined);
  }

  #renewLeases(): void {
    // A holder that cannot hear other nodes' "let go" (its subscriber is reconnecting) must not keep
    // the lease: they could not publish in its rooms until it came back.
    if (this.#subscriber.status !== 'ready') {
      for (const roomId of [...this.#leases.keys()]) void this.#release(roomId);
      return;
    }
    const sentAt = Date.now();
    for (const [roomId, lease] of this.#leases) {
      this.#publisher.lcLease(this.#key('lease', roomId), this.#nodeId, this.#leaseMs).then(
        (held) => {
          if (held === 1) lease.confirmedAt = Math.max(lease.confirmedAt, sentAt);
          else if (this.#leases.get(roomId) === lease) this.#loseLease(roomId, lease);
        },
        () => undefined, // the next append or tick tells
      );
    }
  }

  publishState(roomId: string, lane: Lane, frame: Uint8Array, _update: StateUpdate): void {
    this.#fireAndForget(roomId, Buffer.concat([Buffer.from(`s${laneCode[lane]}`), frame]));
  }

  publishDirect(roomId: string, userId: string, frame: Uint8Array): void {
    const user = Buffer.from(userId);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(user.length);
    this.#fireAndForget(roomId, Buffer.concat([Buffer.from('d'), length, user, frame]));
  }

  async publishKick(roomId: string, userId: string, until: number): Promise<void> {
    const head = Buffer.alloc(9);
    head.write('k');
    head.writeDoubleBE(until, 1);
    await redisCall(() => this.#publish(this.#channel(roomId), Buffer.concat([head, Buffer.from(userId)])), this.#options.retryAfterMs, 'broker');
  }

  async publishSettings(roomId: string, settings: RoomSettings): Promise<void> {
    await redisCall(() => this.#publish(this.#channel(roomId), Buffer.from(`o${JSON.stringify(settings)}`)), this.#options.retryAfterMs, 'broker');
  }

  async publishFilter(roomId: string, filter: KeywordFilter): Promise<void> {
    await redisCall(() => this.#publish(this.#channel(roomId), Buffer.from(`f${JSON.stringify(filter)}`)), this.#options.retryAfterMs, 'broker');
  }

  publishMedia(roomId: string): void {
    this.#fireAndForget(roomId, Buffer.from('m-'));
  }

  async subscribe(roomId: string): Promise<void> {
    if (this.#subscribed.has(roomId)) return;
    const channel = this.#channel(roomId);
    await redisCall(() => (this.#sharded ? this.#subscriber.ssubscribe(channel) : this.#subscriber.subscribe(channel)), this.#options.retryAfterMs, 'broker');
    this.#subscribed.add(roomId);
    void this.#acquire(roomId);
  }

  async unsubscribe(roomId: string): Promise<void> {
    if (!this.#subscribed.delete(roomId)) return;
    this.#cooldownUntil.delete(roomId);
    if (this.#leases.has(roomId)) void this.#release(roomId);
    const channel = this.#channel(roomId);
    await redisCall(() => (this.#sharded ? this.#subscriber.sunsubscribe(channel) : this.#subscriber.unsubscribe(channel)), this.#options.retryAfterMs, 'broker');
  }

  async recent(roomId: string): Promise<RecentEvents> {
    const results = await redisCall(
      () => this.#publisher.multi().get(this.#key('seq', roomId)).lrangeBuffer(this.#key('ring', roomId), 0, -1).exec(),
      this.#options.retryAfterMs,
      'broker',
    );
    const latestSeq = Number(results?.[0]?.[1] ?? 0);
    const events = ((results?.[1]?.[1] as Buffer[] | undefined) ?? []).map((message) => this.#sequenced(roomId, message));
    return { latestSeq, events };
  }

  onDelivery(handler: (delivery: Delivery) => void): void {
    this.#handler = handler;
  }

  onReconnect(handler: () => void): void {
    this.#reconnectHandler = handler;
  }

  async close(): Promise<void> {
    clearInterval(this.#renewTimer);
    // Let go of the leases, so other nodes need not wait for them to run out (bounded: Redis may be away).
    const releases = Promise.all([...this.#leases.keys()].map((roomId) => this.#release(roomId)));
    await Promise.race([releases, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }

  #onMessage(channel: Buffer, message: Buffer): void {
    const roomId = roomOfChannel(this.#options.prefix, channel.toString('utf8'));
    if (roomId === undefined || !this.#subscribed.has(roomId) || message.length < 2) return;
    const handler = this.#handler;
    if (handler === undefined) return;
    switch (message[0]) {
      case 0x71: // q
        handler(this.#sequenced(roomId, message));
        break;
      case 0x73: { // s
        const frame = message.subarray(2);
        handler({ kind: 'state', roomId, lane: laneOfCode(message[1]!), frame, update: decode(frame) as StateUpdate });
        break;
      }
      case 0x64: { // d
        const length = message.readUInt16BE(1);
        handler({ kind: 'direct', roomId, userId: message.toString('utf8', 3, 3 + length), frame: message.subarray(3 + length) });
        break;
      }
      case 0x6b: // k
        handler({ kind: 'kick', roomId, until: message.readDoubleBE(1), userId: message.toString('utf8', 9) });
        break;
      case 0x6f: { // o
        const settings = parseSettings(message.toString('utf8', 1));
        if (settings !== undefined) handler({ kind: 'settings', roomId, settings });
        break;
      }
      case 0x66: { // f
        const filter = parseFilter(message.toString('utf8', 1));
        if (filter !== undefined) handler({ kind: 'filter', roomId, filter });
        break;
      }
      case 0x6d: // m
        handler({ kind: 'media', roomId });
        break;
      case 0x72: // r: another node wants to publish in a room whose lease this node may hold
        if (message.toString('utf8', 1) !== this.#nodeId && this.#leases.has(roomId)) {
          this.#coolDown(roomId, LEASE_COOLDOWN_LEASES * this.#leaseMs);
          this.#counts.leasesReleased++;
          void this.#release(roomId);
        }
        break;
    }
  }

  #sequenced(roomId: string, message: Buffer): SequencedDelivery {
    const frame = message.subarray(2);
    return { kind: 'sequenced', roomId, lane: laneOfCode(message[1]!), seq: readSeq(frame), frame, event: decode(frame) as SequencedEvent };
  }

  #fireAndForget(roomId: string, message: Buffer): void {
    // Latest-value updates: a lost one is replaced by the next; never block or throw for them.
    this.#publish(this.#channel(roomId), message).catch(() => undefined);
  }

  #publish(channel: string, message: Buffer): Promise<unknown> {
    return this.#sharded ? this.#publisher.spublish(channel, message) : this.#publisher.publish(channel, message);
  }

  #channel(roomId: string): string {
    return roomChannel(this.#options.prefix, roomId);
  }

  #key(kind: string, roomId: string): string {
    return roomKey(this.#options.prefix, roomId, kind);
  }
}

/** Settings another node published (perhaps another version of livecart): taken only if they read as settings. */
function parseSettings(json: string): RoomSettings | undefined {
  try {
    const settings = JSON.parse(json) as Partial<RoomSettings> | null;
    const level = settings?.degradeOverride;
    const limit = settings?.queueLimit;
    if (typeof settings?.version !== 'number' || !(level === null || level === 0 || level === 1 || level === 2 || level === 3) || !(limit === null || (Number.isInteger(limit) && limit! >= 0))) return undefined;
    return { version: settings.version, degradeOverride: level, queueLimit: limit ?? null };
  } catch {
    return undefined;
  }
}

/** A filter another node published: taken only if it reads as one. */
function parseFilter(json: string): KeywordFilter | undefined {
  try {
    const filter = JSON.parse(json) as Partial<KeywordFilter> | null;
    if (typeof filter?.version !== 'number' || !Array.isArray(filter.words) || !filter.words.every((w) => typeof w === 'string')) return undefined;
    return { version: filter.version, words: filter.words };
  } catch {
    return undefined;
  }
}
