import type { CartAnswer, CartRequest, DirectMessage, GiveawayCard, GiveawayRequest, GiveawayResult, Order, StateUpdate } from '../../../protocol/src/index.ts';
import type { z } from 'zod';
import { EntryBatcher } from '../admission/EntryBatcher.ts';
import type { GiveawayEntries } from '../admission/CartDesk.ts';
import type { Principal } from '../auth/TokenService.ts';
import { DomainError } from '../DomainError.ts';
import { entrantIdOf, openGiveaway, type PublishedDraw, publishDraw, winningUsers } from '../giveaways/draw.ts';
import type { Giveaway, giveawayInputSchema } from '../giveaways/giveaway.ts';
import type { Logger } from '../log.ts';
import type { GiveawayStatus, GiveawayStore } from '../store/GiveawayStore.ts';
import { recordName } from '../store/idempotency.ts';
import type { ReleasedLine, Store } from '../store/Store.ts';
import type { RoomCheck } from './CommerceService.ts';

/** What giveaways need from the room layer. */
export interface GiveawayRooms {
  canModerate(principal: Principal, roomId: string): Promise<boolean>;
  /** Throws ROOM_NOT_FOUND (or KICKED for a banned user) as for a cart read. */
  assertRoom(roomId: string, check: RoomCheck): unknown;
  /** Where the room's stock and orders live (a show linked to its shop: the shop's). */
  scopeOf(roomId: string): string | Promise<string>;
  /** Latest-value state to the room's sockets on every node. */
  publishState(roomId: string, update: StateUpdate): void;
  /** A frame for one user's sockets in the room, on every node. */
  notifyUser(roomId: string, userId: string, message: DirectMessage): void;
}

export interface GiveawayOptions {
  /** The entrants count goes out at most this often per giveaway (latest wins), as stock does. */
  readonly entrantsIntervalMs: number;
  /** A `buyers` giveaway looks this far back in a user's orders for one in the room. */
  readonly ordersLookedAt: number;
  /** Most entrants a giveaway opened now takes (`--giveaway-max-entrants`). */
  readonly maxEntrants: number;
}

type GiveawayInputParsed = z.output<typeof giveawayInputSchema>;
type EnterRequest = Extract<CartRequest, { t: 'enterGiveaway' }>;

interface Known {
  readonly giveaway: Giveaway;
  /** As this node last heard it: `open` until a store answer or a close says otherwise. */
  status: GiveawayStatus;
  /** The drawn or cancelled card, once this node has it. */
  final?: GiveawayCard;
  /** The largest entrants count heard, and the news of it not sent yet. */
  entrants: number;
  pendingEntrants: boolean;
  sentAt: number;
  newsTimer?: NodeJS.Timeout | undefined;
  closeTimer?: NodeJS.Timeout | undefined;
  finishing?: Promise<GiveawayCard> | undefined;
}

const sep = '\u0000';

/**
 * A room's giveaways end to end: open (moderators), the entries' rules and batches (the cart desk
 * runs them in the room's admission turn), the live entrants count, the close at the window's end,
 * the verifiable draw (giveaways/draw.ts), the prizes, and the news to the room and the winners.
 *
 * Closing is safe on every node and any number of times: the store closes the entries once and
 * keeps the first draw, the draw is a function of the seed and the entrants, and each prize is
 * recorded under the winner's key. The node that opened the giveaway closes it by a timer at its
 * end; any node that meets it past its end (an entry, a read, the draw's data) finishes it too, so
 * a lost timer delays nothing but the news.
 *
 * The prize: an order of total 0 per winner (Store.grantPrize), one unit from the prize sku's
 * available stock, so a prize never oversells; winners left without a unit are named in the
 * result's `prizeShort`.
 */
export class GiveawayService implements GiveawayEntries {
  readonly #store: GiveawayStore;
  readonly #commerce: Pick<Store, 'grantPrize' | 'stock' | 'userOrders'>;
  readonly #rooms: GiveawayRooms;
  readonly #orders: { placed(order: Order): void } | undefined;
  readonly #stock: { restocked(roomId: string, lines: readonly ReleasedLine[]): void } | undefined;
  readonly #options: GiveawayOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #batcher: EntryBatcher;
  readonly #known = new Map<string, Known>(); // room␀giveaway → what this node knows
  #closed = false;

