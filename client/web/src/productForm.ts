/**
 * The streamer page's "Add a product" form: the card's fields (SKU, title, price, currency, stock,
 * per-customer limit, flash-sale window) and the product page's (list price, description, image
 * URLs one per line, variants). Variants are rows of a SKU suffix, a name ("M / White": a value
 * for each of the option names, "size / colour"), stock and an optional price, added and removed
 * here. `read()` checks everything the server would refuse and says what to fix, pointing at the
 * field; what passes is the `ProductInput` the API takes.
 */
import type { ProductInput } from '../../src/index.ts';
import { ProductDetailLimits, WireLimits } from '../../../protocol/src/index.ts';
import { byId, h, parsePriceCents } from './common.ts';
import { t } from './i18n.ts';

const SKU = /^[A-Za-z0-9_.:-]+$/;

/** What `read()` found: the product, or what is wrong and where. */
export type ProductFormResult = { product: ProductInput } | { problem: string; field: HTMLElement };

interface VariantRow {
  row: HTMLLIElement;
  suffix: HTMLInputElement;
  name: HTMLInputElement;
  stock: HTMLInputElement;
  price: HTMLInputElement;
}

export class ProductForm {
  readonly #rows: VariantRow[] = [];
  readonly #list = byId<HTMLOListElement>('p-variant-rows');

  constructor() {
    byId('p-add-variant').addEventListener('click', () => this.addVariant().suffix.focus());
  }

