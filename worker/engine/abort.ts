/**
 * Many waiters on one AbortSignal: EventTarget walks its whole listener list on every add, so
 * thousands of users each adding a listener to the run's signal costs quadratic time. Waiters
 * register here instead; the signal gets one listener, which calls them all once.
 */
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `fn` once when `signal` aborts; the returned function unregisters it. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiters.get(signal);
  if (!set) {
    const all = new Set<() => void>();
    set = all;
    waiters.set(signal, all);
    signal.addEventListener(
      'abort',
      () => {
        const list = [...all];
        all.clear();
        for (const f of list) f();
      },
      { once: true },
    );
  }
  set.add(fn);
  return () => set!.delete(fn);
}
