/**
 * After the show, the viewer page's replay and shop: the show's recording (GET
 * /api/rooms/:id/replay) plays in the page's <video> through `HlsPlayer`, and "Shop the show" lists
 * each product at the moment it was pinned: tapping one jumps the video there, and its Add to cart
 * button reserves against the stock of now (the list follows the room's `stock` events). Without a
 * recording (nothing streamed, or removed past its retention) the list shows the room's products.
 */
import { isLivecartError, type LivecartClient, type Product, type ReplayInfo, type ReplayMoment } from '../../src/index.ts';
import { HlsPlayer } from './hlsPlayer.ts';
import { t } from './i18n.ts';
import { api, errorText, formatDuration, formatNumber, formatPrice, h, placeholderImage, say, setText, show } from './common.ts';

export interface ReplayElements {
  readonly section: HTMLElement;
  readonly note: HTMLElement;
  readonly list: HTMLOListElement;
}

/** One line of the list: a moment of the recording (`atMs`), or a product of a show without one. */
interface Item {
  readonly product: Product;
  readonly atMs: number | undefined;
  readonly offerEndsAt: number | undefined;
  readonly available: number;
  readonly li: HTMLLIElement;
  readonly stock: HTMLElement;
  readonly add: HTMLButtonElement;
  readonly status: HTMLElement;
  busy: boolean;
}

export class ReplayShop {
  readonly #client: LivecartClient;
  readonly #roomId: string;
  readonly #video: HTMLVideoElement;
  readonly #el: ReplayElements;
  readonly #onChange: () => void;
  readonly #now: () => number;
  #started = false;
  #loading = false;
  #info: ReplayInfo | undefined;
  #player: HlsPlayer | undefined;
  #items: Item[] = [];
  /** The moment the video is at (the latest one it passed), or -1. */
  #current = -1;
  /** The server refused an add after the show (`ROOM_ENDED`): its shop closed with the show. */
  #shopClosed = false;

  constructor(deps: { client: LivecartClient; roomId: string; video: HTMLVideoElement; elements: ReplayElements; now: () => number; onChange: () => void }) {
    this.#client = deps.client;
    this.#roomId = deps.roomId;
    this.#video = deps.video;
    this.#el = deps.elements;
    this.#now = deps.now;
    this.#onChange = deps.onChange;
  }

  /** The recording owns the <video> (loading or playing it). */
  get active(): boolean {
    return this.#player?.active === true;
  }

  /** Frames of the recording are showing. */
  get playing(): boolean {
    return this.#player?.playing === true;
  }

  /** The products are on sale after the show (known once loaded). */
  get onSale(): boolean {
    return this.#started && !this.#loading && !this.#shopClosed && (this.#info?.onSale ?? true);
  }

  /** Still asking the server whether the show has a recording. */
  get loading(): boolean {
    return this.#loading;
  }

  /** Once: asks for the recording, then plays it and lists the moments (or lists the products). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#loading = true;
    this.#onChange();
    void this.#load();
  }

  /** Stops playing (the user was removed from the room) and takes the list away. */
  stop(): void {
    this.#player?.stop();
    this.#video.removeEventListener('timeupdate', this.#followTime);
    this.#loading = false;
    show(this.#el.section, false);
  }

  /** Stock and cart changed: the lines follow. */
  render(): void {
    const onSale = this.onSale;
    for (const item of this.#items) {
      const available = this.#client.state.stock[item.product.sku] ?? item.available;
      item.stock.classList.toggle('sold-out', available === 0);
      setText(item.stock, available === 0 ? t('card.soldOut') : t('card.left', { n: formatNumber(available) }));
      const offerEnded = item.offerEndsAt !== undefined && item.offerEndsAt <= this.#now();
      const disabled = item.busy || !onSale || available === 0 || offerEnded;
      if (item.add.disabled !== disabled) item.add.disabled = disabled;
      const inCart = this.#client.state.cart.lines.some((l) => l.sku === item.product.sku);
      setText(item.add, t(item.busy ? 'button.adding' : !onSale ? 'replay.notOnSale' : available === 0 ? 'card.soldOut' : offerEnded ? 'card.offerEnded' : inCart ? 'button.addOneMore' : 'viewer.add'));
    }
    setText(this.#el.note, !onSale
      ? t('replay.shopClosed')
      : this.#info === undefined
        ? t('replay.noRecording')
        : t('replay.hint'));
  }

  async #load(): Promise<void> {
    try {
      // A recorded show has its recording listed from its first segment on: no answer to wait for.
      this.#info = await api<ReplayInfo>(`/api/rooms/${encodeURIComponent(this.#roomId)}/replay`);
    } catch {
      // No recording (REPLAY_NOT_FOUND), or the server could not say: the products are still there to buy.
    }
    this.#loading = false;
    this.#build();
    if (this.#info !== undefined && HlsPlayer.supported) {
      this.#player = new HlsPlayer(this.#video, this.#info.playlistUrl, { replay: true, onChange: this.#onChange });
      this.#video.addEventListener('timeupdate', this.#followTime);
      this.#player.start();
    }
    this.#onChange();
  }

