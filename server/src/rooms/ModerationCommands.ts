import type { Moderator, ModerationState, PinnedComment } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import type { Broker } from '../broker/Broker.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import { characterCount } from '../../../protocol/src/index.ts';
import { cleanFilterWords } from './CommentFilter.ts';
import type { Room } from './Room.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import { mustModerate, mustModerateChat, ownsRoom } from './RoomRules.ts';

export type ModerationConfig = Pick<Config, 'maxModeratorsPerRoom' | 'maxFilterWords' | 'filterWordMaxLength'>;

/**
 * A room's moderators, keyword filter and pinned comment (see protocol/src/moderation.ts). As every
 * room command: check who asks, write the directory, then tell the nodes (a sequenced event, or
 * for the filter, whose words only moderators see, the broker's `filter` delivery).
 */
export class ModerationCommands {
  readonly #config: ModerationConfig;
  readonly #registry: RoomRegistry;
  readonly #directory: RoomDirectory;
  readonly #broker: Pick<Broker, 'publishFilter'>;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: { config: ModerationConfig; registry: RoomRegistry; directory: RoomDirectory; broker: Pick<Broker, 'publishFilter'>; log: Logger; now?: () => number }) {
    this.#config = deps.config;
    this.#registry = deps.registry;
    this.#directory = deps.directory;
    this.#broker = deps.broker;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /** The room's moderation, for its moderators. */
  async state(principal: Principal, roomId: string): Promise<ModerationState> {
    const room = await this.#registry.view(roomId);
    mustModerateChat(principal, room);
    return { moderators: [...room.moderators], filterWords: [...room.filter.words], maxFilterWords: this.#config.maxFilterWords, pinnedComment: room.pinnedComment };
  }

  /** The streamer (or an operator) appoints or removes a moderator; resolves with the moderators now. */
  async setModerator(principal: Principal, roomId: string, userId: string, appointed: boolean): Promise<Moderator[]> {
    const room = await this.#registry.view(roomId);
    mustModerate(principal, room);
    if (appointed && userId === room.info.streamerId) throw new ProtocolError('BAD_REQUEST', 'the streamer moderates their room already');
    if (room.isModerator(userId) === appointed) return [...room.moderators];
    const moderator = { userId, name: room.nameOf(userId) ?? userId };
    const result = await this.#directory.setModerator(roomId, moderator, appointed, this.#config.maxModeratorsPerRoom);
    if (result === 'full') throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxModeratorsPerRoom} moderators per room`);
    this.#registry.forgetView(roomId);
    await this.#registry.emit(roomId, { t: 'moderators', moderators: [...result] });
    this.#log.info({ roomId, userId, appointed, by: principal.userId }, 'moderator changed');
    return [...result];
  }

  /** Replaces the room's keyword filter; resolves with the words kept. */
  async setFilter(principal: Principal, roomId: string, words: readonly string[]): Promise<string[]> {
    const room = await this.#registry.view(roomId);
    mustModerateChat(principal, room);
    const kept = cleanFilterWords(words);
    if (kept.length > this.#config.maxFilterWords) throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxFilterWords} filter words per room`);
    const long = kept.find((word) => characterCount(word) > this.#config.filterWordMaxLength);
    if (long !== undefined) throw new ProtocolError('BAD_REQUEST', `filter words are at most ${this.#config.filterWordMaxLength} characters`);
    const filter = await this.#directory.setFilter(roomId, kept);
    this.#registry.takeFilter(roomId, filter);
    await this.#broker.publishFilter(roomId, filter);
    this.#log.info({ roomId, words: kept.length, by: principal.userId }, 'keyword filter set');
    return kept;
  }

  /** Pins one of the room's recent comments; resolves with the event's seq. */
  async pinComment(principal: Principal, room: Room, seq: number): Promise<number> {
    mustModerateChat(principal, room);
    const comment = room.comment(seq);
    if (comment === undefined) throw new ProtocolError('COMMENT_NOT_FOUND', `no recent comment with seq ${seq}`);
    const pinned: PinnedComment = { ...comment, pinnedAt: this.#now(), pinnedBy: principal.userId };
    await this.#directory.setPinnedComment(room.id, pinned);
    return this.#registry.emit(room.id, { t: 'commentPinned', pinned });
  }

  /** Clears the pinned comment (when it is `onlySeq`, if given); resolves with the event's seq, or the room's latest when nothing was pinned. */
  async unpinComment(principal: Principal, room: Room, onlySeq?: number): Promise<number> {
    mustModerateChat(principal, room);
    if (room.pinnedComment === null || (onlySeq !== undefined && room.pinnedComment.seq !== onlySeq)) return room.latestSeq;
    await this.#directory.setPinnedComment(room.id, null);
    return this.#registry.emit(room.id, { t: 'commentPinned', pinned: null });
  }

  /**
   * A moderator (not the streamer or an operator) may not mute or kick the streamer or another
   * moderator: the room's owner decides about its moderators.
   */
  mustActOn(principal: Principal, room: Room, userId: string): void {
    if (ownsRoom(principal, room)) return;
    if (userId === room.info.streamerId || room.isModerator(userId)) throw new ProtocolError('FORBIDDEN', 'moderators cannot act on the streamer or another moderator');
  }
}
