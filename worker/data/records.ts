/**
 * Record boundaries in bytes and CSV fields in text. CSV follows RFC 4180: fields separated by
 * ',', records by LF or CRLF, a field in double quotes may hold ',', line breaks and `""` (one
 * quote). A record is one line for NDJSON (JSON text never holds a raw line break).
 */

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * Finds where records end in a byte stream fed in pieces. `feed` returns the end offsets
 * (exclusive, counted from the first byte ever fed) of the records completed in `bytes`; a
 * record ends after an LF outside quotes (`csv`) or after any LF (`lines`). `end` returns the
 * offset where a last record without a final LF ends, or undefined when there is none.
 */
export class RecordScanner {
  private inQuote = false;
  private offset = 0;
  private lastEnd = 0;

  constructor(private readonly kind: 'csv' | 'lines') {}

  feed(bytes: Uint8Array): number[] {
    const ends: number[] = [];
    const quoted = this.kind === 'csv';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (quoted && b === QUOTE) this.inQuote = !this.inQuote;
      else if (b === LF && !this.inQuote) ends.push(this.offset + i + 1);
    }
    this.offset += bytes.length;
    if (ends.length > 0) this.lastEnd = ends[ends.length - 1];
    return ends;
  }

  /** Where the final record ends when the data does not end with a line break. */
  end(): number | undefined {
    return this.offset > this.lastEnd ? this.offset : undefined;
  }

  /** True when the data fed so far ends inside a quoted field. */
  get open(): boolean {
    return this.inQuote;
  }
}

/** A record's text without its line break (LF or CRLF). */
export function stripBreak(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/** True for a record of nothing but spaces, tabs and line breaks: skipped everywhere (CLI and worker alike). */
export function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}

/** A problem in a CSV file: 1-based line and column. */
export interface CsvProblem {
  line: number;
  column: number;
  message: string;
}

/**
 * The fields of one CSV record (its line break stripped). `line` is the file line where it
 * starts, for problems. Returns the fields or the first problem.
 */
export function parseCsvRecord(text: string, line = 1): string[] | CsvProblem {
  const fields: string[] = [];
  let i = 0;
  let ln = line;
  let lineStart = 0;
  const col = (at: number) => at - lineStart + 1;
  for (;;) {
    if (text[i] === '"') {
      const openAt = i;
      const openLine = ln;
      const openCol = col(i);
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return { line: openLine, column: openCol, message: `a quoted field opened here is never closed (${text.length - openAt} characters to the end)` };
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') {
          ln++;
          lineStart = i + 1;
        }
        value += c;
        i++;
      }
      fields.push(value);
      if (i < text.length && text[i] !== ',') return { line: ln, column: col(i), message: `expected "," or the end of the record after a closing quote, got ${JSON.stringify(text[i])}` };
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',') {
        if (text[j] === '"') return { line: ln, column: col(j), message: 'a quote inside an unquoted field (quote the whole field and double the quote: "a ""b"" c")' };
        if (text[j] === '\n' || text[j] === '\r') return { line: ln, column: col(j), message: 'a line break inside an unquoted field' };
        j++;
      }
      fields.push(text.slice(i, j));
      i = j;
    }
    if (i >= text.length) return fields;
    i++; // the comma
  }
}
