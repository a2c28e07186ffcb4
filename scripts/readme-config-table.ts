/**
 * Regenerates the README's two configuration tables from the config schema (the one source of truth):
 *   npx tsx scripts/readme-config-table.ts
 * The operator table sits under the header `| flag | env | default | meaning |`; the advanced one
 * under `| advanced flag | env | default | meaning |`, in a "### Advanced options" section that this
 * script adds right after the operator table when the README has none.
 * tests/unit/docs.test.ts fails when an option is missing from its table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeOptions, type OptionGroup } from '../server/src/config.ts';

const readmePath = new URL('../README.md', import.meta.url);
const headers: Record<OptionGroup, string> = {
  operator: '| flag | env | default | meaning |',
  advanced: '| advanced flag | env | default | meaning |',
};
const advancedIntro = [
  '### Advanced options',
  '',
  'Internals whose defaults fit most deployments (event-loop turn budgets, controller gains, per-turn caps, intervals), set and validated like the options above; `livecart serve --help-advanced` lists them too.',
  '',
].join('\n');

function table(group: OptionGroup): string {
  const rows = describeOptions(group).map((o) => {
    const def = o.defaultValue === undefined ? '(unset)' : `\`${JSON.stringify(o.defaultValue)}\``;
    return `| \`${o.flag}\` | \`${o.env}\` | ${def} | ${o.description.replaceAll('|', '\\|')} |`;
  });
  return [headers[group], '|---|---|---|---|', ...rows].join('\n');
}

/** Start and end (exclusive: the first line after it that is not a table row) of the table under `header`, or undefined. */
function findTable(text: string, header: string): { start: number; end: number } | undefined {
  const start = text.indexOf(header);
  if (start < 0) return undefined;
  let end = start;
  while (end < text.length && text.startsWith('|', end)) {
    const newline = text.indexOf('\n', end);
    end = newline < 0 ? text.length : newline + 1;
  }
  return { start, end };
}

let readme = readFileSync(readmePath, 'utf8');
const operator = findTable(readme, headers.operator);
if (operator === undefined) throw new Error('README has no configuration table');
readme = `${readme.slice(0, operator.start)}${table('operator')}\n${readme.slice(operator.end)}`;
const advanced = findTable(readme, headers.advanced);
if (advanced === undefined) {
  const after = findTable(readme, headers.operator)!.end;
  readme = `${readme.slice(0, after)}\n${advancedIntro}\n${table('advanced')}\n${readme.slice(after)}`;
} else {
  readme = `${readme.slice(0, advanced.start)}${table('advanced')}\n${readme.slice(advanced.end)}`;
}
writeFileSync(readmePath, readme);
console.log(`README: ${describeOptions('operator').length} operator options, ${describeOptions('advanced').length} advanced`);
