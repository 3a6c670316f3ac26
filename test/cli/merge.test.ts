import { Recorder } from '../../worker/metrics/recorder';
import { mergeSnapshots } from '../../cli/merge/merge';
import { buildReport } from '../../cli/report/build';
import { evaluateThresholds } from '../../cli/report/thresholds';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import type { Health, Snapshot } from '../../worker/metrics/snapshot';
import type { WorkerStatus } from '../../worker/plan/plan';

const calm: Health = { cpuPct: 10, loopLagP99Ms: 0, loopLagMaxMs: 1, rssMb: 50, saturated: false };
const pegged: Health = { cpuPct: 99, loopLagP99Ms: 120, loopLagMaxMs: 300, rssMb: 60, saturated: true };

/** A worker's snapshots holding the given latencies (ms), spread over `intervals` intervals. */
function worker(index: number, latencies: number[], intervals = 2, health = calm, t0 = 1_000_000): Snapshot[] {
  const r = new Recorder(index, t0);
  const out: Snapshot[] = [];
  const per = Math.ceil(latencies.length / intervals);
  for (let i = 0; i < intervals; i++) {
    for (const ms of latencies.slice(i * per, (i + 1) * per)) {
      r.latency('http.GET /', ms);
      r.op();
    }
    out.push(r.cut(health, i === intervals - 1, t0 + (i + 1) * 1000));
  }
  return out;
}

/** The exact p-th percentile of values (nearest rank), as HDR defines it. */
function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length - 1e-9) - 1)];
}

describe('mergeSnapshots', () => {
  it('percentiles across workers come from merged histograms, not averaged percentiles', () => {
    const fast = Array.from({ length: 900 }, (_, i) => 1 + (i % 100) / 100); // 1–2 ms
    const slow = Array.from({ length: 100 }, (_, i) => 500 + i); // 500–599 ms
    const merged = mergeSnapshots([...worker(0, fast), ...worker(1, slow)], 1000);
    const h = merged.metrics.get('http.GET /')!;
    expect(h.totalCount).toBe(1000);
    const union = [...fast, ...slow];
    for (const p of [50, 90, 95, 99, 99.9]) {
      const want = exact(union, p);
      // HDR with 3 significant digits: within 0.1% of the exact value.
      expect(h.getValueAtPercentile(p) / 1000).toBeGreaterThanOrEqual(want * 0.999);
      expect(h.getValueAtPercentile(p) / 1000).toBeLessThanOrEqual(want * 1.001 + 0.001);
    }
    // Averaging each worker's p99 would say ~300 ms; the truth is in the slow worker's range.
    expect(h.getValueAtPercentile(99) / 1000).toBeGreaterThan(580);
    expect(h.getValueAtPercentile(90) / 1000).toBeLessThan(3);
  });

  it('a histogram that cannot be decoded is left out, named, and makes the run incomplete', () => {
    const snaps = [...worker(0, [1, 2, 3]), ...worker(1, [4, 5, 6])];
    snaps[3] = { ...snaps[3], histograms: { 'http.GET /': 'bm90IGEgaGlzdG9ncmFt' } };
    const merged = mergeSnapshots(snaps, 1000);
    expect(merged.metrics.get('http.GET /')!.totalCount).toBe(5);
    const scenario = defineScenario({ name: 't', load: { users: 1, duration: 1 }, user: async () => {} });
    const plan = makePlan({ runId: 'r1', scenario, scenarioFile: 't.ts', target: 'http://127.0.0.1:1', workers: 2, staggerMs: 0, seed: 1, intervalMs: 1000 });
    const done = (index: number): WorkerStatus => ({ index, state: 'done', host: 'h', pid: 1, startedAt: 0, completed: true });
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, done(1)]]) });
    expect(report.status).toBe('incomplete');
    expect(report.exitCode).toBe(2);
    expect(report.unusable).toEqual([{ key: 'runs/r1/workers/1/snapshots/000001.json', reason: expect.stringMatching(/^histogram http.GET \/ could not be decoded/) }]);
  });

  it('sums counts, errors, bytes and ops over every snapshot of every worker', () => {
    const a = new Recorder(0);
    const b = new Recorder(1);
    a.error('ECONNREFUSED');
    a.error('ECONNREFUSED');
    b.error('HTTP 503');
    a.op(); a.op(); b.op();
    a.bytes(10, 20);
    b.bytes(1, 2);
    a.count('x', 5);
    b.count('x');
    b.generatorError('EMFILE');
    const merged = mergeSnapshots([a.cut(calm, true, 2000), b.cut(calm, true, 2000)], 1000);
    expect(merged.errors).toEqual({ ECONNREFUSED: 2, 'HTTP 503': 1 });
    expect(merged.generatorErrors).toEqual({ EMFILE: 1 });
    expect(merged.ops).toBe(3);
    expect(merged.bytes).toEqual({ sent: 11, received: 22 });
    expect(merged.counters).toEqual({ x: 6 });
  });

  it('marks what a saturated generator measured', () => {
    const merged = mergeSnapshots([...worker(0, [1, 2, 3, 4], 2, calm), ...worker(1, [5, 6], 1, pegged)], 1000);
    expect(merged.saturatedCounts.get('http.GET /')).toBe(2);
    expect(merged.workers.get(1)!.saturatedIntervals).toBe(1);
    expect(merged.timeline.some((p) => p.saturated.includes(1))).toBe(true);
  });
});

