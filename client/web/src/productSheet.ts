/**
 * The room's products as a sheet (the viewer page) or inline (the shop window), and a product's own
 * page: its pictures (a generated tile when one is missing or broken), description, sale price with
 * the list price struck through, and its variants (size, colour…) with the stock of each. Adds go
 * through the SDK like the pinned card's (styles: productSheet.css, linked by the pages); the sheet renders from the client's state, so stock
 * news and cart changes show at once.
 */
import { findSku, type LivecartClient, type Product, type ProductVariant } from '../../src/index.ts';
import { errorText, formatPrice, h, setText, show } from './common.ts';
import { formatNumber, t, type MessageKey } from './i18n.ts';
import { productImage } from './productImage.ts';

export interface ProductSheetOptions {
  /** Opens the page's cart (the sheet's "View cart"). */
  openCart?: () => void;
  /** The sheet's heading. */
  title?: string;
}

/** Units left of a product: its own sku's, or the sum over its variants (undefined while unknown). */
export function unitsLeft(product: Product, stock: Readonly<Record<string, number>>): number | undefined {
  const skus = product.variants === undefined ? [product.sku] : product.variants.map((v) => v.sku);
  let total: number | undefined;
  for (const sku of skus) {
    const units = stock[sku];
    if (units !== undefined) total = (total ?? 0) + units;
  }
  return total;
}

/** "Logo tee (M / Black)" for a variant's sku, the title for a product's, the sku when unknown. */
export function skuTitle(products: readonly Product[], sku: string): string {
  const found = findSku(products, sku);
  if (found === undefined) return sku;
  return found.variant === undefined ? found.product.title : `${found.product.title} (${variantLabel(found.variant)})`;
}

export function variantLabel(variant: ProductVariant): string {
  return Object.values(variant.options).join(' / ');
}

/** A price line: the sale price, and the list price struck through with the saving when it is higher. */
export function priceLine(priceCents: number, listPriceCents: number | undefined, currency: string): HTMLElement {
  const sale = h('span', { class: 'price', 'data-testid': 'sale-price' }, formatPrice(priceCents, currency));
  if (listPriceCents === undefined || listPriceCents <= priceCents) return h('span', { class: 'price-line' }, sale);
  const off = Math.floor(((listPriceCents - priceCents) * 100) / listPriceCents);
  return h(
    'span',
    { class: 'price-line' },
    sale,
    ' ',
    h('s', { class: 'list-price', 'data-testid': 'list-price' }, h('span', { class: 'sr-only' }, t('sheet.was')), formatPrice(listPriceCents, currency)),
    off > 0 ? h('span', { class: 'saving' }, `−${off}%`) : null,
  );
}

function stockText(units: number | undefined): string {
  if (units === undefined) return '';
  return units === 0 ? t('sheet.soldOut') : t('sheet.left', { n: formatNumber(units) });
}

export class ProductSheet {
  readonly #client: LivecartClient;
  readonly #options: ProductSheetOptions;
  readonly #sheet: HTMLElement;
  readonly #heading: HTMLElement;
  readonly #body: HTMLElement;
  readonly #back: HTMLButtonElement;
  #button: HTMLButtonElement | undefined;
  /** The product page shown in the sheet (undefined: the list). */
  #open: string | undefined;
  /** The variant picked on the product page. */
  #picked: string | undefined;
  /** The last add's outcome on the product page, by sku. */
  #status = new Map<string, { text: string; kind: 'ok' | 'error' | 'info' }>();
  /** Inline lists (the shop window) rendered from the same state. */
  readonly #inline: HTMLElement[] = [];

  constructor(client: LivecartClient, options: ProductSheetOptions = {}) {
    this.#client = client;
    this.#options = options;
    this.#heading = h('h2', { id: 'product-sheet-title', tabindex: -1 }, options.title ?? t('sheet.products'));
    this.#back = h('button', { type: 'button', class: 'ghost', 'data-testid': 'product-back', onclick: () => this.openList() }, t('sheet.allProducts'));
    const close = h('button', { type: 'button', class: 'ghost', 'aria-label': t('sheet.close'), 'data-testid': 'product-sheet-close', onclick: () => this.close() }, '✕');
    this.#body = h('div', { class: 'sheet-body' });
    this.#sheet = h('aside', { class: 'sheet', role: 'dialog', 'aria-labelledby': 'product-sheet-title', 'data-testid': 'product-sheet', hidden: true },
      h('div', { class: 'sheet-head' }, this.#back, this.#heading, close), this.#body);
    document.body.append(this.#sheet);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.#sheet.hidden) this.close();
    });
    for (const event of ['welcome', 'product', 'stock', 'soldOut', 'cartChanged', 'popup'] as const) client.on(event, () => this.render());
  }