  constructor(deps: {
    giveaways: GiveawayStore; store: Pick<Store, 'grantPrize' | 'stock' | 'userOrders'>; rooms: GiveawayRooms; options: GiveawayOptions; log: Logger; now?: () => number;
    orders?: { placed(order: Order): void }; stock?: { restocked(roomId: string, lines: readonly ReleasedLine[]): void };
  }) {
    this.#store = deps.giveaways;
    this.#commerce = deps.store;
    this.#rooms = deps.rooms;
    this.#orders = deps.orders;
    this.#stock = deps.stock;
    this.#options = deps.options;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#batcher = new EntryBatcher(deps.giveaways);
  }

  /** A giveaway request over the WebSocket; the result becomes the `ok` reply. */
  async handle(principal: Principal, roomId: string, request: GiveawayRequest): Promise<Record<string, unknown>> {
    switch (request.t) {
      case 'openGiveaway': return { giveaway: await this.open(principal, roomId, request.giveaway) };
      case 'endGiveaway': return { giveaway: await this.end(principal, roomId, request.giveawayId) };
      case 'cancelGiveaway': return { giveaway: await this.cancel(principal, roomId, request.giveawayId) };
      case 'getGiveaway': return { giveaway: await this.read(principal, roomId, request.giveawayId) };
    }
  }