describe('buildReport', () => {
  const scenario = defineScenario({ name: 'r', load: { users: 2, duration: '2s' }, user: async () => {}, thresholds: { 'http.GET /': ['p(99) < 100', 'p(50) < 5'], errors: 'rate < 0.5' } });
  const plan = makePlan({ runId: 'run-1', scenario, scenarioFile: '/s.ts', target: 'http://127.0.0.1:1', workers: 2, staggerMs: 0, seed: 1, intervalMs: 1000, now: 0 });
  const done = (index: number): WorkerStatus => ({ index, state: 'done', host: 'h', pid: 1, startedAt: 1, endedAt: 2, exitCode: 0 });

  it('passes when all workers finished and thresholds hold', () => {
    const merged = mergeSnapshots([...worker(0, [1, 2, 3]), ...worker(1, [2, 3, 4])], 1000);
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, done(1)]]) });
    expect(report.status).toBe('passed');
    expect(report.exitCode).toBe(0);
    expect(report.metrics['http.GET /']).toMatchObject({ count: 6, min: 1 });
    expect(report.metrics['http.GET /'].max).toBeCloseTo(4, 2);
    expect(report.metrics['http.GET /'].rate).toBeCloseTo(3, 5);
    expect(report.thresholds.map((t) => t.ok)).toEqual([true, true, true]);
    expect(report.workers.map((w) => w.identity)).toEqual([{ first: 0, last: 0 }, { first: 1, last: 1 }]);
  });

  it('crossing a threshold gives thresholds-failed and exit 99', () => {
    const merged = mergeSnapshots([...worker(0, [1, 2, 300]), ...worker(1, [2, 3, 4])], 1000);
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, done(1)]]) });
    expect(report.status).toBe('thresholds-failed');
    expect(report.exitCode).toBe(99);
    expect(report.thresholds[0]).toMatchObject({ metric: 'http.GET /', expression: 'p(99) < 100', ok: false });
    expect(report.thresholds[0].actual).toBeCloseTo(300, 0);
  });

  it('a worker without its final snapshot makes the run incomplete (exit 2), with what it did send', () => {
    const lost = worker(1, [2, 3, 4], 3).slice(0, 2);
    const merged = mergeSnapshots([...worker(0, [1, 2, 3]), ...lost], 1000);
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, { ...done(1), state: 'running' }]]), fleet: new Map([[0, { state: 'exited', exitCode: 0 }], [1, { state: 'lost', detail: 'process 42 was killed by SIGKILL' }]]) });
    expect(report.status).toBe('incomplete');
    expect(report.exitCode).toBe(2);
    expect(report.workers[1]).toMatchObject({ state: 'lost', message: 'process 42 was killed by SIGKILL', snapshots: 2 });
    expect(report.metrics['http.GET /'].count).toBe(5);
    expect(report.warnings.join('\n')).toMatch(/worker 1 lost/);
  });

  it('a saturated generator is flagged next to the numbers it spoiled', () => {
    const merged = mergeSnapshots([...worker(0, [1, 2], 1, pegged), ...worker(1, [2, 3])], 1000);
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, done(1)]]) });
    expect(report.workers[0].health.saturated).toBe(true);
    expect(report.metrics['http.GET /'].saturatedShare).toBe(0.5);
    expect(report.warnings[0]).toMatch(/^worker 0 was saturated in 1 of 1 intervals \(CPU up to 99%/);
  });

  it('a saturated interval that measured nothing (a start-up stall) spoils nothing and raises no warning', () => {
    const idle = new Recorder(0, 1_000_000).cut(pegged, false, 1_001_000);
    const rest = worker(0, [1, 2], 1, calm, 1_001_000).map((s) => ({ ...s, seq: 1 }));
    const merged = mergeSnapshots([idle, ...rest, ...worker(1, [2, 3])], 1000);
    const report = buildReport({ plan, merged, statuses: new Map([[0, done(0)], [1, done(1)]]) });
    expect(report.workers[0].health.saturated).toBe(false);
    expect(report.warnings).toEqual([]);
  });
});

