/** Integer nodes: u8 … i32 as numbers, u64 / i64 as bigints. */
import type { Cursor } from './cursor';
import type { Node } from './node';
import { show } from './show';

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
