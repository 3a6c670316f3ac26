import { EXIT } from '../errors';
import type { Report } from './types';

/** One step of a breaking-point search as judged on the merged data of every worker. */
export interface LimitStep {
  step: number;
  /** A bisecting step after the first that broke. */
  refine: boolean;
  /** What the farm offered: arrivals per second (open model) or users (closed model). */
  offered: number;
  /** The measured window, epoch ms. */
  startAt: number;
  endAt: number;
  /** Operations completed per second over the window (the achieved throughput). */
  achieved: number;
  /** Open model: arrivals started per second over the window. */
  arrivals: number;
  requests: number;
  errors: number;
  /** Failed share of `requests`, 0..1. */
  errorRate: number;
  /** Latency of every operation metric together (not loadfarm.*), ms; null without any. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Generator health over the window: any worker saturated spoils the step. */
  health: { saturated: boolean; saturatedWorkers: number[]; cpuMaxPct: number; loopLagMaxMs: number };
  /** Workers whose snapshots the step merged. */
  workers: number;
  /** `warm-up`: the search's first stretch (connections, JIT), run at `from` and never judged. */
  verdict: 'held' | 'broke' | 'generator-limited' | 'warm-up';
  /** The thresholds the step broke (empty when it held). */
  broke: { metric: string; expression: string; actual: number | null }[];
}

/**
 * report.json `limit`: the outcome of a breaking-point search.
 * `sustained`: the highest offered rate whose step held every threshold (null: none did);
 * `brokeAt`: the lowest offered rate above it that broke one (null: none broke).
 */
export interface Limit {
  model: 'open' | 'closed';
  unit: 'arrivals/s' | 'users';
  status: LimitStatus;
  sustained: number | null;
  brokeAt: number | null;
  /** One plain sentence on the outcome. */
  reason: string;
  /** With `generator-limited`: about how many workers the search needs to offer up to `to`. */
  workersNeeded?: number;
  steps: LimitStep[];
}

/**
 * `limit-found`: a step broke after one that held (exit 0); `to-sustained`: every step up to `to`
 * held (exit 0); `first-step-broke` (exit 99); `generator-limited`: a worker was saturated, the
 * search stopped (exit 2); `interrupted`: the run ended before the search did (exit 2).
 */
export type LimitStatus = 'limit-found' | 'to-sustained' | 'first-step-broke' | 'generator-limited' | 'interrupted';

export const LIMIT_EXIT: Record<LimitStatus, number> = {
  'limit-found': EXIT.passed,
  'to-sustained': EXIT.passed,
  'first-step-broke': EXIT.thresholds,
  'generator-limited': EXIT.incomplete,
  interrupted: EXIT.incomplete,
};

/** The threshold that stopped a run (abortOnFail): report.json `abortedBy`, store control/abort.json. */
export interface AbortRecord {
  metric: string;
  expression: string;
  actual: number | null;
  /** Epoch ms when the CLI saw it fail, and seconds from the run's first snapshot. */
  at: number;
  afterS: number;
}

/**
 * The report of a search run: `limit`, and status and exit code from it. The stop that ends a
 * search is its normal end, not an early stop: the stopped-run warning is replaced. A worker
 * lost or an object unmerged still makes the run incomplete (exit 2) unless the search itself
 * already failed harder.
 */
export function applyLimit(r: Report, limit: Limit, stoppedWarning: string): Report {
  const warnings = r.warnings.filter((w) => w !== stoppedWarning);
  const lost = r.workers.some((w) => w.state !== 'done') || r.unusable.length > 0;
  let exitCode = LIMIT_EXIT[limit.status];
  if (lost && exitCode === EXIT.passed) exitCode = EXIT.incomplete;
  const status = exitCode === EXIT.passed ? 'passed' : exitCode === EXIT.thresholds ? 'thresholds-failed' : r.status === 'failed' ? 'failed' : 'incomplete';
  if (limit.status === 'generator-limited' || limit.status === 'interrupted') warnings.unshift(`search ${limit.status}: ${limit.reason}`);
  return { ...r, status, exitCode, warnings, limit };
}

/** The report of a run a threshold stopped: thresholds-failed (exit 99), saying which and when. */
export function applyAbort(r: Report, abort: AbortRecord): Report {
  const line = `stopped ${abort.afterS} s into the run by threshold ${abort.metric} ${abort.expression} (was ${abort.actual ?? 'not recorded'}, abortOnFail)`;
  const failed = r.status === 'failed';
  return { ...r, status: failed ? 'failed' : 'thresholds-failed', exitCode: failed ? r.exitCode : EXIT.thresholds, warnings: [line, ...r.warnings], abortedBy: abort };
}
