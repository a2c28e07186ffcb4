import { decode, encode, type ReminderState, type RoomInfo, type Show, type ShowLive } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import type { UserNotices } from '../broker/UserNotices.ts';
import type { Config } from '../config.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Member } from './Member.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { ReminderDirectory } from '../store/ReminderDirectory.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { ShowNoticeInbox } from '../store/ShowNoticeInbox.ts';

export type ShowsConfig = Pick<Config, 'maxRemindersPerRoom' | 'showNoticeTtlMs' | 'showNoticesPerUser' | 'showGraceMs'>;

/** Users named per published notice, at most: a show with many reminders goes out in several. */
const NOTICE_BATCH_USERS = 500;

/**
 * How long one read of the room list serves every streamer's upcoming list: a crowd opening a
 * show's page at once costs the node one read of the directory a second, not one per viewer.
 */
const LIST_REUSE_MS = 1000;

/** Late shows are looked for this many times per grace period (a show is missed at most a tenth of it late)… */
const MISS_CHECKS_PER_GRACE = 10;
/** …but at least once a minute, and at most ten times a second. */
const MISS_CHECK_MAX_MS = 60_000;
const MISS_CHECK_MIN_MS = 100;

/**
 * Scheduled shows: a streamer's upcoming and live shows, viewers' reminders, and the notice each
 * reminded user gets on every socket of theirs, on every node, when the show goes live (kept for
 * those away, who get it on their next socket). A show its streamer has not started
 * `showGraceMs` after its `startsAt` is ended as missed.
 */
