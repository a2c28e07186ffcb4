import { describe, expect, it } from 'vitest';
import { cleanFilterWords, CommentFilter } from '../../server/src/rooms/CommentFilter.ts';

describe('CommentFilter', () => {
  it('matches a word anywhere, in any case and width, Chinese too', () => {
    const filter = new CommentFilter({ version: 1, words: ['Spam', '垃圾', 'ｂｕｙ'] });
    for (const text of ['spam', 'SPAM!!', 'antispam', 'ｓｐａｍ', '这是垃圾', 'BUY now']) expect([text, filter.matches(text)]).toEqual([text, true]);
    for (const text of ['sp am', 'lovely', '垃 圾', '']) expect([text, filter.matches(text)]).toEqual([text, false]);
  });

  it('an empty filter matches nothing, and blank words never match', () => {
    expect(new CommentFilter({ version: 0, words: [] }).matches('anything')).toBe(false);
    expect(new CommentFilter({ version: 1, words: ['', ' '.trim()] }).matches('anything')).toBe(false);
  });

  it('keeps words trimmed, without blanks, each once (the first spelling wins)', () => {
    expect(cleanFilterWords([' spam ', 'SPAM', '', '   ', '垃圾', 'ｓｐａｍ', 'scam'])).toEqual(['spam', '垃圾', 'scam']);
  });
});
