import { compare, parseThreshold, type ThresholdStat } from '../../worker/scenario/thresholds';
import type { MetricStats, ThresholdResult } from './types';

export interface ThresholdInputs {
  metrics: Record<string, MetricStats>;
  counters: Record<string, number>;
  errors: Record<string, number>;
  checks: Record<string, { pass: number; fail: number }>;
  requests: number;
  durationS: number;
  /** Exact percentile p (0..100] of a latency metric, in ms, from its merged histogram. */
  percentile: (metric: string, p: number) => number;
}

/**
 * Evaluates thresholds on the merged run. A key is a metric name or a glob (`http.*`); a glob
 * gives one result per matching metric. `errors` is the run's failures: `rate` is their share of
 * requests (operations), `count` their number. `checks` is every `u.check`: `rate` is the share
 * that passed, `count` how many were made. A key that matches nothing fails, saying so: a threshold on a
 * metric that never appeared must not pass silently.
 */
export function evaluateThresholds(thresholds: Record<string, string[]>, data: ThresholdInputs): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [key, expressions] of Object.entries(thresholds)) {
    for (const expression of expressions) {
      const parsed = parseThreshold(expression);
      if ('problem' in parsed) {
        results.push({ metric: key, expression, actual: null, ok: false, message: `not an expression: expected ${parsed.problem}` });
        continue;
      }
      // A glob names a family: a latency statistic applies to its latency metrics, `count` and
      // `rate` to its counters too (`http.*: p(99) < 500` is not about http.connections).
      const latencyOnly = key.includes('*') && parsed.stat.kind !== 'count' && parsed.stat.kind !== 'rate';
      const targets = resolve(key, data).filter((t) => !latencyOnly || t.kind !== 'counter');
      if (targets.length === 0) {
        results.push({ metric: key, expression, actual: null, ok: false, message: `no metric named ${key} was recorded` });
        continue;
      }
      for (const t of targets) {
        const actual = statOf(t, parsed.stat, data);
        if (actual === undefined) {
          results.push({ metric: t.name, expression, actual: null, ok: false, message: `${parsed.stat.kind} does not apply to ${t.kind === 'counter' ? 'a counter' : 'this metric'}` });
          continue;
        }
        const rounded = Math.round(actual * 1000) / 1000;
        results.push({ metric: t.name, expression, actual: rounded, ok: compare(actual, parsed.op, parsed.value) });
      }
    }
  }
  return results;
}

type Target =
  | { kind: 'latency'; name: string; stats: MetricStats }
  | { kind: 'counter'; name: string; value: number }
  | { kind: 'errors'; name: string }
  | { kind: 'checks'; name: string };

function resolve(key: string, data: ThresholdInputs): Target[] {
  if (key === 'errors') return [{ kind: 'errors', name: 'errors' }];
  if (key === 'checks') return Object.keys(data.checks).length > 0 ? [{ kind: 'checks', name: 'checks' }] : [];
  const match = globMatcher(key);
  const out: Target[] = [];
  for (const [name, stats] of Object.entries(data.metrics)) if (match(name)) out.push({ kind: 'latency', name, stats });
  for (const [name, value] of Object.entries(data.counters)) if (match(name)) out.push({ kind: 'counter', name, value });
  return out;
}

function statOf(t: Target, stat: ThresholdStat, data: ThresholdInputs): number | undefined {
  if (t.kind === 'errors') {
    const count = Object.values(data.errors).reduce((a, b) => a + b, 0);
    if (stat.kind === 'rate') return data.requests === 0 ? (count > 0 ? 1 : 0) : count / data.requests;
    if (stat.kind === 'count') return count;
    return undefined;
  }
  if (t.kind === 'checks') {
    let pass = 0;
    let fail = 0;
    for (const c of Object.values(data.checks)) {
      pass += c.pass;
      fail += c.fail;
    }
    if (stat.kind === 'rate') return pass + fail === 0 ? 0 : pass / (pass + fail);
    if (stat.kind === 'count') return pass + fail;
    return undefined;
  }
  if (t.kind === 'counter') {
    if (stat.kind === 'count') return t.value;
    if (stat.kind === 'rate') return data.durationS > 0 ? t.value / data.durationS : 0;
    return undefined;
  }
  const s = t.stats;
  switch (stat.kind) {
    case 'percentile':
      return data.percentile(t.name, stat.p);
    case 'avg': return s.mean;
    case 'min': return s.min;
    case 'max': return s.max;
    case 'med': return s.p50;
    case 'count': return s.count;
    case 'rate': return s.rate;
  }
}

function globMatcher(glob: string): (name: string) => boolean {
  if (!glob.includes('*')) return (name) => name === glob;
  const re = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (name) => re.test(name);
}
