import type { TimelinePoint } from '../merge/merge';

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
  /** Target-side failures by code (ECONNREFUSED, HTTP 503, check <name>, …). */
  errors: Record<string, number>;
  /** Generator-side failures by code (EMFILE, EADDRNOTAVAIL, …): the farm ran out, not the target. */
  generatorErrors: Record<string, number>;
  /** Operations attempted (requests, exchanges, connects, checks). */
  requests: number;
  /** Failed share of `requests`, 0..1. */
  errorRate: number;
  bytes: { sent: number; received: number };
  arrivals: { started: number; dropped: number };
  thresholds: ThresholdResult[];
  /** Plain sentences on what makes numbers doubtful: saturated generators, lost workers, drops. */
  warnings: string[];
  timeline: TimelinePoint[];
}

export type RunStatus = 'passed' | 'thresholds-failed' | 'incomplete' | 'failed';

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
