/**
 * Compiled layout nodes: what a struct definition becomes once, at `struct(...)` time.
 * Encode and decode walk these nodes with one Cursor per call; nothing else is allocated
 * per field but the decoded values themselves.
 *
 * Contracts shared by every node:
 * - `read` consumes exactly the node's bytes from `c.pos` and fails with a StructError
 *   (never another error) when the input is short or malformed. Nothing is allocated with a
 *   size read from the input before that size is checked against the limits and the bytes
 *   left.
 * - `size` is called before `write` for every variable-size node (`fixed < 0`); it
 *   validates the value's type and limits and returns its encoded length in bytes. For
 *   fixed-size nodes `write` validates alone.
 * - `write` writes exactly `size` bytes at `c.pos`; the caller has made room for them.
 */
import { StructError, type StructErrorCode } from './errors';

export type Endian = 'little' | 'big';
export type StrEncoding = 'utf8' | 'ascii' | 'latin1' | 'hex';
export type Parent = Record<string, unknown>;
/** Called by the dump walk for each leaf value and at the start of each array. */
export type TraceFn = (start: number, end: number, value: unknown, node: Node) => void;

export interface Node {
  /** Type as shown in dumps and messages: `u16be`, `str(16)`, `bytes(u16le)`, … */
  readonly label: string;
  /** Encoded size in bytes when it does not depend on the value, else -1. */
  readonly fixed: number;
  /** Reads to the end of the input (a `rest` field, or a struct that ends with one). */
  readonly greedy: boolean;
  /** Holds other nodes (struct, array): dumps show its children, not its bytes. */
  readonly composite: boolean;
  read(c: Cursor, parent: Parent | undefined): unknown;
  size(v: unknown, c: Cursor, parent: Parent | undefined): number;
  write(v: unknown, c: Cursor, parent: Parent | undefined): void;
}

/** A node whose length or count is held by an earlier integer field of the same struct. */
export interface RefNode extends Node {
  readonly refKey: string;
  /** Items (arrays) or bytes (bytes, strings) the value needs; the value is already validated. */
  refLength(v: unknown): number;
  readonly refUnit: string;
}

export function isRefNode(n: Node): n is RefNode {
  return (n as Partial<RefNode>).refKey !== undefined;
}

/** Position, buffer and field path of one encode or decode call. */
export class Cursor {
  /** Field names and array indexes below the root; only `path[0 .. depth)` is live. */
  readonly path: (string | number)[] = [];
  depth = 0;
  trace: TraceFn | undefined = undefined;

  constructor(
    readonly root: string,
    public buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  pathString(): string {
    let s = this.root;
    for (let i = 0; i < this.depth; i++) {
      const p = this.path[i];
      s += typeof p === 'number' ? `[${p}]` : `.${p}`;
    }
    return s;
  }

  fail(code: StructErrorCode, detail: string, offset?: number): never {
    throw new StructError(code, this.pathString(), detail, offset);
  }

  /** Fails LF_STRUCT_TRUNCATED unless `n` bytes are left at `pos`. */
  need(n: number): void {
    if (this.end - this.pos < n) this.truncated(n);
  }

  truncated(n: number): never {
    const left = this.end - this.pos;
    return this.fail('LF_STRUCT_TRUNCATED', `needs ${n} byte${n === 1 ? '' : 's'} at offset ${this.pos}, only ${left} left`, this.pos);
  }
}

/** A short, safe rendering of a received value for messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function copyOut(c: Cursor, start: number, end: number, zeroCopy: boolean): Buffer {
  if (zeroCopy) return c.buf.subarray(start, end);
  const out = Buffer.allocUnsafe(end - start);
  c.buf.copy(out, 0, start, end);
  return out;
}

// ---------------------------------------------------------------------------- integers

const INT_RANGE = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
} as const;

/** u8 … i32. Reads and writes bytes directly: no Buffer method checks on the hot path. */
export class IntNode implements Node {
  readonly label: string;
  readonly greedy = false;
  readonly composite = false;
  readonly min: number;
  readonly max: number;
  /** 0 u8, 1 i8, 2 u16le, 3 u16be, 4 i16le, 5 i16be, 6 u32le, 7 u32be, 8 i32le, 9 i32be */
  private readonly op: number;

