/**
 * Field types a scenario declares a struct with: `u8 … i32`, `u64`/`i64` (bigint),
 * `f32`/`f64`, `bytes`, `str`, `array`, `rest`, and `.const(...)` for magic values.
 * A field is a description only; `struct(...)` compiles it once into a node.
 *
 * Endianness: a field takes its struct's `endian` unless it says `.le` / `.be`.
 */
import { ArrayNode } from './nodes/array';
import { FixedBytesNode, RestNode, VarBytesNode } from './nodes/bytes';
import { ConstNode } from './nodes/const';
import { Cursor } from './nodes/cursor';
import { FloatNode } from './nodes/float';
import { BigNode, IntNode } from './nodes/integers';
import type { Endian, Node, StrEncoding } from './nodes/node';
import { FixedStrNode, VarStrNode } from './nodes/strings';
import { StructError } from './errors';

export type { Endian, StrEncoding } from './nodes/node';
/** Width of a length or count prefix. */
export type PrefixWidth = 'u8' | 'u16' | 'u32';

/** What a field compiles against: its struct's defaults, and where to report problems. */
export interface CompileContext {
  readonly endian: Endian;
  readonly maxBytes: number;
  readonly maxCount: number;
  readonly zeroCopy: boolean;
  /** Definition problems, each prefixed with `where`. */
  readonly problems: string[];
  /** Field path for messages, e.g. `readings[]`. */
  where: string;
  /** False inside array elements, where `countFrom` / `lengthFrom` have no sibling to name. */
  refsAllowed: boolean;
}

/**
 * A field decoding to `Out` and encoded from `In`. `__out` / `__in` exist only in types.
 */
export abstract class Field<Out, In = Out> {
  declare readonly __out: Out;
  declare readonly __in: In;
  /** @internal compiles the field against its struct's defaults. */
  abstract compile(ctx: CompileContext): Node;
}

/** True for a field type (duck-typed: two copies of this module still recognise each other's fields). */
export function isField(v: unknown): v is Field<unknown, unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { compile?: unknown }).compile === 'function';
}

/** A field whose value is fixed: optional when encoding, checked when decoding. */
export class ConstField<T, In = T> extends Field<T, In> {
  declare readonly __const: true;
  constructor(
    private readonly field: Field<T, In>,
    readonly value: In,
  ) {
    super();
  }

  compile(ctx: CompileContext): Node {
    const inner = this.field.compile(ctx);
    if (inner.fixed < 0) {
      ctx.problems.push(`${ctx.where}: only fixed-size fields can be const`);
      return inner;
    }
    const bytes = Buffer.alloc(inner.fixed);
    try {
      inner.write(this.value, new Cursor('const', bytes, 0, bytes.length), undefined);
    } catch (err) {
      if (!(err instanceof StructError)) throw err;
      ctx.problems.push(`${ctx.where}: const ${err.detail}`);
      return inner;
    }
    // The decoded form of the constant (e.g. a number given for a u64 becomes a bigint).
    const value = inner.read(new Cursor('const', bytes, 0, bytes.length), undefined);
    return new ConstNode(inner, value, bytes);
  }
}

/** Marks a field whose length/count lives in the earlier field `R` (filled in on encode). */
export abstract class RefField<Out, In, R extends string> extends Field<Out, In> {
  declare readonly __ref: R;
}

