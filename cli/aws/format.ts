/**
 * Plain formatting for the AWS commands (no SDK): cost lines, expiry times, time left.
 * Times are UTC; durations are rounded down to the minute, which is the granularity of an
 * environment's expiry.
 */
import { costPerHour } from '../../infra/cost';

/** `0.1234` → `$0.12`; below a cent, `$0.004`. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(2)}`;
}

/** Milliseconds as days, hours and minutes (`2d 3h`, `3h 12m`, `45m`, `0m`), rounded down to the minute. */
export function formatSpan(ms: number): string {
  const totalMinutes = Math.floor(Math.max(0, ms) / 60_000);
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  return `${minutes}m`;
}

/** An ISO time as `2030-01-01 12:00 UTC`. */
export function formatUtc(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * How long until `expiresAt` (ISO) from `now`: `3h 12m left`, `expired 5m ago`, or
 * `unknown` when the time does not parse.
 */
export function timeLeft(expiresAt: string | undefined, now: Date): string {
  const at = expiresAt === undefined ? Number.NaN : Date.parse(expiresAt);
  if (Number.isNaN(at)) return 'unknown';
  const ms = at - now.getTime();
  return ms > 0 ? `${formatSpan(ms)} left` : `expired ${formatSpan(-ms)} ago`;
}

export interface CostLineInput {
  readonly instanceType: string;
  readonly workers: number;
  readonly spot: boolean;
  readonly privateWorkers: boolean;
  /** The time to live, to show what the whole environment costs if left until it expires. */
  readonly ttlHours: number;
}

/**
 * One line with the rough cost of an environment, e.g.
 * `about $0.19/hour (on-demand list price, us-east-1; data transfer not included), ≈ $0.76 for the 4h time to live`.
 */
export function costLine(input: CostLineInput): string {
  const estimate = costPerHour(input.instanceType, input.workers, input.spot, { privateWorkers: input.privateWorkers });
  if (!estimate) return `unknown: ${input.instanceType} is not in loadfarm's price table (see infra/cost.ts)`;
  const whole = estimate.usdPerHour * input.ttlHours;
  return (
    `about ${formatUsd(estimate.usdPerHour)}/hour (${estimate.basis}, us-east-1 prices; data transfer not included), ` +
    `≈ ${formatUsd(whole)} for the ${formatSpan(input.ttlHours * 3_600_000)} time to live`
  );
}
