/**
 * Product pictures that are never broken: an image that is absent, or fails to load or decode,
 * shows a generated tile instead (the title's initials on a colour taken from the sku), marked
 * `data-fallback="tile"`.
 */
import { h, placeholderImage } from './common.ts';

export function productImage(src: string | undefined, title: string, sku: string, attrs: { class?: string; size?: number; alt?: string } = {}): HTMLImageElement {
  const tile = placeholderImage(title, sku);
  const img = h('img', { class: attrs.class, alt: attrs.alt ?? '', width: attrs.size, height: attrs.size, loading: 'lazy', decoding: 'async' });
  const fallBack = () => {
    img.onerror = null;
    img.dataset.fallback = 'tile';
    img.src = tile;
  };
  if (src === undefined || src.trim() === '') fallBack();
  else {
    img.onerror = fallBack;
    img.src = src;
  }
  return img;
}