  constructor(
    readonly fixed: 1 | 2 | 4,
    readonly signed: boolean,
    readonly little: boolean,
  ) {
    const base = `${signed ? 'i' : 'u'}${fixed * 8}` as keyof typeof INT_RANGE;
    this.label = fixed === 1 ? base : `${base}${little ? 'le' : 'be'}`;
    [this.min, this.max] = INT_RANGE[base];
    this.op = fixed === 1 ? (signed ? 1 : 0) : (fixed === 2 ? 2 : 6) + (signed ? 2 : 0) + (little ? 0 : 1);
  }

  read(c: Cursor): number {
    const p = c.pos;
    if (c.end - p < this.fixed) c.truncated(this.fixed);
    c.pos = p + this.fixed;
    const b = c.buf;
    switch (this.op) {
      case 0: return b[p];
      case 1: return (b[p] << 24) >> 24;
      case 2: return b[p] | (b[p + 1] << 8);
      case 3: return (b[p] << 8) | b[p + 1];
      case 4: return ((b[p] | (b[p + 1] << 8)) << 16) >> 16;
      case 5: return (((b[p] << 8) | b[p + 1]) << 16) >> 16;
      case 6: return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
      case 7: return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
      case 8: return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
      default: return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    }
  }

  size(): number {
    return this.fixed;
  }

  check(v: unknown, c: Cursor): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return c.fail('LF_STRUCT_TYPE', `expected an integer for ${this.label}, got ${show(v)}`, c.pos);
    }
    if (v < this.min || v > this.max) {
      return c.fail('LF_STRUCT_RANGE', `${v} is out of range for ${this.label} (${this.min}..${this.max})`, c.pos);
    }
    return v;
  }

  write(v: unknown, c: Cursor): void {
    const n = this.check(v, c);
    const b = c.buf;
    const p = c.pos;
    c.pos = p + this.fixed;
    switch (this.fixed) {
      case 1:
        b[p] = n;
        return;
      case 2:
        if (this.little) { b[p] = n; b[p + 1] = n >>> 8; } else { b[p] = n >>> 8; b[p + 1] = n; }
        return;
      default:
        if (this.little) {
          b[p] = n; b[p + 1] = n >>> 8; b[p + 2] = n >>> 16; b[p + 3] = n >>> 24;
        } else {
          b[p] = n >>> 24; b[p + 1] = n >>> 16; b[p + 2] = n >>> 8; b[p + 3] = n;
        }
    }
  }
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** u64 / i64 as bigint; encode also takes a safe-integer number. */
export class BigNode implements Node {
  readonly fixed = 8;
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;

  constructor(
    readonly signed: boolean,
    readonly little: boolean,
  ) {
    this.label = `${signed ? 'i' : 'u'}64${little ? 'le' : 'be'}`;
  }

  read(c: Cursor): bigint {
    const p = c.pos;
    if (c.end - p < 8) c.truncated(8);
    c.pos = p + 8;
    const b = c.buf;
    if (this.signed) return this.little ? b.readBigInt64LE(p) : b.readBigInt64BE(p);
    return this.little ? b.readBigUInt64LE(p) : b.readBigUInt64BE(p);
  }

  size(): number {
    return 8;
  }

  write(v: unknown, c: Cursor): void {
    let n: bigint;
    if (typeof v === 'bigint') n = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
    else return c.fail('LF_STRUCT_TYPE', `expected a bigint (or a safe integer) for ${this.label}, got ${show(v)}`, c.pos);
    const min = this.signed ? I64_MIN : 0n;
    const max = this.signed ? I64_MAX : U64_MAX;
    if (n < min || n > max) c.fail('LF_STRUCT_RANGE', `${n} is out of range for ${this.label} (${min}..${max})`, c.pos);
    const b = c.buf;
    const p = c.pos;
    c.pos = p + 8;
    if (this.signed) {
      if (this.little) b.writeBigInt64LE(n, p);
      else b.writeBigInt64BE(n, p);
    } else if (this.little) b.writeBigUInt64LE(n, p);
    else b.writeBigUInt64BE(n, p);
  }
}

const F32_MAX = 3.4028234663852886e38;

/** f32 / f64. A finite number beyond the f32 range fails (it would become Infinity). */
export class FloatNode implements Node {
  readonly greedy = false;
  readonly composite = false;
  readonly label: string;

