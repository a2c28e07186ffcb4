/**
 * Regenerates the README's configuration table from the config schema (the one source of truth):
 *   npx tsx scripts/readme-config-table.ts
 * tests/unit/docs.test.ts fails when an option is missing from the README.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeOptions } from '../server/src/config.ts';

const readmePath = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmePath, 'utf8');
const header = '| flag | env | default | meaning |';
const rows = describeOptions().map((o) => {
  const def = o.defaultValue === undefined ? '(unset)' : `\`${JSON.stringify(o.defaultValue)}\``;
  return `| \`${o.flag}\` | \`${o.env}\` | ${def} | ${o.description.replaceAll('|', '\\|')} |`;
});
const start = readme.indexOf(header);
const end = readme.indexOf('\n## ', start);
if (start < 0 || end < 0) throw new Error('README has no configuration table');
writeFileSync(readmePath, `${readme.slice(0, start)}${[header, '|---|---|---|---|', ...rows].join('\n')}\n${readme.slice(end)}`);
console.log(`README: ${rows.length} options`);
