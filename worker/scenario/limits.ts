import { formatDuration } from './duration';

/**
 * Upper (and a few lower) bounds on every duration, interval and rate loadfarm accepts, stated
 * once: the scenario validator, the CLI flags and the README all read them from here.
 *
 * Why these figures: Node's timers hold a signed 32-bit millisecond count, so a `setTimeout`
 * longer than `TIMER_MAX_MS` fires after 1 ms; and a run on the AWS fleet is one SSM command
 * whose `executionTimeout` cannot exceed 48 h. Every bound below keeps the longest timer a run
 * sets under the first, and the longest run (`MAX_RUN_SPAN_MS` plus the CLI's slack) under the
 * second.
 */

/** The longest delay Node's timers honour, ms (2^31 − 1, about 24.8 days). */
export const TIMER_MAX_MS = 2 ** 31 - 1;

export const LIMITS = {
  /**
   * A scenario's whole load (the sum of its phases, or the closed model's duration), and
   * `hold`'s dials + `--hold`, ms: a week, for soaks on the local farm. On the AWS farm a run
   * lasts at most 48 h (SSM's longest execution timeout), checked once the workers are known.
   */
  loadMs: 7 * 24 * 3_600_000,
  /** The scenario's `grace`, ms. */
  graceMs: 3_600_000,
  /** Operation timeouts: the scenario's `http.timeout`, `hold --timeout`, ms. */
  timeoutMs: 3_600_000,
  /** `--interval`: how often workers write a snapshot (and `hold` prints counts), ms. */
  intervalMinMs: 100,
  intervalMaxMs: 10 * 60_000,
  /** `--stagger`: the delay between two workers' starts, ms. */
  staggerMs: 10 * 60_000,
  /** (workers − 1) × `--stagger`: the last worker's start after the first's, ms. */
  staggerSpanMs: 3_600_000,
  /** A closed-model user's pause after failed iterations (`load.backoff` min and max), ms. */
  backoffMs: 3_600_000,
  /** `hold --delay`: the pause between one worker's dials, ms. */
  dialDelayMs: 60_000,
  /** `validate --window`: how long `u.endsIn()` counts down in a dry run, ms. */
  validateWindowMs: 10 * 60_000,
  /** A phase's `arrivalRate` and `rampTo`: new users per second across the farm. */
  arrivalRate: 1_000_000,
  /** The closed model's `users` and the open model's `maxUsers`, across the farm. */
  users: 10_000_000,
} as const;

/**
 * The longest a valid run keeps the farm busy, ms: the last worker's start, its load and its
 * grace (a week and 2 h). A worker's hard deadline adds the CLI's fixed slack to this and stays
 * under TIMER_MAX_MS; a run on the AWS farm is refused past SSM's 172,800 s (cli/run/cloud.ts).
 */
export const MAX_RUN_SPAN_MS = LIMITS.staggerSpanMs + LIMITS.loadMs + LIMITS.graceMs;

/** `'24h'`, `'10m'`, `'100ms'`: a limit as the messages and the README write it. */
export function showLimit(ms: number): string {
  return formatDuration(ms);
}
