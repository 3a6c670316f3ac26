/** String nodes: NUL-padded in a fixed field, or length-prefixed (or length-from-field). */
import type { Cursor } from './cursor';
import { checkLimit, prefixFits, readLength, writeLength, type LengthSource } from './length';
import type { Node, Parent, StrEncoding } from './node';
import { show } from './show';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const ASCII = /^[\x00-\x7f]*$/;
const LATIN1 = /^[\x00-\xff]*$/;

/** Validates `v` for `enc` and returns its encoded length in bytes. */
function strBytes(v: unknown, enc: StrEncoding, c: Cursor): number {
  if (typeof v !== 'string') return c.fail('LF_STRUCT_TYPE', `expected a string, got ${show(v)}`, c.pos);
  switch (enc) {
    case 'utf8':
      return Buffer.byteLength(v, 'utf8');
    case 'hex':
      if (!HEX.test(v)) c.fail('LF_STRUCT_TYPE', `expected an even number of hex digits, got ${show(v)}`, c.pos);
      return v.length >>> 1;
    case 'ascii':
      if (!ASCII.test(v)) c.fail('LF_STRUCT_RANGE', `${show(v)} has characters outside ascii`, c.pos);
      return v.length;
    default:
      if (!LATIN1.test(v)) c.fail('LF_STRUCT_RANGE', `${show(v)} has characters outside latin1`, c.pos);
      return v.length;
  }
}

/**
 * A C string in exactly `fixed` bytes, padded with NUL. Decoding stops at the first NUL
 * (hex: all bytes, no trimming); encoding refuses a NUL inside (hex excepted) and a value
 * longer than the field.
 */
export class FixedStrNode implements Node {
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;

  constructor(
    readonly fixed: number,
    readonly encoding: StrEncoding,
  ) {
    this.label = encoding === 'utf8' ? `str(${fixed})` : `str(${fixed}, ${encoding})`;
  }

  read(c: Cursor): string {
    const p = c.pos;
    const end = p + this.fixed;
    if (c.end - p < this.fixed) c.truncated(this.fixed);
    c.pos = end;
    const b = c.buf;
    if (this.encoding === 'hex') return b.toString('hex', p, end);
    let z = p;
    while (z < end && b[z] !== 0) z++;
    return b.toString(this.encoding, p, z);
  }

  size(): number {
    return this.fixed;
  }

  write(v: unknown, c: Cursor): void {
    const n = strBytes(v, this.encoding, c);
    const s = v as string;
    if (n > this.fixed) c.fail('LF_STRUCT_RANGE', `${show(s)} needs ${n} bytes, the field holds ${this.fixed}`, c.pos);
    if (this.encoding !== 'hex' && s.indexOf('\0') !== -1) {
      c.fail('LF_STRUCT_RANGE', `${show(s)} contains NUL, which ends a fixed-length string`, c.pos);
    }
    const p = c.pos;
    c.buf.write(s, p, n, this.encoding);
    c.buf.fill(0, p + n, p + this.fixed);
    c.pos = p + this.fixed;
  }
}

/** A string whose byte length is a prefix or an earlier field. NUL is an ordinary character. */
export class VarStrNode implements Node {
  readonly fixed = -1;
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;
  readonly refKey: string | undefined;
  readonly refUnit = 'bytes';

  constructor(
    private readonly src: LengthSource,
    readonly encoding: StrEncoding,
    readonly maxBytes: number,
  ) {
    const how = 'prefix' in src ? src.prefix.label : src.refKey;
    this.label = encoding === 'utf8' ? `str(${how})` : `str(${how}, ${encoding})`;
    this.refKey = 'refKey' in src ? src.refKey : undefined;
  }

  read(c: Cursor, parent: Parent | undefined): string {
    const at = c.pos;
    const n = readLength(this.src, c, parent);
    checkLimit(c, 'length', n, this.maxBytes, 'maxBytes', at);
    c.need(n);
    const p = c.pos;
    c.pos = p + n;
    return c.buf.toString(this.encoding, p, p + n);
  }

  size(v: unknown, c: Cursor): number {
    const n = strBytes(v, this.encoding, c);
    if (n > this.maxBytes) c.fail('LF_STRUCT_LIMIT', `${n} bytes exceed maxBytes ${this.maxBytes}`, c.pos);
    prefixFits(this.src, n, c, 'bytes');
    return 'prefix' in this.src ? this.src.prefix.fixed + n : n;
  }

  refLength(v: unknown): number {
    return this.encoding === 'hex' ? (v as string).length >>> 1 : Buffer.byteLength(v as string, this.encoding);
  }

  write(v: unknown, c: Cursor): void {
    const s = v as string;
    const n = this.refLength(s);
    writeLength(this.src, n, c);
    c.buf.write(s, c.pos, n, this.encoding);
    c.pos += n;
  }
}
