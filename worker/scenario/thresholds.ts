/**
 * Threshold expressions: `<stat> <op> <number>`.
 *   stat: p(N) (N in (0, 100]), avg, min, max, med, count, rate
 *   op:   <  <=  >  >=  ==  !=
 * Latency stats are in milliseconds. `rate` is per metric: for `errors` (or any error code
 * pattern) it is the share of requests that failed; for any other metric, events per second.
 */
export type ThresholdStat = { kind: 'percentile'; p: number } | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' };
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface ParsedThreshold {
  stat: ThresholdStat;
  op: ThresholdOp;
  value: number;
}

const EXPR = /^\s*(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|count|rate)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i;

export function parseThreshold(expression: string): ParsedThreshold | { problem: string } {
  const m = EXPR.exec(expression);
  if (!m) return { problem: "an expression like 'p(99) < 250', 'avg < 100', 'max <= 2000', 'count > 10' or 'rate < 0.01'" };
  const value = Number(m[4]);
  const op = m[3] as ThresholdOp;
  if (m[2] !== undefined) {
    const p = Number(m[2]);
    if (!(p > 0 && p <= 100)) return { problem: 'a percentile p(N) with N in (0, 100]' };
    return { stat: { kind: 'percentile', p }, op, value };
  }
  return { stat: { kind: m[1].toLowerCase() as 'avg' }, op, value };
}

export function compare(actual: number, op: ThresholdOp, value: number): boolean {
  switch (op) {
    case '<': return actual < value;
    case '<=': return actual <= value;
    case '>': return actual > value;
    case '>=': return actual >= value;
    case '==': return actual === value;
    case '!=': return actual !== value;
  }
}
