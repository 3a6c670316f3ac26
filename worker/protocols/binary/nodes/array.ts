import type { Cursor } from './cursor';
import { checkLimit, prefixFits, readLength, writeLength, type LengthSource } from './length';
import type { Node, Parent } from './node';
import { show } from './show';

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
