import type { Moderator, PinnedComment, Popup, Product, RoomInfo, RoomSettings, RoomState } from '../../../protocol/src/index.ts';

export type { RoomSettings };

/** Everything a node needs to start hosting a room, besides its recent events. */
export interface RoomRecord {
  readonly info: RoomInfo;
  /** Shared by every node, so a client may resume on any node that holds the events. */
  readonly epoch: string;
  readonly catalog: readonly Product[];
  readonly popup: Popup | null;
  readonly muted: readonly string[];
  /** userId → epoch ms until which the user may not rejoin. */
  readonly bans: Readonly<Record<string, number>>;
  readonly likes: number;
  /**
   * sku → epoch ms when its pop-up offer ends: set by pinning it with a countdown, cleared by
   * pinning it without one. Adds of the sku after that moment answer `not_on_sale`.
   */
  readonly offerEnds: Readonly<Record<string, number>>;
  /** What operators set for the room (degrade override, queue limit), in force on every node. */
  readonly settings: RoomSettings;
  /** Moderators, keyword filter and pinned comment. */
  readonly moderation: RoomModeration;
}

/** A room's moderation as the directory keeps it. */
export interface RoomModeration {
  /** In the order they were appointed. */
  readonly moderators: readonly Moderator[];
  /** The keyword filter, as set; `version` grows with every change (0: never set). */
  readonly filter: KeywordFilterRecord;
  readonly pinnedComment: PinnedComment | null;
}

export interface KeywordFilterRecord {
  readonly version: number;
  readonly words: readonly string[];
}

export const NO_MODERATION: RoomModeration = Object.freeze({ moderators: [], filter: Object.freeze({ version: 0, words: [] }), pinnedComment: null });

/** A room's settings before any operator set them. */
export const NO_ROOM_SETTINGS: RoomSettings = Object.freeze({ version: 0, degradeOverride: null, queueLimit: null });

/** The fields of an operator's change; the others keep their values. */
export type RoomSettingsChange = Partial<Pick<RoomSettings, 'degradeOverride' | 'queueLimit'>>;

/** A product pinned in a room, and when. */
export interface PinRecord {
  readonly sku: string;
  /** The pin's `pinnedAt` (epoch ms). */
  readonly at: number;
}

/** A user kept out of a room, as its moderators see it. */
export interface Ban {
  readonly userId: string;
  /** The name the user had when kicked (their id when the server did not know it). */
  readonly name: string;
  readonly until: number;
}

/**
 * The durable, shared state of rooms (memory on one node, Redis across nodes). Commands write here
 * first, then publish their event; a node that starts hosting a room reads its record here, so its
 * view is never older than the events it will receive next.
 */
export interface RoomDirectory {
  /** Creates the room unless the id is taken or `maxRooms` exist. */
  create(info: RoomInfo, epoch: string, maxRooms: number): Promise<'created' | 'exists' | 'full'>;
  get(roomId: string): Promise<RoomRecord | undefined>;
  list(): Promise<RoomInfo[]>;
  /** Moves the room to `state` unless it has ended (an end is final); resolves whether it moved. */
  setState(roomId: string, state: RoomState): Promise<boolean>;
  /**
   * Ends a scheduled show its streamer never started, marking it `missed`, if it is still
   * `scheduled` (a start or end that came first wins); resolves whether it did, true for one caller only.
   */
  missShow(roomId: string): Promise<boolean>;
  putProduct(roomId: string, product: Product): Promise<void>;
  /**
   * Pins or unpins; pinning also sets (with `endsAt`) or clears (without) the product's `offerEnds`,
   * and adds the pin to the room's pin log, which keeps the latest `keepPins` (the replay's timeline).
   */
  setPopup(roomId: string, popup: Popup | null, keepPins: number): Promise<void>;
  /** The room's pin log, oldest first. */
  pins(roomId: string): Promise<PinRecord[]>;
  setMuted(roomId: string, userId: string, muted: boolean): Promise<void>;
  /** Bans `userId` until `until`; the room's bans that ended by `now` go, so storage holds only bans in force. */
  setBan(roomId: string, userId: string, until: number, name: string, now: number): Promise<void>;
  /** Lifts the user's ban; resolves whether one was in force at `now`. */
  clearBan(roomId: string, userId: string, now: number): Promise<boolean>;
  /** The bans in force at `now`, the soonest to end first. */
  bans(roomId: string, now: number): Promise<Ban[]>;
  /**
   * Appoints (`appointed`) or removes a moderator; appointing one already there keeps their place.
   * Resolves with the moderators now, or 'full' (nothing changed) when `max` are appointed already.
   */
  setModerator(roomId: string, moderator: Moderator, appointed: boolean, max: number): Promise<readonly Moderator[] | 'full'>;
  /** Replaces the keyword filter; resolves with it, its version one above the one it replaced. */
  setFilter(roomId: string, words: readonly string[]): Promise<KeywordFilterRecord>;
  setPinnedComment(roomId: string, pinned: PinnedComment | null): Promise<void>;
  /** Adds taps; resolves with the room's total. */
  addLikes(roomId: string, taps: number): Promise<number>;
  /**
   * Applies an operator's change to the room's settings and bumps their version, in one step;
   * resolves with the settings now in force, or undefined when there is no such room.
   */
  updateSettings(roomId: string, change: RoomSettingsChange): Promise<RoomSettings | undefined>;
  /**
   * The generation of the room's stream key (0 until it is first rotated), or undefined when there
   * is no such room. The key itself is derived from it and the server's secret, never stored.
   */
  streamKeyGeneration(roomId: string): Promise<number | undefined>;
  /** Moves the room to a new stream key generation; resolves with it, or undefined when there is no such room. */
  rotateStreamKey(roomId: string): Promise<number | undefined>;
  /** This node's viewer count (viewers' sockets, not staff); resolves with the total over nodes that reported within `freshMs`. */
  reportViewers(roomId: string, nodeId: string, count: number, now: number, freshMs: number): Promise<number>;
  /** Links a show to a shop (a room of kind `shop`): the shop's list keeps the latest `keep` shows, newest first. */
  linkShow(shopId: string, roomId: string, keep: number): Promise<void>;
  /** The shows linked to a shop, newest first. */
  shows(shopId: string): Promise<string[]>;
  close(): Promise<void>;
}
