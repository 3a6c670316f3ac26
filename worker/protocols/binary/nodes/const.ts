import type { Cursor } from './cursor';
import { IntNode } from './integers';
import type { Node } from './node';
import { show } from './show';

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
