import type { Histogram } from '../../worker/metrics/histogram';

/** The parts of hdr-histogram-js's JsHistogram the mean reads (all public on every JS histogram). */
interface Buckets {
  readonly totalCount: number;
  readonly countsArrayLength: number;
  readonly subBucketHalfCount: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/**
 * The mean of a histogram's values (value units, µs here), equal bit for bit to hdr-histogram-js's
 * `h.mean`: the same terms (each recorded bucket's median equivalent value × its count) added in
 * the same order (ascending index), divided by the total count; 0 for an empty histogram.
 *
 * `h.mean` walks every index with its recorded-values iterator (several calls per index): on a
 * CLI that runs it once, cold, that cost more than the rest of the report. Here the walk reads
 * counts only; the median equivalent value is the index's value plus half its range, and the
 * range is the same across each power-of-two bucket (subBucketHalfCount indexes, the first
 * 2 × subBucketHalfCount share one), so that offset is asked of the histogram once per bucket.
 * Values stay integers below 2^53: the sums are the ones `h.mean` makes.
 */
export function meanOf(h: Histogram): number {
  const b = h as unknown as Buckets;
  const total = b.totalCount;
  if (total === 0) return 0;
  const half = b.subBucketHalfCount;
  let sum = 0;
  let seen = 0;
  let bucket = -1;
  let offset = 0;
  for (let i = 0; i < b.countsArrayLength && seen < total; i++) {
    const count = b.getCountAtIndex(i);
    if (count === 0) continue;
    seen += count;
    const value = b.valueFromIndex(i);
    const k = Math.max(Math.floor(i / half) - 1, 0);
    if (k !== bucket) {
      bucket = k;
      offset = b.medianEquivalentValue(b.highestEquivalentValue(value)) - value;
    }
    sum += (value + offset) * count;
  }
  return sum / total;
}
