import fc from 'fast-check';
import { createHistogram, recordMs } from '../../worker/metrics/histogram';
import { latencies, mergedAsReported } from '../helpers/histograms';
import { percentilesOf } from '../../cli/report/percentiles';

/** The report's percentiles must be hdr-histogram-js's getValueAtPercentile, exactly: report.json does not change. */
describe('the report percentiles', () => {
  const percentiles = fc.array(fc.oneof(fc.constantFrom(0, 50, 90, 95, 99, 99.9, 99.99, 100, 150), fc.double({ min: 0, max: 100, noNaN: true })), { minLength: 1, maxLength: 8 });

  it('equal getValueAtPercentile on histograms recorded directly, large counts and any order of percentiles included', () => {
    fc.assert(
      fc.property(latencies, fc.array(fc.tuple(fc.integer({ min: 1, max: 3_600_000_000 }), fc.integer({ min: 1, max: 2 ** 40 })), { maxLength: 20 }), percentiles, (values, weighted, ps) => {
        const h = createHistogram();
        for (const v of values) recordMs(h, v);
        for (const [us, n] of weighted) h.recordValueWithCount(us, n);
        expect(percentilesOf(h, ps)).toEqual(ps.map((p) => h.getValueAtPercentile(p)));
      }),
      { numRuns: 300 },
    );
  });

  it('equal getValueAtPercentile on histograms merged as the report merges them (Counts.toHistogram)', () => {
    fc.assert(
      fc.property(fc.array(latencies, { minLength: 1, maxLength: 6 }), (parts) => {
        const merged = mergedAsReported(parts);
        const ps = [50, 90, 95, 99, 99.9];
        expect(percentilesOf(merged, ps)).toEqual(ps.map((p) => merged.getValueAtPercentile(p)));
      }),
      { numRuns: 150 },
    );
  });

  it('at every count from 1 to 2000 of one value each, where the rounding of the wanted count decides', () => {
    const ps = [0, 0.1, 50, 90, 95, 99, 99.9, 100];
    for (let n = 1; n <= 2000; n++) {
      const h = createHistogram();
      for (let v = 1; v <= n; v++) h.recordValue(v * 997);
      expect(percentilesOf(h, ps)).toEqual(ps.map((p) => h.getValueAtPercentile(p)));
    }
  });

  it('are 0 for an empty histogram, as getValueAtPercentile is', () => {
    const h = createHistogram();
    expect(percentilesOf(h, [0, 50, 100])).toEqual([0, 0, 0]);
  });
});
