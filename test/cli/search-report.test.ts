import { applyAbort, applyLimit, type Limit } from '../../cli/report/limit';
import { renderText } from '../../cli/report/text';
import { renderHtml } from '../../cli/report/html';
import { STOPPED_WARNING } from '../../cli/report/status';
import { syntheticReport } from '../helpers/synthetic-report';

const step = (offered: number, verdict: 'held' | 'broke') => ({
  step: 0, refine: false, offered, startAt: 0, endAt: 1000, achieved: offered, arrivals: offered, requests: offered, errors: 0, errorRate: 0,
  p50: 10, p95: 20, p99: verdict === 'held' ? 30 : 900, workers: 2,
  health: { saturated: false, saturatedWorkers: [], cpuMaxPct: 20, loopLagMaxMs: 3 },
  verdict, broke: verdict === 'broke' ? [{ metric: 'http.GET /', expression: 'p(99) < 500', actual: 900 }] : [],
});
const limit = (status: Limit['status']): Limit => ({ model: 'open', unit: 'arrivals/s', status, sustained: 40, brokeAt: 60, reason: 'why', steps: [step(40, 'held'), step(60, 'broke')] });

it('a search report takes status and exit code from its limit, not from being stopped', () => {
  const stopped = { ...syntheticReport(), status: 'incomplete' as const, exitCode: 2, warnings: [STOPPED_WARNING] };
  expect(applyLimit(stopped, limit('limit-found'), STOPPED_WARNING)).toMatchObject({ status: 'passed', exitCode: 0, warnings: [] });
  expect(applyLimit(stopped, limit('to-sustained'), STOPPED_WARNING).exitCode).toBe(0);
  expect(applyLimit(stopped, limit('first-step-broke'), STOPPED_WARNING)).toMatchObject({ status: 'thresholds-failed', exitCode: 99 });
  expect(applyLimit(stopped, limit('generator-limited'), STOPPED_WARNING)).toMatchObject({ status: 'incomplete', exitCode: 2 });
  expect(applyAbort(stopped, { metric: 'errors', expression: 'rate < 0.1', actual: 1, at: 0, afterS: 2.5 })).toMatchObject({ status: 'thresholds-failed', exitCode: 99 });
});

it('text and HTML show one row per step and the knee', () => {
  const r = applyLimit(syntheticReport(), limit('limit-found'), STOPPED_WARNING);
  const text = renderText(r);
  expect(text).toContain('breaking-point search: LIMIT-FOUND · sustained 40 arrivals/s · broke at 60 arrivals/s');
  expect(text).toMatch(/\n1 +40 +40 .*held/);
  expect(text).toMatch(/\n1 +60 +60 .*broke: http.GET \/ p\(99\) < 500 \(900\)/);
  const html = renderHtml(r, { uplotJs: '', uplotCss: '' });
  expect(html).toContain('<section id="limit" data-status="limit-found" data-sustained="40" data-broke-at="60">');
  expect(html.match(/<tr class="(held|broke)">/g)).toHaveLength(2);
});
