import type { Histogram } from '../../worker/metrics/histogram';
import { WORKER_EXIT_TEXT, type Plan, type WorkerStatus } from '../../worker/plan/plan';
import type { FleetWorkerState } from '../fleet/fleet';
import { EXIT } from '../errors';
import { layout } from '../../worker/store/layout';
import { formatDuration } from '../../worker/scenario/duration';
import { total, type Merged } from '../merge/merge';
import { evaluateThresholds } from './thresholds';
import { parseThreshold } from '../../worker/scenario/thresholds';
import { workerDeadline } from '../run/deadline';
import { STOPPED_WARNING } from './status';
import { meanOf } from './mean';
import { percentilesOf } from './percentiles';
import type { MetricStats, Report, RunStatus, WorkerReport } from './types';
import type { Unusable } from '../merge/reader';
import { CUT_IN_FLIGHT } from '../../worker/engine/scope';
import { HOLD_SCENARIO_FILE } from '../../worker/builtin/hold';

export interface ReportInputs {
  plan: Plan;
  merged: Merged;
  statuses: Map<number, WorkerStatus>;
  /** What the fleet saw of each worker, when the run was watched (absent for `loadfarm report`). */
  fleet?: Map<number, FleetWorkerState>;
  /** True when the person stopped the run early (live), or the store says so (a re-render). */
  stopped?: boolean;
  /** Objects the merge could not use (unreadable or refused snapshots): the report is incomplete. */
  unusable?: Unusable[];
  /**
   * Epoch ms of a re-render (no fleet): a worker whose last status is not final and whose
   * deadline has not passed is still running, and the report is the report so far (`running`).
   */
  now?: number;
}


