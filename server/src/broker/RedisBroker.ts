import { Redis } from 'ioredis';
import { decode, type Lane, readSeq, stampSeq, type SequencedEvent, type StateUpdate, type UnsequencedEvent } from '../../../protocol/src/index.ts';
import { redisCall } from '../store/redisCall.ts';
import type { Broker, Delivery, RecentEvents, SequencedDelivery } from './Broker.ts';

/**
 * Issues the room's seq, stamps it into the frame at bytes 7..10 (SEQ_OFFSET 6, 0-based), keeps the
 * message in the room's ring list and publishes it, all atomically: publish order is seq order.
 * KEYS: seq counter, ring list. ARGV: channel, message head ("q" + lane), frame, ring size.
 */
const publishScript = `
local seq = redis.call('INCR', KEYS[1])
local frame = ARGV[3]
local msg = ARGV[2] .. string.sub(frame, 1, 6) .. struct.pack('>I4', seq) .. string.sub(frame, 11)
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('PUBLISH', ARGV[1], msg)
return seq
`;

type BrokerCommands = { lcPublish(seqKey: string, ringKey: string, channel: string, head: string, frame: Buffer, ringSize: number): Promise<number> };

const laneCode: Record<Lane, string> = { commerce: 'c', chatter: 'x' };
const laneOfCode = (code: number): Lane => (code === 0x63 ? 'commerce' : 'chatter');

export interface RedisBrokerOptions {
  readonly url: string;
  readonly prefix: string;
  readonly ringSize: number;
  readonly retryAfterMs: number;
}

/**
 * Cross-node fan-out over Redis pub/sub, one channel per room. A node subscribes only to the rooms
 * it has members in (unlike Socket.IO's adapter, which sends everything to every node).
 *
 * Messages on a room channel: "q" lane frame (sequenced), "s" lane frame (state update),
 * "d" len(2) userId frame (direct), "k" until(8) userId (kick).
 */
export class RedisBroker implements Broker {
  readonly #publisher: Redis & BrokerCommands;
  readonly #subscriber: Redis;
  readonly #options: RedisBrokerOptions;
  readonly #channelPrefix: string;
  readonly #subscribed = new Set<string>();
  #handler: ((delivery: Delivery) => void) | undefined;
  #reconnectHandler: (() => void) | undefined;
  #wasReady = false;

  /** `publisher` is the node's connection for room events (shared with the room directory, closed here); the broker opens its own subscriber. */
  constructor(publisher: Redis, options: RedisBrokerOptions) {
    publisher.defineCommand('lcPublish', { numberOfKeys: 2, lua: publishScript });
    this.#publisher = publisher as Redis & BrokerCommands;
    this.#options = options;
    this.#channelPrefix = `${options.prefix}:ch:`;
    this.#subscriber = new Redis(options.url, { retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000), maxRetriesPerRequest: 0 });
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('ready', () => {
      // ioredis resubscribes by itself; what was published meanwhile must be refilled from the rings.
      if (this.#wasReady) this.#reconnectHandler?.();
      this.#wasReady = true;
    });
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
  }

  async publishSequenced(roomId: string, lane: Lane, frame: Uint8Array, event: UnsequencedEvent): Promise<number> {
    const seq = await redisCall(
      () => this.#publisher.lcPublish(this.#key('seq', roomId), this.#key('ring', roomId), this.#channel(roomId), `q${laneCode[lane]}`, Buffer.from(frame), this.#options.ringSize),
      this.#options.retryAfterMs,
      'broker',
    );
    // The reply and the pub/sub copy are written by Redis together but often read in different
    // loop turns (each turn is 10-30 ms under load): deliver at whichever comes first.
    if (this.#subscribed.has(roomId) && this.#handler !== undefined) {
      stampSeq(frame, seq);
      this.#handler({ kind: 'sequenced', roomId, lane, seq, frame, event: { ...event, seq } as SequencedEvent, early: true });
    }
    return seq;
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
    await redisCall(() => this.#publisher.publish(this.#channel(roomId), Buffer.concat([head, Buffer.from(userId)])), this.#options.retryAfterMs, 'broker');
  }

  async subscribe(roomId: string): Promise<void> {
    if (this.#subscribed.has(roomId)) return;
    await redisCall(() => this.#subscriber.subscribe(this.#channel(roomId)), this.#options.retryAfterMs, 'broker');
    this.#subscribed.add(roomId);
  }

  async unsubscribe(roomId: string): Promise<void> {
    if (!this.#subscribed.delete(roomId)) return;
    await redisCall(() => this.#subscriber.unsubscribe(this.#channel(roomId)), this.#options.retryAfterMs, 'broker');
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
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }

  #onMessage(channel: Buffer, message: Buffer): void {
    const roomId = channel.toString('utf8', Buffer.byteLength(this.#channelPrefix));
    if (!this.#subscribed.has(roomId) || message.length < 2) return;
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
    }
  }

  #sequenced(roomId: string, message: Buffer): SequencedDelivery {
    const frame = message.subarray(2);
    return { kind: 'sequenced', roomId, lane: laneOfCode(message[1]!), seq: readSeq(frame), frame, event: decode(frame) as SequencedEvent };
  }

  #fireAndForget(roomId: string, message: Buffer): void {
    // Latest-value updates: a lost one is replaced by the next; never block or throw for them.
    this.#publisher.publish(this.#channel(roomId), message).catch(() => undefined);
  }

  #channel(roomId: string): string {
    return this.#channelPrefix + roomId;
  }

  #key(kind: string, roomId: string): string {
    return `${this.#options.prefix}:${kind}:${roomId}`;
  }
}
