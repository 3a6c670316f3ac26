import fc from 'fast-check';
import { Counts, Entries, readEncoded } from '../../cli/merge/counts';
import { createHistogram, encodeHistogram, recordMs, type Histogram } from '../../worker/metrics/histogram';

/** Latencies in ms as a run records them: sub-millisecond, ordinary, and past the hour. */
export const latencies = fc.array(fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 5, max: 60_000, noNaN: true }), fc.constant(3_600_000 * 2)), { minLength: 0, maxLength: 300 });

/** One histogram per list of latencies, merged as the report merges workers' snapshots (encoded, read into Counts). */
export function mergedAsReported(parts: number[][]): Histogram {
  const counts = new Counts();
  const entries = new Entries();
  for (const values of parts) {
    const h = createHistogram();
    for (const v of values) recordMs(h, v);
    readEncoded(encodeHistogram(h), entries);
    counts.add(entries);
  }
  return counts.toHistogram();
}
