import type { Histogram } from '../../worker/metrics/histogram';

/** The parts of hdr-histogram-js's JsHistogram the walk reads (all public on every JS histogram). */
interface Buckets {
  readonly totalCount: number;
  readonly countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  lowestEquivalentValue(value: number): number;
  highestEquivalentValue(value: number): number;
}

/**
 * The values (value units, µs here) at the given percentiles, each equal to hdr-histogram-js's
 * `h.getValueAtPercentile(p)`, in one walk of the counts instead of one per percentile (each
 * walk is a call per bucket: on a CLI that runs it once, cold, five of them cost more than the
 * merge). The count each percentile needs is computed as getValueAtPercentile computes it
 * (rounded up, less one ulp, at least 1); 0 when the histogram never reaches it (empty).
 */
export function percentilesOf(h: Histogram, percentiles: readonly number[]): number[] {
  const b = h as unknown as Buckets;
  const wanted = percentiles.map((p, k) => ({ k, p, count: countAtPercentile(p, b.totalCount) })).sort((x, y) => x.count - y.count);
  const out = new Array<number>(percentiles.length).fill(0);
  let next = 0;
  let cumulative = 0;
  for (let i = 0; i < b.countsArrayLength && next < wanted.length; i++) {
    const count = b.getCountAtIndex(i);
    if (count === 0) continue;
    cumulative += count;
    while (next < wanted.length && cumulative >= wanted[next].count) {
      const w = wanted[next++];
      const value = b.valueFromIndex(i);
      out[w.k] = w.p === 0 ? b.lowestEquivalentValue(value) : b.highestEquivalentValue(value);
    }
  }
  return out;
}

/** hdr-histogram-js's count for a percentile: ceil(fp − ulp(fp)), at least 1, with fp = min(p, 100)/100 × total. */
function countAtPercentile(p: number, total: number): number {
  const fp = (Math.min(p, 100) / 100.0) * total;
  return Math.max(Math.ceil(fp - ulp(fp)), 1);
}

/** As hdr-histogram-js's ulp (dist/ulp.js). */
function ulp(x: number): number {
  return Math.pow(2, Math.floor(Math.log2(x)) - 52);
}