  /** A new, empty variant row. */
  addVariant(): VariantRow {
    const cell = (label: string, input: HTMLInputElement) => h('label', { class: 'variant-cell' }, h('span', { class: 'small muted' }, label), input);
    const suffix = h('input', { maxlength: WireLimits.skuLength, placeholder: 'm-white', 'data-testid': 'variant-suffix' });
    const name = h('input', { maxlength: 100, placeholder: 'M / White', 'data-testid': 'variant-name' });
    const stock = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', 'data-testid': 'variant-stock-input' });
    const price = h('input', { inputmode: 'decimal', 'data-testid': 'variant-price' });
    const row = h('li', { class: 'variant-row', 'data-testid': 'variant-row' });
    const entry: VariantRow = { row, suffix, name, stock, price };
    const remove = h('button', { type: 'button', class: 'link', 'data-testid': 'remove-variant', onclick: () => this.#remove(entry) }, t('studio.removeVariant'));
    row.append(cell(t('studio.variantSuffix'), suffix), cell(t('studio.variantName'), name), cell(t('studio.variantStock'), stock), cell(t('studio.variantPrice'), price), remove);
    this.#rows.push(entry);
    this.#list.append(row);
    this.#number();
    return entry;
  }

  /** Empties the fields a next product does not share (currency, stock and the option names stay). */
  reset(): void {
    for (const id of ['p-sku', 'p-title', 'p-price', 'p-limit', 'p-starts', 'p-ends', 'p-list-price', 'p-description', 'p-images']) byId<HTMLInputElement>(id).value = '';
    for (const entry of [...this.#rows]) this.#remove(entry);
  }

  read(): ProductFormResult {
    const field = <T extends HTMLElement = HTMLInputElement>(id: string) => byId<T>(id);
    const value = (id: string) => field(id).value.trim();
    const wrong = (problem: string, at: HTMLElement): ProductFormResult => ({ problem, field: at });

    const sku = value('p-sku');
    if (!SKU.test(sku) || sku.length > WireLimits.skuLength) return wrong(t('studio.badSku'), field('p-sku'));
    const title = value('p-title');
    if (title === '') return wrong(t('studio.badTitle'), field('p-title'));
    const currency = value('p-currency').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) return wrong(t('studio.badCurrency'), field('p-currency'));
    const priceCents = parsePriceCents(value('p-price'), currency);
    if (Number.isNaN(priceCents)) return wrong(t('studio.badPrice'), field('p-price'));
    const product: ProductInput = { sku, title, priceCents, currency, stock: 0 };

    const list = value('p-list-price');
    if (list !== '') {
      const listPriceCents = parsePriceCents(list, currency);
      if (Number.isNaN(listPriceCents)) return wrong(t('studio.badListPrice'), field('p-list-price'));
      if (listPriceCents < priceCents) return wrong(t('studio.listBelowPrice'), field('p-list-price'));
      product.listPriceCents = listPriceCents;
    }
    const limit = value('p-limit');
    if (limit !== '') {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1) return wrong(t('studio.badLimit'), field('p-limit'));
      product.perCustomerLimit = n;
    }
    const starts = value('p-starts');
    const ends = value('p-ends');
    if (starts !== '') product.saleStartsAt = new Date(starts).getTime();
    if (ends !== '') product.saleEndsAt = new Date(ends).getTime();
    if (product.saleStartsAt !== undefined && product.saleEndsAt !== undefined && product.saleEndsAt <= product.saleStartsAt) return wrong(t('studio.badWindow'), field('p-ends'));

    const description = value('p-description');
    if ([...description].length > ProductDetailLimits.descriptionLength) return wrong(t('studio.descriptionTooLong', { n: ProductDetailLimits.descriptionLength }), field('p-description'));
    if (description !== '') product.description = description;

    const urls = value('p-images').split('\n').map((line) => line.trim()).filter((line) => line !== '');
    if (urls.length > ProductDetailLimits.images + 1) return wrong(t('studio.tooManyImages', { n: ProductDetailLimits.images + 1 }), field('p-images'));
    const badUrl = urls.findIndex((url) => url.length > WireLimits.urlLength || !isUrl(url));
    if (badUrl >= 0) return wrong(t('studio.badImageUrl', { n: badUrl + 1 }), field('p-images'));
    const [card, ...more] = urls;
    if (card !== undefined) product.imageUrl = card;
    if (more.length > 0) product.images = more;

    if (this.#rows.length === 0) {
      const stock = Number(value('p-stock'));
      if (value('p-stock') === '' || !Number.isInteger(stock) || stock < 0) return wrong(t('studio.badStock'), field('p-stock'));
      product.stock = stock;
      return { product };
    }
    return this.#readVariants(product);
  }

  /** The variant rows into `product.variants`; the product's stock is theirs together. */
  #readVariants(product: ProductInput): ProductFormResult {
    const optionsField = byId<HTMLInputElement>('p-option-names');
    const names = optionsField.value.split('/').map((n) => n.trim());
    if (names.some((n) => n === '' || n.length > ProductDetailLimits.optionLength) || names.length > ProductDetailLimits.variantOptions || new Set(names).size !== names.length) {
      return { problem: t('studio.badOptionNames', { n: ProductDetailLimits.variantOptions }), field: optionsField };
    }
    if (this.#rows.length > ProductDetailLimits.variants) return { problem: t('studio.tooManyVariants', { n: ProductDetailLimits.variants }), field: this.#rows[0]!.suffix };
    const skus = new Set([product.sku]);
    const variants: NonNullable<ProductInput['variants']> = [];
    for (const [i, r] of this.#rows.entries()) {
      const n = i + 1;
      const suffix = r.suffix.value.trim();
      const sku = `${product.sku}-${suffix}`;
      if (!SKU.test(suffix) || sku.length > WireLimits.skuLength) return { problem: t('studio.badVariantSuffix', { n }), field: r.suffix };
      if (skus.has(sku)) return { problem: t('studio.variantSuffixTwice', { n }), field: r.suffix };
      skus.add(sku);
      const values = r.name.value.split('/').map((v) => v.trim());
      if (values.length !== names.length || values.some((v) => v === '' || v.length > ProductDetailLimits.optionLength)) {
        return { problem: t('studio.badVariantName', { n, names: names.join(' / ') }), field: r.name };
      }
      const stock = Number(r.stock.value.trim());
      if (r.stock.value.trim() === '' || !Number.isInteger(stock) || stock < 0) return { problem: t('studio.badVariantStock', { n }), field: r.stock };
      const variant: (typeof variants)[number] = { sku, options: Object.fromEntries(names.map((name, k) => [name, values[k]!])), stock };
      const price = r.price.value.trim();
      if (price !== '') {
        const priceCents = parsePriceCents(price, product.currency);
        if (Number.isNaN(priceCents)) return { problem: t('studio.badVariantPrice', { n }), field: r.price };
        if (product.listPriceCents !== undefined && priceCents > product.listPriceCents) return { problem: t('studio.variantAboveList', { n }), field: r.price };
        variant.priceCents = priceCents;
      }
      variants.push(variant);
    }
    product.variants = variants;
    product.stock = variants.reduce((sum, v) => sum + v.stock, 0);
    return { product };
  }

  #remove(entry: VariantRow): void {
    this.#rows.splice(this.#rows.indexOf(entry), 1);
    entry.row.remove();
    this.#number();
  }

  /** Each row's controls name their row ("Variant 2: stock") for screen readers. */
  #number(): void {
    for (const [i, r] of this.#rows.entries()) {
      const n = i + 1;
      r.row.dataset.row = String(n);
      r.suffix.setAttribute('aria-label', t('studio.variantCellLabel', { n, what: t('studio.variantSuffix') }));
      r.name.setAttribute('aria-label', t('studio.variantCellLabel', { n, what: t('studio.variantName') }));
      r.stock.setAttribute('aria-label', t('studio.variantCellLabel', { n, what: t('studio.variantStock') }));
      r.price.setAttribute('aria-label', t('studio.variantCellLabel', { n, what: t('studio.variantPrice') }));
      r.row.querySelector('[data-testid="remove-variant"]')?.setAttribute('aria-label', t('studio.removeVariantLabel', { n }));
    }
  }
}

function isUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' || url.protocol === 'data:';
  } catch {
    return false;
  }
}
