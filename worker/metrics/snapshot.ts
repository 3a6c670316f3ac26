/**
 * One worker's measurements over one interval (store: runs/<runId>/workers/<i>/snapshots/<seq>.json).
 * Snapshots hold deltas for their interval only, are written once and never rewritten; a run's
 * totals are the sum over every snapshot of every worker.
 */
export interface Snapshot {
  v: 1;
  /** The run that wrote it (absent in old snapshots): a snapshot of another run is refused. */
  run?: string;
  worker: number;
  seq: number;
  /** Interval bounds, epoch milliseconds. */
  start: number;
  end: number;
  /** True on the last snapshot a worker writes after its load ended. */
  final: boolean;
  /** Latency per metric: HDR histogram of microseconds, compressed base64. */
  histograms: Record<string, string>;
  counters: Record<string, number>;
  /** Failed operations by code: ECONNREFUSED, ETIMEDOUT, ECONNRESET, HTTP 503, CUT_IN_FLIGHT, exception <code>, … */
  errors: Record<string, number>;
  /** Failures on the generator's side (EMFILE, EADDRNOTAVAIL, …): not the target's fault. */
  generatorErrors: Record<string, number>;
  /**
   * Operations attempted: what the protocol clients recorded as succeeded or failed (an HTTP
   * request, a connect, a WebSocket/Socket.IO/TCP exchange), plus one per journey that threw an
   * error no client recorded and one per operation in flight when its user was cut. Checks,
   * counters and `u.time` blocks are not operations. The denominator of the error rate.
   */
  ops: number;
  /** Checks by name (`u.check`): their own family, never operations or errors. Absent in old snapshots. */
  checks?: Record<string, { pass: number; fail: number }>;
  /** Payload bytes. */
  bytes: { sent: number; received: number };
  /** Open model bookkeeping: arrivals started, and dropped at the maxUsers cap. */
  arrivals: { started: number; dropped: number };
  /** Users launched in the interval (either model) and users cut at the grace deadline. Absent in old snapshots. */
  users?: { launched: number; cut: number };
  /** Users and connections in flight: at the end of the interval and the most at any time in it. */
  gauges: { users: number; usersMax: number; connections: number; connectionsMax: number };
  health: Health;
}

export interface Health {
  /**
   * CPU time of the whole process (all its threads: the event loop, GC, libuv's pool) over
   * `cpuWindowMs`, as a percentage of ONE core: 100 is one core busy all the window. It can exceed
   * 100 only when threads besides the event loop work at once (at most 100 × `cores`); the event
   * loop itself is pegged at 100.
   */
  cpuPct: number;
  /** Logical cores the process may use (os.availableParallelism()). Absent in old snapshots. */
  cores?: number;
  /**
   * What `cpuPct` covers, ms: the snapshot's interval, or more when the interval was shorter
   * than SATURATION.minWindowMs (a run's last interval is folded with the ones before it).
   * Absent in old snapshots (then the interval itself).
   */
  cpuWindowMs?: number;
  /** Event-loop lateness in this interval, ms: 99th percentile and longest (a stall). */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  rssMb: number;
  /** True when the generator itself was the bottleneck: the numbers of this interval are spoiled. */
  saturated: boolean;
  /**
   * Why `saturated` is true (empty when it is not): `cpu` pegged, `loop-lag` sustained,
   * `loop-stall` one freeze long enough to distort timings (see SATURATION). Absent in old snapshots.
   */
  saturatedBy?: Array<'cpu' | 'loop-lag' | 'loop-stall'>;
}

/**
 * When a generator is saturated (worker/metrics/health.ts), any of:
 * - `cpuPct >= cpuPct` over a window of at least `minWindowMs` (a shorter interval is folded
 *   with the ones before it): the event loop's core is pegged;
 * - event-loop lag p90 >= `loopLagP90Ms` over that window: lag for at least a tenth of it (p90:
 *   one hiccup, such as the first requests compiling, is not saturation);
 * - one stall (the interval's longest lag) >= min(`stallMs`, max(`loopLagP90Ms`,
 *   `stallShare` × window)): a freeze that puts itself on a tenth of the window's timings, or on
 *   any timing by a second or more.
 */
export const SATURATION = { loopLagP90Ms: 50, cpuPct: 90, stallMs: 1000, stallShare: 0.1, minWindowMs: 1000 };

/**
 * True when an interval measured anything: a saturated interval that measured nothing (a worker's
 * start-up, users all waiting) spoiled no number and raises no warning.
 */
export function measuredIn(s: Snapshot): boolean {
  if (s.ops > 0) return true;
  for (const _ in s.histograms) return true;
  return false;
}
