import { describe, expect, it } from 'vitest';
import { RoomModel, type Order, type OrderStatus, type Welcome } from '../../client/src/index.ts';

const product = { sku: 'mug', title: 'Mug', priceCents: 1200, currency: 'USD', stock: 5 };

function welcome(over: Partial<Welcome> = {}): Welcome {
  return {
    t: 'welcome', id: 1, v: 1,
    room: { id: 'r1', title: 'Show', streamerId: 's1', state: 'live', createdAt: 1 },
    you: { userId: 'u1', name: 'Ann', role: 'viewer' },
    seq: 10, epoch: 'e1', resumed: false, historyLost: false,
    comments: [{ seq: 9, userId: 'u2', name: 'Bob', text: 'hi', ts: 1 }],
    popup: null, products: [product], likes: 3, viewers: 2, muted: [], stock: { mug: 5 }, degradeLevel: 0, moderators: [], pinnedComment: null, coupon: { card: null, version: 0 }, giveaway: null,
    ...over,
  };
}
const comment = (seq: number, text = `c${seq}`) => ({ t: 'comment' as const, seq, userId: 'u2', name: 'Bob', text, ts: seq });

describe('RoomModel', () => {
  it('takes a fresh welcome as its snapshot', () => {
    const model = new RoomModel();
    expect(model.resumePoint).toBeUndefined();
    expect(model.applyWelcome(welcome())).toBe('fresh');
    expect(model).toMatchObject({ lastSeq: 10, epoch: 'e1', likes: 3, viewers: 2, popup: null });
    expect(model.comments.map((c) => c.seq)).toEqual([9]);
    expect(model.resumePoint).toEqual({ seq: 10, epoch: 'e1' });
  });

  it('applies sequenced events once: seq <= lastSeq is a duplicate', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    expect(model.applyEvent(comment(10))).toBe(false);
    expect(model.applyEvent(comment(11))).toBe(true);
    expect(model.applyEvent(comment(11))).toBe(false);
    expect(model.applyEvent(comment(13))).toBe(true); // gaps are allowed (chatter can be shed)
    expect(model.applyEvent(comment(12))).toBe(false);
    expect(model.comments.map((c) => c.seq)).toEqual([9, 11, 13]);
    expect(model.lastSeq).toBe(13);
  });

  it('keeps comments, popup and products on a resumed welcome, replaces them otherwise', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    model.applyEvent(comment(11));
    expect(model.applyWelcome(welcome({ resumed: true, seq: 15, comments: [], products: [], likes: 9 }))).toBe('resumed');
    expect(model.lastSeq).toBe(11); // replayed events 12..15 follow
    expect(model.comments.map((c) => c.seq)).toEqual([9, 11]);
    expect(model.products).toHaveLength(1);
    expect(model.likes).toBe(9);
    expect(model.applyWelcome(welcome({ historyLost: true, seq: 40, epoch: 'e2', comments: [] }))).toBe('historyLost');
    expect(model).toMatchObject({ lastSeq: 40, epoch: 'e2', comments: [] });
  });

  it('bounds the comment list', () => {
    const model = new RoomModel(3);
    model.applyWelcome(welcome({ comments: [1, 2, 3, 4, 5].map((s) => ({ seq: s, userId: 'u', name: 'n', text: 't', ts: s })) }));
    expect(model.comments.map((c) => c.seq)).toEqual([3, 4, 5]);
    model.applyEvent(comment(11));
    expect(model.comments.map((c) => c.seq)).toEqual([4, 5, 11]);
  });

  it('applies every event type and replaces collections instead of mutating them', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    const before = model.comments;
    model.applyEvent(comment(11));
    expect(model.comments).not.toBe(before);
    model.applyEvent({ t: 'commentDeleted', seq: 12, commentSeq: 9 });
    expect(model.comments.map((c) => c.seq)).toEqual([11]);
    model.applyEvent({ t: 'popup', seq: 13, popup: { product, pinnedAt: 5 } });
    model.applyEvent({ t: 'product', seq: 14, product: { ...product, stock: 4 } });
    expect(model.products).toEqual([{ ...product, stock: 4 }]);
    expect(model.popup?.product.stock).toBe(4);
    model.applyEvent({ t: 'product', seq: 15, product: { ...product, sku: 'cap' } });
    expect(model.products.map((p) => p.sku)).toEqual(['mug', 'cap']);
    model.applyEvent({ t: 'roomState', seq: 16, state: 'ended' });
    expect(model.room?.state).toBe('ended');
    model.applyEvent({ t: 'userMuted', seq: 17, userId: 'u2', muted: true });
    expect([...model.muted]).toEqual(['u2']);
    model.applyEvent({ t: 'userMuted', seq: 18, userId: 'u2', muted: false });
    expect(model.muted.size).toBe(0);
    model.applyUpdate({ t: 'likes', total: 50 });
    model.applyUpdate({ t: 'viewers', count: 7 });
    expect(model).toMatchObject({ likes: 50, viewers: 7, lastSeq: 18 });
  });

  it('keeps the degrade level from every welcome and degrade updates', () => {
    const model = new RoomModel();
    expect(model.degradeLevel).toBe(0);
    model.applyWelcome(welcome({ degradeLevel: 2 }));
    expect(model.degradeLevel).toBe(2);
    model.applyUpdate({ t: 'degrade', level: 3, reason: 'queue full' });
    expect(model.degradeLevel).toBe(3);
    // It is room state, not history: a resumed welcome carries the level of now.
    model.applyWelcome(welcome({ resumed: true, degradeLevel: 1 }));
    expect(model.degradeLevel).toBe(1);
    // A server older than the field sends none.
    model.applyWelcome(welcome({ degradeLevel: undefined as unknown as number }));
    expect(model.degradeLevel).toBe(0);
  });

  it('keeps stock from welcome, stock updates, soldOut and new products', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    expect(model.stock).toEqual({ mug: 5 });
    const before = model.stock;
    model.applyUpdate({ t: 'stock', sku: 'mug', available: 2 });
    expect(model.stock).toEqual({ mug: 2 });
    expect(model.stock).not.toBe(before);
    model.applyEvent({ t: 'soldOut', seq: 11, sku: 'mug' });
    expect(model.stock).toEqual({ mug: 0 });
    model.applyEvent({ t: 'product', seq: 12, product: { ...product, sku: 'cap', stock: 7 } });
    expect(model.stock).toEqual({ mug: 0, cap: 7 });
    // An edited product does not reset live stock.
    model.applyEvent({ t: 'product', seq: 13, product: { ...product, stock: 50 } });
    expect(model.stock.mug).toBe(0);
  });

  it('does not let a replayed soldOut zero stock that the resumed welcome already counted', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    // Away from seq 10 to 20: mug sold out at 12, then came back (a stock update we missed).
    expect(model.applyWelcome(welcome({ resumed: true, seq: 20, stock: { mug: 3 } }))).toBe('resumed');
    expect(model.stock).toEqual({ mug: 3 });
    expect(model.applyEvent({ t: 'soldOut', seq: 12, sku: 'mug' })).toBe(true);
    expect(model.stock).toEqual({ mug: 3 });
    // A live one after the welcome counts.
    model.applyEvent({ t: 'soldOut', seq: 21, sku: 'mug' });
    expect(model.stock).toEqual({ mug: 0 });
  });

  it('keeps the cart across welcomes and prices it from the catalog', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    model.cart.applyAnswer({ t: 'addToCart', id: 2, key: 'k', sku: 'mug', quantity: 2 }, { status: 'reserved', sku: 'mug', quantity: 2, granted: 2, expiresAt: 5, available: 3 });
    expect(model.cart).toMatchObject({ totalCents: 2400, currency: 'USD' });
    model.applyWelcome(welcome({ historyLost: true, seq: 40, epoch: 'e2' }));
    expect(model.cart.lines).toHaveLength(1);
  });

  it('keeps each order as last heard: an order only moves forward, so an older copy changes nothing', () => {
    const model = new RoomModel();
    const at = (...statuses: OrderStatus[]): Order => ({
      id: 'o-r1.abc', roomId: 'r1', userId: 'u1', lines: [{ sku: 'mug', quantity: 1, priceCents: 1200 }], totalCents: 1200, currency: 'USD', createdAt: 1,
      status: statuses.at(-1)!, history: statuses.map((status, i) => ({ status, at: 1 + i })),
    });
    expect(model.applyOrder(at('placed', 'paid'))).toBe(true);
    expect(model.applyOrder(at('placed'))).toBe(false); // the checkout's answer, arriving after the demo payment's news
    expect(model.orders['o-r1.abc']?.status).toBe('paid');
    model.cart.applyAnswer({ t: 'checkout', id: 1, key: 'k' }, { status: 'ordered', order: at('placed') });
    expect(model.applyOrder(at('placed', 'paid', 'shipped'))).toBe(true);
    expect(model.cart.lastOrder?.status).toBe('shipped');
  });
});

