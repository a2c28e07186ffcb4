import { z } from 'zod';

/**
 * What a product page shows besides the pop-up card's fields: a description, images, a list price
 * (the sale price is `priceCents`, shown with the list price struck through) and variants (size,
 * colour…), each a sku with its own stock. All optional: a product without them is sold as before.
 *
 * A product with variants is bought by its variants' skus: each is its own line in the cart, with
 * its own inventory in the store (registered like a product), its own `stock` news and its own
 * entry in `welcome.stock`. The product's own sku names the group; it has no inventory of its own.
 */
export const ProductDetailLimits = {
  descriptionLength: 2000,
  images: 8,
  variants: 50,
  /** Option names per variant (size, colour…) and the length of a name or a value. */
  variantOptions: 4,
  optionLength: 40,
} as const;

/** The helpers of `messages.ts` this file needs (passed in, so the two files do not import each other). */
export interface DetailSchemaParts {
  readonly sku: z.ZodType<string>;
  readonly text: (max: number) => z.ZodType<string>;
  readonly url: z.ZodType<string>;
  readonly cents: z.ZodType<number>;
  readonly units: z.ZodType<number>;
}

/** The optional fields a product input takes for its product page, spread into `productInputSchema`. */
export function productDetailFields(parts: DetailSchemaParts) {
  const variant = z.object({
    /** The sku buyers add to the cart for this variant (distinct from every other sku of the room). */
    sku: parts.sku,
    /** What the buyer picks, such as `{ size: "M", colour: "Red" }`. */
    options: z.record(z.string().min(1).max(ProductDetailLimits.optionLength), parts.text(ProductDetailLimits.optionLength))
      .refine((o) => Object.keys(o).length >= 1 && Object.keys(o).length <= ProductDetailLimits.variantOptions, `1 to ${ProductDetailLimits.variantOptions} options`),
    /** Units of this variant at the start. */
    stock: parts.units,
    /** Its own sale price; the product's `priceCents` when absent. */
    priceCents: parts.cents.optional(),
    imageUrl: parts.url.optional(),
  });
  return {
    /** Plain text (line breaks kept), at most 2,000 characters. */
    description: parts.text(ProductDetailLimits.descriptionLength).optional(),
    /** The regular price, shown struck through next to the sale price `priceCents`; at least `priceCents`. */
    listPriceCents: parts.cents.optional(),
    /** More images than `imageUrl` (the card's), in order. */
    images: z.array(parts.url).max(ProductDetailLimits.images).optional(),
    variants: z.array(variant).min(1).max(ProductDetailLimits.variants).optional(),
  };
}

/** The rules across fields of a product's page (checked with the rest of `productInputSchema`). */
export function productDetailIssues(p: { sku: string; priceCents: number; listPriceCents?: number | undefined; variants?: ReadonlyArray<{ sku: string; priceCents?: number | undefined }> | undefined }): Array<{ message: string; path: string[] }> {
  const issues: Array<{ message: string; path: string[] }> = [];
  if (p.listPriceCents !== undefined && p.listPriceCents < p.priceCents) issues.push({ message: 'listPriceCents must be at least priceCents (the sale price)', path: ['listPriceCents'] });
  const skus = new Set([p.sku]);
  for (const [i, v] of (p.variants ?? []).entries()) {
    if (skus.has(v.sku)) issues.push({ message: `variant sku ${v.sku} is used twice (or is the product's own sku)`, path: ['variants', String(i), 'sku'] });
    skus.add(v.sku);
    if (p.listPriceCents !== undefined && v.priceCents !== undefined && v.priceCents > p.listPriceCents) issues.push({ message: 'a variant\'s priceCents must not be above the product\'s listPriceCents', path: ['variants', String(i), 'priceCents'] });
  }
  return issues;
}

/** A variant as `productDetailFields` reads it. */
export interface ProductVariant {
  sku: string;
  options: Record<string, string>;
  stock: number;
  priceCents?: number | undefined;
  imageUrl?: string | undefined;
}

/** The skus that hold a product's inventory: its variants' when it has any, else its own. */
export function inventorySkusOf(product: { sku: string; variants?: ReadonlyArray<{ sku: string }> | undefined }): string[] {
  return product.variants === undefined || product.variants.length === 0 ? [product.sku] : product.variants.map((v) => v.sku);
}

/** The product a sku is sold as (its own, or the one whose variant it is) and the variant, if any. */
export function findSku<P extends { sku: string; variants?: ReadonlyArray<ProductVariant> | undefined }>(products: Iterable<P>, sku: string): { product: P; variant: ProductVariant | undefined } | undefined {
  for (const product of products) {
    if (product.sku === sku) return { product, variant: undefined };
    const variant = product.variants?.find((v) => v.sku === sku);
    if (variant !== undefined) return { product, variant };
  }
  return undefined;
}

/** The sale price and currency of a sku: a variant's own price, else its product's. */
export function priceOfSku(products: Iterable<{ sku: string; priceCents: number; currency: string; variants?: ReadonlyArray<ProductVariant> | undefined }>, sku: string): { priceCents: number; currency: string } | undefined {
  const found = findSku(products, sku);
  if (found === undefined) return undefined;
  return { priceCents: found.variant?.priceCents ?? found.product.priceCents, currency: found.product.currency };
}
