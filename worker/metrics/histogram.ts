import * as hdr from 'hdr-histogram-js';

/**
 * Latency histograms: HDR, values recorded in microseconds, 3 significant digits, up to one
 * hour (longer values are clamped to one hour). Encoded as compressed base64 so that
 * histograms from any worker and interval can be decoded and added exactly.
 */
export const HIGHEST_US = 3_600_000_000;

export type Histogram = hdr.Histogram;

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
    autoResize: false,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

/** Records milliseconds (fractional allowed) as whole microseconds, clamped to [1 µs, 1 h]. */
export function recordMs(h: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (us < 1) us = 1;
  else if (us > HIGHEST_US) us = HIGHEST_US;
  h.recordValue(us);
}
