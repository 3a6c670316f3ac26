/**
 * Binary messages as C-like structs.
 *
 *   const Header = struct({ magic: u16.const(0xcafe), type: u8, seq: u32, len: u16 },
 *                         { name: 'Header', endian: 'big' });
 *   const buf = Header.encode({ type: 1, seq: 7, len: 0 });   // magic written by itself
 *   const h = Header.decode(buf);                             // { magic, type, seq, len }
 *   console.log(Header.dump(buf));                            // offsets, hex, fields
 *
 * The layout is compiled once, at `struct(...)`; encode and decode walk it with no per-field
 * closures. Every failure is a StructError whose message names the field path and the byte
 * offset (`Telemetry.readings[3]: needs 2 bytes at offset 41, only 1 left`). Decoding
 * allocates nothing sized by the input beyond `maxBytes` per field and `maxCount` items per
 * array, checked before allocating; a decoded value never holds more bytes than the input.
 */
import { StructError } from './errors';
import { Field, isField, type CompileContext, type In, type Out } from './fields';
import { ConstNode } from './nodes/const';
import { Cursor } from './nodes/cursor';
import { IntNode } from './nodes/integers';
import { isRefNode, type Endian, type Node, type Parent } from './nodes/node';
import { show } from './nodes/show';

export interface StructOptions {
  /** Root of field paths in messages and dumps. @default 'struct' */
  name?: string;
  /** Byte order of fields that do not say `.le` / `.be`. Nested structs keep their own. @default 'little' */
  endian?: Endian;
  /** Longest variable-length bytes / string / rest field accepted, in bytes. @default 1 MiB */
  maxBytes?: number;
  /** Most items in a variable-count array. @default 65536 */
  maxCount?: number;
  /**
   * Decoded bytes fields are views into the input instead of copies: faster, but they
   * change if the input buffer is reused. @default false
   */
  zeroCopy?: boolean;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_COUNT = 65536;

export type Shape = { readonly [key: string]: Field<any, any> };
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ConstKeys<S> = { [K in keyof S]: S[K] extends { readonly __const: true } ? K : never }[keyof S];
type RefKeys<S> = { [K in keyof S]: S[K] extends { readonly __ref: infer R } ? R : never }[keyof S];
/** Keys encode can do without: constants, and counts/lengths filled in from their field. */
type OptionalKeys<S> = ConstKeys<S> | (RefKeys<S> & keyof S);

/** What `decode` returns for a shape. */
export type Decoded<S extends Shape> = Simplify<{ -readonly [K in keyof S]: Out<S[K]> }>;
/** What `encode` takes for a shape. */
export type Encodable<S extends Shape> = Simplify<
  { -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: In<S[K]> } & { -readonly [K in OptionalKeys<S>]?: In<S[K]> }
>;
/** The decoded type of a struct or field: `type Telemetry = Infer<typeof Telemetry>`. */
export type Infer<F extends Field<any, any>> = F['__out'];
/** The type `encode` takes for a struct or field. */
export type InferInput<F extends Field<any, any>> = F['__in'];

export interface DecodeResult<T> {
  value: T;
  /** Offset just after the message. */
  end: number;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export class Struct<S extends Shape> extends Field<Decoded<S>, Encodable<S>> implements Node {
  readonly name: string;
  readonly endian: Endian;
  /** Encoded size in bytes when every field has a fixed size, else undefined. */
  readonly fixedSize: number | undefined;
  /** @internal Node contract: fixed size or -1. */
  readonly fixed: number;
  /** @internal */
  readonly greedy: boolean;
  /** @internal */
  readonly composite = true;
  /** @internal */
  readonly label: string;

  private readonly keys: string[] = [];
  private readonly nodes: Node[] = [];
  /** For a count/length field: the indexes of the fields it counts, else undefined. */
  private readonly counted: (number[] | undefined)[] = [];
  /** Bytes of the fixed-size fields (a variable struct adds its variable fields to it). */
  private readonly fixedPart: number;
  private readonly variable: number[] = [];

  constructor(fields: S, options: StructOptions = {}) {
    super();
    const problems: string[] = [];
    this.name = options.name ?? 'struct';
    this.label = this.name;
    this.endian = options.endian ?? 'little';
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxCount = options.maxCount ?? DEFAULT_MAX_COUNT;
    if (typeof this.name !== 'string' || this.name === '') problems.push(`name must be a non-empty string, got ${JSON.stringify(this.name)}`);
    if (this.endian !== 'little' && this.endian !== 'big') problems.push(`endian must be 'little' or 'big', got ${JSON.stringify(this.endian)}`);
    if (!isCount(maxBytes)) problems.push(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    if (!isCount(maxCount)) problems.push(`maxCount must be a non-negative integer, got ${maxCount}`);
    if (typeof fields !== 'object' || fields === null) problems.push(`fields must be an object of field types, got ${fields}`);

    const ctx: CompileContext = {
      endian: this.endian,
      maxBytes,
      maxCount,
      zeroCopy: options.zeroCopy ?? false,
      problems,
      where: '',
      refsAllowed: true,
    };
    const index = new Map<string, number>();
    const entries = typeof fields === 'object' && fields !== null ? Object.entries(fields) : [];
    for (const [key, field] of entries) {
      ctx.where = key;
      ctx.refsAllowed = true;
      if (!isField(field)) {
        problems.push(`${key}: not a field type (got ${typeof field === 'string' ? JSON.stringify(field) : typeof field})`);
        continue;
      }
      const i = this.keys.length;
      if (i > 0 && this.nodes[i - 1].greedy) problems.push(`${this.keys[i - 1]}: rest must be the last field`);
      const node = field.compile(ctx);
      if (isRefNode(node)) {
        const src = index.get(node.refKey);
        const srcNode = src === undefined ? undefined : this.nodes[src];
        if (srcNode === undefined || !(srcNode instanceof IntNode) || srcNode.signed) {
          problems.push(`${key}: '${node.refKey}' must be an earlier unsigned integer field (u8, u16 or u32), not const`);
        } else {
          (this.counted[src as number] ??= []).push(i);
        }
      }
      index.set(key, i);
      this.keys.push(key);
      this.nodes.push(node);
      this.counted.push(undefined);
    }
    if (problems.length > 0) {
      throw new StructError('LF_STRUCT_DEFINITION', this.name, `invalid layout: ${problems.join('; ')}`);
    }

    let fixedPart = 0;
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      if (n.fixed >= 0) fixedPart += n.fixed;
      else this.variable.push(i);
    }
    this.fixedPart = fixedPart;
    this.fixed = this.variable.length === 0 ? fixedPart : -1;
    this.fixedSize = this.fixed >= 0 ? this.fixed : undefined;
    this.greedy = this.nodes.length > 0 && this.nodes[this.nodes.length - 1].greedy;
  }

  /** @internal Field contract: a struct nests as itself, with its own endian and limits. */
  compile(): Node {
    return this;
  }

  // -------------------------------------------------------------------------- public API

  /** Encodes `value` into a new Buffer of exactly `byteLength(value)` bytes. */
  encode(value: Encodable<S>): Buffer {
    const c = new Cursor(this.name, EMPTY, 0, 0);
    const size = this.fixed >= 0 ? this.fixed : this.size(value, c);
    c.buf = Buffer.allocUnsafe(size);
    c.end = size;
    this.write(value, c);
    return c.buf;
  }

  /**
   * Encodes `value` into `target` at `offset` and returns the offset after it. Fails
   * LF_STRUCT_RANGE, writing nothing, when the target is too small; on a failure in a field
   * the target may be partly written.
   */
  encodeInto(value: Encodable<S>, target: Uint8Array, offset = 0): number {
    const buf = toBuffer(target);
    const c = new Cursor(this.name, buf, offset, buf.length);
    const size = this.fixed >= 0 ? this.fixed : this.size(value, c);
    if (!isCount(offset) || offset > buf.length || buf.length - offset < size) {
      c.fail('LF_STRUCT_RANGE', `needs ${size} bytes at offset ${offset}, the target has ${Math.max(0, buf.length - offset)} left`, offset);
    }
    this.write(value, c);
    return c.pos;
  }

  /** Encoded length of `value` in bytes (validates it on the way). */
  byteLength(value: Encodable<S>): number {
    return this.fixed >= 0 ? this.fixed : this.size(value, new Cursor(this.name, EMPTY, 0, 0));
  }

  /** Decodes a buffer that holds exactly one message; bytes left over fail LF_STRUCT_TRAILING. */
  decode(input: Uint8Array): Decoded<S> {
    const buf = toBuffer(input);
    const c = new Cursor(this.name, buf, 0, buf.length);
    const value = this.read(c);
    if (c.pos !== buf.length) {
      const left = buf.length - c.pos;
      c.fail('LF_STRUCT_TRAILING', `${left} byte${left === 1 ? '' : 's'} left over after the message ends at offset ${c.pos}`, c.pos);
    }
    return value as Decoded<S>;
  }

  /** Decodes one message starting at `offset`; what follows it is left alone. */
  decodeFrom(input: Uint8Array, offset = 0): DecodeResult<Decoded<S>> {
    const buf = toBuffer(input);
    const c = new Cursor(this.name, buf, offset, buf.length);
    if (!isCount(offset) || offset > buf.length) c.fail('LF_STRUCT_TRUNCATED', `offset ${offset} is outside the input (${buf.length} bytes)`, offset);
    const value = this.read(c) as Decoded<S>;
    return { value, end: c.pos };
  }

  /**
   * A human-readable decoding of `input`: one line per field with offset, bytes in hex, path,
   * type and value, then the error (and the undecoded bytes) if decoding fails, or the
   * trailing bytes. Never throws for bad input.
   */
  dump(input: Uint8Array): string {
    const buf = toBuffer(input);
    const c = new Cursor(this.name, buf, 0, buf.length);
    const rows: DumpRow[] = [];
    let decodedTo = 0;
    c.trace = (start, end, value, node) => {
      rows.push({ start, end, path: c.pathString().slice(this.name.length + 1), type: node.label, value: showValue(value, node) });
      decodedTo = end;
    };
    const head = `${this.name}: ${buf.length} bytes, ${this.endian} endian${this.fixedSize === undefined ? '' : `, layout ${this.fixedSize} bytes`}`;
    let failure: StructError | undefined;
    try {
      this.read(c);
      decodedTo = c.pos;
    } catch (err) {
      if (!(err instanceof StructError)) throw err;
      failure = err;
    }
    const out = formatRows(head, buf, rows);
    if (failure !== undefined) {
      out.push(`!! ${failure.code} ${failure.message}`);
      if (decodedTo < buf.length) out.push(...hexLines(buf, decodedTo, buf.length, '(undecoded)'));
    } else if (decodedTo < buf.length) {
      out.push(...hexLines(buf, decodedTo, buf.length, '(trailing)'));
    }
    return out.join('\n');
  }

  // -------------------------------------------------------------------------- Node contract

  /** @internal */
  read(c: Cursor): Parent {
    const o: Parent = {};
    const keys = this.keys;
    const nodes = this.nodes;
    const d = c.depth++;
    for (let i = 0; i < keys.length; i++) {
      c.path[d] = keys[i];
      const node = nodes[i];
      const start = c.pos;
      const v = node.read(c, o);
      o[keys[i]] = v;
      if (c.trace !== undefined && !node.composite) c.trace(start, c.pos, v, node);
    }
    c.depth = d;
    return o;
  }

  private object(v: unknown, c: Cursor): Parent {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
      return c.fail('LF_STRUCT_TYPE', `expected an object, got ${show(v)}`, c.pos);
    }
    return v as Parent;
  }

