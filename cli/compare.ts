import type { Report, RunStatus } from './report/types';

/**
 * Comparison of two runs' reports (`loadfarm compare A B`): pure, no I/O.
 *
 * Rules (also in the command's help):
 * - Latency: a percentile (p50, p95, p99) of a metric present in both runs regresses when it
 *   rose by more than `tolerancePct` percent of A's value AND by more than `minDeltaMs`
 *   milliseconds. The floor keeps sub-millisecond jitter (0.4 → 0.6 ms is +50%) from failing
 *   a build. A value that rose from 0 counts as an infinite percentage.
 * - Errors: the error rate (failed share of requests, 0..1) regresses when it rose by more
 *   than `errorRateDelta` in absolute terms (0.01 = one more failure per hundred requests).
 * - A metric in A that is missing from B regresses: whatever recorded it no longer ran.
 *   A metric only in B is listed, never flagged.
 * - Metrics named `loadfarm.*` measure the generator (schedule lag), not the target: shown,
 *   never flagged.
 * - Count and rate are shown, never flagged: the load model sets them.
 * A run that did not finish cleanly, or whose numbers include saturated intervals, is noted.
 */
export interface CompareOptions {
  /** Percent a latency percentile may rise before it is a regression. @default 10 */
  tolerancePct?: number;
  /** Milliseconds a latency percentile must rise by, at least, to be a regression. @default 1 */
  minDeltaMs?: number;
  /** Absolute rise of the error rate (0..1) beyond which it is a regression. @default 0.01 */
  errorRateDelta?: number;
}

export const COMPARE_DEFAULTS: Required<CompareOptions> = { tolerancePct: 10, minDeltaMs: 1, errorRateDelta: 0.01 };

export const COMPARED_STATS = ['count', 'rate', 'p50', 'p95', 'p99'] as const;
export type ComparedStat = (typeof COMPARED_STATS)[number];
const LATENCY_STATS: readonly ComparedStat[] = ['p50', 'p95', 'p99'];

export interface Change {
  a: number;
  b: number;
  /** b − a. */
  delta: number;
  /** (b − a) / a in percent; null when a is 0 (and b is not). */
  pct: number | null;
  regression: boolean;
}

export interface MetricComparison {
  name: string;
  /** `both`: compared; `a-only`: missing from B (a regression unless `loadfarm.*`); `b-only`: new in B. */
  presence: 'both' | 'a-only' | 'b-only';
  /** Per stat, when present in both runs. */
  changes?: Record<ComparedStat, Change>;
  regression: boolean;
}

export interface RunSide {
  runId: string;
  scenario: string;
  status: RunStatus;
  durationS: number;
  requests: number;
  errorRate: number;
}

export interface Comparison {
  a: RunSide;
  b: RunSide;
  options: Required<CompareOptions>;
  metrics: MetricComparison[];
  errorRate: Change;
  /** One plain sentence per regression, in table order. */
  regressions: string[];
  /** What makes the comparison doubtful: different scenarios, unfinished runs, saturated generators. */
  notes: string[];
}

export function compareReports(a: Report, b: Report, options: CompareOptions = {}): Comparison {
  const o = { ...COMPARE_DEFAULTS, ...stripUndefined(options) };
  const regressions: string[] = [];
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  const metrics = names.map((name): MetricComparison => {
    const ma = a.metrics[name];
    const mb = b.metrics[name];
    const generator = name.startsWith('loadfarm.');
    if (ma && !mb) {
      if (!generator) regressions.push(`${name}: recorded in ${a.runId}, missing from ${b.runId}`);
      return { name, presence: 'a-only', regression: !generator };
    }
    if (!ma) return { name, presence: 'b-only', regression: false };
    const changes = {} as Record<ComparedStat, Change>;
    for (const stat of COMPARED_STATS) {
      const c = change(ma[stat], mb[stat]);
      if (!generator && LATENCY_STATS.includes(stat)) {
        c.regression = c.delta > o.minDeltaMs && (c.pct === null || c.pct > o.tolerancePct);
        if (c.regression) regressions.push(`${name}: ${stat} ${fmtMs(c.a)} → ${fmtMs(c.b)} ms (${fmtPct(c.pct)}, tolerance ${o.tolerancePct}%)`);
      }
      changes[stat] = c;
    }
    return { name, presence: 'both', changes, regression: Object.values(changes).some((c) => c.regression) };
  });

  const errorRate = change(a.errorRate, b.errorRate);
  errorRate.regression = errorRate.delta > o.errorRateDelta;
  if (errorRate.regression) {
    regressions.push(`error rate ${fmtRate(a.errorRate)} → ${fmtRate(b.errorRate)} (up ${fmtRate(errorRate.delta)}, allowed ${fmtRate(o.errorRateDelta)})`);
  }

  const notes: string[] = [];
  if (a.scenario !== b.scenario) notes.push(`the runs are of different scenarios (${a.scenario}, ${b.scenario})`);
  for (const r of [a, b]) {
    if (r.status === 'incomplete' || r.status === 'failed') notes.push(`run ${r.runId} is ${r.status}: its numbers cover part of the load only`);
    const spoiled = Object.entries(r.metrics).filter(([, m]) => m.saturatedShare > 0).map(([n]) => n);
    if (spoiled.length > 0) notes.push(`run ${r.runId} had a saturated generator: ${spoiled.join(', ')} include inflated latencies`);
  }

  return { a: side(a), b: side(b), options: o, metrics, errorRate, regressions, notes };
}

