import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeCodeInfo, errorCodeInfo } from '../../protocol/src/index.ts';
import { describeOptions } from '../../server/src/config.ts';

const protocolDoc = readFileSync(new URL('../../protocol/PROTOCOL.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('documentation', () => {
  it('documents every error code and close code', () => {
    for (const [name, info] of [...Object.entries(errorCodeInfo), ...Object.entries(closeCodeInfo)]) {
      expect(protocolDoc, name).toMatch(new RegExp(`\\|\\s*${info.code}\\s*\\|\\s*${name}\\s*\\|`));
    }
  });

  it('documents every config option with its flag and env var in the README', () => {
    for (const option of describeOptions()) {
      expect(readme, option.key).toContain(option.flag);
      expect(readme, option.key).toContain(option.env);
    }
  });
});
