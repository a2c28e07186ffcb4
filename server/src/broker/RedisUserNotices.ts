import { globalKey } from '../redis/keys.ts';
import { createSubscriber, type RedisConnection, type RedisTarget } from '../redis/client.ts';
import { redisCall } from '../redis/redisCall.ts';
import type { UserNotices } from './UserNotices.ts';

/**
 * Notices over one Redis pub/sub channel every node subscribes to, `ns:ch:{users}`. On Redis
 * Cluster it is a sharded channel (SPUBLISH/SSUBSCRIBE, as the room channels are): the hash tag
 * keeps it on one shard. A message is: count(2) then, per user, length(2) and the id's UTF-8 bytes,
 * then the frame.
 */
export class RedisUserNotices implements UserNotices {
  readonly #publisher: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #channel: string;
  readonly #sharded: boolean;
  readonly #retryAfterMs: number;
  #handler: ((userIds: readonly string[], frame: Uint8Array) => void) | undefined;

  /** `publisher` is the node's connection for room state (not closed here); a subscriber of its own is opened. */
  constructor(publisher: RedisConnection, options: { target: RedisTarget; prefix: string; retryAfterMs: number }) {
    this.#publisher = publisher;
    this.#sharded = options.target.cluster;
    this.#channel = globalKey(options.prefix, 'ch:{users}');
    this.#retryAfterMs = options.retryAfterMs;
    this.#subscriber = createSubscriber(options.target);
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on(this.#sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString('utf8') === this.#channel) this.#onMessage(message);
    });
  }

  async start(): Promise<void> {
    await redisCall(() => (this.#sharded ? this.#subscriber.ssubscribe(this.#channel) : this.#subscriber.subscribe(this.#channel)), this.#retryAfterMs, 'user notices');
  }

  async publish(userIds: readonly string[], frame: Uint8Array): Promise<void> {
    const parts: Buffer[] = [Buffer.alloc(2)];
    parts[0]!.writeUInt16BE(userIds.length);
    for (const userId of userIds) {
      const id = Buffer.from(userId);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(id.length);
      parts.push(length, id);
    }
    parts.push(Buffer.from(frame));
    const message = Buffer.concat(parts);
    await redisCall(() => (this.#sharded ? this.#publisher.spublish(this.#channel, message) : this.#publisher.publish(this.#channel, message)), this.#retryAfterMs, 'user notices');
  }

  onNotice(handler: (userIds: readonly string[], frame: Uint8Array) => void): void {
    this.#handler = handler;
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
  }

  #onMessage(message: Buffer): void {
    if (this.#handler === undefined || message.length < 2) return;
    const count = message.readUInt16BE(0);
    const userIds: string[] = [];
    let at = 2;
    for (let i = 0; i < count; i++) {
      if (at + 2 > message.length) return;
      const length = message.readUInt16BE(at);
      at += 2;
      if (at + length > message.length) return;
      userIds.push(message.toString('utf8', at, at + length));
      at += length;
    }
    this.#handler(userIds, message.subarray(at));
  }
}
