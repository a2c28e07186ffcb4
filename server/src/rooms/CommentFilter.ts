import { filterForm } from '../../../protocol/src/index.ts';
import type { KeywordFilter } from '../broker/Broker.ts';

/**
 * A room's keyword filter, ready to test comments: a comment is filtered when its filter form
 * (`filterForm`: NFKC, lower case) contains the filter form of one of the words, anywhere. Substring
 * matching, not whole words, because Chinese and Japanese text has no spaces between words.
 */
export class CommentFilter {
  readonly version: number;
  readonly words: readonly string[];
  readonly #forms: readonly string[];

  constructor(filter: KeywordFilter) {
    this.version = filter.version;
    this.words = filter.words;
    this.#forms = filter.words.map(filterForm).filter((form) => form.length > 0);
  }

  matches(text: string): boolean {
    if (this.#forms.length === 0) return false;
    const form = filterForm(text);
    return this.#forms.some((word) => form.includes(word));
  }
}

/**
 * The words a moderator gave, as the filter keeps them: trimmed, blank ones dropped, and each word
 * once (the first spelling kept when two differ only in case or width).
 */
export function cleanFilterWords(words: readonly string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const raw of words) {
    const word = raw.trim();
    const form = filterForm(word);
    if (form.length === 0 || seen.has(form)) continue;
    seen.add(form);
    kept.push(word);
  }
  return kept;
}
