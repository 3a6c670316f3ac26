import { layout } from '../../worker/store/layout';
import { putJson, type Store } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { mergeSnapshots } from '../merge/merge';
import type { RunReader } from '../merge/reader';
import { buildReport } from '../report/build';
import { renderHtml } from '../report/html';
import type { Report } from '../report/types';

/**
 * Rolling reports of a long run (plan.reportEveryMs, `--every`): while the CLI follows the run,
 * each period's own numbers go to runs/<runId>/reports/<n>-<periodEnd>.json and .html, n from 1.
 *
 * Contract: period n covers (t0 + (n−1)·every, t0 + n·every]; an interval (snapshot or roll-up)
 * belongs to the period its end falls in, so every interval is in exactly one period. A period
 * is written once, when its end is two snapshot intervals past (time for the last snapshots to
 * arrive), with status `running` (the verdict is the final report's). Store errors are the
 * caller's to tell; a period not written is tried again at the next call.
 */
export class RollingReports {
  private next = 1;

  constructor(
    private readonly store: Store,
    private readonly plan: Plan,
    /** Epoch ms the run started: period 1 begins here. */
    private readonly t0: number,
  ) {}

  /** Writes the periods that are due; returns the keys written. */
  async write(reader: RunReader, now: number): Promise<string[]> {
    const every = this.plan.reportEveryMs;
    if (!every) return [];
    const written: string[] = [];
    for (;;) {
      const to = this.t0 + this.next * every;
      if (now < to + 2 * this.plan.intervalMs) return written;
      const from = to - every;
      const items = reader.snapshots.filter((s: Snapshot) => s.end > from && s.end <= to);
      const report: Report = {
        ...buildReport({ plan: this.plan, merged: mergeSnapshots(items, this.plan.intervalMs, from), statuses: reader.statuses, now }),
        period: { index: this.next, from, to },
      };
      const key = rollingKey(this.plan.runId, this.next, to);
      await putJson(this.store, `${key}.json`, report);
      await this.store.put(`${key}.html`, renderHtml(report));
      written.push(`${key}.json`);
      this.next++;
    }
  }
}

/** runs/<runId>/reports/0003-20261206T100000Z: the period's number, then its end (UTC). */
export function rollingKey(runId: string, index: number, endMs: number): string {
  const stamp = new Date(endMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${layout.run(runId)}reports/${String(index).padStart(4, '0')}-${stamp}`;
}
