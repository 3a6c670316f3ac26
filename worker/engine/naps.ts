import { StopError } from '../protocols/errors';
import { onAbort } from './abort';

/**
 * Users' thinks (`u.think`), many per worker, on few timers: thinks that wake in the same
 * millisecond share one timer (a think's wake time is rounded UP to the millisecond, so that it
 * is never early). The common "until the load ends" (`u.think(u.endsIn() / 1000)`) is one timer
 * for every user of a worker, and a waiting user holds only its promise and its place in a list.
 *
 * When `signal` aborts (users cut), every pending think of it rejects with a StopError.
 */
interface Wake {
  timer: NodeJS.Timeout;
  resolves: (() => void)[];
  rejects: ((err: Error) => void)[];
}

interface Sleepers {
  /** By due time, performance.now() ms, whole. */
  byDue: Map<number, Wake>;
}

const bySignal = new WeakMap<AbortSignal, Sleepers>();

/** Resolves after `ms` (never before), or rejects with a StopError when `signal` aborts first. */
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
    const wake: Wake = { timer: undefined!, resolves: [], rejects: [] };
    // Node's timers count whole milliseconds from their own clock: ask for one more, and the
    // wake-up re-checks the clock, so that no think ends before its time.
    wake.timer = setTimeout(fire, Math.max(1, due - now + 1), s, due, wake);
    s.byDue.set(due, (w = wake));
  }
  const wake = w;
  return new Promise<void>((resolve, reject) => {
    wake.resolves.push(resolve);
    wake.rejects.push(reject);
  });
}

function fire(s: Sleepers, due: number, w: Wake): void {
  const left = due - performance.now();
  if (left > 0) {
    w.timer = setTimeout(fire, Math.ceil(left) + 1, s, due, w);
    return;
  }
  s.byDue.delete(due);
  for (let i = 0; i < w.resolves.length; i++) w.resolves[i]();
}

function stopAll(s: Sleepers): void {
  const wakes = [...s.byDue.values()];
  s.byDue.clear();
  for (const w of wakes) {
    clearTimeout(w.timer);
    for (let i = 0; i < w.rejects.length; i++) w.rejects[i](new StopError());
  }
}

/** Thinks pending on `signal` (for tests). */
export function napsPending(signal: AbortSignal): number {
  let n = 0;
  for (const w of bySignal.get(signal)?.byDue.values() ?? []) n += w.resolves.length;
  return n;
}
