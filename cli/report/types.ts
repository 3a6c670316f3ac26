import type { TimelinePoint } from '../merge/merge';
import type { AbortRecord, Limit } from './limit';

/**
 * report.json (also what `--json` prints). Names are stable: add fields, do not rename.
 * Latencies in milliseconds, rates per second, times epoch milliseconds.
 */
export interface Report {
  v: 1;
  runId: string;
  scenario: string;
  target: string;
  status: RunStatus;
  exitCode: number;
  startedAt: number;
  endedAt: number;
  durationS: number;
  seed: number;
  staggerMs: number;
  workers: WorkerReport[];
  metrics: Record<string, MetricStats>;
  counters: Record<string, number>;
  /** Target-side failed operations by code (ECONNREFUSED, HTTP 503, CUT_IN_FLIGHT, exception <code>, …). */
  errors: Record<string, number>;
  /** Generator-side failures by code (EMFILE, EADDRNOTAVAIL, …): the farm ran out, not the target. */
  generatorErrors: Record<string, number>;
  /**
   * Operations attempted (README, "What counts as an operation"): HTTP requests, connects,
   * WebSocket/Socket.IO/TCP exchanges, pings and acks, one per journey that threw an error no
   * client recorded, and one per operation in flight when its user was cut (CUT_IN_FLIGHT).
   * Never checks, counters or `u.time` blocks.
   */
  requests: number;
  /** Failed share of `requests` (target- and generator-side errors), 0..1. */
  errorRate: number;
  /** Checks by name (`u.check`): their own family, not in `requests` or `errors`. */
  checks: Record<string, { pass: number; fail: number }>;
  bytes: { sent: number; received: number };
  /** Open model: arrivals started, and dropped at the maxUsers cap. */
  arrivals: { started: number; dropped: number };
  /** Users launched (either model), cut at the grace deadline, and the sum of each worker's peak. */
  users: { launched: number; cut: number; max: number };
  /** Store objects the merge could not use; any makes the run incomplete. */
  unusable: { key: string; reason: string }[];
  thresholds: ThresholdResult[];
  /** Plain sentences on what makes numbers doubtful: saturated generators, lost workers, drops. */
  warnings: string[];
  timeline: TimelinePoint[];
  /** A rolling report's period (cli/run/rolling.ts): its number from 1 and its bounds, epoch ms. */
  period?: { index: number; from: number; to: number };
  /** A breaking-point search's outcome (cli/report/limit.ts); absent for other runs. */
  limit?: Limit;
  /** The abortOnFail threshold that stopped the run, and when; absent when none did. */
  abortedBy?: AbortRecord;
}

/** `running`: a report of a run still going (`loadfarm report` during a run): the numbers so far, exit 2, never saved as report.json. */
export type RunStatus = 'passed' | 'thresholds-failed' | 'incomplete' | 'failed' | 'running';

export interface MetricStats {
  count: number;
  rate: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** Share (0..1) of values recorded while their generator was saturated. */
  saturatedShare: number;
}

export interface WorkerReport {
  index: number;
  state: string;
  exitCode: number | null;
  message?: string;
  /** User numbers [first, last] this worker could use. */
  identity: { first: number; last: number };
  seed: number;
  startedAt: number | null;
  endedAt: number | null;
  snapshots: number;
  /** The stretch its snapshots cover (epoch ms), or null without any: what a lost worker measured. */
  covered: { from: number; to: number } | null;
  requests: number;
  errors: number;
  usersMax: number;
  connectionsMax: number;
  health: { cpuMaxPct: number; loopLagMaxMs: number; rssMaxMb: number; saturatedIntervals: number; saturated: boolean };
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  /** The measured value, or null when the metric never appeared. */
  actual: number | null;
  ok: boolean;
  message?: string;
}
