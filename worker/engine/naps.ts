import { StopError } from '../protocols/errors';
import { onAbort } from './abort';
import { TIMER_MAX_MS } from '../scenario/limits';

/**
 * Users' thinks (`u.think`), many per worker, on few timers: thinks that wake in the same
 * millisecond share one timer (a think's wake time is rounded UP to the millisecond, so that it
 * is never early), and one promise. The common "until the load ends" (`u.think(u.endsIn() / 1000)`)
 * is one timer and one promise for every user of a worker: a waiting user holds nothing of its own.
 *
 * When `signal` aborts (users cut), every pending think of it rejects with a StopError.
 */
interface Wake {
  timer: NodeJS.Timeout;
  /** Every think that wakes at this time shares it. */
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Sleepers {
  /** By due time, performance.now() ms, whole. */
  byDue: Map<number, Wake>;
}

const bySignal = new WeakMap<AbortSignal, Sleepers>();

/**
 * Resolves after `ms` (never before), or rejects with a StopError when `signal` aborts first.
 * Thinks that wake in the same millisecond get the same promise.
 */
export function nap(signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.reject(new StopError());
  let s = bySignal.get(signal);
  if (s === undefined) {
    const sleepers: Sleepers = { byDue: new Map() };
    bySignal.set(signal, (s = sleepers));
    onAbort(signal, () => stopAll(sleepers));
  }
  const now = performance.now();
  const due = Math.ceil(now + ms);
  let w = s.byDue.get(due);
  if (w === undefined) {
    const wake = {} as Wake;
    wake.promise = new Promise<void>((resolve, reject) => {
      wake.resolve = resolve;
      wake.reject = reject;
    });
    // Node's timers count whole milliseconds from their own clock: ask for one more, and the
    // wake-up re-checks the clock, so that no think ends before its time.
    wake.timer = setTimeout(fire, delay(due - now), s, due, wake);
    s.byDue.set(due, (w = wake));
  }
  return w.promise;
}

/** A timer's delay for `left` ms: one more (whole ms), at most what Node's timers take (longer ones wake again). */
function delay(left: number): number {
  return Math.min(TIMER_MAX_MS, Math.max(1, Math.ceil(left) + 1));
}

function fire(s: Sleepers, due: number, w: Wake): void {
  const left = due - performance.now();
  if (left > 0) {
    w.timer = setTimeout(fire, delay(left), s, due, w);
    return;
  }
  s.byDue.delete(due);
  w.resolve();
}

function stopAll(s: Sleepers): void {
  const wakes = [...s.byDue.values()];
  s.byDue.clear();
  for (const w of wakes) {
    clearTimeout(w.timer);
    w.reject(new StopError());
  }
}
