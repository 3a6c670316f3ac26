import { getJson } from '../../worker/store/store';
import { layout } from '../../worker/store/layout';
import type { Store } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import type { PlannedSearch } from '../../worker/plan/search';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { RunReader } from '../merge/reader';
import type { Report } from '../report/types';
import { STOPPED_WARNING } from '../report/status';
import { applyAbort, applyLimit, type AbortRecord } from '../report/limit';
import { describeError } from '../aws/error-kind';
import { SearchConductor } from './conductor';
import { AbortWatch } from './abort';

/**
 * What the follow loop (cli/run/execute.ts) does for a run's farm-wide decisions: a search's
 * steps (SearchConductor) and abort on fail (AbortWatch). `tick` never throws: a store failure
 * is told as a note and the decision is tried again on the next poll; the workers keep their
 * safe defaults meanwhile (worker/engine/search.ts).
 */
export class RunControl {
  private readonly conductor: SearchConductor | undefined;
  private readonly watch: AbortWatch | undefined;
  private resumed = false;
  private aborted: AbortRecord | undefined;

  private constructor(
    private readonly plan: Plan,
    private readonly store: Store,
    private readonly onNote: (line: string) => void,
  ) {
    if (plan.search) this.conductor = new SearchConductor({ store, plan: plan as Plan & { search: PlannedSearch }, onNote });
    if (plan.abortOnFail?.length) this.watch = new AbortWatch(store, plan, plan.intervalMs);
  }

  /** The control a run needs, or undefined for a run with neither a search nor abortOnFail. */
  static for(store: Store, plan: Plan, onNote: (line: string) => void = () => undefined): RunControl | undefined {
    return plan.search || plan.abortOnFail?.length ? new RunControl(plan, store, onNote) : undefined;
  }

  /**
   * One poll: takes the fresh snapshots; unless the run is already stopping, decides. Returns
   * true when the run is to be stopped now (the search is decided, or a threshold failed).
   * `ended(i)`: worker i has ended; the reader's statuses say which workers are running.
   */
  async tick(fresh: readonly Snapshot[], reader: RunReader, ended: (index: number) => boolean, stopping: boolean): Promise<boolean> {
    try {
      if (!this.resumed && this.conductor) await this.conductor.resume();
      this.resumed = true;
      this.conductor?.add(fresh);
      if (stopping) return false;
      if (this.watch) {
        this.aborted = await this.watch.check(reader.snapshots);
        if (this.aborted) {
          this.onNote(`threshold ${this.aborted.metric} ${this.aborted.expression} failed (${this.aborted.actual}) ${this.aborted.afterS} s into the run: stopping every worker (abortOnFail)`);
          return true;
        }
      }
      if (!this.conductor) return false;
      const workers = this.plan.workers.map((w) => ({ index: w.index, ended: ended(w.index), ready: reader.statuses.get(w.index)?.state === 'running' }));
      // The first step waits until every worker not ended is running, so all start it together.
      const view = this.conductor.steps.length === 0 && workers.some((w) => !w.ended && !w.ready) ? [] : workers;
      return view.length > 0 && (await this.conductor.tick(view));
    } catch (err) {
      this.onNote(`could not carry on the run's decisions (${describeError(err)}): trying again`);
      return false;
    }
  }

  /**
   * For a re-render (`loadfarm report`): reads the search's steps and verdicts and the abort
   * record from the store, so that `finish` gives the report the live run gave.
   */
  async restore(): Promise<void> {
    if (this.conductor) await this.conductor.resume();
    this.resumed = true;
    if (this.watch) this.aborted = await getJson<AbortRecord>(this.store, layout.abort(this.plan.runId));
  }

  /** The report with the search's limit and the threshold that stopped the run, if any. */
  finish(r: Report): Report {
    let out = r;
    if (this.conductor) out = applyLimit(out, this.conductor.limit ?? this.conductor.interrupted(), STOPPED_WARNING);
    if (this.aborted) out = applyAbort(out, this.aborted);
    return out;
  }
}