  async open(principal: Principal, roomId: string, input: GiveawayInputParsed): Promise<GiveawayCard> {
    await this.#mustModerate(principal, roomId);
    if (input.eligibility === 'followers') throw new DomainError('NOT_SUPPORTED', 'eligibility "followers" is not available yet: use "present" or "buyers"');
    const scope = await this.#rooms.scopeOf(roomId);
    if ((await this.#commerce.stock(scope, input.sku)) === undefined) throw new DomainError('PRODUCT_NOT_FOUND', `no product ${input.sku} in this room: the prize must be one`);
    const opened = openGiveaway(input, roomId, principal.userId, this.#now(), this.#options.maxEntrants);
    const created = await this.#store.createGiveaway(opened.giveaway, opened.seed);
    if (created.result === 'exists') throw new DomainError('GIVEAWAY_EXISTS', `this room had a giveaway ${input.id} already`);
    if (created.result !== 'created') throw new DomainError('GIVEAWAY_BUSY', 'another giveaway of this room is taking entries: end or cancel it first');
    const giveaway: Giveaway = { ...opened.giveaway, serial: created.serial };
    const known = this.#remember(giveaway, 'open', 0);
    this.#scheduleClose(known);
    const card = cardOf(giveaway, 'open', 0);
    this.#rooms.publishState(roomId, { t: 'giveaway', giveaway: card });
    this.#log.info({ roomId, giveawayId: giveaway.id, sku: giveaway.sku, winners: giveaway.winners, eligibility: giveaway.eligibility, closesAt: giveaway.closesAt, by: principal.userId }, 'giveaway opened');
    return card;
  }

  /** Closes the entries now and draws; a giveaway drawn already answers its result. */
  async end(principal: Principal, roomId: string, giveawayId: string): Promise<GiveawayCard> {
    await this.#mustModerate(principal, roomId);
    const card = await this.#finish(roomId, giveawayId, true);
    if (card.status === 'cancelled') throw new DomainError('GIVEAWAY_OVER', `giveaway ${giveawayId} was cancelled`);
    return card;
  }

  /** Closes the entries now without a draw. */
  async cancel(principal: Principal, roomId: string, giveawayId: string): Promise<GiveawayCard> {
    await this.#mustModerate(principal, roomId);
    const closed = await this.#store.closeEntries(roomId, giveawayId, this.#now(), true, true);
    if (closed.result === 'unknown') throw new DomainError('GIVEAWAY_NOT_FOUND', `no giveaway ${giveawayId} in this room`);
    if (closed.result !== 'cancelled') throw new DomainError('GIVEAWAY_OVER', `giveaway ${giveawayId} is closed already: its draw stands`);
    const card = await this.#finalCard(roomId, giveawayId);
    this.#log.info({ roomId, giveawayId, by: principal.userId }, 'giveaway cancelled');
    return card;
  }

  /** The giveaway `giveawayId` (default: the room's one taking entries, else its latest), or null. */
  async read(principal: Principal, roomId: string, giveawayId?: string): Promise<GiveawayCard | null> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'read' });
    const id = giveawayId ?? (await this.#store.currentGiveaway(roomId)) ?? (await this.#store.latestGiveaway(roomId));
    if (id === undefined || id === null) return null;
    return this.#cardNow(roomId, id);
  }

  /** The room's giveaway taking entries, for the operator console (no principal: the ops API checks the operator), or null. */
  async openIn(roomId: string): Promise<{ id: string; sku: string; entrants: number; winnersWanted: number; closesAt: number } | null> {
    const id = await this.#store.currentGiveaway(roomId);
    if (id === null) return null;
    const held = await this.#store.giveaway(roomId, id);
    if (held === undefined || held.status !== 'open' || this.#now() >= held.giveaway.closesAt) return null;
    const known = this.#known.get(roomId + sep + id);
    return { id, sku: held.giveaway.sku, entrants: Math.max(held.entrants, known?.entrants ?? 0), winnersWanted: held.giveaway.winners, closesAt: held.giveaway.closesAt };
  }

  /** The published draw data (`draw.json`): drawn now if the giveaway is past its end; GIVEAWAY_NOT_FOUND before, or when it was cancelled. */
  async drawData(roomId: string, giveawayId: string): Promise<PublishedDraw> {
    const card = await this.#cardNow(roomId, giveawayId);
    const draw = card?.status === 'drawn' ? await this.#store.draw(roomId, giveawayId) : undefined;
    if (draw === undefined) throw new DomainError('GIVEAWAY_NOT_FOUND', `giveaway ${giveawayId} has no draw${card === null ? '' : ` (it is ${card.status})`}`);
    return draw;
  }

  /**
   * The room's giveaway for `welcome`: the one taking entries, else the room's latest (drawn or
   * cancelled), or null. One past its end is closed and drawn first (as a read does).
   */
  async welcomeCard(roomId: string): Promise<GiveawayCard | null> {
    const id = (await this.#store.currentGiveaway(roomId)) ?? (await this.#store.latestGiveaway(roomId));
    return id === null ? null : this.#cardNow(roomId, id);
  }

  /**
   * An entry from outside the room (over HTTP, or from a socket that only follows its orders): a
   * `present` giveaway answers `not_eligible`; the rest goes through `desk` as a room socket's entry does.
   */
  async enterFromOutside(principal: Principal, roomId: string, request: EnterRequest, desk: { answer(principal: Principal, roomId: string, request: CartRequest): Promise<CartAnswer> }): Promise<CartAnswer> {
    const known = await this.#knownOrLoad(roomId, request.giveawayId);
    if (known?.giveaway.eligibility === 'present') return { status: 'not_eligible', giveawayId: request.giveawayId, eligibility: 'present' };
    return desk.answer(principal, roomId, request);
  }

  /** An entry in the room's admission turn (the cart desk calls this): the giveaway's rules, then the store in a batch. */
  enter(principal: Principal, roomId: string, request: EnterRequest): Promise<CartAnswer> {
    const giveawayId = request.giveawayId;
    const known = this.#known.get(roomId + sep + giveawayId);
    // Synchronous when the giveaway is known here: the entries of one turn then leave as one batch.
    if (known !== undefined) return this.#enterKnown(principal, known, request);
    return this.#knownOrLoad(roomId, giveawayId).then((loaded) => (loaded === undefined ? { status: 'no_giveaway', giveawayId } : this.#enterKnown(principal, loaded, request)));
  }

  /** The entry's key's first answer, kept with its giveaway (what a refusal at the desk yields to), or undefined. */
  async recorded(principal: Principal, roomId: string, request: EnterRequest): Promise<CartAnswer | undefined> {
    const kept = await this.#store.recorded(roomId, request.giveawayId, recordName(principal.userId, request.key), this.#now());
    return kept?.status === 'entered' || kept?.status === 'already_entered' ? { status: kept.status, giveawayId: request.giveawayId, entrants: kept.entrants } : undefined;
  }

  close(): void {
    this.#closed = true;
    for (const known of this.#known.values()) {
      clearTimeout(known.newsTimer);
      clearTimeout(known.closeTimer);
    }
  }

  /** The room is no longer hosted here: what this node keeps of its finished giveaways goes. */
  forget(roomId: string): void {
    for (const [key, known] of this.#known) {
      if (known.giveaway.roomId === roomId && known.status !== 'open' && known.finishing === undefined && known.newsTimer === undefined) this.#known.delete(key);
    }
  }

  /** Rooms whose giveaways this node knows are all over, with nothing pending (no news, no timer, no draw under way). */
  *idleRooms(_idleForMs: number): Iterable<string> {
    const busy = new Set<string>();
    const rooms = new Set<string>();
    for (const known of this.#known.values()) {
      rooms.add(known.giveaway.roomId);
      if (known.status === 'open' || known.finishing !== undefined || known.newsTimer !== undefined || known.closeTimer !== undefined) busy.add(known.giveaway.roomId);
    }
    for (const roomId of rooms) if (!busy.has(roomId)) yield roomId;
  }

  // ------------------------------------------------------------------ entries

  #enterKnown(principal: Principal, known: Known, request: EnterRequest): Promise<CartAnswer> {
    const { giveaway } = known;
    const giveawayId = giveaway.id;
    const now = this.#now();
    const name = request.showName === true ? principal.name : undefined;
    const send = () => this.#batcher.enter({ roomId: giveaway.roomId, giveawayId, userId: principal.userId, at: this.#now(), name, record: recordName(principal.userId, request.key) }).then((answer): CartAnswer => {
      switch (answer.status) {
        case 'entered':
          this.#entrantsChanged(known, answer.entrants);
          return { status: 'entered', giveawayId, entrants: answer.entrants };
        case 'already_entered':
          return { status: 'already_entered', giveawayId, entrants: answer.entrants };
        case 'full':
          return { status: 'giveaway_full', giveawayId, entrants: answer.entrants };
        case 'closed':
        case 'not_open':
          known.status = known.status === 'open' ? 'closed' : known.status;
          if (this.#now() >= giveaway.closesAt) this.#finishSoon(known);
          return { status: 'giveaway_closed', giveawayId };
        case 'unknown_giveaway':
          return { status: 'no_giveaway', giveawayId };
      }
    });
    if (known.status !== 'open' || now >= giveaway.closesAt) {
      if (now >= giveaway.closesAt) this.#finishSoon(known);
      // Closed: no new entry, whoever asks; the store still answers an entered user (their key's
      // first answer, else already_entered), and everyone else `giveaway_closed`.
      return send();
    }
    if (giveaway.eligibility === 'present') return send();
    if (giveaway.eligibility === 'followers') return Promise.resolve({ status: 'not_eligible', giveawayId, eligibility: 'followers' });
    return this.#isBuyer(principal.userId, giveaway.roomId).then((buyer) => (buyer ? send() : { status: 'not_eligible', giveawayId, eligibility: 'buyers' }));
  }

  /** Whether the user has an order (not cancelled) in the room's commerce scope. */
  async #isBuyer(userId: string, roomId: string): Promise<boolean> {
    const scope = await this.#rooms.scopeOf(roomId);
    const orders = await this.#commerce.userOrders(userId, this.#options.ordersLookedAt);
    return orders.some((order) => (order.roomId === scope || order.roomId === roomId) && order.status !== 'cancelled');
  }

