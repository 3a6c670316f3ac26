import { createHistogram } from '../../worker/metrics/histogram';
import { SATURATION, type Snapshot } from '../../worker/metrics/snapshot';
import type { Plan } from '../../worker/plan/plan';
import type { SearchStep } from '../../worker/control/steps';
import { mergeSnapshots, total } from '../merge/merge';
import { buildReport } from '../report/build';
import type { LimitStep } from '../report/limit';

/**
 * Judges one step of a search on the merged snapshots of every worker whose interval lies in
 * the step's window (the caller picks them: stepOf). Thresholds are the run's, evaluated as the
 * report evaluates them, on the step's data only. A step in which any worker was saturated is
 * `generator-limited` whatever its thresholds say: its numbers are the generator's, not the
 * target's. Saturated here means pegged CPU, sustained event-loop lag, or one freeze of at least
 * a tenth of the step (Health.saturatedBy); a shorter stall (the OS taking the core away for a
 * moment on a busy machine) spoils a few timings, not the step, and is judged by the thresholds
 * like any latency.
 */
export function evaluateStep(plan: Plan, step: SearchStep, snapshots: readonly Snapshot[]): LimitStep {
  const merged = mergeSnapshots(snapshots, plan.intervalMs);
  const r = buildReport({ plan, merged, statuses: new Map() });
  const seconds = Math.max(1e-3, (step.endAt - step.startAt) / 1000);
  const latency = createHistogram();
  for (const [name, h] of merged.metrics) if (!name.startsWith('loadfarm.')) latency.add(h);
  const pct = (p: number) => (latency.totalCount > 0 ? Math.round(latency.getValueAtPercentile(p)) / 1000 : null);
  const saturatedWorkers = [...new Set(snapshots.filter((s) => spoiled(s, step.endAt - step.startAt)).map((s) => s.worker))].sort((a, b) => a - b);
  const broke = r.thresholds.filter((t) => !t.ok).map((t) => ({ metric: t.metric, expression: t.expression, actual: t.actual }));
  const errors = total(merged.errors) + total(merged.generatorErrors);
  return {
    step: step.step,
    refine: step.refine,
    offered: step.rate,
    startAt: step.startAt,
    endAt: step.endAt,
    achieved: round2(merged.ops / seconds),
    arrivals: round2(merged.arrivals.started / seconds),
    requests: merged.ops,
    errors,
    errorRate: r.errorRate,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    health: {
      saturated: saturatedWorkers.length > 0,
      saturatedWorkers,
      cpuMaxPct: Math.max(0, ...snapshots.map((s) => s.health.cpuPct)),
      loopLagMaxMs: Math.max(0, ...snapshots.map((s) => s.health.loopLagMaxMs)),
    },
    workers: new Set(snapshots.map((s) => s.worker)).size,
    verdict: saturatedWorkers.length > 0 ? 'generator-limited' : broke.length > 0 ? 'broke' : 'held',
    broke,
  };
}

/**
 * The step a snapshot belongs to: the one whose window [startAt, endAt) holds its interval's
 * midpoint (workers cut a snapshot at each step's start and end, so none spans two steps), or
 * undefined for one taken between steps (while the CLI decided) or before the first.
 */
export function stepOf(steps: readonly SearchStep[], s: Snapshot): SearchStep | undefined {
  const mid = (s.start + s.end) / 2;
  for (let i = steps.length - 1; i >= 0; i--) {
    if (mid >= steps[i].startAt && mid < steps[i].endAt) return steps[i];
    if (steps[i].endAt <= mid) return undefined;
  }
  return undefined;
}

/** Saturated for a step of `stepMs`: `cpu`, `loop-lag`, or a stall of a tenth of the step (old snapshots without saturatedBy: saturated). */
function spoiled(s: Snapshot, stepMs: number): boolean {
  const by = s.health.saturatedBy;
  if (by === undefined) return s.health.saturated;
  return by.includes('cpu') || by.includes('loop-lag') || (by.includes('loop-stall') && s.health.loopLagMaxMs >= Math.max(SATURATION.loopLagP90Ms, 0.1 * stepMs));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
