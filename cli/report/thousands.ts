/**
 * `n.toLocaleString('en-US')` for safe integers (digits grouped by commas: 19,936), without ICU:
 * the first Intl call of a process loads its locale data, ~15-20 ms of a CLI's start (issue 16).
 * Anything else (fractions, -0, beyond 2^53, NaN, ±Infinity) goes to toLocaleString itself, so
 * the text is the same for every number.
 */
export function groupThousands(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return n < 0 ? `-${out}` : out;
}