export class ShowService {
  readonly #config: ShowsConfig;
  readonly #directory: Pick<RoomDirectory, 'list' | 'missShow'>;
  readonly #registry: Pick<RoomRegistry, 'view' | 'cachedView' | 'hostedRooms' | 'emit' | 'forgetView'>;
  readonly #reminders: ReminderDirectory;
  readonly #inbox: ShowNoticeInbox;
  readonly #notices: UserNotices;
  readonly #log: Logger;
  readonly #now: () => number;
  #list: { at: number; rooms: Promise<RoomInfo[]> } | undefined;
  #missTimer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(deps: {
    config: ShowsConfig;
    directory: Pick<RoomDirectory, 'list' | 'missShow'>;
    registry: Pick<RoomRegistry, 'view' | 'cachedView' | 'hostedRooms' | 'emit' | 'forgetView'>;
    reminders: ReminderDirectory;
    inbox: ShowNoticeInbox;
    notices: UserNotices;
    log: Logger;
    now?: () => number;
  }) {
    this.#config = deps.config;
    this.#directory = deps.directory;
    this.#registry = deps.registry;
    this.#reminders = deps.reminders;
    this.#inbox = deps.inbox;
    this.#notices = deps.notices;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#notices.onNotice((userIds, frame) => this.#deliver(userIds, frame));
  }

  /** Starts looking for shows to end as missed. */
  start(): void {
    const every = Math.min(MISS_CHECK_MAX_MS, Math.max(MISS_CHECK_MIN_MS, Math.floor(this.#config.showGraceMs / MISS_CHECKS_PER_GRACE)));
    this.#missTimer = setInterval(() => void this.endMissedShows(), every);
    this.#missTimer.unref();
  }

  close(): void {
    clearInterval(this.#missTimer);
  }

  /**
   * The streamer's shows that are live or still to come: live ones first, then the scheduled ones,
   * soonest first (a show past its grace is left out). Each with its reminder count, and with a
   * `principal`, whether they set one. The rooms may be up to `LIST_REUSE_MS` old (a show this
   * node started is seen at once); the streamer asking for their own list reads it afresh.
   */
  async shows(streamerId: string, principal?: Principal): Promise<Show[]> {
    const all = principal?.userId === streamerId ? await this.#directory.list() : await this.#rooms();
    const now = this.#now();
    const rooms = all.filter((room) => room.streamerId === streamerId && (room.state === 'live' || (room.state === 'scheduled' && room.startsAt !== undefined && !this.#pastGrace(room, now))));
    rooms.sort((a, b) => (a.state === b.state ? (a.startsAt ?? a.createdAt) - (b.startsAt ?? b.createdAt) : a.state === 'live' ? -1 : 1));
    const ids = rooms.map((room) => room.id);
    const [counts, reminded] = await Promise.all([this.#reminders.counts(ids), principal === undefined ? undefined : this.#reminders.remindedOf(ids, principal.userId)]);
    return rooms.map((room, i) => (reminded === undefined ? { ...room, reminders: counts[i]! } : { ...room, reminders: counts[i]!, reminded: reminded[i]! }));
  }

  /**
   * Sets the user's reminder for a show still to come (idempotent: a second time counts once).
   * Throws ROOM_NOT_FOUND; BAD_REQUEST for a room that is no scheduled show or is live already;
   * ROOM_ENDED (a missed show too); LIMIT_EXCEEDED when the show has `maxRemindersPerRoom`.
   */
  async remind(principal: Principal, roomId: string): Promise<ReminderState> {
    const { info } = await this.#registry.view(roomId);
    if (info.state === 'ended') throw new ProtocolError('ROOM_ENDED', info.missed === true ? 'the show did not take place' : 'the show has ended');
    if (info.state === 'live') throw new ProtocolError('BAD_REQUEST', 'the show is live already: join it');
    if (info.startsAt === undefined) throw new ProtocolError('BAD_REQUEST', 'this room is not a scheduled show (it has no startsAt)');
    const { result, count } = await this.#reminders.add(roomId, principal.userId, this.#config.maxRemindersPerRoom);
    if (result === 'full') throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#config.maxRemindersPerRoom} reminders per show`);
    return { roomId, reminded: true, reminders: count };
  }

  /** Removes the user's reminder (idempotent). Throws ROOM_NOT_FOUND. */
  async forget(principal: Principal, roomId: string): Promise<ReminderState> {
    await this.#registry.view(roomId);
    const { count } = await this.#reminders.remove(roomId, principal.userId);
    return { roomId, reminded: false, reminders: count };
  }

  /** Whether the user has a reminder for the room, and its count. Throws ROOM_NOT_FOUND. */
  async reminder(principal: Principal, roomId: string): Promise<ReminderState> {
    await this.#registry.view(roomId);
    const { reminded, count } = await this.#reminders.status(roomId, principal.userId);
    return { roomId, reminded, reminders: count };
  }

  /** The scheduled shows the user set a reminder for and that have not started yet, soonest first. */
  async remindedShows(principal: Principal): Promise<Show[]> {
    const ids = await this.#reminders.roomsOf(principal.userId);
    // Read afresh (not the shared list, which may be a second old): the user just set one, maybe.
    const views = await Promise.all(ids.map((id) => this.#registry.view(id).then((room) => room.info, (error: unknown) => {
      if (error instanceof ProtocolError && error.code === 'ROOM_NOT_FOUND') return undefined;
      throw error;
    })));
    const rooms = views.filter((room): room is RoomInfo => room !== undefined && room.state === 'scheduled' && room.startsAt !== undefined);
    rooms.sort((a, b) => a.startsAt! - b.startsAt!);
    const counts = await this.#reminders.counts(rooms.map((room) => room.id));
    return rooms.map((room, i) => ({ ...room, reminders: counts[i]!, reminded: true }));
  }

  /**
   * The show went live (from `scheduled`): every user with a reminder is told, on every node. Each
   * batch of users gets the notice kept in their inbox first, then published: a user who hears it
   * live has it taken out of the inbox again, and a user away finds it there on their next socket.
   */
  async wentLive(info: RoomInfo): Promise<void> {
    this.#list = undefined;
    if (info.startsAt === undefined) return; // no show was announced: nobody could set a reminder
    if (!(await this.#reminders.claimNotice(info.id))) return; // another start (another node) tells them
    const userIds = await this.#reminders.users(info.id);
    if (userIds.length === 0) return;
    const notice: ShowLive = { t: 'showLive', id: `live:${info.id}`, roomId: info.id, title: info.title, streamerId: info.streamerId, startsAt: info.startsAt };
    const frame = encode(notice);
    const expiresAt = this.#now() + this.#config.showNoticeTtlMs;
    for (let at = 0; at < userIds.length; at += NOTICE_BATCH_USERS) {
      const batch = userIds.slice(at, at + NOTICE_BATCH_USERS);
      try {
        await this.#inbox.put(batch, notice, expiresAt, this.#config.showNoticesPerUser);
      } catch (error) {
        this.#log.warn({ err: error, roomId: info.id, users: batch.length }, 'go-live notices could not be kept for users away: told live only');
      }
      await this.#notices.publish(batch, frame);
    }
    this.#log.info({ roomId: info.id, reminded: userIds.length }, 'show live: reminded users told');
  }

  /**
   * A socket joined here: the go-live notices its user missed while away follow its `welcome`,
   * once (they leave the inbox), those of shows still live only.
   */
  async joined(member: Member): Promise<void> {
    const { userId } = member.principal;
    try {
      const pending = await this.#inbox.take(userId, this.#now());
      for (const notice of pending) {
        const room = await this.#registry.cachedView(notice.roomId).catch(() => undefined);
        if (room?.info.state === 'live') member.send(encode({ ...notice, replayed: true }));
      }
    } catch (error) {
      this.#log.warn({ err: error, userId }, 'the user\'s go-live notices could not be read');
    }
  }

  /**
   * Ends, as missed, every scheduled show its streamer has not started `showGraceMs` after its
   * `startsAt`: the room's sockets are told (`roomState` ended, missed) and its reminders go. Any
   * node may find the same show: the directory lets one of them end it.
   */
  async endMissedShows(): Promise<string[]> {
    if (this.#checking) return [];
    this.#checking = true;
    const ended: string[] = [];
    try {
      const now = this.#now();
      for (const room of await this.#directory.list()) {
        if (room.state !== 'scheduled' || room.startsAt === undefined || !this.#pastGrace(room, now)) continue;
        if (!(await this.#directory.missShow(room.id))) continue;
        ended.push(room.id);
        this.#list = undefined;
        this.#registry.forgetView(room.id);
        await this.#registry.emit(room.id, { t: 'roomState', state: 'ended', missed: true });
        await this.#reminders.release(room.id);
        this.#log.info({ roomId: room.id, startsAt: room.startsAt }, 'show missed: never started, ended');
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'missed shows could not be ended: next check tries again');
    } finally {
      this.#checking = false;
    }
    return ended;
  }

  #pastGrace(room: RoomInfo, now: number): boolean {
    return room.startsAt !== undefined && now >= room.startsAt + this.#config.showGraceMs;
  }

  /** The room list, read at most once per `LIST_REUSE_MS` (a failed read is not kept). */
  #rooms(): Promise<RoomInfo[]> {
    const now = this.#now();
    if (this.#list === undefined || now - this.#list.at >= LIST_REUSE_MS) {
      const rooms = this.#directory.list();
      const list = { at: now, rooms };
      this.#list = list;
      rooms.catch(() => {
        if (this.#list === list) this.#list = undefined;
      });
    }
    return this.#list.rooms;
  }

  /**
   * Hands the notice to this node's sockets of the users named, in every room hosted here; a
   * go-live notice that reached a user here is taken out of their inbox (they heard it).
   */
  #deliver(userIds: readonly string[], frame: Uint8Array): void {
    const wanted = new Set(userIds);
    const reached = new Set<string>();
    const send = (member: Member) => {
      if (!wanted.has(member.principal.userId)) return;
      member.send(frame);
      reached.add(member.principal.userId);
    };
    for (const room of this.#registry.hostedRooms()) {
      // Whichever is shorter: the room's sockets, or the users named.
      if (room.memberCount + room.followerCount <= wanted.size) {
        room.forEachMember(send);
        room.forEachFollower(send);
        continue;
      }
      for (const userId of wanted) {
        for (const member of room.membersOf(userId)) send(member);
        for (const member of room.followersOf(userId)) send(member);
      }
    }
    if (reached.size === 0) return;
    const id = noticeIdOf(frame);
    if (id === undefined) return;
    this.#inbox.delivered([...reached], id).catch((error: unknown) => this.#log.warn({ err: error, users: reached.size }, 'heard go-live notices could not be taken out of the inboxes'));
  }
}

/** The id of a go-live notice's frame, or undefined for another frame. */
function noticeIdOf(frame: Uint8Array): string | undefined {
  try {
    const message = decode(frame) as { t?: unknown; id?: unknown } | null;
    return message !== null && typeof message === 'object' && message.t === 'showLive' && typeof message.id === 'string' ? message.id : undefined;
  } catch {
    return undefined;
  }
}