/** The exit code of `loadfarm compare`: 0 when nothing regressed, 99 (as for thresholds) otherwise. */
export function compareExitCode(c: Comparison): 0 | 99 {
  return c.regressions.length > 0 ? 99 : 0;
}

/** `10%`, `10` or `2.5%` → percent; undefined when it is not a number from 0 up. */
export function parseTolerance(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(raw);
  return m ? Number(m[1]) : undefined;
}

/** The comparison as a person reads it in a terminal. */
export function renderComparison(c: Comparison): string {
  const out: string[] = [];
  const o = c.options;
  out.push(`A ${c.a.runId} · ${c.a.scenario} · ${c.a.status} · ${c.a.durationS}s · ${c.a.requests} requests`);
  out.push(`B ${c.b.runId} · ${c.b.scenario} · ${c.b.status} · ${c.b.durationS}s · ${c.b.requests} requests`);
  out.push('');
  const rows: string[][] = [];
  for (const m of c.metrics) {
    if (m.presence !== 'both') {
      rows.push([m.name, '', '', '', '', '', m.presence === 'a-only' ? `missing from B${m.regression ? '  REGRESSION' : ''}` : 'new in B']);
      continue;
    }
    COMPARED_STATS.forEach((stat, i) => {
      const ch = m.changes![stat];
      const f = stat === 'count' ? String : fmtMs;
      rows.push([i === 0 ? m.name : '', stat === 'rate' ? 'rate/s' : stat, f(ch.a), f(ch.b), signed(ch.delta, f), fmtPct(ch.pct), ch.regression ? 'REGRESSION' : '']);
    });
  }
  const er = c.errorRate;
  rows.push(['errors', 'rate', fmtRate(er.a), fmtRate(er.b), er.delta >= 0 ? `+${fmtRate(er.delta)}` : `-${fmtRate(-er.delta)}`, '', er.regression ? 'REGRESSION' : '']);
  out.push(...table(['metric', 'stat (ms)', 'A', 'B', 'change', '%', ''], rows));
  out.push('');
  for (const n of c.notes) out.push(`note: ${n}`);
  if (c.notes.length > 0) out.push('');
  out.push(`rules: p50/p95/p99 up by more than ${o.tolerancePct}% and ${o.minDeltaMs} ms, error rate up by more than ${o.errorRateDelta}, or a metric missing from B`);
  if (c.regressions.length === 0) out.push('no regression (exit 0)');
  else {
    out.push(`${c.regressions.length} regression(s) (exit 99):`);
    for (const r of c.regressions) out.push(`  ${r}`);
  }
  return out.join('\n');
}

function change(a: number, b: number): Change {
  const delta = round(b - a);
  const pct = a === 0 ? (b === 0 ? 0 : null) : round(((b - a) / a) * 100);
  return { a, b, delta, pct, regression: false };
}

function side(r: Report): RunSide {
  return { runId: r.runId, scenario: r.scenario, status: r.status, durationS: r.durationS, requests: r.requests, errorRate: r.errorRate };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function stripUndefined(o: CompareOptions): CompareOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function fmtMs(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function fmtPct(p: number | null): string {
  if (p === null) return 'new';
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
}

function fmtRate(r: number): string {
  return `${(r * 100).toFixed(2)}%`;
}

function signed(n: number, f: (n: number) => string): string {
  return n > 0 ? `+${f(n)}` : n < 0 ? `-${f(-n)}` : '0';
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 1 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
