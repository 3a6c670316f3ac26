/** Variable lengths and counts, shared by bytes, strings and arrays: read, checked against limits, written. */
import type { Cursor } from './cursor';
import type { IntNode } from './integers';
import type { Parent } from './node';

/** How a variable length or count is found: an integer prefix, or an earlier field. */
export type LengthSource = { prefix: IntNode } | { refKey: string };

export function readLength(src: LengthSource, c: Cursor, parent: Parent | undefined): number {
  if ('prefix' in src) return src.prefix.read(c);
  // The struct checked at definition time that refKey names an earlier unsigned integer.
  return (parent as Parent)[src.refKey] as number;
}

export function checkLimit(c: Cursor, what: 'length' | 'count', n: number, max: number, name: string, at: number): void {
  if (n > max) c.fail('LF_STRUCT_LIMIT', `${what} ${n} at offset ${at} exceeds ${name} ${max}`, at);
}

/** Writes the prefix of a prefixed node, or nothing for a ref node (its struct wrote the count). */
export function writeLength(src: LengthSource, n: number, c: Cursor): void {
  if ('prefix' in src) src.prefix.write(n, c);
}

export function prefixFits(src: LengthSource, n: number, c: Cursor, unit: string): void {
  if ('prefix' in src && n > src.prefix.max) {
    c.fail('LF_STRUCT_RANGE', `${n} ${unit} do not fit a ${src.prefix.label} length prefix (max ${src.prefix.max})`, c.pos);
  }
}
