import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Rollup } from '../../worker/metrics/rollup';
import type { Plan } from '../../worker/plan/plan';
import { parseWorkerKey } from '../../worker/store/layout';

/** Slack around a run's planned window for clocks that disagree, ms. */
const CLOCK_SLACK_MS = 60 * 60 * 1000;

/**
 * Why a snapshot or roll-up read at `key` must not be merged, or undefined when it may. It must
 * be the one its key names (run, worker, sequence number or covered range and level), of a worker the plan has, well formed
 * (numbers where the merge adds numbers), and inside the run's time window (after the plan, not in the future).
 */
export function snapshotProblem(s: Snapshot, key: string, runId: string, plan: Plan | undefined): string | undefined {
  const where = parseWorkerKey(key);
  if (!where) return 'not a snapshot key';
  if (typeof s !== 'object' || s === null) return 'not a JSON object';
  const run = (s as { run?: unknown }).run;
  if (run !== undefined && run !== runId) return `written by run ${String(run)}, not ${runId}`;
  if (s.worker !== where.index) return `says worker ${String(s.worker)}, but is stored under worker ${where.index}`;
  const rolled = /^rollups\/(1m|1h)\/(\d+)-(\d+)\.json$/.exec(where.rest);
  if (rolled) {
    const info = (s as Partial<Rollup>).rollup;
    const [from, to] = [Number(rolled[2]), Number(rolled[3])];
    if (!info || info.level !== rolled[1] || info.seqFrom !== from || info.seqTo !== to || s.seq !== from) return `is not the ${rolled[1]} roll-up of snapshots ${from}-${to} its key names`;
    if (!(to >= from) || info.snapshots !== to - from + 1) return `covers ${String(info.snapshots)} snapshots, not ${to - from + 1}`;
    if (typeof info.saturatedCounts !== 'object' || info.saturatedCounts === null) return 'its saturated counts are missing';
  } else {
    const seq = Number(/^snapshots\/(\d+)\.json$/.exec(where.rest)?.[1]);
    if (s.seq !== seq) return `says sequence ${String(s.seq)}, but is stored as ${seq}`;
  }
  if (plan && (where.index < 0 || where.index >= plan.workers.length)) return `worker ${where.index} is not in the plan (${plan.workers.length} workers)`;
  if (!isFiniteNumber(s.start) || !isFiniteNumber(s.end) || s.end < s.start) return 'its interval is not two ordered epoch times';
  if (!isFiniteNumber(s.ops) || s.ops < 0) return 'its operation count is not a number';
  for (const field of ['histograms', 'counters', 'errors', 'generatorErrors'] as const) {
    if (typeof s[field] !== 'object' || s[field] === null) return `its ${field} are missing`;
  }
  for (const field of ['counters', 'errors', 'generatorErrors'] as const) {
    for (const [name, n] of Object.entries(s[field])) if (!isFiniteNumber(n) || n < 0) return `${field} ${name} is not a count`;
  }
  if (!s.bytes || !isFiniteNumber(s.bytes.sent) || !isFiniteNumber(s.bytes.received)) return 'its bytes are missing';
  if (!s.arrivals || !s.gauges || !s.health) return 'its arrivals, gauges or health are missing';
  // Workers may start late (a schedule finished by `attach`), so the window is open-ended
  // between the plan's creation and now.
  if (plan && s.start < plan.createdAt - CLOCK_SLACK_MS) return `its interval starts ${new Date(s.start).toISOString()}, before the run was planned`;
  if (s.end > Date.now() + CLOCK_SLACK_MS) return `its interval ends ${new Date(s.end).toISOString()}, in the future`;
  return undefined;
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
