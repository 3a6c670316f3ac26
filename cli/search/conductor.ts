import { layout } from '../../worker/store/layout';
import { getJson, putNewJson, type Store } from '../../worker/store/store';
import { stepProblem, type SearchStep } from '../../worker/control/steps';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Plan } from '../../worker/plan/plan';
import { WARMUP_MS, type PlannedSearch } from '../../worker/plan/search';
import type { Limit, LimitStep } from '../report/limit';
import { decide } from './decide';
import { evaluateStep, stepOf } from './evaluate';

export interface SearchConductorProps {
  readonly store: Store;
  /** A plan with `search`. */
  readonly plan: Plan & { search: PlannedSearch };
  /**
   * How far ahead of now a step is announced, ms: every worker must see it (they look every
   * 500 ms) before it starts. @default 1500
   */
  readonly leadMs?: number;
  /** One line for the person per decision. @default none */
  readonly onNote?: (line: string) => void;
}

/** A worker as the follow loop sees it: still going, or ended. */
export interface WorkerView {
  readonly index: number;
  readonly ended: boolean;
}

/**
 * The CLI's side of a search: announces each step to every worker through the store
 * (control/steps/<n>.json), gathers the snapshots of each step as they come, and once every
 * worker still going has written a snapshot ending at or after the step's end, judges the step
 * on the merged data (evaluateStep), writes the verdict (control/results/<n>.json) and announces
 * the next step or ends the search (decide). Decisions are farm-wide, never per worker.
 *
 * `resume()` reads what an earlier CLI announced and judged, so `attach` carries a search on.
 * Store failures are thrown to the follow loop, which retries the tick on its next poll.
 */
export class SearchConductor {
  readonly steps: SearchStep[] = [];
  readonly results: LimitStep[] = [];
  private readonly byStep = new Map<number, Snapshot[]>();
  private readonly lastEnd = new Map<number, number>();
  private outcome: Limit | undefined;
  private readonly leadMs: number;

  constructor(private readonly p: SearchConductorProps) {
    this.leadMs = p.leadMs ?? 1500;
  }

  /** The search's outcome once decided. */
  get limit(): Limit | undefined {
    return this.outcome;
  }

  /** Reads the steps and verdicts already in the store (a search followed again by `attach`). */
  async resume(): Promise<void> {
    const { store, plan } = this.p;
    const stepKeys = await store.list(layout.searchStepsPrefix(plan.runId));
    for (let n = 0; stepKeys.includes(layout.searchStep(plan.runId, n)); n++) {
      const s = await getJson<SearchStep>(store, layout.searchStep(plan.runId, n));
      if (stepProblem(s, n)) break;
      this.steps.push(s!);
    }
    for (const s of this.steps) {
      const r = await getJson<LimitStep>(store, layout.searchResult(plan.runId, s.step));
      if (!r) break;
      this.results.push(r);
    }
    if (this.results.length > 0 && this.results.length === this.steps.length) {
      const d = decide(plan.search, this.judged(), plan.workers.length);
      if (d.kind === 'done') this.outcome = d.limit;
    }
  }

  /** Takes new snapshots: each is kept for the step whose window holds it. */
  add(fresh: readonly Snapshot[]): void {
    for (const s of fresh) {
      this.lastEnd.set(s.worker, Math.max(this.lastEnd.get(s.worker) ?? 0, s.end));
      const step = stepOf(this.steps, s);
      if (step === undefined || this.results.length > step.step) continue;
      const list = this.byStep.get(step.step);
      if (list) list.push(s);
      else this.byStep.set(step.step, [s]);
    }
  }

  /**
   * One poll of the follow loop: announces the first step once every worker is going, judges a
   * step whose data is complete and announces the next. Returns true once the search is decided
   * (the run is to be stopped).
   */
  async tick(workers: readonly WorkerView[], now = Date.now()): Promise<boolean> {
    if (this.outcome) return true;
    const { plan, store } = this.p;
    const last = this.steps[this.steps.length - 1];
    if (last === undefined) {
      if (workers.every((w) => w.ended)) return false;
      // Every worker is going (the caller waits for that), so all start together: a warm-up at
      // `from` (connections, JIT; never judged), then the first step right after it.
      const rate = plan.search.ladder[0];
      const warm = await this.announce(rate, false, now + this.leadMs, Math.min(plan.search.stepMs, WARMUP_MS), true);
      await this.announce(rate, false, warm.endAt);
      return false;
    }
    for (const s of this.steps.slice(this.results.length)) {
      if (now < s.endAt) return false;
      if (!workers.every((w) => w.ended || (this.lastEnd.get(w.index) ?? 0) >= s.endAt)) return false;
      const judged = evaluateStep(plan, s, this.byStep.get(s.step) ?? []);
      const result: LimitStep = s.warmup ? { ...judged, verdict: 'warm-up', broke: [] } : judged;
      await putNewJson(store, layout.searchResult(plan.runId, s.step), result);
      this.results.push(result);
      this.byStep.delete(s.step);
      const broke = result.broke[0];
      if (!s.warmup) {
        this.p.onNote?.(
          `search step ${this.judged().length}${s.refine ? ' (refine)' : ''}: ${s.rate} ${plan.search.model === 'closed' ? 'users' : 'arrivals/s'} → ${result.verdict}` +
            (result.verdict === 'broke' && broke ? ` (${broke.metric} ${broke.expression}: ${broke.actual ?? 'not recorded'})` : ''),
        );
      }
    }
    const d = decide(plan.search, this.judged(), plan.workers.length);
    if (d.kind === 'done') {
      this.outcome = d.limit;
      return true;
    }
    await this.announce(d.rate, d.refine, now + this.leadMs);
    return false;
  }

  /** The steps judged, without the warm-up. */
  private judged(): LimitStep[] {
    return this.results.filter((r) => r.verdict !== 'warm-up');
  }

  /** The outcome when the run ended before the search was decided: `interrupted`, with the steps judged. */
  interrupted(): Limit {
    const s = this.p.plan.search;
    const held = this.judged().filter((x) => x.verdict === 'held').map((x) => x.offered);
    const broke = this.judged().filter((x) => x.verdict === 'broke').map((x) => x.offered);
    return {
      model: s.model,
      unit: s.model === 'closed' ? 'users' : 'arrivals/s',
      status: 'interrupted',
      sustained: held.length > 0 ? Math.max(...held) : null,
      brokeAt: broke.length > 0 ? Math.min(...broke) : null,
      reason: `the run ended after ${this.judged().length} judged step(s), before the search was decided (stopped, or workers ended)`,
      steps: this.judged(),
    };
  }

  private async announce(rate: number, refine: boolean, startAt: number, ms = this.p.plan.search.stepMs, warmup = false): Promise<SearchStep> {
    const { plan, store } = this.p;
    const step: SearchStep = { v: 1, step: this.steps.length, rate, startAt, endAt: startAt + ms, refine, ...(warmup ? { warmup } : {}) };
    await putNewJson(store, layout.searchStep(plan.runId, step.step), step);
    this.steps.push(step);
    return step;
  }
}
