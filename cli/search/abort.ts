import { layout } from '../../worker/store/layout';
import { putJson, type Store } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { mergeSnapshots } from '../merge/merge';
import { buildReport } from '../report/build';
import type { AbortRecord } from '../report/limit';

/**
 * Abort on fail: the plan's `abortOnFail` thresholds, evaluated on the merged data of every
 * worker so far (never per worker), at most once per `everyMs`. A threshold is first evaluated
 * `delayMs` after the run's first snapshot began; one whose metric has not been recorded yet does
 * not stop the run. The first that fails is written to the store (control/abort.json) and
 * returned: the caller stops every worker.
 */
export class AbortWatch {
  private nextAt = 0;

  constructor(
    private readonly store: Store,
    private readonly plan: Plan,
    private readonly everyMs: number,
  ) {}

  async check(snapshots: readonly Snapshot[], now = Date.now()): Promise<AbortRecord | undefined> {
    const rules = this.plan.abortOnFail ?? [];
    if (rules.length === 0 || snapshots.length === 0 || now < this.nextAt) return undefined;
    this.nextAt = now + this.everyMs;
    const first = Math.min(...snapshots.map((s) => s.start));
    const due = rules.filter((r) => now - first >= r.delayMs);
    if (due.length === 0) return undefined;
    const thresholds: Record<string, string[]> = {};
    for (const r of due) (thresholds[r.metric] ??= []).push(r.expression);
    const merged = mergeSnapshots(snapshots, this.plan.intervalMs);
    const report = buildReport({ plan: { ...this.plan, thresholds }, merged, statuses: new Map() });
    const failed = report.thresholds.find((t) => !t.ok && t.actual !== null);
    if (!failed) return undefined;
    const record: AbortRecord = { metric: failed.metric, expression: failed.expression, actual: failed.actual, at: now, afterS: Math.round((now - first) / 100) / 10 };
    await putJson(this.store, layout.abort(this.plan.runId), record);
    return record;
  }
}
