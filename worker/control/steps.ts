import { layout } from '../store/layout';
import { getJson, type Store } from '../store/store';

/**
 * One step of a breaking-point search as the CLI announces it to every worker
 * (store: runs/<runId>/control/steps/<n>.json, written once, never rewritten).
 *
 * From `startAt` (epoch ms) every worker offers `rate` (farm-wide: arrivals per second in the
 * open model, users in the closed model) until `endAt`; the step is measured over [startAt,
 * endAt). Between `endAt` and the next step (the CLI is deciding) open-model workers start no new
 * arrivals and closed-model users keep going; with no next step `decisionTimeoutMs` (plan) after
 * `endAt` a worker ends its load (its safe default without the CLI).
 * The run's stop marker ends a search like any run.
 */
export interface SearchStep {
  v: 1;
  /** 0, 1, 2, … in order. */
  step: number;
  rate: number;
  startAt: number;
  endAt: number;
  /** True for a bisecting step after the first one that broke. */
  refine: boolean;
  /** True for the warm-up before the first step: run like a step, never judged. */
  warmup?: boolean;
}

/** A step object's problem, or undefined when it can be followed. */
export function stepProblem(s: unknown, n: number): string | undefined {
  if (typeof s !== 'object' || s === null) return 'not an object';
  const o = s as Record<string, unknown>;
  if (o.step !== n) return `its step is ${JSON.stringify(o.step)}, not ${n}`;
  for (const f of ['rate', 'startAt', 'endAt'] as const) {
    if (typeof o[f] !== 'number' || !Number.isFinite(o[f]) || (o[f] as number) < 0) return `${f} is not a number >= 0`;
  }
  if ((o.endAt as number) <= (o.startAt as number)) return 'endAt is not after startAt';
  return undefined;
}

/**
 * Follows a run's search steps in the store. `poll()` lists only keys after the last one read
 * and returns whether anything new came; `steps` holds every step read, in order. A step that
 * cannot be read now is tried again next poll (nothing after it is taken before it); one that is
 * malformed is skipped with a note through `log`. Never throws: a failing store is a poll that
 * brings nothing (the worker's timeouts bound what it does without the CLI).
 */
export class StepReader {
  readonly steps: SearchStep[] = [];
  private readonly skipped = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async poll(): Promise<boolean> {
    const prefix = layout.searchStepsPrefix(this.runId);
    let keys: string[];
    try {
      const after = this.steps.length > 0 ? layout.searchStep(this.runId, this.steps.length - 1) : undefined;
      keys = await this.store.list(prefix, { startAfter: after });
    } catch {
      // Listed again next poll; the worker's timeouts bound a search without the store.
      return false;
    }
    let added = false;
    for (const key of keys) {
      const n = this.steps.length;
      if (key !== layout.searchStep(this.runId, n) || this.skipped.has(key)) continue;
      let s: unknown;
      try {
        s = await getJson<SearchStep>(this.store, key);
      } catch {
        return added;
      }
      const problem = stepProblem(s, n);
      if (problem) {
        this.skipped.add(key);
        this.log(`search step ${key}: ${problem}; ignored`);
        return added;
      }
      this.steps.push(s as SearchStep);
      added = true;
    }
    return added;
  }

  /** The step in force at `now` (epoch ms): the latest whose startAt has come; undefined before the first. */
  current(now: number): SearchStep | undefined {
    for (let i = this.steps.length - 1; i >= 0; i--) if (this.steps[i].startAt <= now) return this.steps[i];
    return undefined;
  }

  /** The step announced after `s`, if any. */
  next(s: SearchStep | undefined): SearchStep | undefined {
    return this.steps[s === undefined ? 0 : s.step + 1];
  }
}
