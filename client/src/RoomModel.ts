import type { HistoryComment, Popup, Product, RoomInfo, SequencedEvent, StateUpdate, Welcome } from '../../protocol/src/messages.ts';

/** A read-only view of what the client knows about its room. Collections are replaced, never mutated, on change. */
export interface RoomSnapshot {
  /** The room; undefined before the first `welcome`. */
  readonly room: RoomInfo | undefined;
  /** Who the server says we are; undefined before the first `welcome`. */
  readonly you: Welcome['you'] | undefined;
  /** Seq of the last sequenced event applied (0 before the first `welcome`). */
  readonly lastSeq: number;
  /** The room history epoch `lastSeq` belongs to; undefined before the first `welcome`. */
  readonly epoch: string | undefined;
  readonly likes: number;
  readonly viewers: number;
  readonly popup: Popup | null;
  /** The most recent comments, oldest first, at most `maxComments`. */
  readonly comments: readonly HistoryComment[];
  /** The room's catalog, in the order the products were first seen. */
  readonly products: readonly Product[];
  /** Users muted in this room (clients hide their comments). */
  readonly muted: ReadonlySet<string>;
}

export type WelcomeKind = 'fresh' | 'resumed' | 'historyLost';

/**
 * The client's model of its room: built from `welcome`, advanced by room events. Pure (no I/O), so
 * the dedupe and resume rules are testable without a server:
 * - a sequenced event with `seq <= lastSeq` is a duplicate and is ignored;
 * - a fresh or history-lost `welcome` replaces everything; a resumed one keeps comments, popup and
 *   products (the replayed events that follow bring them up to date) and takes the rest from the
 *   snapshot.
 */
export class RoomModel implements RoomSnapshot {
  readonly maxComments: number;
  room: RoomInfo | undefined;
  you: Welcome['you'] | undefined;
  lastSeq = 0;
  epoch: string | undefined;
  likes = 0;
  viewers = 0;
  popup: Popup | null = null;
  comments: readonly HistoryComment[] = [];
  products: readonly Product[] = [];
  muted: ReadonlySet<string> = new Set();

  constructor(maxComments = 200) {
    if (!(maxComments >= 0)) throw new RangeError('maxComments must be non-negative');
    this.maxComments = Math.floor(maxComments);
  }

  /** The resume point to send in `hello`, or undefined before the first `welcome`. */
  get resumePoint(): { seq: number; epoch: string } | undefined {
    return this.epoch === undefined ? undefined : { seq: this.lastSeq, epoch: this.epoch };
  }

  applyWelcome(welcome: Welcome): WelcomeKind {
    const kind: WelcomeKind = welcome.resumed ? 'resumed' : welcome.historyLost ? 'historyLost' : 'fresh';
    this.room = welcome.room;
    this.you = welcome.you;
    this.likes = welcome.likes;
    this.viewers = welcome.viewers;
    this.muted = new Set(welcome.muted);
    this.epoch = welcome.epoch;
    if (kind !== 'resumed') {
      this.lastSeq = welcome.seq;
      this.popup = welcome.popup;
      this.products = [...welcome.products];
      this.comments = this.#bound([...welcome.comments]);
    }
    return kind;
  }

  /** Applies a sequenced event; returns false (and changes nothing) for a duplicate. */
  applyEvent(event: SequencedEvent): boolean {
    if (event.seq <= this.lastSeq) return false;
    this.lastSeq = event.seq;
    switch (event.t) {
      case 'comment':
        this.comments = this.#bound([...this.comments, { seq: event.seq, userId: event.userId, name: event.name, text: event.text, ts: event.ts }]);
        break;
      case 'commentDeleted':
        if (this.comments.some((c) => c.seq === event.commentSeq)) this.comments = this.comments.filter((c) => c.seq !== event.commentSeq);
        break;
      case 'popup':
        this.popup = event.popup;
        break;
      case 'product': {
        const index = this.products.findIndex((p) => p.sku === event.product.sku);
        this.products = index === -1 ? [...this.products, event.product] : this.products.map((p, i) => (i === index ? event.product : p));
        // A pinned card shows the product's current stock and price.
        if (this.popup && this.popup.product.sku === event.product.sku) this.popup = { ...this.popup, product: event.product };
        break;
      }
      case 'roomState':
        if (this.room) this.room = { ...this.room, state: event.state };
        break;
      case 'userMuted': {
        const muted = new Set(this.muted);
        if (event.muted) muted.add(event.userId);
        else muted.delete(event.userId);
        this.muted = muted;
        break;
      }
    }
    return true;
  }

  applyUpdate(update: StateUpdate): void {
    if (update.t === 'likes') this.likes = update.total;
    else this.viewers = update.count;
  }

  #bound(comments: HistoryComment[]): HistoryComment[] {
    return comments.length > this.maxComments ? comments.slice(comments.length - this.maxComments) : comments;
  }
}
