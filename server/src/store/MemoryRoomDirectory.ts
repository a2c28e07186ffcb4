import type { Moderator, PinnedComment, Popup, Product, RoomInfo, RoomState } from '../../../protocol/src/index.ts';
import { type Ban, type KeywordFilterRecord, NO_MODERATION, NO_ROOM_SETTINGS, type RoomModeration, type PinRecord, type RoomDirectory, type RoomRecord, type RoomSettings, type RoomSettingsChange } from './RoomDirectory.ts';

interface MutableRecord {
  info: RoomInfo;
  epoch: string;
  catalog: Map<string, Product>;
  popup: Popup | null;
  muted: Set<string>;
  bans: Map<string, number>;
  banNames: Map<string, string>;
  offerEnds: Map<string, number>;
  pins: PinRecord[];
  likes: number;
  viewers: Map<string, { count: number; at: number }>;
  settings: RoomSettings;
  streamKeyGeneration: number;
  moderation: RoomModeration;
}

/** Rooms of a single node, in process. */
export class MemoryRoomDirectory implements RoomDirectory {
  readonly #rooms = new Map<string, MutableRecord>();
  /** Shop id → its linked shows, newest first. */
  readonly #shows = new Map<string, string[]>();

  async create(info: RoomInfo, epoch: string, maxRooms: number): Promise<'created' | 'exists' | 'full'> {
    if (this.#rooms.has(info.id)) return 'exists';
    if (this.#rooms.size >= maxRooms) return 'full';
    this.#rooms.set(info.id, { info: { ...info }, epoch, catalog: new Map(), popup: null, muted: new Set(), bans: new Map(), banNames: new Map(), offerEnds: new Map(), pins: [], likes: 0, viewers: new Map(), settings: NO_ROOM_SETTINGS, streamKeyGeneration: 0, moderation: NO_MODERATION });
    return 'created';
  }

  async get(roomId: string): Promise<RoomRecord | undefined> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return undefined;
    return { info: { ...r.info }, epoch: r.epoch, catalog: [...r.catalog.values()], popup: r.popup, muted: [...r.muted], bans: Object.fromEntries(r.bans), likes: r.likes, offerEnds: Object.fromEntries(r.offerEnds), settings: r.settings, moderation: r.moderation };
  }

  async list(): Promise<RoomInfo[]> {
    return [...this.#rooms.values()].map((r) => ({ ...r.info }));
  }

  async setState(roomId: string, state: RoomState): Promise<boolean> {
    const r = this.#rooms.get(roomId);
    if (r === undefined || r.info.state === 'ended') return false;
    r.info.state = state;
    return true;
  }

  async missShow(roomId: string): Promise<boolean> {
    const r = this.#rooms.get(roomId);
    if (r?.info.state !== 'scheduled') return false;
    r.info = { ...r.info, state: 'ended', missed: true };
    return true;
  }

  async putProduct(roomId: string, product: Product): Promise<void> {
    this.#rooms.get(roomId)?.catalog.set(product.sku, product);
  }

  async setPopup(roomId: string, popup: Popup | null, keepPins: number): Promise<void> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return;
    r.popup = popup;
    if (popup === null) return;
    if (popup.endsAt !== undefined) r.offerEnds.set(popup.product.sku, popup.endsAt);
    else r.offerEnds.delete(popup.product.sku);
    r.pins.push({ sku: popup.product.sku, at: popup.pinnedAt });
    if (r.pins.length > keepPins) r.pins.splice(0, r.pins.length - keepPins);
  }

  async pins(roomId: string): Promise<PinRecord[]> {
    return [...(this.#rooms.get(roomId)?.pins ?? [])];
  }

  async setModerator(roomId: string, moderator: Moderator, appointed: boolean, max: number): Promise<readonly Moderator[] | 'full'> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return [];
    const { moderators } = r.moderation;
    const present = moderators.some((m) => m.userId === moderator.userId);
    if (appointed && present) return moderators;
    if (appointed && moderators.length >= max) return 'full';
    const next = appointed ? [...moderators, moderator] : moderators.filter((m) => m.userId !== moderator.userId);
    r.moderation = { ...r.moderation, moderators: next };
    return next;
  }

  async setFilter(roomId: string, words: readonly string[]): Promise<KeywordFilterRecord> {
    const r = this.#rooms.get(roomId);
    const filter = { version: (r?.moderation.filter.version ?? 0) + 1, words: [...words] };
    if (r !== undefined) r.moderation = { ...r.moderation, filter };
    return filter;
  }

  async setPinnedComment(roomId: string, pinned: PinnedComment | null): Promise<void> {
    const r = this.#rooms.get(roomId);
    if (r !== undefined) r.moderation = { ...r.moderation, pinnedComment: pinned };
  }

  async setMuted(roomId: string, userId: string, muted: boolean): Promise<void> {
    const r = this.#rooms.get(roomId);
    if (muted) r?.muted.add(userId);
    else r?.muted.delete(userId);
  }

  async setBan(roomId: string, userId: string, until: number, name: string, now: number): Promise<void> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return;
    for (const [banned, ends] of r.bans) {
      if (ends > now) continue;
      r.bans.delete(banned);
      r.banNames.delete(banned);
    }
    r.bans.set(userId, until);
    r.banNames.set(userId, name);
  }

  async clearBan(roomId: string, userId: string, now: number): Promise<boolean> {
    const r = this.#rooms.get(roomId);
    const until = r?.bans.get(userId);
    r?.bans.delete(userId);
    r?.banNames.delete(userId);
    return until !== undefined && until > now;
  }

  async bans(roomId: string, now: number): Promise<Ban[]> {
    const r = this.#rooms.get(roomId);
    const out: Ban[] = [];
    for (const [userId, until] of r?.bans ?? []) if (until > now) out.push({ userId, name: r!.banNames.get(userId) ?? userId, until });
    return out.sort((a, b) => a.until - b.until);
  }

  async addLikes(roomId: string, taps: number): Promise<number> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return 0;
    r.likes += taps;
    return r.likes;
  }

  async streamKeyGeneration(roomId: string): Promise<number | undefined> {
    return this.#rooms.get(roomId)?.streamKeyGeneration;
  }

  async rotateStreamKey(roomId: string): Promise<number | undefined> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return undefined;
    return ++r.streamKeyGeneration;
  }

  async updateSettings(roomId: string, change: RoomSettingsChange): Promise<RoomSettings | undefined> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return undefined;
    r.settings = Object.freeze({
      version: r.settings.version + 1,
      degradeOverride: change.degradeOverride === undefined ? r.settings.degradeOverride : change.degradeOverride,
      queueLimit: change.queueLimit === undefined ? r.settings.queueLimit : change.queueLimit,
    });
    return r.settings;
  }

  async reportViewers(roomId: string, nodeId: string, count: number, now: number, freshMs: number): Promise<number> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return 0;
    r.viewers.set(nodeId, { count, at: now });
    let total = 0;
    for (const [node, v] of r.viewers) {
      if (now - v.at > freshMs) r.viewers.delete(node);
      else total += v.count;
    }
    return total;
  }

  async linkShow(shopId: string, roomId: string, keep: number): Promise<void> {
    const shows = [roomId, ...(this.#shows.get(shopId) ?? []).filter((id) => id !== roomId)].slice(0, keep);
    this.#shows.set(shopId, shows);
  }

  async shows(shopId: string): Promise<string[]> {
    return [...(this.#shows.get(shopId) ?? [])];
  }

  async close(): Promise<void> {}
}