  /** The list: every moment of the recording in order, or the room's products. */
  #build(): void {
    const moments: Array<Pick<ReplayMoment, 'product' | 'available'> & { atMs?: number; offerEndsAt?: number }> = this.#info?.timeline
      ?? this.#client.state.products.map((product) => ({ product, available: product.stock }));
    this.#items = moments.map((moment, index) => this.#item(moment, index));
    this.#el.list.replaceChildren(...this.#items.map((item) => item.li));
    show(this.#el.section, true);
    this.render();
  }

  #item(moment: Pick<ReplayMoment, 'product' | 'available'> & { atMs?: number; offerEndsAt?: number }, index: number): Item {
    const { product } = moment;
    const image = h('img', { src: product.imageUrl || placeholderImage(product.title, product.sku), alt: '', width: 56, height: 56 });
    const details = [
      h('span', { class: 'moment-title' }, product.title),
      h('span', { class: 'moment-price' }, formatPrice(product.priceCents, product.currency)),
    ];
    const atMs = moment.atMs;
    const head = atMs === undefined
      ? h('div', { class: 'moment-product' }, image, h('span', { class: 'moment-text' }, ...details))
      : h('button', { type: 'button', class: 'moment-product moment-seek', 'aria-label': t('replay.watchAt', { title: product.title, at: formatDuration(atMs) }), onclick: () => this.#seek(index) },
        image, h('span', { class: 'moment-text' }, h('span', { class: 'moment-time' }, formatDuration(atMs)), ...details));
    const stock = h('span', { class: 'stock' });
    const add = h('button', { type: 'button', class: 'primary moment-add', 'data-testid': 'moment-add', 'aria-label': t('replay.addLabel', { title: product.title }) }, t('viewer.add'));
    const status = h('p', { class: 'status small', role: 'status', 'aria-live': 'polite' });
    const li = h('li', { class: 'moment', 'data-testid': 'moment', 'data-sku': product.sku, 'data-at-ms': atMs }, head, h('div', { class: 'moment-buy' }, stock, add), status);
    const item: Item = { product, atMs, offerEndsAt: moment.offerEndsAt, available: moment.available, li, stock, add, status, busy: false };
    add.addEventListener('click', () => void this.#add(item));
    return item;
  }

  #seek(index: number): void {
    const atMs = this.#items[index]?.atMs;
    if (atMs === undefined || this.#player === undefined) return;
    this.#player.seek(atMs / 1000);
    this.#mark(index);
  }

  /** The latest moment the video passed is the current one (the product the streamer was showing). */
  readonly #followTime = (): void => {
    const ms = this.#video.currentTime * 1000;
    let current = -1;
    for (const [i, item] of this.#items.entries()) if (item.atMs !== undefined && item.atMs <= ms) current = i;
    if (current !== this.#current) this.#mark(current);
  };

  #mark(index: number): void {
    this.#current = index;
    for (const [i, item] of this.#items.entries()) {
      if (i === index) item.li.setAttribute('aria-current', 'true');
      else item.li.removeAttribute('aria-current');
    }
  }

  async #add(item: Item): Promise<void> {
    item.busy = true;
    say(item.status, '');
    this.render();
    try {
      const answer = await this.#client.addToCart(item.product.sku, 1);
      switch (answer.status) {
        case 'reserved':
          say(item.status, t('replay.reserved', { n: answer.quantity }), 'ok');
          break;
        case 'sold_out':
          say(item.status, t('add.soldOut'), 'error');
          break;
        case 'limit_reached':
          say(item.status, t('add.limitReached', { n: answer.limit }), 'error');
          break;
        case 'not_on_sale':
          say(item.status, answer.startsAt !== undefined && answer.startsAt > this.#now() ? t('add.notYet') : t('replay.noLonger'), 'error');
          break;
      }
    } catch (error) {
      if (isLivecartError(error) && error.name === 'ROOM_ENDED') this.#shopClosed = true;
      say(item.status, t('add.failed', { why: errorText(error) }), 'error');
    } finally {
      item.busy = false;
      this.render();
    }
  }
}
