import { parseCsvRecord, stripBreak, type CsvProblem } from './records';
import type { ColumnType, DataFormat } from './types';

/** How one column's text becomes a value; undefined when it does not convert. */
const CONVERT: Record<ColumnType, (text: string) => { value: unknown } | undefined> = {
  string: (t) => ({ value: t }),
  number: (t) => {
    const n = Number(t);
    return t.trim() !== '' && Number.isFinite(n) ? { value: n } : undefined;
  },
  boolean: (t) => {
    const v = t.trim().toLowerCase();
    if (v === 'true' || v === '1') return { value: true };
    if (v === 'false' || v === '0') return { value: false };
    return undefined;
  },
  json: (t) => {
    try {
      return { value: JSON.parse(t) };
    } catch {
      return undefined;
    }
  },
};

/** 1-based column of field `index` in a CSV record's first line (quotes included); for problems. */
function fieldColumn(text: string, index: number): number {
  let field = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    if (field === index) return i + 1;
    if (text[i] === '"') inQuote = !inQuote;
    else if (text[i] === ',' && !inQuote) field++;
  }
  return text.length + 1;
}

/**
 * A CSV record as a row keyed by `columns`, with declared types applied. `line` is where the
 * record starts in its file (for problems). Returns the row or the first problem.
 */
export function csvRow(record: string, columns: readonly string[], types: Readonly<Record<string, ColumnType>>, line = 1): { row: Record<string, unknown> } | { problem: CsvProblem } {
  const text = stripBreak(record);
  const fields = parseCsvRecord(text, line);
  if (!Array.isArray(fields)) return { problem: fields };
  if (fields.length !== columns.length) {
    const column = fieldColumn(text, Math.min(fields.length, columns.length));
    return { problem: { line, column, message: `expected ${columns.length} fields like the header, got ${fields.length}` } };
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const type = types[columns[i]] ?? 'string';
    const converted = CONVERT[type](fields[i]);
    if (!converted) return { problem: { line, column: fieldColumn(text, i), message: `column ${columns[i]}: expected a ${type}, got ${JSON.stringify(fields[i])}` } };
    row[columns[i]] = converted.value;
  }
  return { row };
}

/** A stored record as the row a user draws: a fresh value each call. Throws on a record the CLI would have refused. */
export function rowOf(format: DataFormat, record: string, columns: readonly string[], types: Readonly<Record<string, ColumnType>>): unknown {
  if (format !== 'csv') return JSON.parse(record);
  const parsed = csvRow(record, columns, types);
  if ('problem' in parsed) throw new Error(`a stored CSV record does not parse: ${parsed.problem.message}`);
  return parsed.row;
}