  /** The entrants count heard from an answer: the room hears the largest, at most once per interval. */
  #entrantsChanged(known: Known, entrants: number): void {
    if (entrants <= known.entrants) return;
    known.entrants = entrants;
    known.pendingEntrants = true;
    if (known.newsTimer !== undefined || this.#closed) return;
    const wait = Math.max(0, known.sentAt + this.#options.entrantsIntervalMs - this.#now());
    known.newsTimer = setTimeout(() => {
      known.newsTimer = undefined;
      if (!known.pendingEntrants || this.#closed) return;
      known.pendingEntrants = false;
      known.sentAt = this.#now();
      this.#rooms.publishState(known.giveaway.roomId, { t: 'giveawayEntrants', giveawayId: known.giveaway.id, entrants: known.entrants });
    }, wait);
    known.newsTimer.unref();
  }

  // ------------------------------------------------------------------ closing and the draw

  #scheduleClose(known: Known): void {
    clearTimeout(known.closeTimer);
    if (this.#closed) return;
    known.closeTimer = setTimeout(() => {
      known.closeTimer = undefined;
      this.#finish(known.giveaway.roomId, known.giveaway.id, false).catch((error: unknown) => this.#log.warn({ err: error, roomId: known.giveaway.roomId, giveawayId: known.giveaway.id }, 'the giveaway could not be closed at its end; a later read or entry closes it'));
    }, Math.max(0, known.giveaway.closesAt - this.#now()));
  }

  #finishSoon(known: Known): void {
    if (known.final !== undefined || known.finishing !== undefined) return;
    this.#finish(known.giveaway.roomId, known.giveaway.id, false).catch((error: unknown) => this.#log.warn({ err: error, roomId: known.giveaway.roomId, giveawayId: known.giveaway.id }, 'the giveaway could not be closed'));
  }

  /** Closes the entries (at their end, or now: `early`), draws, grants the prizes and tells everyone; once per giveaway on this node at a time. */
  #finish(roomId: string, giveawayId: string, early: boolean): Promise<GiveawayCard> {
    const known = this.#known.get(roomId + sep + giveawayId);
    if (known?.final !== undefined) return Promise.resolve(known.final);
    if (known?.finishing !== undefined) return known.finishing;
    const finishing = this.#closeAndDraw(roomId, giveawayId, early).finally(() => {
      if (known !== undefined) known.finishing = undefined;
    });
    if (known !== undefined) known.finishing = finishing;
    return finishing;
  }

