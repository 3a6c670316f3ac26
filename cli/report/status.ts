import { CUT_IN_FLIGHT } from '../../worker/engine/scope';
import type { Report } from './types';

/**
 * What made a run less than a clean pass, in a few words each, for the status line of every
 * output (text, HTML): users cut with operations in flight, workers not done, objects the merge
 * could not use, thresholds crossed, a stop. Empty for a clean pass.
 */
export function statusReasons(r: Report): string[] {
  const why: string[] = [];
  if (r.users.cut > 0) why.push(`${r.users.cut} user(s) cut with ${r.errors[CUT_IN_FLIGHT] ?? 0} operation(s) in flight`);
  const notDone = r.workers.filter((w) => w.state !== 'done');
  if (notDone.length > 0) why.push(`${notDone.length} worker(s) ${[...new Set(notDone.map((w) => w.state))].join('/')}`);
  if (r.unusable.length > 0) why.push(`${r.unusable.length} object(s) could not be merged`);
  if (r.warnings.includes(STOPPED_WARNING)) why.push('stopped early');
  // A search judges thresholds step by step (report.limit): whole-run results mix every step.
  const failed = r.limit ? 0 : r.thresholds.filter((t) => !t.ok).length;
  if (failed > 0) why.push(`${failed} threshold(s) crossed`);
  if (r.limit) why.push(`search ${r.limit.status}`);
  return why;
}

/** The warning a report carries when its run was stopped before the end of its load. */
export const STOPPED_WARNING = 'the run was stopped before the end of its load';
