import { distribute } from '../plan/split';
import type { PlannedSearch } from '../plan/search';
import type { SearchStep } from '../control/steps';

/** What the search needs of the engine (worker/engine/engine.ts searchPort). */
export interface SearchPort {
  /** True once the engine was stopped (stop marker, signal): the search returns. */
  readonly stopped: boolean;
  /** Sleeps `ms`, or less when the engine is stopped. */
  sleep(ms: number): Promise<void>;
  /** One open-model arrival, due `lagMs` ago: dropped at maxUsers, counted without identities, or launched. */
  arrive(lagMs: number): void;
  /**
   * `n` arrivals of a step that this worker reached only after the step had ended (its loop was
   * late): never launched, so no step is judged on load it did not offer in its window; counted.
   */
  missed(n: number): void;
  /** Starts closed-model user `slot` of this worker (identity first + slot), looping while `keepGoing()`. */
  startUser(slot: number, keepGoing: () => boolean): void;
}

/** Where the steps come from (worker/control/steps.ts StepReader). */
export interface StepSource {
  poll(): Promise<boolean>;
  current(now: number): SearchStep | undefined;
  next(s: SearchStep | undefined): SearchStep | undefined;
}

export interface SearchRunProps {
  readonly search: PlannedSearch;
  /** This worker's index and the number of workers: open arrivals k % of === index, closed users by `distribute`. */
  readonly index: number;
  readonly of: number;
  readonly steps: StepSource;
  /** Called at each step's start and end (a snapshot is cut there, so no snapshot spans two steps). */
  readonly onBoundary: () => void;
  /** How often the store is asked for new steps, ms. @default 500 */
  readonly pollMs?: number;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Why a search's load ended: `stopped` (the engine was stopped: stop marker, signal),
 * `no-first-step` (no step within search.startTimeoutMs of this worker's start),
 * `no-decision` (no next step within search.decisionTimeoutMs of the current step's end).
 */
export type SearchEnd = 'stopped' | 'no-first-step' | 'no-decision';

/** The longest the loop sleeps before looking at the steps again, ms. */
const LOOK_MS = 100;
/** How late into a step a worker may join and still make up the arrivals it missed, ms. */
const LATE_MS = 1000;
/** Past-due arrivals launched in a row before the loop yields to the event loop. */
const BURST = 64;

/**
 * Runs one worker's part of a breaking-point search. Every worker follows the same step objects
 * on the same epoch times, so the farm moves from step to step together. Open model: arrival k
 * of a step (k = 0, 1, 2, … from the step's `startAt`) is due at startAt + k / rate s; this worker
 * takes k % of === index.
 * Between a step's end and the next step's start (the CLI deciding) no new arrivals come, so a
 * step that broke does not carry its backlog into the next one. Closed model: this worker runs
 * its `distribute` part of the step's users, and they keep going between steps; users beyond
 * it finish their iteration and end. Safe default without the CLI: see SearchEnd.
 */
export async function runSearch(p: SearchRunProps, port: SearchPort): Promise<SearchEnd> {
  const now = p.now ?? Date.now;
  const pollMs = p.pollMs ?? 500;
  const t0 = now();
  let lastPoll = -Infinity;
  let polling = false;
  const look = (t: number) => {
    if (polling || t - lastPoll < pollMs) return;
    lastPoll = t;
    polling = true;
    void p.steps.poll().finally(() => (polling = false));
  };
  // Closed model: per slot, a generation; a user keeps going while its slot's generation is its own.
  const gens: number[] = [];
  const alive: boolean[] = [];
  const resize = (users: number) => {
    const mine = distribute(users, p.of)[p.index];
    for (let j = 0; j < Math.max(mine, alive.length); j++) {
      if (j < mine && !alive[j]) {
        alive[j] = true;
        const g = (gens[j] = (gens[j] ?? 0) + 1);
        port.startUser(j, () => gens[j] === g && !port.stopped);
      } else if (j >= mine && alive[j]) {
        alive[j] = false;
        gens[j]++;
      }
    }
  };

  let seg: SearchStep | undefined;
  let k = 0;
  let endCut = false;
  let burst = 0;
  while (!port.stopped) {
    const t = now();
    look(t);
    const cur = p.steps.current(t);
    if (cur === undefined) {
      if (t - t0 > p.search.startTimeoutMs) return 'no-first-step';
      await port.sleep(LOOK_MS);
      continue;
    }
    if (cur !== seg) {
      seg = cur;
      k = p.index;
      // Joining a step late (a slow start, a store that lagged): arrivals due over LATE_MS ago are not made up in a burst.
      const behindMs = t - cur.startAt - LATE_MS;
      if (behindMs > 0 && cur.rate > 0) k += Math.floor((behindMs * cur.rate) / 1000 / p.of) * p.of;
      endCut = false;
      p.onBoundary();
      if (p.search.model === 'closed') resize(cur.rate);
    }
    if (!endCut && t >= cur.endAt) {
      endCut = true;
      p.onBoundary();
    }
    const next = p.steps.next(cur);
    if (next === undefined && t >= cur.endAt + p.search.decisionTimeoutMs) return 'no-decision';
    let wakeAt = t + LOOK_MS;
    if (next !== undefined) wakeAt = Math.min(wakeAt, next.startAt);
    if (!endCut) wakeAt = Math.min(wakeAt, cur.endAt);
    if (p.search.model === 'open' && cur.rate > 0) {
      if (t >= cur.endAt) {
        // The step is over: what it still owed this worker is missed, not launched into the gap.
        const owed = Math.ceil(((cur.endAt - cur.startAt) * cur.rate) / 1000);
        if (k < owed) {
          const n = Math.ceil((owed - k) / p.of);
          port.missed(n);
          k += n * p.of;
        }
      }
      const due = cur.startAt + (k * 1000) / cur.rate;
      const inStep = due < cur.endAt;
      if (inStep && due <= t && burst < BURST) {
        port.arrive(t - due);
        k += p.of;
        burst++;
        continue;
      }
      if (inStep) wakeAt = Math.min(wakeAt, due);
    }
    burst = 0;
    await port.sleep(Math.max(0, wakeAt - now()));
  }
  return 'stopped';
}
