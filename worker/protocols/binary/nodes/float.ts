import type { Cursor } from './cursor';
import type { Node } from './node';
import { show } from './show';

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
