import fc from 'fast-check';
import { createHistogram, recordMs } from '../../worker/metrics/histogram';
import { latencies, mergedAsReported } from '../helpers/histograms';
import { meanOf } from '../../cli/report/mean';

/** The report's mean must be hdr-histogram-js's own `mean`, bit for bit: report.json does not change. */
describe('the report mean', () => {

  it('equals h.mean on histograms recorded directly, counts included', () => {
    fc.assert(
      fc.property(latencies, fc.array(fc.tuple(fc.integer({ min: 1, max: 3_600_000_000 }), fc.integer({ min: 1, max: 1e9 })), { maxLength: 20 }), (values, weighted) => {
        const h = createHistogram();
        for (const v of values) recordMs(h, v);
        for (const [us, n] of weighted) h.recordValueWithCount(us, n);
        expect(Object.is(meanOf(h), h.mean)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('equals h.mean on histograms merged as the report merges them (Counts.toHistogram)', () => {
    fc.assert(
      fc.property(fc.array(latencies, { minLength: 1, maxLength: 6 }), (parts) => {
        const merged = mergedAsReported(parts);
        expect(Object.is(meanOf(merged), merged.mean)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('equals h.mean with every bucket of the layout holding a count', () => {
    const h = createHistogram() as ReturnType<typeof createHistogram> & { countsArrayLength: number; valueFromIndex(i: number): number };
    for (let i = 0; i < h.countsArrayLength; i++) h.recordValueWithCount(h.valueFromIndex(i), 1 + (i % 7) * 1000);
    expect(Object.is(meanOf(h), h.mean)).toBe(true);
  });

  it('is 0 for an empty histogram, as h.mean is', () => {
    const h = createHistogram();
    expect(meanOf(h)).toBe(0);
    expect(h.mean).toBe(0);
  });
});
