import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareExitCode, compareReports, parseTolerance, renderComparison } from '../../cli/compare';
import type { MetricStats, Report } from '../../cli/report/types';
import { rmTemp, runCli, tempDir } from '../helpers/cli';

function stats(p50: number, p95: number, p99: number, over: Partial<MetricStats> = {}): MetricStats {
  return { count: 1000, rate: 100, min: p50 / 2, mean: p50, p50, p90: p95, p95, p99, p999: p99, max: p99, saturatedShare: 0, ...over };
}

function report(runId: string, metrics: Record<string, MetricStats>, over: Partial<Report> = {}): Report {
  return {
    v: 1,
    runId,
    scenario: 'api',
    target: 'http://127.0.0.1:1',
    status: 'passed',
    exitCode: 0,
    startedAt: 0,
    endedAt: 10_000,
    durationS: 10,
    seed: 1,
    staggerMs: 0,
    workers: [],
    metrics,
    counters: {},
    errors: {},
    generatorErrors: {},
    requests: 1000,
    errorRate: 0,
    checks: {},
    users: { launched: 0, cut: 0, max: 0 },
    unusable: [],
    bytes: { sent: 0, received: 0 },
    arrivals: { started: 0, dropped: 0 },
    thresholds: [],
    warnings: [],
    timeline: [],
    ...over,
  };
}

describe('compareReports', () => {
  it('an improvement is not a regression, and changes carry absolute and % values', () => {
    const c = compareReports(report('a', { 'http.GET /': stats(20, 40, 80) }), report('b', { 'http.GET /': stats(10, 30, 60, { count: 1100, rate: 110 }) }));
    const m = c.metrics[0];
    expect(m).toMatchObject({ name: 'http.GET /', presence: 'both', regression: false });
    expect(m.changes!.p50).toEqual({ a: 20, b: 10, delta: -10, pct: -50, regression: false });
    expect(m.changes!.p99).toEqual({ a: 80, b: 60, delta: -20, pct: -25, regression: false });
    expect(m.changes!.count).toEqual({ a: 1000, b: 1100, delta: 100, pct: 10, regression: false });
    expect(m.changes!.rate.pct).toBe(10);
    expect(c.regressions).toEqual([]);
    expect(compareExitCode(c)).toBe(0);
  });

  it('a percentile up by more than the tolerance is a regression; within it is not', () => {
    const a = report('a', { 'http.GET /': stats(20, 40, 100) });
    const b = report('b', { 'http.GET /': stats(21, 43, 125) }); // +5%, +7.5%, +25%
    const c = compareReports(a, b, { tolerancePct: 10 });
    const ch = c.metrics[0].changes!;
    expect([ch.p50.regression, ch.p95.regression, ch.p99.regression]).toEqual([false, false, true]);
    expect(c.regressions).toEqual(['http.GET /: p99 100 → 125 ms (+25.0%, tolerance 10%)']);
    expect(compareExitCode(c)).toBe(99);

    const loose = compareReports(a, b, { tolerancePct: 30 });
    expect(loose.regressions).toEqual([]);
    expect(compareExitCode(loose)).toBe(0);
    const tight = compareReports(a, b, { tolerancePct: 5 });
    expect(tight.metrics[0].changes!.p95.regression).toBe(true);
    expect(tight.metrics[0].changes!.p50.regression).toBe(false); // exactly 5% is within
  });

  it('sub-millisecond jitter under the absolute floor is not a regression', () => {
    const a = report('a', { 'tcp.ping': stats(0.4, 0.6, 0.8) });
    const b = report('b', { 'tcp.ping': stats(0.6, 0.9, 1.7) }); // +50% each, but < 1 ms
    expect(compareReports(a, b).regressions).toEqual([]);
    expect(compareReports(a, b, { minDeltaMs: 0.1 }).regressions).toHaveLength(3);
  });

  it('a latency rising from 0 has no percentage and counts beyond any tolerance', () => {
    const c = compareReports(report('a', { x: stats(0, 0, 0) }), report('b', { x: stats(0, 0, 5) }), { tolerancePct: 1000 });
    expect(c.metrics[0].changes!.p99).toEqual({ a: 0, b: 5, delta: 5, pct: null, regression: true });
    expect(c.metrics[0].changes!.p50).toMatchObject({ pct: 0, regression: false });
  });

  it('a metric missing from B is a regression; one new in B is listed only', () => {
    const c = compareReports(report('a', { 'ws.echo': stats(1, 2, 3), 'http.GET /': stats(1, 2, 3) }), report('b', { 'http.GET /': stats(1, 2, 3), 'tcp.ping': stats(1, 2, 3) }));
    expect(c.metrics.map((m) => [m.name, m.presence, m.regression])).toEqual([
      ['http.GET /', 'both', false],
      ['tcp.ping', 'b-only', false],
      ['ws.echo', 'a-only', true],
    ]);
    expect(c.regressions).toEqual(['ws.echo: recorded in a, missing from b']);
    expect(compareExitCode(c)).toBe(99);
  });

  it('generator metrics (loadfarm.*) are shown but never flagged', () => {
    const c = compareReports(report('a', { 'loadfarm.schedule_lag': stats(1, 2, 3), 'loadfarm.other': stats(1, 1, 1) }), report('b', { 'loadfarm.schedule_lag': stats(50, 90, 300) }));
    expect(c.metrics.every((m) => !m.regression)).toBe(true);
    expect(c.metrics[1].changes!.p99.pct).toBe(9900);
    expect(compareExitCode(c)).toBe(0);
  });

  it('the error rate regresses when it rises by more than 0.01 absolute', () => {
    const base = report('a', {}, { errorRate: 0.002 });
    const within = compareReports(base, report('b', {}, { errorRate: 0.011 }));
    expect(within.errorRate).toMatchObject({ a: 0.002, b: 0.011, delta: 0.009, regression: false });
    expect(compareExitCode(within)).toBe(0);
    const beyond = compareReports(base, report('b', {}, { errorRate: 0.05 }));
    expect(beyond.errorRate).toMatchObject({ delta: 0.048, pct: 2400, regression: true });
    expect(beyond.regressions).toEqual(['error rate 0.20% → 5.00% (up 4.80%, allowed 1.00%)']);
    expect(compareExitCode(beyond)).toBe(99);
    expect(compareReports(report('b', {}, { errorRate: 0.05 }), base).errorRate.regression).toBe(false);
    expect(compareReports(base, report('b', {}, { errorRate: 0.03 }), { errorRateDelta: 0.05 }).errorRate.regression).toBe(false);
  });

  it('notes what makes the comparison doubtful', () => {
    const c = compareReports(
      report('a', { x: stats(1, 2, 3, { saturatedShare: 0.2 }) }),
      report('b', { x: stats(1, 2, 3) }, { scenario: 'other', status: 'incomplete' }),
    );
    expect(c.notes).toEqual([
      'the runs are of different scenarios (api, other)',
      'run a had a saturated generator: x include inflated latencies',
      'run b is incomplete: its numbers cover part of the load only',
    ]);
  });

  it('renders a table with the flagged rows and the verdict', () => {
    const text = renderComparison(compareReports(report('a', { 'http.GET /': stats(20, 40, 100) }), report('b', { 'http.GET /': stats(20, 40, 150) }, { errorRate: 0.1 })));
    expect(text).toMatch(/^http\.GET \/\s+count\s+1000\s+1000\s+0\s+\+?0\.0%$/m);
    expect(text).toMatch(/^\s+p99\s+100\s+150\s+\+50\.0\s+\+50\.0%\s+REGRESSION$/m);
    expect(text).toMatch(/^errors\s+rate\s+0\.00%\s+10\.00%\s+\+10\.00%\s+REGRESSION$/m);
    expect(text).toMatch(/2 regression\(s\) \(exit 99\):/);
    expect(renderComparison(compareReports(report('a', {}), report('b', {})))).toMatch(/no regression \(exit 0\)$/);
  });
});

