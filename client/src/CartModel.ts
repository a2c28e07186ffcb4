import type { Cart, CartAnswer, CartRequest, Order } from '../../protocol/src/messages.ts';

/** One line of the local cart view. */
export interface LocalCartLine {
  readonly sku: string;
  /** Units held (reserved) for this user. */
  readonly quantity: number;
  /** The reservation runs out at this epoch ms (server clock); the units then go back to stock. */
  readonly expiresAt: number;
  /** Unit price from the server's cart or the room's catalog; undefined only for a product the client has not seen yet. */
  readonly priceCents: number | undefined;
}

/** A read-only view of the user's cart in this room. `lines` is replaced, never mutated, on change. */
export interface CartView {
  /** Lines held now, in the order they were first reserved. */
  readonly lines: readonly LocalCartLine[];
  /** Sum of quantity × price over the lines whose price is known. */
  readonly totalCents: number;
  /** The cart's currency; undefined while it is empty. */
  readonly currency: string | undefined;
  /** The last order this client placed in the room, if any. */
  readonly lastOrder: Order | undefined;
}

/** Price and currency of a sku, from the room's catalog. */
export type PriceLookup = (sku: string) => { readonly priceCents: number; readonly currency: string } | undefined;

/**
 * The client's view of its cart, kept from the answers to its own cart requests and from
 * `reservationExpired` notices. Pure (no I/O). The server holds the truth; this is what the client
 * knows of it, and `applyAnswer` of a `cart` answer (from `getCart`) replaces it entirely.
 */
export class CartModel implements CartView {
  lines: readonly LocalCartLine[] = [];
  lastOrder: Order | undefined;
  readonly #priceOf: PriceLookup;
  /** Currency the server named in the last `cart` answer. */
  #cartCurrency: string | undefined;

  constructor(priceOf: PriceLookup = () => undefined) {
    this.#priceOf = priceOf;
  }

  get totalCents(): number {
    let total = 0;
    for (const line of this.lines) if (line.priceCents !== undefined) total += line.quantity * line.priceCents;
    return total;
  }

  get currency(): string | undefined {
    if (this.lines.length === 0) return undefined;
    if (this.#cartCurrency !== undefined) return this.#cartCurrency;
    for (const line of this.lines) {
      const currency = this.#priceOf(line.sku)?.currency;
      if (currency !== undefined) return currency;
    }
    return undefined;
  }

  /**
   * Applies the server's answer to `request` (one of ours). Returns true when the view changed.
   * Business refusals (`sold_out`, `limit_reached`, `not_on_sale`) leave the cart as it was.
   */
  applyAnswer(request: CartRequest, answer: CartAnswer): boolean {
    switch (answer.status) {
      case 'reserved':
        return this.#upsert(answer.sku, answer.quantity, answer.expiresAt);
      case 'released': {
        if (answer.quantity === 0) return this.#drop([answer.sku]);
        const line = this.lines.find((l) => l.sku === answer.sku);
        // The expiry of a line we do not hold locally is unknown: leave it to the next `cart` answer.
        return line !== undefined && this.#upsert(answer.sku, answer.quantity, line.expiresAt);
      }
      case 'cart_not_found':
        // For a line request: that line is gone (expired or never held). For checkout: the whole cart is.
        if (request.t === 'setQuantity' || request.t === 'removeFromCart' || request.t === 'addToCart') return this.#drop([request.sku]);
        return this.#set([]);
      case 'cart':
        this.#cartCurrency = answer.cart.currency;
        return this.#replace(answer.cart);
      case 'ordered':
        this.lastOrder = answer.order;
        this.#set([]);
        return true;
      case 'expired':
        return this.#drop(answer.skus);
      case 'sold_out':
      case 'limit_reached':
      case 'not_on_sale':
        return false;
      default:
        return false; // a status a newer server added
    }
  }

  /** A reservation ran out (the server's `reservationExpired`): its line is gone. Returns true when the view changed. */
  expire(sku: string): boolean {
    return this.#drop([sku]);
  }

  #replace(cart: Cart): boolean {
    this.#set(cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, expiresAt: l.expiresAt, priceCents: l.priceCents })));
    return true;
  }

  #upsert(sku: string, quantity: number, expiresAt: number): boolean {
    if (quantity <= 0) return this.#drop([sku]);
    const index = this.lines.findIndex((l) => l.sku === sku);
    const previous = index === -1 ? undefined : this.lines[index]!;
    if (previous && previous.quantity === quantity && previous.expiresAt === expiresAt) return false;
    const line: LocalCartLine = { sku, quantity, expiresAt, priceCents: this.#priceOf(sku)?.priceCents ?? previous?.priceCents };
    this.#set(index === -1 ? [...this.lines, line] : this.lines.map((l, i) => (i === index ? line : l)));
    return true;
  }

  #drop(skus: readonly string[]): boolean {
    const gone = new Set(skus);
    const kept = this.lines.filter((l) => !gone.has(l.sku));
    if (kept.length === this.lines.length) return false;
    this.#set(kept);
    return true;
  }

  #set(lines: readonly LocalCartLine[]): boolean {
    const changed = lines.length !== 0 || this.lines.length !== 0;
    this.lines = lines;
    if (lines.length === 0) this.#cartCurrency = undefined;
    return changed;
  }
}