  async #closeAndDraw(roomId: string, giveawayId: string, early: boolean): Promise<GiveawayCard> {
    const closed = await this.#store.closeEntries(roomId, giveawayId, this.#now(), early);
    if (closed.result === 'unknown') throw new DomainError('GIVEAWAY_NOT_FOUND', `no giveaway ${giveawayId} in this room`);
    if (closed.result === 'cancelled') return this.#finalCard(roomId, giveawayId);
    const held = await this.#store.giveaway(roomId, giveawayId);
    if (held === undefined) throw new DomainError('GIVEAWAY_NOT_FOUND', `no giveaway ${giveawayId} in this room`);
    const known = this.#remember(held.giveaway, held.status, held.entrants);
    if (closed.result !== 'closed' && closed.result !== 'already_closed') {
      // Not due: this node's clock is behind the opener's; try again at the end.
      this.#scheduleClose(known);
      return cardOf(held.giveaway, 'open', held.entrants);
    }
    clearTimeout(known.closeTimer);
    const draw = await this.#store.recordDraw(publishDraw(held.giveaway, closed.seed, closed.userIds));
    const winners = winningUsers(draw, closed.userIds);
    const scope = await this.#rooms.scopeOf(roomId);
    const prizes = await Promise.all(winners.map((userId) => this.#commerce.grantPrize(scope, userId, held.giveaway.sku, `giveaway:${roomId}:${giveawayId}`, this.#now())));
    const names = await this.#store.names(roomId, giveawayId, winners);
    const short = winners.filter((_, i) => prizes[i]!.status !== 'ordered').map((userId) => entrantIdOf(draw.salt, userId));
    const result: GiveawayResult = {
      winners: winners.map((userId, i) => {
        const name = names[i];
        return name === undefined ? { entrantId: entrantIdOf(draw.salt, userId) } : { entrantId: entrantIdOf(draw.salt, userId), name };
      }),
      entrantsCount: draw.entrantsCount, seed: draw.seed, drawUrl: drawPath(roomId, giveawayId),
      ...(short.length === 0 ? {} : { prizeShort: short }),
    };
    const card: GiveawayCard = { ...cardOf(held.giveaway, 'drawn', draw.entrantsCount), result };
    // Kept, so a node meeting the drawn giveaway later (a room hosted afresh, a read) shows it without drawing again.
    await this.#store.recordResult(roomId, giveawayId, result);
    known.status = 'closed';
    known.final = card;
    this.#rooms.publishState(roomId, { t: 'giveaway', giveaway: card });
    // Only the node that closed the entries tells the winners (a later finisher repeats what the room sees, not the messages).
    if (closed.result === 'closed') {
      winners.forEach((userId, i) => {
        const prize = prizes[i]!;
        const orderId = prize.status === 'ordered' ? prize.order.id : undefined;
        this.#rooms.notifyUser(roomId, userId, orderId === undefined ? { t: 'giveawayWon', giveawayId, sku: held.giveaway.sku } : { t: 'giveawayWon', giveawayId, sku: held.giveaway.sku, orderId });
        if (prize.status === 'ordered') this.#orders?.placed(prize.order);
      });
      this.#log.info({ roomId, giveawayId, entrants: draw.entrantsCount, winners: winners.length, prizeShort: short.length }, 'giveaway drawn');
    }
    if (winners.length > 0) {
      const level = await this.#commerce.stock(scope, held.giveaway.sku);
      if (level !== undefined) this.#stock?.restocked(scope, [{ sku: held.giveaway.sku, quantity: 0, available: level.available }]);
    }
    return card;
  }

  /** A cancelled giveaway's card (published to the room) or a drawn one's. */
  async #finalCard(roomId: string, giveawayId: string): Promise<GiveawayCard> {
    const held = await this.#store.giveaway(roomId, giveawayId);
    if (held === undefined) throw new DomainError('GIVEAWAY_NOT_FOUND', `no giveaway ${giveawayId} in this room`);
    const known = this.#remember(held.giveaway, held.status, held.entrants);
    if (held.status !== 'cancelled') return this.#finish(roomId, giveawayId, false);
    clearTimeout(known.closeTimer);
    const card = cardOf(held.giveaway, 'cancelled', held.entrants);
    if (known.final === undefined) this.#rooms.publishState(roomId, { t: 'giveaway', giveaway: card });
    known.status = 'cancelled';
    known.final = card;
    return card;
  }