/** Turns merged measurements into the report: stats per metric, thresholds, worker table, status. */
export function buildReport({ plan, merged, statuses, fleet, stopped: stoppedLive, unusable: unusableObjects = [], now }: ReportInputs): Report {
  const unusable = [
    ...unusableObjects,
    ...merged.unreadableHistograms.map((h) => ({ key: layout.snapshot(plan.runId, h.worker, h.seq), reason: `histogram ${h.metric} could not be decoded (${h.reason})` })),
  ];
  // A worker that ended before the end of its load was stopped: the run was, whoever reports it.
  const stopped = stoppedLive === true || [...statuses.values()].some((st) => st.completed === false);
  const durationS = merged.end > merged.start ? (merged.end - merged.start) / 1000 : 0;
  const metrics: Record<string, MetricStats> = {};
  for (const name of [...merged.metrics.keys()].sort()) {
    metrics[name] = stats(merged.metrics.get(name)!, durationS, merged.saturatedCounts.get(name) ?? 0);
  }
  const errorsTotal = total(merged.errors);
  const thresholds = evaluateThresholds(plan.thresholds, {
    metrics,
    counters: merged.counters,
    // Generator-side failures count too: a run the farm could not drive must not pass.
    errors: { ...merged.errors, ...merged.generatorErrors },
    checks: merged.checks,
    requests: merged.ops,
    durationS,
    percentile: (metric, p) => (merged.metrics.get(metric)?.getValueAtPercentile(p) ?? NaN) / 1000,
  });

  const warnings: string[] = [];
  const workers = plan.workers.map((w): WorkerReport => {
    const st = statuses.get(w.index);
    const t = merged.workers.get(w.index);
    const fs = fleet?.get(w.index);
    let state: string = st?.state ?? (t ? 'lost' : 'never started');
    let exitCode: number | null = st?.exitCode ?? null;
    let message = st?.message;
    if (fs?.state === 'never-started') {
      state = st ? state : 'never started';
      message ??= fs.detail;
    } else if (fs?.state === 'lost') {
      state = 'lost';
      message = fs.detail;
    } else if (fs?.state === 'exited') {
      exitCode = fs.exitCode;
      if (fs.exitCode !== 0) {
        state = st?.state === 'failed' ? 'failed' : 'lost';
        message ??= `exited with code ${fs.exitCode} (${WORKER_EXIT_TEXT[fs.exitCode] ?? 'unknown'})${fs.detail ? `: ${fs.detail}` : ''}`;
      } else if (st?.state !== 'done') {
        state = 'lost';
        message ??= 'exited without writing its final status';
      }
    } else if (fs?.state === 'running' || fs?.state === 'pending') {
      state = 'lost';
      message ??= 'still running when the run was reported';
    } else if (state === 'starting' || state === 'running' || state === 'stopping') {
      // No fleet to ask (a re-render): a worker whose last status is not final is still running
      // while its deadline has not passed, and lost after it.
      const deadline = workerDeadline(plan, w.index, st);
      if (now !== undefined && now < deadline) {
        message = `still running (its deadline is ${new Date(deadline).toISOString().slice(11, 19)} UTC): these are its numbers so far`;
        state = 'running';
      } else {
        message = `its last status says ${state}, and its deadline has passed: it was lost`;
        state = 'lost';
      }
    } else if (state === 'lost' && !st) message ??= 'it wrote snapshots but no status';
    if (state === 'done' && t && !t.final) {
      state = 'lost';
      message = 'its last snapshot is missing';
    }
    const saturated = (t?.saturatedIntervals ?? 0) > 0;
    if (saturated) {
      const why = [...t!.saturatedBy].map((b) => SATURATED_BY[b] ?? b);
      const cores = t!.cores > 0 ? `, ${t!.cores} core${t!.cores === 1 ? '' : 's'}` : '';
      warnings.push(
        `worker ${w.index} was saturated in ${t!.saturatedIntervals} of ${t!.snapshots} intervals${why.length > 0 ? `: ${why.join(', ')}` : ''} (CPU up to ${t!.cpuMaxPct}% of one core${cores}; event-loop lag up to ${t!.loopLagMaxMs} ms): latencies it measured then are inflated; use more workers`,
      );
    }
    return {
      index: w.index,
      state,
      exitCode,
      message,
      identity: { first: w.identity.first, last: w.identity.first + w.identity.count - 1 },
      seed: w.seed,
      startedAt: st?.startedAt ?? null,
      endedAt: st?.endedAt ?? null,
      snapshots: t?.snapshots ?? 0,
      covered: t ? { from: t.first, to: t.last } : null,
      requests: t?.ops ?? 0,
      errors: t?.errors ?? 0,
      usersMax: t?.usersMax ?? 0,
      connectionsMax: t?.connectionsMax ?? 0,
      health: {
        cpuMaxPct: t?.cpuMaxPct ?? 0,
        loopLagMaxMs: t?.loopLagMaxMs ?? 0,
        rssMaxMb: t?.rssMaxMb ?? 0,
        saturatedIntervals: t?.saturatedIntervals ?? 0,
        saturated,
      },
    };
  });
  for (const w of workers) {
    if (w.state !== 'done') {
      const span = w.covered ? ` (${formatDuration(w.covered.to - w.covered.from)} from ${new Date(w.covered.from).toISOString().slice(11, 19)} UTC)` : '';
      warnings.push(`worker ${w.index} ${w.state}${w.message ? `: ${w.message}` : ''}; its numbers cover ${w.snapshots} snapshot(s) only${span}`);
    }
  }
  for (const u of unusable) warnings.push(`${u.key} could not be merged: ${u.reason}`);
  if (merged.users.cut > 0) {
    const inFlight = merged.errors[CUT_IN_FLIGHT] ?? 0;
    warnings.push(`${merged.users.cut} user(s) were cut at the grace deadline, with ${inFlight} operation(s) in flight (counted as ${CUT_IN_FLIGHT} errors): give them more grace or shorter journeys`);
  }
  const hold = plan.scenario.file === HOLD_SCENARIO_FILE;
  const holdFailed = hold && thresholds.some((t) => !t.ok);
  if (holdFailed) {
    const established = merged.counters['hold.established'] ?? 0;
    const dropped = merged.counters['hold.dropped'] ?? 0;
    // The connections asked for: the value of hold's own `hold.established: count == N` threshold.
    const rule = parseThreshold(plan.thresholds['hold.established']?.[0] ?? '');
    const wanted = 'problem' in rule ? '?' : rule.value;
    warnings.push(`${established} of ${wanted} connections were established and ${established - dropped} held to the end`);
  }
  if (merged.arrivals.dropped > 0) warnings.push(`${merged.arrivals.dropped} arrivals were dropped at the maxUsers cap`);
  if (merged.counters['loadfarm.identities_exhausted']) warnings.push(`${merged.counters['loadfarm.identities_exhausted']} arrivals found no free user identity`);
  const genErrors = total(merged.generatorErrors);
  if (genErrors > 0) warnings.push(`${genErrors} failures were the generator's own (${Object.keys(merged.generatorErrors).join(', ')}): add workers or source addresses`);

  let status: RunStatus;
  const anyData = merged.workers.size > 0;
  if (workers.some((w) => w.state === 'running')) status = 'running';
  else if (!anyData || workers.every((w) => w.state === 'failed' || w.state === 'never started')) status = 'failed';
  else if (stopped || workers.some((w) => w.state !== 'done') || unusable.length > 0 || holdFailed) status = 'incomplete';
  else if (thresholds.some((t) => !t.ok)) status = 'thresholds-failed';
  else status = 'passed';
  if (stopped) warnings.push(STOPPED_WARNING);

  return {
    v: 1,
    runId: plan.runId,
    scenario: plan.scenario.name,
    target: plan.target,
    status,
    // A running run has no verdict yet: 2, like any run that is not complete.
    exitCode: status === 'passed' ? EXIT.passed : status === 'thresholds-failed' ? EXIT.thresholds : EXIT.incomplete,
    startedAt: merged.start || plan.createdAt,
    endedAt: merged.end || plan.createdAt,
    durationS: Math.round(durationS * 10) / 10,
    seed: plan.seed,
    staggerMs: plan.staggerMs,
    workers,
    metrics,
    counters: merged.counters,
    errors: merged.errors,
    generatorErrors: merged.generatorErrors,
    requests: merged.ops,
    errorRate: errorRate(errorsTotal + genErrors, merged.ops),
    checks: merged.checks,
    bytes: merged.bytes,
    arrivals: merged.arrivals,
    users: { launched: merged.users.launched, cut: merged.users.cut, max: workers.reduce((sum, w) => sum + w.usersMax, 0) },
    unusable,
    thresholds,
    warnings,
    timeline: merged.timeline,
  };
}