describe('parseTolerance', () => {
  it('takes 10%, 10 and 2.5%; refuses the rest', () => {
    expect(parseTolerance('10%')).toBe(10);
    expect(parseTolerance('10')).toBe(10);
    expect(parseTolerance(' 2.5% ')).toBe(2.5);
    for (const bad of ['', '%', '-5%', 'ten', '10%%', '1e3']) expect(parseTolerance(bad)).toBeUndefined();
  });
});

describe('loadfarm compare', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    const write = (rel: string, r: Report) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), JSON.stringify(r));
    };
    write('base/report.json', report('run-a', { 'http.GET /': stats(20, 40, 100) }));
    write('store/runs/run-b/report.json', report('run-b', { 'http.GET /': stats(20, 40, 150) }));
    write('store/runs/run-b/plan.json', {} as Report);
    write('store/runs/run-c/plan.json', {} as Report);
  });
  afterAll(() => rmTemp(dir));

  it('takes a folder, a report.json or a run id in the store; exit 99 on a regression, 0 without', async () => {
    const worse = await runCli(['compare', path.join(dir, 'base'), 'run-b', '--store', path.join(dir, 'store')]);
    expect(worse.stderr).toBe('');
    expect(worse.code).toBe(99);
    expect(worse.stdout).toMatch(/http\.GET \/: p99 100 → 150 ms \(\+50\.0%, tolerance 10%\)/);
    const loose = await runCli(['compare', path.join(dir, 'base', 'report.json'), 'run-b', '--store', path.join(dir, 'store'), '--tolerance', '60%', '--json']);
    expect(loose.code).toBe(0);
    expect(JSON.parse(loose.stdout)).toMatchObject({ options: { tolerancePct: 60 }, regressions: [] });
  });

  it('bad input is one line and exit 1: an unknown run names the store and the runs in it', async () => {
    const store = path.join(dir, 'store');
    const unknown = await runCli(['compare', 'run-b', 'run-x', '--store', store]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`loadfarm: no run run-x in file://${store}; runs there: run-b, run-c\n`);
    const noReport = await runCli(['compare', 'run-b', 'run-c', '--store', store]);
    expect(noReport.code).toBe(1);
    expect(noReport.stderr).toMatch(/^loadfarm: run run-c in file:\/\/\S+ has no report\.json yet: run `loadfarm report run-c --store file:\/\/\S+` first\n$/);
    const badTolerance = await runCli(['compare', 'run-b', 'run-b', '--store', store, '--tolerance', 'lots']);
    expect(badTolerance.code).toBe(1);
    expect(badTolerance.stderr).toBe('loadfarm: --tolerance: expected a percentage like 10%, got "lots"\n');
  });
});
