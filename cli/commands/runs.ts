import { workerDeadline } from '../run/deadline';
import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import { formatDuration } from '../../worker/scenario/duration';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import type { Report } from '../report/types';
import { mapLimit } from '../merge/reader';
import { Problems } from '../options';
import { UsageError } from '../errors';
import { checkWhere, openWhere, whereFlagsText, whereOptions, type WhereFlags } from '../run/where';
import { readFleetRecord, type FleetRecord } from '../fleet/record';

export interface RunListing {
  runId: string;
  scenario: string;
  workers: number;
  startedAt: number;
  /** The report's status, or what the workers' statuses say while there is no report. */
  status: string;
  durationS: number | null;
}

/** Lists the newest `limit` runs in a store: from report.json when there is one, else plan and statuses. */
export async function listRuns(store: Store, limit: number, now = Date.now(), where = ''): Promise<RunListing[]> {
  const ids = (await store.listFolders(layout.runsPrefix)).slice(-limit);
  const rows = await mapLimit(ids, 8, async (runId): Promise<RunListing | undefined> => {
    const [plan, report] = await Promise.all([getJson<Plan>(store, layout.plan(runId)), getJson<Report>(store, layout.report(runId))]);
    if (!plan) return undefined;
    if (report) return { runId, scenario: plan.scenario.name, workers: plan.workers.length, startedAt: report.startedAt, status: report.status, durationS: report.durationS };
    const [statuses, record] = await Promise.all([
      Promise.all(plan.workers.map((w) => getJson<WorkerStatus>(store, layout.status(runId, w.index)))),
      readFleetRecord(store, runId),
    ]);
    let status = liveStatus(plan, statuses, record, now, where);
    if (status === 'running') {
      // A soak says how old it is and which rolling report is the latest.
      const periods = plan.reportEveryMs ? await store.list(`${layout.run(runId)}reports/`) : [];
      const last = periods.filter((k) => k.endsWith('.json')).pop();
      status += ` for ${formatDuration(now - plan.createdAt)}${last ? `, last period ${last.slice(last.lastIndexOf('/') + 1, -'.json'.length)}` : ''}`;
    }
    return { runId, scenario: plan.scenario.name, workers: plan.workers.length, startedAt: plan.createdAt, status, durationS: null };
  });
  return rows.filter((r): r is RunListing => r !== undefined);
}

/** A fleet record that says its process is starting workers, unchanged for this long, was left by a process that is gone, ms. */
const STARTER_GONE_MS = 30_000;

/**
 * What a run without a report is doing, from the workers' statuses and the fleet record:
 * `running` while a worker runs within its deadline (or a live process is still starting
 * workers); `interrupted: …` when workers were never started by a process that is gone;
 * `ended, not reported` once every worker has ended or is past its deadline.
 */
export function liveStatus(plan: Plan, statuses: (WorkerStatus | undefined)[], record: FleetRecord | undefined, now: number, where = ''): string {
  const running = statuses.some((st, i) => {
    if (!st || (st.state !== 'running' && st.state !== 'starting' && st.state !== 'stopping')) return false;
    return now < workerDeadline(plan, i, st);
  });
  const waiting = record?.workers.filter((w) => w.start === 'not-started').length ?? 0;
  const starterAlive = record !== undefined && record.starting && now - record.updatedAt < STARTER_GONE_MS;
  if (waiting > 0 && !starterAlive) return `interrupted: ${waiting} worker(s) not started (\`loadfarm attach ${plan.runId}${where ? ` ${where}` : ''}\` starts them)`;
  if (running || starterAlive) return 'running';
  return 'ended, not reported';
}

export function runsCommand(): Command {
  return whereOptions(
    new Command('runs').description('list the runs in a store, newest last').option('-n, --limit <n>', 'how many', '20'),
  ).action(async (flags: WhereFlags & { limit: string }) => {
    const p = new Problems();
    const limit = p.int('--limit', flags.limit, 1, 10_000) ?? 20;
    checkWhere(p, flags);
    if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
    const { store } = await openWhere(flags);
    const rows = await listRuns(store, limit, Date.now(), whereFlagsText(flags));
    if (rows.length === 0) {
      process.stdout.write(`no runs in ${store.url}\n`);
      return;
    }
    const lines = rows.map((r) => [r.runId, r.scenario, r.status, new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19), r.durationS === null ? '-' : formatDuration(r.durationS * 1000), String(r.workers)]);
    const head = ['run', 'scenario', 'status', 'started (UTC)', 'duration', 'workers'];
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    for (const l of [head, ...lines]) process.stdout.write(`${l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  });
}