describe('evaluateThresholds', () => {
  const metrics = {
    'http.GET /a': { count: 10, rate: 5, min: 1, mean: 2, p50: 2, p90: 3, p95: 3, p99: 4, p999: 4, max: 4, saturatedShare: 0 },
    'http.GET /b': { count: 10, rate: 5, min: 1, mean: 20, p50: 20, p90: 30, p95: 30, p99: 40, p999: 40, max: 40, saturatedShare: 0 },
  };
  const data = { metrics, counters: { 'check ok: fail': 3 }, errors: { ECONNRESET: 2 }, checks: { ok: { pass: 97, fail: 3 } }, requests: 100, durationS: 2, percentile: (m: string, p: number) => (m === 'http.GET /a' ? p / 10 : p) };

  it('a glob gives one result per metric it matches', () => {
    const r = evaluateThresholds({ 'http.*': ['p(97) < 50'] }, data);
    expect(r).toEqual([
      { metric: 'http.GET /a', expression: 'p(97) < 50', actual: 9.7, ok: true },
      { metric: 'http.GET /b', expression: 'p(97) < 50', actual: 97, ok: false },
    ]);
  });

  it('errors: rate is the failed share of requests, count the number', () => {
    expect(evaluateThresholds({ errors: ['rate < 0.01', 'count <= 2'] }, data).map((t) => [t.actual, t.ok])).toEqual([[0.02, false], [2, true]]);
  });

  it('a threshold on a metric that never appeared fails loudly', () => {
    expect(evaluateThresholds({ 'ws.echo': ['p(99) < 100'] }, data)).toEqual([
      { metric: 'ws.echo', expression: 'p(99) < 100', actual: null, ok: false, message: 'no metric named ws.echo was recorded' },
    ]);
  });

  it('checks: rate is the share that passed, count how many were made; none recorded fails', () => {
    expect(evaluateThresholds({ checks: ['rate > 0.99', 'count == 100'] }, data).map((t) => [t.actual, t.ok])).toEqual([[0.97, false], [100, true]]);
    expect(evaluateThresholds({ checks: ['rate > 0.99'] }, { ...data, checks: {} })[0]).toMatchObject({ ok: false, message: 'no metric named checks was recorded' });
  });

  it('a glob with a latency statistic matches latency metrics only; with count or rate, counters too', () => {
    const withCounter = { ...data, counters: { ...data.counters, 'http.connections': 4 } };
    expect(evaluateThresholds({ 'http.*': ['p(99) < 100'] }, withCounter).map((t) => t.metric)).toEqual(['http.GET /a', 'http.GET /b']);
    expect(evaluateThresholds({ 'http.*': ['count > 1'] }, withCounter).map((t) => [t.metric, t.ok])).toEqual([
      ['http.GET /a', true],
      ['http.GET /b', true],
      ['http.connections', true],
    ]);
    // Named exactly, a counter with a latency statistic still fails, saying why.
    expect(evaluateThresholds({ 'http.connections': ['p(99) < 100'] }, withCounter)[0]).toMatchObject({ ok: false, message: 'percentile does not apply to a counter' });
  });

  it('counters take count and rate (per second)', () => {
    expect(evaluateThresholds({ 'check ok: fail': ['count == 3', 'rate < 1', 'p(99) < 1'] }, data).map((t) => [t.actual, t.ok])).toEqual([[3, true], [1.5, false], [null, false]]);
  });
});
