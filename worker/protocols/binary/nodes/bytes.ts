/** Byte nodes: exactly N bytes, a length-prefixed (or length-from-field) run, and the rest of the input. */
import type { Cursor } from './cursor';
import { checkLimit, prefixFits, readLength, writeLength, type LengthSource } from './length';
import type { Node, Parent } from './node';
import { show } from './show';

function copyOut(c: Cursor, start: number, end: number, zeroCopy: boolean): Buffer {
  if (zeroCopy) return c.buf.subarray(start, end);
  const out = Buffer.allocUnsafe(end - start);
  c.buf.copy(out, 0, start, end);
  return out;
}

function asBytes(v: unknown, c: Cursor): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return c.fail('LF_STRUCT_TYPE', `expected a Buffer or Uint8Array, got ${show(v)}`, c.pos);
}

/** Exactly `fixed` bytes; encode takes a value of exactly that length. */
export class FixedBytesNode implements Node {
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;

  constructor(
    readonly fixed: number,
    readonly zeroCopy: boolean,
  ) {
    this.label = `bytes(${fixed})`;
  }

  read(c: Cursor): Buffer {
    const p = c.pos;
    if (c.end - p < this.fixed) c.truncated(this.fixed);
    c.pos = p + this.fixed;
    return copyOut(c, p, p + this.fixed, this.zeroCopy);
  }

  size(): number {
    return this.fixed;
  }

  write(v: unknown, c: Cursor): void {
    const bytes = asBytes(v, c);
    if (bytes.length !== this.fixed) c.fail('LF_STRUCT_RANGE', `expected exactly ${this.fixed} bytes, got ${bytes.length}`, c.pos);
    c.buf.set(bytes, c.pos);
    c.pos += this.fixed;
  }
}

/** Bytes whose length is a prefix or an earlier field. */
export class VarBytesNode implements Node {
  readonly fixed = -1;
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;
  readonly refKey: string | undefined;
  readonly refUnit = 'bytes';

  constructor(
    private readonly src: LengthSource,
    readonly maxBytes: number,
    readonly zeroCopy: boolean,
  ) {
    this.label = 'prefix' in src ? `bytes(${src.prefix.label})` : `bytes(${src.refKey})`;
    this.refKey = 'refKey' in src ? src.refKey : undefined;
  }

  read(c: Cursor, parent: Parent | undefined): Buffer {
    const at = c.pos;
    const n = readLength(this.src, c, parent);
    checkLimit(c, 'length', n, this.maxBytes, 'maxBytes', at);
    c.need(n);
    const p = c.pos;
    c.pos = p + n;
    return copyOut(c, p, p + n, this.zeroCopy);
  }

  size(v: unknown, c: Cursor): number {
    const n = asBytes(v, c).length;
    if (n > this.maxBytes) c.fail('LF_STRUCT_LIMIT', `${n} bytes exceed maxBytes ${this.maxBytes}`, c.pos);
    prefixFits(this.src, n, c, 'bytes');
    return 'prefix' in this.src ? this.src.prefix.fixed + n : n;
  }

  refLength(v: unknown): number {
    return (v as Uint8Array).length;
  }

  write(v: unknown, c: Cursor): void {
    const bytes = v as Uint8Array;
    writeLength(this.src, bytes.length, c);
    c.buf.set(bytes, c.pos);
    c.pos += bytes.length;
  }
}

/** All bytes left in the input. Must be the last field. */
export class RestNode implements Node {
  readonly fixed = -1;
  readonly greedy = true;
  readonly composite = false;
  readonly label = 'rest';

  constructor(
    readonly maxBytes: number,
    readonly zeroCopy: boolean,
  ) {}

  read(c: Cursor): Buffer {
    const p = c.pos;
    const n = c.end - p;
    checkLimit(c, 'length', n, this.maxBytes, 'maxBytes', p);
    c.pos = c.end;
    return copyOut(c, p, c.end, this.zeroCopy);
  }

  size(v: unknown, c: Cursor): number {
    const n = asBytes(v, c).length;
    if (n > this.maxBytes) c.fail('LF_STRUCT_LIMIT', `${n} bytes exceed maxBytes ${this.maxBytes}`, c.pos);
    return n;
  }

  write(v: unknown, c: Cursor): void {
    const bytes = v as Uint8Array;
    c.buf.set(bytes, c.pos);
    c.pos += bytes.length;
  }
}
