import { parseDuration, type Duration } from '../scenario/duration';

/**
 * Reconnection timing shared by the protocol clients: exponential backoff with FULL jitter, as in
 * the AWS Architecture Blog's "Exponential Backoff And Jitter": before attempt `k` (0-based) sleep
 * `random(0, min(cap, base · 2^k))`. Full jitter is what spreads a thundering herd: a thousand
 * clients dropped at the same instant come back spread over the whole window, not in waves.
 *
 * Everything here is pure: the random source is passed in (a user's seeded rng, so runs replay).
 */

export interface ReconnectOptions {
  /** Ceiling of the first attempt's random delay; doubles with every failed attempt. @default '100ms' */
  base?: Duration;
  /** The delay ceiling never grows past this. @default '10s' */
  cap?: Duration;
  /**
   * Attempts after one drop before giving up (`Infinity`: until the user ends). The count starts
   * over after each successful reconnect. @default 10
   */
  maxAttempts?: number;
}

/** Validated reconnect settings, in milliseconds. */
export interface ReconnectPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  readonly maxAttempts: number;
}

export const RECONNECT_DEFAULTS: ReconnectPolicy = { baseMs: 100, capMs: 10_000, maxAttempts: 10 };

/** Longest delay `setTimeout` honours (longer ones fire after 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A uniform random number in [0, 1), such as `Rng.next`. */
export type Random = () => number;

/** The delay ceiling before attempt `attempt` (0-based): `min(cap, base · 2^attempt)`, ms. */
export function backoffCeiling(attempt: number, policy: Pick<ReconnectPolicy, 'baseMs' | 'capMs'>): number {
  // 2 ** attempt overflows to Infinity for huge attempts; min() then yields the cap.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt), MAX_TIMER_MS);
}

/** Full jitter: the delay before attempt `attempt` (0-based), uniform in [0, ceiling), ms. */
export function fullJitter(attempt: number, policy: Pick<ReconnectPolicy, 'baseMs' | 'capMs'>, random: Random): number {
  return random() * backoffCeiling(attempt, policy);
}

/**
 * An exponentially distributed delay with mean `meanMs` (the gaps between the events of a
 * Poisson process: random disconnects), clamped to what a timer can wait, ms.
 */
export function exponentialDelay(meanMs: number, random: Random): number {
  // random() is in [0, 1): log1p(-u) is finite and at most 0 (and -log1p(-0) is +0, not -0).
  return Math.min(meanMs * -Math.log1p(-random()), MAX_TIMER_MS);
}

/** A positive duration in ms, or a problem naming `field` and what was received. */
export function positiveDuration(value: unknown, field: string, problems: string[]): number | undefined {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    problems.push(`${field}: expected a duration above 0 like '500ms' or '10s', received ${JSON.stringify(value)}`);
    return undefined;
  }
  return ms;
}

/**
 * Validates `reconnect` options (`true` takes every default). Returns the policy, or every
 * problem found, each naming the field under `field` and the value received.
 */
export function parseReconnect(input: ReconnectOptions | boolean, field = 'reconnect'): { policy?: ReconnectPolicy; problems: string[] } {
  const problems: string[] = [];
  if (input === true) return { policy: RECONNECT_DEFAULTS, problems };
  if (input === false) return { problems };
  if (typeof input !== 'object' || input === null) {
    problems.push(`${field}: expected true or { base, cap, maxAttempts }, received ${JSON.stringify(input)}`);
    return { problems };
  }
  const baseMs = input.base === undefined ? RECONNECT_DEFAULTS.baseMs : positiveDuration(input.base, `${field}.base`, problems);
  const capMs = input.cap === undefined ? RECONNECT_DEFAULTS.capMs : positiveDuration(input.cap, `${field}.cap`, problems);
  const maxAttempts = input.maxAttempts ?? RECONNECT_DEFAULTS.maxAttempts;
  if (!(maxAttempts === Infinity || (Number.isInteger(maxAttempts) && maxAttempts >= 1))) {
    problems.push(`${field}.maxAttempts: expected a whole number of at least 1 (or Infinity), received ${JSON.stringify(input.maxAttempts)}`);
  }
  if (problems.length > 0 || baseMs === undefined || capMs === undefined) return { problems };
  return { policy: { baseMs, capMs, maxAttempts }, problems };
}
