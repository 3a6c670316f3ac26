import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import { formatDuration } from '../../worker/scenario/duration';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import type { Report } from '../report/types';
import { mapLimit } from '../merge/reader';
import { Problems } from '../options';
import { UsageError } from '../errors';
import { checkWhere, openWhere, whereOptions, type WhereFlags } from '../run/where';

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
export async function listRuns(store: Store, limit: number): Promise<RunListing[]> {
  const ids = (await store.listFolders(layout.runsPrefix)).slice(-limit);
  const rows = await mapLimit(ids, 8, async (runId): Promise<RunListing | undefined> => {
    const [plan, report] = await Promise.all([getJson<Plan>(store, layout.plan(runId)), getJson<Report>(store, layout.report(runId))]);
    if (!plan) return undefined;
    if (report) return { runId, scenario: plan.scenario.name, workers: plan.workers.length, startedAt: report.startedAt, status: report.status, durationS: report.durationS };
    const statuses = await Promise.all(plan.workers.map((w) => getJson<WorkerStatus>(store, layout.status(runId, w.index))));
    const states = statuses.map((s) => s?.state ?? 'pending');
    const status = states.some((s) => s === 'running' || s === 'starting' || s === 'stopping') ? 'running' : 'ended, not reported';
    return { runId, scenario: plan.scenario.name, workers: plan.workers.length, startedAt: plan.createdAt, status, durationS: null };
  });
  return rows.filter((r): r is RunListing => r !== undefined);
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
    const rows = await listRuns(store, limit);
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
