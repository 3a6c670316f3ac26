/**
 * Retrying AWS control-plane calls that were throttled: pure delay arithmetic plus one small
 * retry loop whose sleep and randomness are injected, so tests run instantly and exactly.
 *
 * The SDK already retries throttled calls a few times (its standard retry mode); this is the
 * outer loop for calls the CLI must not give up on quickly (starting a worker, polling).
 */

/**
 * Error names AWS services use for "slow down". Compared by `name` (the SDK's modelled error
 * code), never by message text.
 */
export const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
]);

/** True when `err` is an AWS throttling error (by name, or as the SDK classified it). */
export function isThrottling(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $retryable?: { throttling?: boolean } };
  return (typeof e.name === 'string' && THROTTLING_ERROR_NAMES.has(e.name)) || e.$retryable?.throttling === true;
}

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  readonly baseMs: number;
  /** No delay is longer than this, ms. */
  readonly maxMs: number;
  /**
   * Growth per attempt.
   * @default 2
   */
  readonly factor?: number;
  /**
   * A number in [0, 1): the delay is `d/2 + random()·d/2` ("equal jitter"), so retries from
   * many callers spread out but never wait less than half the nominal delay. Pass `() => 1`
   * for no jitter.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * The delay before retry number `retry` (0 for the first retry), ms: `baseMs·factor^retry`
 * capped at `maxMs`, with equal jitter. Pure but for the default `random`.
 */
export function backoffDelayMs(retry: number, o: BackoffOptions): number {
  const nominal = Math.min(o.maxMs, o.baseMs * (o.factor ?? 2) ** Math.max(0, retry));
  const r = Math.min(1, Math.max(0, (o.random ?? Math.random)()));
  return Math.round(nominal / 2 + (r * nominal) / 2);
}

export interface RetryOptions extends BackoffOptions {
  /** Calls in all, the first included (at least 1). */
  readonly attempts: number;
  /** Which failures are worth another attempt. */
  readonly retryable: (err: unknown) => boolean;
  /** Waits `ms`; injected so tests need no timers. */
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Calls `fn` until it resolves, a failure is not `retryable`, or `attempts` calls were made;
 * then rejects with the last error, untouched (the caller says what was being done).
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(o.attempts));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= attempts || !o.retryable(err)) throw err;
      await o.sleep(backoffDelayMs(attempt, o));
    }
  }
}