describe('RoomModel moderation state', () => {
  it('takes moderators and the pinned comment from a fresh welcome, then from their events; a resumed welcome keeps them for the replay', () => {
    const pinned = { seq: 9, userId: 'u2', name: 'Bob', text: 'hi', ts: 1, pinnedAt: 2, pinnedBy: 's1' };
    const model = new RoomModel();
    model.applyWelcome(welcome({ moderators: [{ userId: 'm1', name: 'Mia' }], pinnedComment: pinned }));
    expect(model.moderators).toEqual([{ userId: 'm1', name: 'Mia' }]);
    expect(model.pinnedComment).toEqual(pinned);
    expect(model.applyEvent({ t: 'moderators', seq: 11, moderators: [] })).toBe(true);
    expect(model.applyEvent({ t: 'commentPinned', seq: 12, pinned: null })).toBe(true);
    expect(model.moderators).toEqual([]);
    expect(model.pinnedComment).toBeNull();
    // A duplicate is ignored.
    expect(model.applyEvent({ t: 'commentPinned', seq: 12, pinned })).toBe(false);
    expect(model.pinnedComment).toBeNull();
    // A resume keeps what the client had: the replayed events bring it up to date.
    model.applyWelcome(welcome({ seq: 20, resumed: true, moderators: [{ userId: 'x', name: 'X' }], pinnedComment: pinned }));
    expect(model.moderators).toEqual([]);
    expect(model.pinnedComment).toBeNull();
  });

  it('keeps the newest pin\'s coupon card: the welcome\'s, then events and reads whose version is not older; one pin\'s left only goes down', () => {
    const couponOf = (id: string) => ({ id, roomId: 'r1', amountOffCents: 100, minSpendCents: 0, total: 10, createdAt: 1 });
    const card = (id: string, left: number) => ({ coupon: couponOf(id), left });
    const event = (seq: number, c: ReturnType<typeof card> | null, version?: number) => ({ t: 'coupon' as const, seq, card: c, ...(version === undefined ? {} : { version }) });
    const model = new RoomModel();
    model.applyWelcome(welcome({ coupon: { card: card('NEW', 8), version: 2 } }));
    expect(model).toMatchObject({ coupon: card('NEW', 8), couponVersion: 2 });
    // Another node still announcing the card it knew before the re-pin: ignored, though its seq is later.
    expect(model.applyEvent(event(11, card('OLD', 3), 1))).toBe(true);
    expect(model).toMatchObject({ coupon: card('NEW', 8), couponVersion: 2 });
    expect(model.takeCoupon(card('OLD', 2), 1)).toBe(false);
    // The same pin's news: left only goes down, whatever order it comes in.
    model.applyEvent(event(12, card('NEW', 5), 2));
    model.applyEvent(event(13, card('NEW', 6), 2));
    expect(model.coupon).toEqual(card('NEW', 5));
    // A newer pin replaces it, an unpin too, and nothing older comes back.
    model.applyEvent(event(14, card('NEXT', 10), 3));
    expect(model).toMatchObject({ coupon: card('NEXT', 10), couponVersion: 3 });
    model.applyEvent(event(15, null, 4));
    model.applyEvent(event(16, card('NEXT', 9), 3));
    expect(model).toMatchObject({ coupon: null, couponVersion: 4 });
    // A read (`coupons()`) of an older pin is ignored as well; a newer one is taken.
    expect(model.takeCoupon(card('NEXT', 9), 3)).toBe(false);
    expect(model.takeCoupon(card('LAST', 4), 5)).toBe(true);
    expect(model.coupon).toEqual(card('LAST', 4));
    // A resumed welcome from a node a step behind does not take the card back; a fresh welcome is a new snapshot.
    model.applyWelcome(welcome({ seq: 20, resumed: true, coupon: { card: card('NEXT', 9), version: 3 } }));
    expect(model).toMatchObject({ coupon: card('LAST', 4), couponVersion: 5 });
    model.applyWelcome(welcome({ seq: 30, coupon: { card: null, version: 1 } }));
    expect(model).toMatchObject({ coupon: null, couponVersion: 1 });
  });

  it('takes coupon news without a version (an older server) as news of the card held', () => {
    const card = (id: string, left: number) => ({ coupon: { id, roomId: 'r1', percentOff: 10, minSpendCents: 0, total: 10, createdAt: 1 }, left });
    const model = new RoomModel();
    const { coupon: _none, ...older } = welcome();
    model.applyWelcome(older as Welcome);
    expect(model.coupon).toBeNull();
    model.applyEvent({ t: 'coupon', seq: 11, card: card('A', 5) });
    model.applyEvent({ t: 'coupon', seq: 12, card: card('A', 7) });
    expect(model.coupon).toEqual(card('A', 5));
    model.applyEvent({ t: 'coupon', seq: 13, card: card('B', 9) });
    expect(model.coupon).toEqual(card('B', 9));
  });

  it('keeps the giveaway as last heard: its count only goes up, a finished card stays finished, a newer giveaway replaces it', () => {
    const model = new RoomModel();
    const card = { id: 'g1', roomId: 'r1', sku: 'tote', winnersWanted: 1, eligibility: 'present' as const, opensAt: 1, closesAt: 2, commitment: 'ab', salt: 'cd', status: 'open' as const, entrants: 0 };
    model.applyUpdate({ t: 'giveaway', giveaway: card });
    model.applyUpdate({ t: 'giveawayEntrants', giveawayId: 'g1', entrants: 7 });
    model.applyUpdate({ t: 'giveawayEntrants', giveawayId: 'g1', entrants: 5 });
    model.applyUpdate({ t: 'giveawayEntrants', giveawayId: 'other', entrants: 50 });
    expect(model.giveaway).toMatchObject({ id: 'g1', entrants: 7 });
    model.takeGiveaway({ ...card, entrants: 6 });
    expect(model.giveaway?.entrants).toBe(7);
    const drawn = { ...card, status: 'drawn' as const, entrants: 8, result: { winners: [{ entrantId: 'ee' }], entrantsCount: 8, seed: 'ff', drawUrl: '/d' } };
    model.applyUpdate({ t: 'giveaway', giveaway: drawn });
    model.applyUpdate({ t: 'giveaway', giveaway: { ...card, entrants: 9 } });
    model.applyUpdate({ t: 'giveawayEntrants', giveawayId: 'g1', entrants: 9 });
    expect(model.giveaway).toEqual(drawn);
    model.takeGiveaway(null);
    expect(model.giveaway).toEqual(drawn);
    model.applyUpdate({ t: 'giveaway', giveaway: { ...card, id: 'g2' } });
    expect(model.giveaway).toMatchObject({ id: 'g2', status: 'open', entrants: 0 });
  });

  it('keeps the newest auction card: of one auction the higher seq, a settled one over an open one; a newer auction replaces it', () => {
    const model = new RoomModel();
    model.applyWelcome(welcome());
    const card = (id: string, seq: number, status: 'open' | 'ended' = 'open', startsAt = 1) => ({
      id, roomId: 'r1', sku: 'mug', startPriceCents: 100, increments: [{ stepCents: 10 }], ending: { kind: 'sudden_death' as const }, leaderShown: 'name' as const,
      startsAt, status, priceCents: 100 + seq * 10, minNextCents: 110 + seq * 10, leader: 'Ann', endsAt: 5000, bids: seq, seq,
    });
    model.applyUpdate({ t: 'auction', auction: card('a', 5) });
    model.applyUpdate({ t: 'auction', auction: card('a', 3) }); // another node's older card, crossing
    expect(model.auction).toMatchObject({ id: 'a', seq: 5 });
    expect(model.applyEvent({ t: 'auctionEnded', seq: 11, auction: card('a', 6, 'ended'), outcome: 'sold', winner: 'Ann', priceCents: 160 })).toBe(true);
    model.applyUpdate({ t: 'auction', auction: card('a', 7) }); // an open card after the end is stale
    expect(model.auction).toMatchObject({ id: 'a', status: 'ended', seq: 6 });
    model.applyUpdate({ t: 'auction', auction: card('b', 0, 'open', 2) });
    expect(model.auction).toMatchObject({ id: 'b', seq: 0 });
  });

  it('takes the giveaway from welcome, fresh and resumed, and never lets an older giveaway\'s card replace a newer one', () => {
    const model = new RoomModel();
    const card = { id: 'g1', roomId: 'r1', sku: 'tote', winnersWanted: 1, eligibility: 'present' as const, opensAt: 1, closesAt: 2, commitment: 'ab', salt: 'cd', status: 'open' as const, entrants: 4, serial: 1 };
    model.applyWelcome({ ...welcome(), giveaway: card });
    expect(model.giveaway).toEqual(card);
    // The next giveaway opened; another node's late news of the first one's draw changes nothing.
    const next = { ...card, id: 'g2', serial: 2, entrants: 0 };
    model.applyUpdate({ t: 'giveaway', giveaway: next });
    const drawnFirst = { ...card, status: 'drawn' as const, result: { winners: [], entrantsCount: 4, seed: 'ff', drawUrl: '/d' } };
    model.applyUpdate({ t: 'giveaway', giveaway: drawnFirst });
    model.takeGiveaway(drawnFirst);
    expect(model.giveaway).toEqual(next);
    // A resumed welcome with an older count of the same giveaway keeps the larger; a drawn card there replaces the open one.
    model.applyUpdate({ t: 'giveawayEntrants', giveawayId: 'g2', entrants: 9 });
    model.applyWelcome({ ...welcome(), resumed: true, giveaway: { ...next, entrants: 3 } });
    expect(model.giveaway).toMatchObject({ id: 'g2', entrants: 9 });
    const drawnNext = { ...next, status: 'drawn' as const, entrants: 9, result: { winners: [], entrantsCount: 9, seed: 'ee', drawUrl: '/d2' } };
    model.applyWelcome({ ...welcome(), resumed: true, giveaway: drawnNext });
    expect(model.giveaway).toEqual(drawnNext);
    model.applyWelcome({ ...welcome(), resumed: true, giveaway: { ...next, entrants: 12 } });
    expect(model.giveaway).toEqual(drawnNext);
    // A fresh welcome is the room as it is now (another room, or a room whose giveaways are gone).
    model.applyWelcome({ ...welcome(), giveaway: null });
    expect(model.giveaway).toBeNull();
  });
});
