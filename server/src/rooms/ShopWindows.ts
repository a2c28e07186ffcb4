import { randomBytes } from 'node:crypto';
import { type RoomInfo, type ShopWindow, truncateCharacters, WireLimits } from '../../../protocol/src/index.ts';
import type { Principal } from '../auth/TokenService.ts';
import { shopIdOf } from '../commerce/commerceScope.ts';
import { ProtocolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RoomDirectory } from '../store/RoomDirectory.ts';
import type { Store } from '../store/Store.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { ShopLinks } from './ShopLinks.ts';

/**
 * Streamers' shops: a shop is a room of kind `shop` whose id derives from its streamer's id
 * (`shopIdOf`), live for good, so joining it, its stock news and its cart and checkout are the
 * rooms' own. Shows created with `shop: true` are linked to it and sell from its inventory
 * (`commerceScopeOf`).
 */
export class ShopWindows {
  readonly #registry: RoomRegistry;
  readonly #directory: RoomDirectory;
  readonly #store: Pick<Store, 'roomStock'>;
  readonly #links: Pick<ShopLinks, 'linked'> | undefined;
  readonly #options: { maxRooms: number; shopShowsKept: number };
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: { registry: RoomRegistry; directory: RoomDirectory; store: Pick<Store, 'roomStock'>; links?: Pick<ShopLinks, 'linked'>; options: { maxRooms: number; shopShowsKept: number }; log: Logger; now?: () => number }) {
    this.#registry = deps.registry;
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#links = deps.links;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
  }

  /** The streamer's shop, opened on first use; resolves with its room id. */
  async open(principal: Principal): Promise<string> {
    if (principal.role === 'viewer') throw new ProtocolError('FORBIDDEN', 'only streamers and operators have a shop');
    const id = shopIdOf(principal.userId);
    const title = truncateCharacters(`${principal.name}'s shop`, WireLimits.titleLength);
    const streamerName = truncateCharacters(principal.name, WireLimits.titleLength);
    const info: RoomInfo = { id, title, streamerId: principal.userId, streamerName, state: 'live', createdAt: this.#now(), kind: 'shop' };
    const result = await this.#directory.create(info, randomBytes(6).toString('base64url'), this.#options.maxRooms);
    if (result === 'full') throw new ProtocolError('LIMIT_EXCEEDED', `at most ${this.#options.maxRooms} rooms`);
    if (result === 'created') this.#log.info({ roomId: id, streamerId: principal.userId }, 'shop opened');
    return id;
  }

  /** A new show of the shop's streamer sells from the shop from now on. */
  async link(shopId: string, roomId: string): Promise<void> {
    await this.#directory.linkShow(shopId, roomId, this.#options.shopShowsKept);
    this.#links?.linked(shopId, roomId);
  }

  /** What the shop page shows: the shop, its products with live stock, and its shows. ROOM_NOT_FOUND when the streamer has no shop. */
  async window(streamerId: string): Promise<ShopWindow> {
    const id = shopIdOf(streamerId);
    const shop = await this.#registry.view(id).catch((error: unknown) => {
      if (error instanceof ProtocolError && error.code === 'ROOM_NOT_FOUND') throw new ProtocolError('ROOM_NOT_FOUND', `streamer ${streamerId} has no shop`);
      throw error;
    });
    const [stock, showIds] = await Promise.all([
      this.#registry.hosted(id) !== undefined ? Object.fromEntries(shop.stock) : this.#store.roomStock(id),
      this.#directory.shows(id),
    ]);
    const shows: RoomInfo[] = [];
    for (const view of await Promise.all(showIds.map((showId) => this.#registry.cachedView(showId).catch(() => undefined)))) {
      if (view !== undefined) shows.push({ ...view.info });
    }
    return { shop: { ...shop.info }, products: [...shop.catalog.values()], stock, live: shows.find((show) => show.state === 'live') ?? null, shows };
  }
}