  constructor(
    readonly fixed: 4 | 8,
    readonly little: boolean,
  ) {
    this.label = `f${fixed * 8}${little ? 'le' : 'be'}`;
  }

  read(c: Cursor): number {
    const p = c.pos;
    if (c.end - p < this.fixed) c.truncated(this.fixed);
    c.pos = p + this.fixed;
    const b = c.buf;
    if (this.fixed === 4) return this.little ? b.readFloatLE(p) : b.readFloatBE(p);
    return this.little ? b.readDoubleLE(p) : b.readDoubleBE(p);
  }

  size(): number {
    return this.fixed;
  }

  write(v: unknown, c: Cursor): void {
    if (typeof v !== 'number') return c.fail('LF_STRUCT_TYPE', `expected a number for ${this.label}, got ${show(v)}`, c.pos);
    if (this.fixed === 4 && Number.isFinite(v) && Math.abs(v) > F32_MAX && !Number.isFinite(Math.fround(v))) {
      c.fail('LF_STRUCT_RANGE', `${v} is out of range for f32 (±${F32_MAX})`, c.pos);
    }
    const b = c.buf;
    const p = c.pos;
    c.pos = p + this.fixed;
    if (this.fixed === 4) {
      if (this.little) b.writeFloatLE(v, p);
      else b.writeFloatBE(v, p);
    } else if (this.little) b.writeDoubleLE(v, p);
    else b.writeDoubleBE(v, p);
  }
}

// ---------------------------------------------------------------------------- bytes

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

/** How a variable length or count is found: an integer prefix, or an earlier field. */
type LengthSource = { prefix: IntNode } | { refKey: string };

function readLength(src: LengthSource, c: Cursor, parent: Parent | undefined): number {
  if ('prefix' in src) return src.prefix.read(c);
  // The struct checked at definition time that refKey names an earlier unsigned integer.
  return (parent as Parent)[src.refKey] as number;
}

function checkLimit(c: Cursor, what: 'length' | 'count', n: number, max: number, name: string, at: number): void {
  if (n > max) c.fail('LF_STRUCT_LIMIT', `${what} ${n} at offset ${at} exceeds ${name} ${max}`, at);
}

/** Writes the prefix of a prefixed node, or nothing for a ref node (its struct wrote the count). */
function writeLength(src: LengthSource, n: number, c: Cursor): void {
  if ('prefix' in src) src.prefix.write(n, c);
}