/** Why a generator was saturated (Health.saturatedBy), in words. */
const SATURATED_BY: Record<string, string> = {
  cpu: 'CPU pegged',
  'loop-lag': 'event-loop lag p90 ≥ 50 ms',
  'loop-stall': 'event loop froze',
};

/** Failed share of operations, 0..1: failures without any operation count as all failed. */
export function errorRate(failures: number, operations: number): number {
  if (operations === 0) return failures > 0 ? 1 : 0;
  return Math.min(1, failures / operations);
}

function stats(h: Histogram, durationS: number, saturatedCount: number): MetricStats {
  const ms = (us: number) => Math.round(us) / 1000;
  const [p50, p90, p95, p99, p999] = percentilesOf(h, [50, 90, 95, 99, 99.9]);
  return {
    count: h.totalCount,
    rate: durationS > 0 ? Math.round((h.totalCount / durationS) * 100) / 100 : 0,
    min: ms(h.minNonZeroValue),
    mean: ms(meanOf(h)),
    p50: ms(p50),
    p90: ms(p90),
    p95: ms(p95),
    p99: ms(p99),
    p999: ms(p999),
    max: ms(h.maxValue),
    saturatedShare: h.totalCount > 0 ? Math.round((saturatedCount / h.totalCount) * 1000) / 1000 : 0,
  };
}
