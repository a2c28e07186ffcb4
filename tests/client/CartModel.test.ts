import { describe, expect, it } from 'vitest';
import { CartModel, type CartAnswer, type Order } from '../../client/src/index.ts';

const prices: Record<string, { priceCents: number; currency: string }> = {
  mug: { priceCents: 1200, currency: 'USD' },
  cap: { priceCents: 500, currency: 'USD' },
};
const model = () => new CartModel((sku) => prices[sku]);
const add = (sku: string) => ({ t: 'addToCart' as const, id: 1, key: 'k', sku, quantity: 1 });
const set = (sku: string, quantity: number) => ({ t: 'setQuantity' as const, id: 1, key: 'k', sku, quantity });
const remove = (sku: string) => ({ t: 'removeFromCart' as const, id: 1, key: 'k', sku });
const checkout = { t: 'checkout' as const, id: 1, key: 'k' };
const getCart = { t: 'getCart' as const, id: 1 };
const reserved = (sku: string, quantity: number, expiresAt = 1000): CartAnswer => ({ status: 'reserved', sku, quantity, granted: 1, expiresAt, available: 3 });

describe('CartModel', () => {
  it('adds and updates lines from reserved answers, priced from the catalog', () => {
    const cart = model();
    expect(cart).toMatchObject({ lines: [], totalCents: 0, currency: undefined, lastOrder: undefined });
    expect(cart.applyAnswer(add('mug'), reserved('mug', 1))).toBe(true);
    expect(cart.applyAnswer(add('cap'), reserved('cap', 2))).toBe(true);
    const before = cart.lines;
    expect(cart.applyAnswer(add('mug'), reserved('mug', 3, 2000))).toBe(true);
    expect(cart.lines).not.toBe(before);
    expect(cart.lines).toEqual([
      { sku: 'mug', quantity: 3, expiresAt: 2000, priceCents: 1200 },
      { sku: 'cap', quantity: 2, expiresAt: 1000, priceCents: 500 },
    ]);
    expect(cart.totalCents).toBe(3 * 1200 + 2 * 500);
    expect(cart.currency).toBe('USD');
    // A replayed answer (idempotent retry) changes nothing.
    expect(cart.applyAnswer(add('mug'), reserved('mug', 3, 2000))).toBe(false);
  });

  it('leaves the cart alone on business refusals', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 1));
    for (const answer of [
      { status: 'sold_out', sku: 'mug' },
      { status: 'limit_reached', sku: 'mug', limit: 1 },
      { status: 'not_on_sale', sku: 'mug', endsAt: 5 },
    ] satisfies CartAnswer[]) expect(cart.applyAnswer(add('mug'), answer)).toBe(false);
    expect(cart.lines).toHaveLength(1);
  });

  it('releases: lowers a line keeping its expiry, removes it at 0', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 3, 777));
    expect(cart.applyAnswer(set('mug', 1), { status: 'released', sku: 'mug', quantity: 1, available: 5 })).toBe(true);
    expect(cart.lines).toEqual([{ sku: 'mug', quantity: 1, expiresAt: 777, priceCents: 1200 }]);
    expect(cart.applyAnswer(remove('mug'), { status: 'released', sku: 'mug', quantity: 0, available: 6 })).toBe(true);
    expect(cart.lines).toEqual([]);
    expect(cart.currency).toBeUndefined();
  });

  it('drops a line the server no longer has (cart_not_found for a line request)', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 1));
    cart.applyAnswer(add('cap'), reserved('cap', 1));
    expect(cart.applyAnswer(set('mug', 2), { status: 'cart_not_found' })).toBe(true);
    expect(cart.lines.map((l) => l.sku)).toEqual(['cap']);
    expect(cart.applyAnswer(remove('mug'), { status: 'cart_not_found' })).toBe(false);
  });

  it('empties on ordered (and keeps the order) and on cart_not_found for checkout', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 2));
    const order: Order = { id: 'o-1', roomId: 'r', userId: 'u', lines: [{ sku: 'mug', quantity: 2, priceCents: 1200 }], totalCents: 2400, currency: 'USD', createdAt: 1, status: 'placed', history: [{ status: 'placed', at: 1 }] };
    expect(cart.applyAnswer(checkout, { status: 'ordered', order })).toBe(true);
    expect(cart).toMatchObject({ lines: [], totalCents: 0, lastOrder: order });
    cart.applyAnswer(add('mug'), reserved('mug', 1));
    expect(cart.applyAnswer(checkout, { status: 'cart_not_found' })).toBe(true);
    expect(cart.lines).toEqual([]);
  });

  it('drops the lines a checkout found expired, keeps the rest', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 1));
    cart.applyAnswer(add('cap'), reserved('cap', 1));
    expect(cart.applyAnswer(checkout, { status: 'expired', skus: ['mug'] })).toBe(true);
    expect(cart.lines.map((l) => l.sku)).toEqual(['cap']);
  });

  it('drops a line on expiry notice', () => {
    const cart = model();
    cart.applyAnswer(add('mug'), reserved('mug', 1));
    expect(cart.expire('cap')).toBe(false);
    expect(cart.expire('mug')).toBe(true);
    expect(cart.lines).toEqual([]);
  });

  it('takes a cart answer as the whole truth, with its prices and currency', () => {
    const cart = new CartModel(); // no catalog
    cart.applyAnswer(add('old'), reserved('old', 1));
    expect(cart.lines[0]!.priceCents).toBeUndefined();
    expect(cart.totalCents).toBe(0);
    const lines = [{ sku: 'mug', quantity: 2, priceCents: 1100, expiresAt: 9 }];
    expect(cart.applyAnswer(getCart, { status: 'cart', cart: { roomId: 'r', lines, currency: 'EUR', totalCents: 2200 } })).toBe(true);
    expect(cart).toMatchObject({ lines, totalCents: 2200, currency: 'EUR' });
    // A later reservation keeps the price the server told, when the catalog does not know it.
    cart.applyAnswer(add('mug'), reserved('mug', 3));
    expect(cart.lines[0]).toMatchObject({ quantity: 3, priceCents: 1100 });
  });
});
