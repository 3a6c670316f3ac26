import { inflateSync } from 'node:zlib';
import { createHistogram, type Histogram } from '../../worker/metrics/histogram';

/**
 * Fast reading of the snapshot histograms (HdrHistogram V2 compressed encoding, as written by
 * worker/metrics/histogram.ts) for merging: instead of decoding each into a histogram object
 * (a full counts array allocated per histogram) and adding it (a walk over every bucket), the
 * counts are read straight into a dense counts array by bucket index. Every histogram of a run
 * has the same layout (createHistogram), so bucket i means the same value everywhere.
 */

/** The layout every run's histograms share, and the value of each bucket. */
const TEMPLATE = createHistogram() as Histogram & {
  countsArrayLength: number;
  valueFromIndex(i: number): number;
  lowestEquivalentValue(v: number): number;
  highestEquivalentValue(v: number): number;
};
export const COUNTS_LENGTH = TEMPLATE.countsArrayLength;

const COMPRESSED_COOKIE_BASE = 0x1c849304;
const HEADER_BYTES = 40;

/** Decoded (bucket index, count) pairs of one histogram; reused between calls. */
export class Entries {
  index = new Int32Array(1024);
  count = new Float64Array(1024);
  length = 0;
  total = 0;

  push(i: number, c: number) {
    if (this.length === this.index.length) {
      const index = new Int32Array(this.length * 2);
      index.set(this.index);
      const count = new Float64Array(this.length * 2);
      count.set(this.count);
      this.index = index;
      this.count = count;
    }
    this.index[this.length] = i;
    this.count[this.length++] = c;
    this.total += c;
  }
}

/**
 * Reads an encoded histogram into `out` (cleared first). Throws on an encoding that is not
 * HdrHistogram V2 compressed, or a bucket beyond the shared layout.
 */
export function readEncoded(encoded: string, out: Entries): void {
  out.length = 0;
  out.total = 0;
  const data = Buffer.from(encoded, 'base64');
  if ((data.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE_BASE) throw new Error('not an HdrHistogram V2 compressed histogram');
  const raw = inflateSync(data.subarray(8, 8 + data.readInt32BE(4)));
  const end = HEADER_BYTES + raw.readInt32BE(4);
  let pos = HEADER_BYTES;
  let index = 0;
  while (pos < end) {
    // ZigZag LEB128 (up to 9 bytes): negative values are runs of empty buckets.
    let b = raw[pos++];
    let value = b & 0x7f;
    let scale = 128;
    for (let k = 1; b & 0x80 && k < 9; k++) {
      b = raw[pos++];
      value += (k === 8 ? b : b & 0x7f) * scale;
      scale *= 128;
    }
    if (value % 2 === 0) {
      if (index >= COUNTS_LENGTH) throw new Error(`histogram bucket ${index} is beyond the shared layout (${COUNTS_LENGTH})`);
      const count = value / 2;
      if (count > 0) out.push(index, count);
      index++;
    } else index += (value + 1) / 2;
  }
}

/** Dense counts by bucket index, with the buckets touched remembered so that reading and clearing stay cheap. */
export class Counts {
  readonly counts = new Float64Array(COUNTS_LENGTH);
  private touched: number[] = [];
  total = 0;

  add(e: Entries): void {
    const { index, count, length } = e;
    const counts = this.counts;
    for (let k = 0; k < length; k++) {
      const i = index[k];
      if (counts[i] === 0) this.touched.push(i);
      counts[i] += count[k];
    }
    this.total += e.total;
  }

  /** Values (µs) at the given percentiles, as HdrHistogram's getValueAtPercentile computes them. */
  percentiles(ps: readonly number[]): number[] {
    const order = Uint32Array.from(this.touched).sort();
    const out: number[] = [];
    let k = 0;
    let cumulative = 0;
    for (const p of ps) {
      const wanted = Math.max(Math.ceil((Math.min(p, 100) / 100) * this.total - 1e-9), 1);
      while (k < order.length && cumulative + this.counts[order[k]] < wanted) cumulative += this.counts[order[k++]];
      const i = order[Math.min(k, order.length - 1)];
      out.push(order.length === 0 ? 0 : TEMPLATE.highestEquivalentValue(TEMPLATE.valueFromIndex(i)));
    }
    return out;
  }

  /**
   * A histogram holding these counts. Its min and max are the lowest and highest values of the
   * first and last buckets, as when histograms are decoded and added.
   */
  toHistogram(): Histogram {
    const h = createHistogram() as Histogram & { maxValue: number; minNonZeroValue: number };
    let lo = Infinity;
    let hi = -1;
    for (const i of this.touched) {
      h.recordValueWithCount(TEMPLATE.valueFromIndex(i), this.counts[i]);
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
    if (hi >= 0) {
      h.minNonZeroValue = TEMPLATE.lowestEquivalentValue(TEMPLATE.valueFromIndex(lo));
      h.maxValue = TEMPLATE.highestEquivalentValue(TEMPLATE.valueFromIndex(hi));
    }
    return h;
  }

  clear(): void {
    for (const i of this.touched) this.counts[i] = 0;
    this.touched = [];
    this.total = 0;
  }
}