  /** The giveaway as it stands now; one past its end is closed and drawn first. */
  async #cardNow(roomId: string, giveawayId: string): Promise<GiveawayCard | null> {
    const cached = this.#known.get(roomId + sep + giveawayId)?.final;
    if (cached !== undefined) return cached;
    const held = await this.#store.giveaway(roomId, giveawayId);
    if (held === undefined) return null;
    if (held.status === 'cancelled') return this.#finalCard(roomId, giveawayId);
    if (held.status === 'closed' && held.result !== undefined) {
      const known = this.#remember(held.giveaway, held.status, held.entrants);
      known.final ??= { ...cardOf(held.giveaway, 'drawn', held.result.entrantsCount), result: held.result };
      return known.final;
    }
    if (held.status === 'closed' || this.#now() >= held.giveaway.closesAt) return this.#finish(roomId, giveawayId, false);
    const known = this.#remember(held.giveaway, held.status, held.entrants);
    return cardOf(held.giveaway, 'open', Math.max(held.entrants, known.entrants));
  }

  // ------------------------------------------------------------------ what this node knows

  async #knownOrLoad(roomId: string, giveawayId: string): Promise<Known | undefined> {
    const known = this.#known.get(roomId + sep + giveawayId);
    if (known !== undefined) return known;
    const held = await this.#store.giveaway(roomId, giveawayId);
    return held === undefined ? undefined : this.#remember(held.giveaway, held.status, held.entrants);
  }

  #remember(giveaway: Giveaway, status: GiveawayStatus, entrants: number): Known {
    const key = giveaway.roomId + sep + giveaway.id;
    let known = this.#known.get(key);
    if (known === undefined) this.#known.set(key, (known = { giveaway, status, entrants, pendingEntrants: false, sentAt: 0 }));
    else if (known.status === 'open') known.status = status;
    return known;
  }

  async #mustModerate(principal: Principal, roomId: string): Promise<void> {
    await this.#rooms.assertRoom(roomId, { principal, operation: 'manage' });
    if (!(await this.#rooms.canModerate(principal, roomId))) throw new DomainError('NOT_MODERATOR', 'only this room\'s streamer or an operator can do this');
  }
}

/** Where a giveaway's draw data is served (transport/GiveawaysHttpApi.ts). */
export function drawPath(roomId: string, giveawayId: string): string {
  return `/api/rooms/${encodeURIComponent(roomId)}/giveaways/${encodeURIComponent(giveawayId)}/draw.json`;
}

function cardOf(giveaway: Giveaway, status: GiveawayCard['status'], entrants: number): GiveawayCard {
  const card: GiveawayCard = {
    id: giveaway.id, roomId: giveaway.roomId, sku: giveaway.sku, winnersWanted: giveaway.winners, eligibility: giveaway.eligibility,
    opensAt: giveaway.opensAt, closesAt: giveaway.closesAt, commitment: giveaway.commitment, salt: giveaway.salt, status, entrants,
  };
  return giveaway.serial === undefined ? card : { ...card, serial: giveaway.serial };
}
