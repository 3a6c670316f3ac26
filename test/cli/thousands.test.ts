import fc from 'fast-check';
import { groupThousands } from '../../cli/report/thousands';

/** The report's grouped numbers are toLocaleString('en-US')'s, character for character. */
describe('groupThousands', () => {
  it("equals toLocaleString('en-US') for integers of every size and sign", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -999_999, max: 999_999 })), (n) => {
        expect(groupThousands(n)).toBe(n.toLocaleString('en-US'));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals it at the edges and for what is not a safe integer', () => {
    for (const n of [0, -0, 1, -1, 999, 1000, -1000, 999_999, 1_000_000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1.5, 1234.5678, NaN, Infinity, -Infinity]) {
      expect(groupThousands(n)).toBe(n.toLocaleString('en-US'));
    }
  });
});
