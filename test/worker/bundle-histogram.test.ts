/**
 * Histograms as the worker bundle encodes them: worker/metrics/histogram.ts bundled with the
 * worker's options (no pako, no WebAssembly, hdr-histogram-js's eval made a require) encodes the
 * same bytes as the sources run here, and what it encodes is read back exactly by
 * decodeHistogram and by the merge's reader (cli/merge/counts.ts).
 */
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import fc from 'fast-check';
import { Counts, Entries, readEncoded } from '../../cli/merge/counts';
import * as reference from '../../worker/metrics/histogram';
import { ROOT, rmTemp, tempDir } from '../helpers/cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { workerBuildOptions } = require('../../scripts/worker-bundle') as { workerBuildOptions(root: string): esbuild.BuildOptions };

type HistogramModule = typeof reference;
type Internals = reference.Histogram & { countsArrayLength: number; getCountAtIndex(i: number): number };

let dir: string;
let bundled: HistogramModule;
let bundledInputs: string[];

beforeAll(async () => {
  dir = tempDir('loadfarm-bundle-hdr-');
  const outfile = path.join(dir, 'histogram.js');
  const result = await esbuild.build({ ...workerBuildOptions(ROOT), entryPoints: ['worker/metrics/histogram.ts'], outfile, metafile: true, logLevel: 'silent' });
  bundledInputs = Object.keys(result.metafile.inputs);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundled = require(outfile) as HistogramModule;
}, 60_000);
afterAll(() => rmTemp(dir));

/** Latencies in ms: sub-µs to beyond the one-hour clamp, with repeats and clusters. */
const latencies = fc.array(
  fc.oneof(
    fc.double({ min: 0, max: 2, noNaN: true }),
    fc.double({ min: 0, max: 5_000, noNaN: true }),
    fc.double({ min: 0, max: 4_000_000, noNaN: true }),
    fc.constantFrom(0, 0.001, 1, 1000, 3_600_000, 3_600_001),
  ),
  { maxLength: 400 },
);

function bucketCounts(h: reference.Histogram): Map<number, number> {
  const x = h as Internals;
  const out = new Map<number, number>();
  for (let i = 0; i < x.countsArrayLength; i++) {
    const c = x.getCountAtIndex(i);
    if (c !== 0) out.set(i, c);
  }
  return out;
}

test('the bundle under test is the lean one (no pako, no WebAssembly histograms)', () => {
  expect(bundledInputs.filter((i) => /node_modules\/(pako|@assemblyscript)\/|hdr-histogram-js\/dist\/wasm\//.test(i))).toEqual([]);
  expect(bundledInputs.some((i) => i.includes('hdr-histogram-js/dist/JsHistogram.encoding.js'))).toBe(true);
});

test('encodes the same bytes as the sources, and decodeHistogram and the merge reader read them exactly', () => {
  fc.assert(
    fc.property(latencies, (values) => {
      const b = bundled.createHistogram();
      const r = reference.createHistogram();
      for (const ms of values) {
        bundled.recordMs(b, ms);
        reference.recordMs(r, ms);
      }
      const encoded = bundled.encodeHistogram(b);
      expect(encoded).toBe(reference.encodeHistogram(r));

      const expected = bucketCounts(r);
      const decoded = reference.decodeHistogram(encoded);
      expect(bucketCounts(decoded)).toEqual(expected);
      expect(decoded.totalCount).toBe(values.length);
      const ps = [0, 50, 90, 99, 99.9, 100];
      expect(ps.map((p) => decoded.getValueAtPercentile(p))).toEqual(ps.map((p) => r.getValueAtPercentile(p)));
      // The bundle decodes its own encoding the same way.
      expect(bucketCounts(bundled.decodeHistogram(encoded))).toEqual(expected);

      const entries = new Entries();
      readEncoded(encoded, entries);
      const read = new Map<number, number>();
      for (let k = 0; k < entries.length; k++) read.set(entries.index[k], entries.count[k]);
      expect(read).toEqual(expected);
      expect(entries.total).toBe(values.length);
      if (values.length > 0) {
        const counts = new Counts();
        counts.add(entries);
        const positive = ps.slice(1); // the merge reads no p0
        expect(counts.percentiles(positive)).toEqual(positive.map((p) => r.getValueAtPercentile(p)));
      }
    }),
    { numRuns: 300 },
  );
});
