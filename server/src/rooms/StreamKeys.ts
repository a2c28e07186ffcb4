import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RoomInfo } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { ProtocolError } from '../errors.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';

/** What stream keys need of the rooms: who owns a room, and who may manage it. */
export interface StreamKeyRooms {
  roomInfo(roomId: string): Promise<RoomInfo>;
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
}

const PREFIX = 'sk_';

/**
 * A room's stream key: the secret an encoder (OBS and the like) publishes with instead of a token,
 * as WHIP's bearer token or RTMP's stream key. It is derived from the server's secret, the room and
 * the room's key generation (kept in the room directory), so nothing secret is stored, every node
 * with the same secret agrees on it, and a rotation (a new generation) ends the old key everywhere
 * at once. Keys never go to the log.
 */
export class StreamKeys {
  readonly #secret: Buffer;
  readonly #directory: Pick<RoomDirectory, 'streamKeyGeneration' | 'rotateStreamKey'>;
  readonly #rooms: StreamKeyRooms;

  /** `secret`: the server's token secret; unset (dev mode) = a random one, so keys die with the process, like tokens. */
  constructor(deps: { secret: string | undefined; directory: Pick<RoomDirectory, 'streamKeyGeneration' | 'rotateStreamKey'>; rooms: StreamKeyRooms }) {
    // A key of its own, derived once: a stream key never reveals anything about the token key.
    this.#secret = createHmac('sha256', deps.secret ?? randomBytes(32)).update('livecart stream keys').digest();
    this.#directory = deps.directory;
    this.#rooms = deps.rooms;
  }

  /** The room's current key, for its streamer or an operator. */
  async keyFor(principal: Principal, roomId: string): Promise<string> {
    await this.#mustManage(principal, roomId);
    const generation = await this.#directory.streamKeyGeneration(roomId);
    if (generation === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return this.#derive(roomId, generation);
  }

  /** A new key for the room (the old one stops working for new streams); for its streamer or an operator. */
  async rotate(principal: Principal, roomId: string): Promise<string> {
    await this.#mustManage(principal, roomId);
    const generation = await this.#directory.rotateStreamKey(roomId);
    if (generation === undefined) throw new ProtocolError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return this.#derive(roomId, generation);
  }

  /** Whether `candidate` looks like a stream key at all (a token does not). */
  static looksLikeKey(candidate: string): boolean {
    return candidate.startsWith(PREFIX);
  }

  /**
   * The room's streamer, when `key` is the room's current stream key: the encoder publishes with
   * the streamer's rights in that room only. UNAUTHORIZED otherwise (no such room reads the same,
   * so a key cannot probe for rooms).
   */
  async publisherOf(roomId: string, key: string): Promise<Principal> {
    const generation = await this.#directory.streamKeyGeneration(roomId);
    const expected = Buffer.from(this.#derive(roomId, generation ?? 0));
    const given = Buffer.from(key);
    if (generation === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ProtocolError('UNAUTHORIZED', 'wrong stream key for this room');
    }
    const info = await this.#rooms.roomInfo(roomId);
    return { userId: info.streamerId, name: 'encoder', role: 'streamer' };
  }

  #derive(roomId: string, generation: number): string {
    return PREFIX + createHmac('sha256', this.#secret).update(`${roomId}\n${generation}`).digest('base64url');
  }

  async #mustManage(principal: Principal, roomId: string): Promise<void> {
    if (await this.#rooms.canModerate(principal, roomId)) return;
    await this.#rooms.roomInfo(roomId); // ROOM_NOT_FOUND first, when that is why
    throw new ProtocolError('FORBIDDEN', 'only the room\'s streamer or an operator can see or change its stream key');
  }
}
