import fc from 'fast-check';
import { createHistogram, decodeHistogram, encodeHistogram, recordMs } from '../../worker/metrics/histogram';
import { Counts, Entries, readEncoded } from '../../cli/merge/counts';

/** The fast reader must agree exactly with hdr-histogram-js's own decode + add. */
describe('reading encoded histograms into counts', () => {
  const latencies = fc.array(fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 5, max: 60_000, noNaN: true }), fc.constant(3_600_000 * 2)), { minLength: 1, maxLength: 300 });

  it('gives the same totals and percentiles as decoding and adding', () => {
    fc.assert(
      fc.property(fc.array(latencies, { minLength: 1, maxLength: 6 }), (parts) => {
        const slow = createHistogram();
        const fast = new Counts();
        const entries = new Entries();
        for (const values of parts) {
          const h = createHistogram();
          for (const v of values) recordMs(h, v);
          const encoded = encodeHistogram(h);
          slow.add(decodeHistogram(encoded));
          readEncoded(encoded, entries);
          expect(entries.total).toBe(h.totalCount);
          fast.add(entries);
        }
        const merged = fast.toHistogram();
        expect(merged.totalCount).toBe(slow.totalCount);
        expect(merged.maxValue).toBe(slow.maxValue);
        expect(merged.minNonZeroValue).toBe(slow.minNonZeroValue);
        const ps = [1, 50, 90, 95, 99, 99.9, 100];
        expect(ps.map((p) => merged.getValueAtPercentile(p))).toEqual(ps.map((p) => slow.getValueAtPercentile(p)));
        expect(fast.percentiles(ps)).toEqual(ps.map((p) => slow.getValueAtPercentile(p)));
      }),
      { numRuns: 150 },
    );
  });

  it('clears only what it touched, and starts over clean', () => {
    const h = createHistogram();
    recordMs(h, 1);
    recordMs(h, 1000);
    const e = new Entries();
    readEncoded(encodeHistogram(h), e);
    const c = new Counts();
    c.add(e);
    expect(c.total).toBe(2);
    c.clear();
    expect(c.total).toBe(0);
    expect(c.counts.every((x) => x === 0)).toBe(true);
  });

  it('refuses what is not an HdrHistogram V2 compressed histogram', () => {
    expect(() => readEncoded(Buffer.from('not a histogram at all').toString('base64'), new Entries())).toThrow('not an HdrHistogram V2 compressed histogram');
  });
});
