import { isDataSource } from './define';

const MODES = ['unique', 'cycle', 'random'];
const TYPES = ['string', 'number', 'boolean', 'json'];
/** A data set's name becomes a store key segment: letters, digits, '_' and '-'. */
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Problems with a scenario's `data` key, one line each (`data.accounts: expected …, got …`).
 * Files are not read here: the CLI reads and checks them before launch (cli/data/prepare.ts).
 */
export function dataProblems(data: unknown, show: (v: unknown) => string): string[] {
  const problems: string[] = [];
  const bad = (path: string, expected: string, got: unknown) => problems.push(`${path}: expected ${expected}, got ${show(got)}`);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    bad('data', "an object like { accounts: csv('./accounts.csv') }", data);
    return problems;
  }
  for (const [name, d] of Object.entries(data)) {
    const at = `data.${name}`;
    if (!NAME.test(name)) bad('data', `names of letters, digits, "_" and "-" starting with a letter (at most 64), like accounts`, name);
    if (!isDataSource(d)) {
      bad(at, "csv('./file.csv'), json('./file.json') or ndjson('./file.ndjson') from 'loadfarm'", d);
      continue;
    }
    if (typeof d.path !== 'string' || d.path === '') bad(`${at}`, 'a file path (relative to the scenario file)', d.path);
    if (!MODES.includes(d.mode)) bad(`${at}.mode`, "'unique', 'cycle' or 'random'", d.mode);
    if (d.onExhausted !== 'error' && d.onExhausted !== 'stop') bad(`${at}.onExhausted`, "'error' or 'stop'", d.onExhausted);
    if (d.types !== undefined) {
      if (typeof d.types !== 'object' || d.types === null) bad(`${at}.types`, "an object like { id: 'number' }", d.types);
      else for (const [col, t] of Object.entries(d.types)) if (!TYPES.includes(t)) bad(`${at}.types.${col}`, "'string', 'number', 'boolean' or 'json'", t);
    }
  }
  return problems;
}
