import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeCodeInfo, type ErrorCodeName, errorCodeInfo } from '../../protocol/src/index.ts';
import { describeOptions } from '../../server/src/config.ts';
import { httpStatusOf } from '../../server/src/errors.ts';

const protocolDoc = readFileSync(new URL('../../protocol/PROTOCOL.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('documentation', () => {
  it('documents every error code and close code', () => {
    for (const [name, info] of [...Object.entries(errorCodeInfo), ...Object.entries(closeCodeInfo)]) {
      expect(protocolDoc, name).toMatch(new RegExp(`\\|\\s*${info.code}\\s*\\|\\s*${name}\\s*\\|`));
    }
  });

  it('lists every HTTP error under the status it is answered with, the router\'s own 404 and 413 too', () => {
    const section = protocolDoc.slice(protocolDoc.indexOf('### HTTP errors'));
    const rows = new Map<string, string>();
    for (const match of section.matchAll(/^\| (\d{3}) \| (.*) \|$/gm)) rows.set(match[1]!, match[2]!);
    const named = (status: number | string, name: string) => new RegExp(`\\b${name}\\b`).test(rows.get(String(status)) ?? '');
    for (const name of Object.keys(errorCodeInfo) as ErrorCodeName[]) expect(named(httpStatusOf(name), name), name).toBe(true);
    expect(named(404, 'NOT_FOUND'), 'unrouted path').toBe(true);
    expect(named(413, 'PAYLOAD_TOO_LARGE'), 'body too large').toBe(true);
  });

  it('documents every config option with its flag and env var in the README', () => {
    for (const option of describeOptions()) {
      expect(readme, option.key).toContain(option.flag);
      expect(readme, option.key).toContain(option.env);
    }
  });

  it('lists the operator options in the README\'s table and the advanced ones in the advanced table', () => {
    const flagsUnder = (header: string) => {
      const start = readme.indexOf(header);
      expect(start, header).toBeGreaterThanOrEqual(0);
      const rows = readme.slice(start).split('\n').slice(2);
      return rows.slice(0, rows.findIndex((line) => !line.startsWith('|'))).map((line) => /^\| `(--[a-z-]+)`/.exec(line)?.[1]);
    };
    expect(flagsUnder('| flag | env | default | meaning |')).toEqual(describeOptions('operator').map((o) => o.flag));
    expect(flagsUnder('| advanced flag | env | default | meaning |')).toEqual(describeOptions('advanced').map((o) => o.flag));
  });
});