function prefixFits(src: LengthSource, n: number, c: Cursor, unit: string): void {
  if ('prefix' in src && n > src.prefix.max) {
    c.fail('LF_STRUCT_RANGE', `${n} ${unit} do not fit a ${src.prefix.label} length prefix (max ${src.prefix.max})`, c.pos);
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

// ---------------------------------------------------------------------------- strings

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

// ---------------------------------------------------------------------------- arrays

/** `count` elements: fixed, from a prefix, or from an earlier field. */
export class ArrayNode implements Node {
  readonly fixed: number;
  readonly greedy = false;
  readonly composite = true;
  readonly label: string;
  readonly refKey: string | undefined;
  readonly refUnit = 'items';
  /** Fixed element count, or -1. */
  readonly count: number;
  private readonly src: LengthSource | undefined;

  constructor(
    readonly elem: Node,
    count: number | LengthSource,
    readonly maxCount: number,
  ) {
    if (typeof count === 'number') {
      this.src = undefined;
      this.fixed = elem.fixed < 0 ? -1 : elem.fixed * count;
      this.label = `${elem.label}[${count}]`;
      this.count = count;
    } else {
      this.src = count;
      this.fixed = -1;
      this.label = `${elem.label}[${'prefix' in count ? count.prefix.label : count.refKey}]`;
      this.count = -1;
    }
    this.refKey = this.src !== undefined && 'refKey' in this.src ? this.src.refKey : undefined;
  }

  read(c: Cursor, parent: Parent | undefined): unknown[] {
    const at = c.pos;
    let n = this.count;
    if (this.src !== undefined) {
      n = readLength(this.src, c, parent);
      checkLimit(c, 'count', n, this.maxCount, 'maxCount', at);
    }
    if (c.trace !== undefined) c.trace(at, c.pos, n, this);
    const elem = this.elem;
    const out: unknown[] = [];
    const d = c.depth++;
    for (let i = 0; i < n; i++) {
      c.path[d] = i;
      const start = c.pos;
      const v = elem.read(c, undefined);
      out.push(v);
      if (c.trace !== undefined && !elem.composite) c.trace(start, c.pos, v, elem);
    }
    c.depth = d;
    return out;
  }

  private items(v: unknown, c: Cursor): unknown[] {
    if (!Array.isArray(v)) return c.fail('LF_STRUCT_TYPE', `expected an array, got ${show(v)}`, c.pos);
    const n = v.length;
    if (this.src === undefined) {
      if (n !== this.count) c.fail('LF_STRUCT_RANGE', `expected exactly ${this.count} items, got ${n}`, c.pos);
    } else {
      if (n > this.maxCount) c.fail('LF_STRUCT_LIMIT', `${n} items exceed maxCount ${this.maxCount}`, c.pos);
      prefixFits(this.src, n, c, 'items');
    }
    return v;
  }

  size(v: unknown, c: Cursor): number {
    const items = this.items(v, c);
    const head = this.src !== undefined && 'prefix' in this.src ? this.src.prefix.fixed : 0;
    const elem = this.elem;
    if (elem.fixed >= 0) return head + elem.fixed * items.length;
    let total = head;
    const d = c.depth++;
    for (let i = 0; i < items.length; i++) {
      c.path[d] = i;
      total += elem.size(items[i], c, undefined);
    }
    c.depth = d;
    return total;
  }

  refLength(v: unknown): number {
    return (v as unknown[]).length;
  }

  write(v: unknown, c: Cursor): void {
    // Variable arrays were validated by size(); a fixed-count array of fixed elements was not.
    const items = this.fixed >= 0 ? this.items(v, c) : (v as unknown[]);
    if (this.src !== undefined) writeLength(this.src, items.length, c);
    const elem = this.elem;
    const d = c.depth++;
    for (let i = 0; i < items.length; i++) {
      c.path[d] = i;
      elem.write(items[i], c, undefined);
    }
    c.depth = d;
  }
}

// ---------------------------------------------------------------------------- constants

function showConst(v: unknown, node: Node): string {
  if (typeof v === 'number' && node instanceof IntNode && !node.signed) return `0x${v.toString(16)}`;
  if (typeof v === 'bigint') return v >= 0n ? `0x${v.toString(16)}` : `${v}`;
  if (v instanceof Uint8Array) return `<${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}>`;
  return show(v);
}

function sameConst(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isSafeInteger(a) && BigInt(a) === b;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return false;
}

/**
 * A magic value: decode compares the raw bytes (and returns the constant), encode writes
 * them whether or not the value is given, and fails if a different value is given.
 */
export class ConstNode implements Node {
  readonly greedy = false;
  readonly composite = false;
  readonly fixed: number;
  readonly label: string;

  /** @param bytes the constant as encoded by `inner` */
  constructor(
    readonly inner: Node,
    readonly value: unknown,
    private readonly bytes: Buffer,
  ) {
    this.fixed = inner.fixed;
    this.label = inner.label;
  }

  read(c: Cursor): unknown {
    const p = c.pos;
    const n = this.fixed;
    if (c.end - p < n) c.truncated(n);
    const b = c.buf;
    const k = this.bytes;
    for (let i = 0; i < n; i++) {
      if (b[p + i] !== k[i]) {
        const got = this.inner.read(c, undefined);
        return c.fail('LF_STRUCT_CONST', `expected ${showConst(this.value, this.inner)}, got ${showConst(got, this.inner)} at offset ${p}`, p);
      }
    }
    c.pos = p + n;
    return this.value instanceof Uint8Array ? Buffer.from(this.value) : this.value;
  }

  size(): number {
    return this.fixed;
  }

  write(v: unknown, c: Cursor): void {
    if (v !== undefined && !sameConst(v, this.value)) {
      c.fail('LF_STRUCT_CONST', `expected ${showConst(this.value, this.inner)} or nothing, got ${showConst(v, this.inner)}`, c.pos);
    }
    this.bytes.copy(c.buf, c.pos);
    c.pos += this.fixed;
  }
}