  /** A "Products" button (with the count) for the page's top bar. */
  mountButton(host: HTMLElement, before: Element | null = null): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'products-button', 'aria-haspopup': 'dialog', 'data-testid': 'products-button', onclick: () => this.openList() }, t('sheet.products'));
    host.insertBefore(button, before);
    this.#button = button;
    this.render();
    return button;
  }

  /** Shows the products inline in `container` too (kept up to date). */
  renderInto(container: HTMLElement): void {
    this.#inline.push(container);
    this.render();
  }

  openList(): void {
    this.#open = undefined;
    this.#show();
  }

  openProduct(sku: string): void {
    const found = findSku(this.#client.state.products, sku);
    if (found === undefined) return;
    this.#open = found.product.sku;
    this.#picked = found.variant?.sku ?? this.#firstInStock(found.product);
    this.#show();
  }

  close(): void {
    show(this.#sheet, false);
    document.body.classList.remove('sheet-open');
    this.#button?.focus();
  }

  render(): void {
    const products = this.#client.state.products;
    if (this.#button !== undefined) setText(this.#button, products.length === 0 ? t('sheet.products') : t('sheet.productsCount', { n: formatNumber(products.length) }));
    for (const container of this.#inline) container.replaceChildren(this.#list(products));
    if (this.#sheet.hidden) return;
    const product = this.#open === undefined ? undefined : products.find((p) => p.sku === this.#open);
    show(this.#back, product !== undefined);
    setText(this.#heading, product === undefined ? this.#options.title ?? t('sheet.products') : product.title);
    this.#body.replaceChildren(product === undefined ? this.#list(products) : this.#page(product));
  }

  #show(): void {
    show(this.#sheet, true);
    document.body.classList.add('sheet-open');
    this.render();
    this.#heading.focus();
  }

  #list(products: readonly Product[]): HTMLElement {
    if (products.length === 0) return h('p', { class: 'muted', 'data-testid': 'no-products' }, t('sheet.noProducts'));
    const stock = this.#client.state.stock;
    const pinned = this.#client.state.popup?.product.sku;
    return h('ul', { class: 'product-list', 'data-testid': 'product-list' }, ...products.map((p) => {
      const units = unitsLeft(p, stock);
      const open = () => this.openProduct(p.sku);
      return h(
        'li',
        { class: 'product-row', 'data-sku': p.sku, 'data-testid': 'product-row' },
        h('button', { type: 'button', class: 'product-open', onclick: open, 'aria-label': t('sheet.details', { title: p.title }) }, productImage(p.imageUrl ?? p.images?.[0], p.title, p.sku, { class: 'product-thumb', size: 64 })),
        h(
          'div',
          { class: 'product-text' },
          h('button', { type: 'button', class: 'product-title link', onclick: open }, p.title),
          priceLine(p.priceCents, p.listPriceCents, p.currency),
          h('span', { class: 'small', 'data-testid': 'product-stock', 'data-soldout': units === 0 ? 'true' : undefined }, [pinned === p.sku ? t('sheet.pinnedNow') : '', stockText(units)].filter(Boolean).join(' · ')),
        ),
        p.variants === undefined
          ? h('button', { type: 'button', class: 'primary small-button', 'data-testid': 'product-add', disabled: units === 0, onclick: () => this.#add(p.sku) }, t(units === 0 ? 'sheet.soldOut' : 'sheet.add'))
          : h('button', { type: 'button', class: 'small-button', 'data-testid': 'product-choose', onclick: open }, t('sheet.choose')),
      );
    }));
  }

  #page(product: Product): HTMLElement {
    const stock = this.#client.state.stock;
    const variant = product.variants?.find((v) => v.sku === this.#picked);
    const sku = product.variants === undefined ? product.sku : variant?.sku;
    const pictures = [...new Set([variant?.imageUrl, product.imageUrl, ...(product.images ?? [])].filter((u): u is string => u !== undefined && u !== ''))];
    const gallery = h('div', { class: 'gallery', 'data-testid': 'gallery' },
      ...(pictures.length === 0 ? [undefined] : pictures).map((src, i) => productImage(src, product.title, product.sku, { class: 'gallery-image', alt: i === 0 ? product.title : '' })));
    const price = variant?.priceCents ?? product.priceCents;
    const units = sku === undefined ? undefined : stock[sku];
    const status = sku === undefined ? undefined : this.#status.get(sku);
    const add = h('button', {
      type: 'button', class: 'primary add', 'data-testid': 'product-page-add',
      disabled: sku === undefined || units === 0,
      onclick: () => sku !== undefined && this.#add(sku),
    }, t(sku === undefined ? 'sheet.chooseOption' : units === 0 ? 'sheet.soldOut' : 'sheet.addToCart'));
    return h(
      'article',
      { class: 'product-page', 'data-testid': 'product-page', 'data-sku': product.sku },
      gallery,
      h('p', { class: 'price-row' }, priceLine(price, product.listPriceCents, product.currency)),
      product.variants === undefined ? null : h(
        'fieldset',
        { class: 'variants' },
        h('legend', {}, Object.keys(product.variants[0]?.options ?? {}).map(optionName).join(' · ') || t('sheet.options')),
        ...product.variants.map((v) => {
          const left = stock[v.sku];
          return h('button', {
            type: 'button', class: 'variant', 'data-testid': 'variant', 'data-sku': v.sku, 'aria-pressed': String(v.sku === this.#picked),
            'data-soldout': left === 0 ? 'true' : undefined,
            onclick: () => {
              this.#picked = v.sku;
              this.render();
            },
          }, h('span', { class: 'variant-name' }, variantLabel(v)), h('span', { class: 'variant-stock small', 'data-testid': 'variant-stock' }, stockText(left)));
        }),
      ),
      h('p', { class: 'stock', 'data-testid': 'product-page-stock' }, stockText(units)),
      add,
      h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'product-status', 'data-kind': status?.kind }, status?.text ?? ''),
      this.#options.openCart === undefined ? null : h('button', { type: 'button', class: 'link small', 'data-testid': 'product-view-cart', onclick: () => this.#options.openCart?.() }, t('sheet.viewCart')),
      product.description === undefined ? null : h('p', { class: 'description', 'data-testid': 'description' }, product.description),
    );
  }

  #firstInStock(product: Product): string | undefined {
    const stock = this.#client.state.stock;
    return product.variants?.find((v) => (stock[v.sku] ?? 0) > 0)?.sku ?? product.variants?.[0]?.sku;
  }

  #add(sku: string): void {
    this.#status.set(sku, { text: t('sheet.adding'), kind: 'info' });
    this.render();
    this.#client.addToCart(sku, 1).then(
      (answer) => {
        const title = skuTitle(this.#client.state.products, sku);
        const said = answer.status === 'reserved'
          ? { text: t('sheet.inCart', { title, n: formatNumber(answer.quantity) }), kind: 'ok' as const }
          : answer.status === 'sold_out' ? { text: t('sheet.soldOut'), kind: 'error' as const }
          : answer.status === 'limit_reached' ? { text: t('sheet.limit', { n: formatNumber(answer.limit) }), kind: 'error' as const }
          : answer.status === 'not_on_sale' ? { text: t('sheet.notOnSale'), kind: 'error' as const }
          : { text: t('sheet.done'), kind: 'info' as const };
        this.#status.set(sku, said);
        this.render();
      },
      (error: unknown) => {
        this.#status.set(sku, { text: errorText(error), kind: 'error' });
        this.render();
      },
    );
  }
}

/** A variant option's name for the legend: a known one (size, colour) in the page's language, else capitalized as given. */
function optionName(name: string): string {
  const key = `sheet.option.${name.toLowerCase()}`;
  if (key in KNOWN_OPTIONS) return t(key as MessageKey);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

const KNOWN_OPTIONS: Readonly<Record<string, true>> = { 'sheet.option.size': true, 'sheet.option.color': true, 'sheet.option.colour': true };
