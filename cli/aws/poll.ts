/**
 * Waiting on the AWS control plane: a loop with backoff whose clock and sleep are injected,
 * so that tests run it in no time.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PollOptions<T> {
  /** One look at the world; `done` ends the wait. Errors propagate (the caller decides). */
  readonly check: () => Promise<{ readonly done: boolean; readonly value: T }>;
  /** Give up this long after the first check started. */
  readonly timeoutMs: number;
  /** @default 5000 */
  readonly initialDelayMs?: number;
  /** @default 15000 */
  readonly maxDelayMs?: number;
  /** Each delay is the previous one times this. @default 1.5 */
  readonly factor?: number;
  readonly clock?: Clock;
}

export type PollResult<T> =
  | { readonly done: true; readonly value: T; readonly elapsedMs: number }
  | { readonly done: false; readonly last: T; readonly elapsedMs: number };

/**
 * Calls `check` until it says done or `timeoutMs` has passed, sleeping between calls with
 * exponential backoff (never past the deadline). Always checks at least once, and once more
 * at the deadline, so a timeout reports the latest state.
 */
export async function pollUntil<T>(options: PollOptions<T>): Promise<PollResult<T>> {
  const clock = options.clock ?? realClock;
  const factor = options.factor ?? 1.5;
  const maxDelay = options.maxDelayMs ?? 15_000;
  let delay = options.initialDelayMs ?? 5000;
  const start = clock.now();
  const deadline = start + options.timeoutMs;
  for (;;) {
    const result = await options.check();
    const elapsedMs = clock.now() - start;
    if (result.done) return { done: true, value: result.value, elapsedMs };
    const left = deadline - clock.now();
    if (left <= 0) return { done: false, last: result.value, elapsedMs };
    await clock.sleep(Math.min(delay, left));
    delay = Math.min(maxDelay, delay * factor);
  }
}