function compileError(ctx: CompileContext, message: string): Node {
  ctx.problems.push(`${ctx.where}: ${message}`);
  return new FixedBytesNode(0, false);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function prefixNode(width: unknown, endian: Endian | undefined, ctx: CompileContext): IntNode | undefined {
  const little = (endian ?? ctx.endian) === 'little';
  if (width === 'u8') return new IntNode(1, false, little);
  if (width === 'u16') return new IntNode(2, false, little);
  if (width === 'u32') return new IntNode(4, false, little);
  ctx.problems.push(`${ctx.where}: prefix must be 'u8', 'u16' or 'u32', got ${JSON.stringify(width)}`);
  return undefined;
}

function checkEndian(e: unknown, ctx: CompileContext): void {
  if (e !== undefined && e !== 'little' && e !== 'big') {
    ctx.problems.push(`${ctx.where}: endian must be 'little' or 'big', got ${JSON.stringify(e)}`);
  }
}

function checkRef(key: unknown, ctx: CompileContext): key is string {
  if (typeof key !== 'string' || key === '') {
    ctx.problems.push(`${ctx.where}: countFrom/lengthFrom must name an earlier field, got ${JSON.stringify(key)}`);
    return false;
  }
  if (!ctx.refsAllowed) {
    ctx.problems.push(`${ctx.where}: countFrom/lengthFrom '${key}' only works on a direct field of a struct`);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------- numbers

export class IntField extends Field<number> {
  constructor(
    readonly bytes: 1 | 2 | 4,
    readonly signed: boolean,
    readonly endian?: Endian,
  ) {
    super();
  }
  /** The same type, little endian whatever the struct says. */
  get le(): IntField {
    return new IntField(this.bytes, this.signed, 'little');
  }
  /** The same type, big endian whatever the struct says. */
  get be(): IntField {
    return new IntField(this.bytes, this.signed, 'big');
  }
  const(value: number): ConstField<number> {
    return new ConstField(this, value);
  }
  compile(ctx: CompileContext): Node {
    return new IntNode(this.bytes, this.signed, (this.endian ?? ctx.endian) === 'little');
  }
}

/** u64 / i64: decodes to bigint; encode takes a bigint or a safe-integer number. */
export class BigField extends Field<bigint, bigint | number> {
  constructor(
    readonly signed: boolean,
    readonly endian?: Endian,
  ) {
    super();
  }
  get le(): BigField {
    return new BigField(this.signed, 'little');
  }
  get be(): BigField {
    return new BigField(this.signed, 'big');
  }
  const(value: bigint | number): ConstField<bigint, bigint | number> {
    return new ConstField(this, value);
  }
  compile(ctx: CompileContext): Node {
    return new BigNode(this.signed, (this.endian ?? ctx.endian) === 'little');
  }
}

/** f32 / f64. f32 rounds to the nearest single (Math.fround). */
export class FloatField extends Field<number> {
  constructor(
    readonly bytes: 4 | 8,
    readonly endian?: Endian,
  ) {
    super();
  }
  get le(): FloatField {
    return new FloatField(this.bytes, 'little');
  }
  get be(): FloatField {
    return new FloatField(this.bytes, 'big');
  }
  const(value: number): ConstField<number> {
    return new ConstField(this, value);
  }
  compile(ctx: CompileContext): Node {
    return new FloatNode(this.bytes, (this.endian ?? ctx.endian) === 'little');
  }
}

export const u8 = new IntField(1, false);
export const i8 = new IntField(1, true);
export const u16 = new IntField(2, false);
export const i16 = new IntField(2, true);
export const u32 = new IntField(4, false);
export const i32 = new IntField(4, true);
export const u64 = new BigField(false);
export const i64 = new BigField(true);
export const f32 = new FloatField(4);
export const f64 = new FloatField(8);

// ---------------------------------------------------------------------------- bytes

export class FixedBytesField extends Field<Buffer, Uint8Array> {
  constructor(readonly length: number) {
    super();
  }
  const(value: Uint8Array): ConstField<Buffer, Uint8Array> {
    return new ConstField(this, value);
  }
  compile(ctx: CompileContext): Node {
    if (!isCount(this.length)) return compileError(ctx, `bytes length must be a non-negative integer, got ${this.length}`);
    if (this.length > ctx.maxBytes) return compileError(ctx, `bytes(${this.length}) is larger than maxBytes ${ctx.maxBytes}`);
    return new FixedBytesNode(this.length, ctx.zeroCopy);
  }
}

export interface PrefixedOptions {
  prefix: PrefixWidth;
  /** Endianness of the prefix. @default the struct's */
  endian?: Endian;
  /** Longest value accepted, in bytes. @default the struct's maxBytes */
  maxBytes?: number;
}

export interface LengthFromOptions<R extends string> {
  /** An earlier unsigned integer field holding the length in bytes; encode fills it in. */
  lengthFrom: R;
  /** @default the struct's maxBytes */
  maxBytes?: number;
}

class VarBytesField<R extends string> extends RefField<Buffer, Uint8Array, R> {
  constructor(private readonly opts: PrefixedOptions | LengthFromOptions<R>) {
    super();
  }
  compile(ctx: CompileContext): Node {
    const o = this.opts;
    const max = o.maxBytes ?? ctx.maxBytes;
    if (!isCount(max)) return compileError(ctx, `maxBytes must be a non-negative integer, got ${max}`);
    if ('lengthFrom' in o) {
      if (!checkRef(o.lengthFrom, ctx)) return new FixedBytesNode(0, false);
      return new VarBytesNode({ refKey: o.lengthFrom }, max, ctx.zeroCopy);
    }
    checkEndian(o.endian, ctx);
    const prefix = prefixNode(o.prefix, o.endian, ctx);
    return prefix === undefined ? new FixedBytesNode(0, false) : new VarBytesNode({ prefix }, max, ctx.zeroCopy);
  }
}

/**
 * Bytes: `bytes(16)` exactly 16; `bytes({ prefix: 'u16' })` after a length prefix;
 * `bytes({ lengthFrom: 'len' })` with the length in the earlier field `len`.
 * Decoded values are copies unless the struct says `zeroCopy`.
 */
export function bytes(length: number): FixedBytesField;
export function bytes(opts: PrefixedOptions): Field<Buffer, Uint8Array>;
export function bytes<R extends string>(opts: LengthFromOptions<R>): RefField<Buffer, Uint8Array, R>;
export function bytes(arg: number | PrefixedOptions | LengthFromOptions<string>): Field<Buffer, Uint8Array> {
  return typeof arg === 'number' ? new FixedBytesField(arg) : new VarBytesField(arg);
}

class RestField extends Field<Buffer, Uint8Array> {
  compile(ctx: CompileContext): Node {
    return new RestNode(ctx.maxBytes, ctx.zeroCopy);
  }
}

/** All bytes to the end of the input (at most the struct's maxBytes). Must come last. */
export const rest: Field<Buffer, Uint8Array> = new RestField();

// ---------------------------------------------------------------------------- strings

const ENCODINGS: readonly StrEncoding[] = ['utf8', 'ascii', 'latin1', 'hex'];

function checkEncoding(e: unknown, ctx: CompileContext): e is StrEncoding {
  if (ENCODINGS.includes(e as StrEncoding)) return true;
  ctx.problems.push(`${ctx.where}: encoding must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(e)}`);
  return false;
}

export class FixedStrField extends Field<string> {
  constructor(
    readonly length: number,
    readonly encoding: StrEncoding,
  ) {
    super();
  }
  const(value: string): ConstField<string> {
    return new ConstField(this, value);
  }
  compile(ctx: CompileContext): Node {
    if (!isCount(this.length)) return compileError(ctx, `str length must be a non-negative integer, got ${this.length}`);
    if (this.length > ctx.maxBytes) return compileError(ctx, `str(${this.length}) is larger than maxBytes ${ctx.maxBytes}`);
    if (!checkEncoding(this.encoding, ctx)) return new FixedBytesNode(0, false);
    return new FixedStrNode(this.length, this.encoding);
  }
}

class VarStrField<R extends string> extends RefField<string, string, R> {
  constructor(private readonly opts: (PrefixedOptions | LengthFromOptions<R>) & { encoding?: StrEncoding }) {
    super();
  }
  compile(ctx: CompileContext): Node {
    const o = this.opts;
    const max = o.maxBytes ?? ctx.maxBytes;
    const enc = o.encoding ?? 'utf8';
    if (!isCount(max)) return compileError(ctx, `maxBytes must be a non-negative integer, got ${max}`);
    if (!checkEncoding(enc, ctx)) return new FixedBytesNode(0, false);
    if ('lengthFrom' in o) {
      if (!checkRef(o.lengthFrom, ctx)) return new FixedBytesNode(0, false);
      return new VarStrNode({ refKey: o.lengthFrom }, enc, max);
    }
    checkEndian(o.endian, ctx);
    const prefix = prefixNode(o.prefix, o.endian, ctx);
    return prefix === undefined ? new FixedBytesNode(0, false) : new VarStrNode({ prefix }, enc, max);
  }
}

/**
 * Strings (default encoding utf8): `str(16)` a NUL-padded C string in 16 bytes;
 * `str({ prefix: 'u8' })` after a byte-length prefix; `str({ lengthFrom: 'len' })` with the
 * byte length in the earlier field `len`. A fixed hex string is all its bytes in hex.
 */
export function str(length: number, encoding?: StrEncoding): FixedStrField;
export function str(opts: PrefixedOptions & { encoding?: StrEncoding }): Field<string>;
export function str<R extends string>(opts: LengthFromOptions<R> & { encoding?: StrEncoding }): RefField<string, string, R>;
export function str(
  arg: number | ((PrefixedOptions | LengthFromOptions<string>) & { encoding?: StrEncoding }),
  encoding: StrEncoding = 'utf8',
): Field<string> {
  return typeof arg === 'number' ? new FixedStrField(arg, encoding) : new VarStrField(arg);
}

// ---------------------------------------------------------------------------- arrays

type AnyField = Field<any, any>;
export type Out<F> = F extends Field<infer O, any> ? O : never;
export type In<F> = F extends Field<any, infer I> ? I : never;

export interface CountPrefixOptions {
  prefix: PrefixWidth;
  /** Endianness of the prefix. @default the struct's */
  endian?: Endian;
  /** Most items accepted. @default the struct's maxCount */
  maxCount?: number;
}

export interface CountFromOptions<R extends string> {
  /** An earlier unsigned integer field holding the number of items; encode fills it in. */
  countFrom: R;
  /** @default the struct's maxCount */
  maxCount?: number;
}

class ArrayField<F extends AnyField, R extends string> extends RefField<Out<F>[], readonly In<F>[], R> {
  constructor(
    private readonly elem: F,
    private readonly count: number | CountPrefixOptions | CountFromOptions<R>,
  ) {
    super();
  }
  compile(ctx: CompileContext): Node {
    const where = ctx.where;
    const refsAllowed = ctx.refsAllowed;
    if (!isField(this.elem)) return compileError(ctx, `array element is not a field (got ${typeof this.elem})`);
    ctx.where = `${where}[]`;
    ctx.refsAllowed = false;
    const elem = this.elem.compile(ctx);
    ctx.where = where;
    ctx.refsAllowed = refsAllowed;
    if (elem.greedy) return compileError(ctx, 'array elements cannot end with rest');
    const c = this.count;
    if (typeof c === 'number') {
      if (!isCount(c)) return compileError(ctx, `array count must be a non-negative integer, got ${c}`);
      if (c > ctx.maxCount) return compileError(ctx, `array count ${c} is larger than maxCount ${ctx.maxCount}`);
      return new ArrayNode(elem, c, ctx.maxCount);
    }
    const max = c.maxCount ?? ctx.maxCount;
    if (!isCount(max)) return compileError(ctx, `maxCount must be a non-negative integer, got ${max}`);
    if ('countFrom' in c) {
      if (!checkRef(c.countFrom, ctx)) return new FixedBytesNode(0, false);
      return new ArrayNode(elem, { refKey: c.countFrom }, max);
    }
    checkEndian(c.endian, ctx);
    const prefix = prefixNode(c.prefix, c.endian, ctx);
    return prefix === undefined ? new FixedBytesNode(0, false) : new ArrayNode(elem, { prefix }, max);
  }
}

/**
 * Repeated fields or structs: `array(u16, 4)` exactly 4; `array(u16, { prefix: 'u8' })` after
 * a count prefix; `array(u16, { countFrom: 'n' })` with the count in the earlier field `n`.
 */
export function array<F extends AnyField>(elem: F, count: number): Field<Out<F>[], readonly In<F>[]>;
export function array<F extends AnyField>(elem: F, opts: CountPrefixOptions): Field<Out<F>[], readonly In<F>[]>;
export function array<F extends AnyField, R extends string>(elem: F, opts: CountFromOptions<R>): RefField<Out<F>[], readonly In<F>[], R>;
export function array<F extends AnyField>(
  elem: F,
  count: number | CountPrefixOptions | CountFromOptions<string>,
): Field<Out<F>[], readonly In<F>[]> {
  return new ArrayField(elem, count);
}