  /** @internal */
  size(v: unknown, c: Cursor): number {
    const o = this.object(v, c);
    let total = this.fixedPart;
    const d = c.depth++;
    for (const i of this.variable) {
      c.path[d] = this.keys[i];
      total += this.nodes[i].size(o[this.keys[i]], c, o);
    }
    c.depth = d;
    return total;
  }

  /** @internal */
  write(v: unknown, c: Cursor): void {
    const o = this.object(v, c);
    const keys = this.keys;
    const nodes = this.nodes;
    const d = c.depth++;
    for (let i = 0; i < keys.length; i++) {
      c.path[d] = keys[i];
      const counted = this.counted[i];
      nodes[i].write(counted === undefined ? o[keys[i]] : this.countOf(o, i, counted, c), c, o);
    }
    c.depth = d;
  }

  /** The value of count/length field `i`: given, or taken from the fields it counts, which must agree. */
  private countOf(o: Parent, i: number, counted: number[], c: Cursor): unknown {
    const given = o[this.keys[i]];
    let n = given;
    for (const t of counted) {
      const target = this.nodes[t];
      if (!isRefNode(target)) continue;
      const len = target.refLength(o[this.keys[t]]);
      if (n === undefined) {
        const max = (this.nodes[i] as IntNode).max;
        if (len > max) {
          c.fail('LF_STRUCT_RANGE', `${this.keys[t]} has ${len} ${target.refUnit}, more than ${this.nodes[i].label} can count (max ${max})`, c.pos);
        }
        n = len;
      } else if (n !== len) {
        c.fail('LF_STRUCT_RANGE', `is ${show(n)} but ${this.keys[t]} has ${len} ${target.refUnit} (leave it out to fill it in)`, c.pos);
      }
    }
    return n;
  }
}

const EMPTY = Buffer.alloc(0);

/** Declares a struct. Throws LF_STRUCT_DEFINITION listing every problem of the layout. */
export function struct<S extends Shape>(fields: S, options?: StructOptions): Struct<S> {
  return new Struct(fields, options);
}

/** Encoded size of a fixed-size struct or field, in bytes; LF_STRUCT_DEFINITION if it varies. */
export function sizeOf(f: Field<any, any>): number {
  // A struct compiles to itself; a lone field against the defaults.
  const node = f.compile({
    endian: 'little',
    maxBytes: DEFAULT_MAX_BYTES,
    maxCount: DEFAULT_MAX_COUNT,
    zeroCopy: false,
    problems: [],
    where: '',
    refsAllowed: true,
  });
  if (node.fixed < 0) {
    throw new StructError('LF_STRUCT_DEFINITION', node.label, 'has no fixed size (it holds variable-length fields); use byteLength(value)');
  }
  return node.fixed;
}

// ---------------------------------------------------------------------------- dump

interface DumpRow {
  start: number;
  end: number;
  path: string;
  type: string;
  value: string;
}

const BYTES_PER_LINE = 8;
const MAX_DUMP_LINES = 4;

function showValue(v: unknown, node: Node): string {
  if (node instanceof ConstNode) return `${showValue(v, node.inner)} const`;
  if (node.composite) return `${v} item${v === 1 ? '' : 's'}`;
  if (typeof v === 'number') {
    if (node instanceof IntNode && !node.signed) return `${v} (0x${v.toString(16)})`;
    return Object.is(v, -0) ? '-0' : String(v);
  }
  if (typeof v === 'bigint') return v >= 0n ? `${v} (0x${v.toString(16)})` : String(v);
  if (typeof v === 'string') return v.length > 64 ? `${JSON.stringify(v.slice(0, 64))}… (${v.length} chars)` : JSON.stringify(v);
  if (v instanceof Uint8Array) return `<${v.length} byte${v.length === 1 ? '' : 's'}>`;
  return String(v);
}

function hexOf(buf: Buffer, start: number, end: number): string[] {
  const lines: string[] = [];
  const stop = Math.min(end, start + BYTES_PER_LINE * MAX_DUMP_LINES);
  for (let p = start; p < stop; p += BYTES_PER_LINE) {
    const parts: string[] = [];
    for (let i = p; i < Math.min(stop, p + BYTES_PER_LINE); i++) parts.push(buf[i].toString(16).padStart(2, '0'));
    lines.push(parts.join(' '));
  }
  if (stop < end) lines.push(`… +${end - stop} bytes`);
  if (lines.length === 0) lines.push('');
  return lines;
}

const HEX_WIDTH = BYTES_PER_LINE * 3 - 1;

function formatRows(head: string, buf: Buffer, rows: DumpRow[]): string[] {
  const pathWidth = Math.max(5, ...rows.map((r) => r.path.length));
  const typeWidth = Math.max(4, ...rows.map((r) => r.type.length));
  const out = [head, `${'offset'.padStart(6)}  ${'bytes'.padEnd(HEX_WIDTH)}  ${'field'.padEnd(pathWidth)}  ${'type'.padEnd(typeWidth)}  value`];
  for (const r of rows) {
    const hex = hexOf(buf, r.start, r.end);
    out.push(`${String(r.start).padStart(6)}  ${hex[0].padEnd(HEX_WIDTH)}  ${r.path.padEnd(pathWidth)}  ${r.type.padEnd(typeWidth)}  ${r.value}`.trimEnd());
    for (let i = 1; i < hex.length; i++) out.push(`${''.padStart(6)}  ${hex[i]}`);
  }
  return out;
}

function hexLines(buf: Buffer, start: number, end: number, label: string): string[] {
  const hex = hexOf(buf, start, end);
  return hex.map((h, i) => (i === 0 ? `${String(start).padStart(6)}  ${h.padEnd(HEX_WIDTH)}  ${label}` : `${''.padStart(6)}  ${h}`));
}
