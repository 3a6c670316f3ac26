import type { Plan, WorkerStatus } from '../../worker/plan/plan';

/** Slack past a worker's own hard stop before the CLI stops believing it may still run, ms. */
export const DEADLINE_SLACK_MS = 15_000;

/**
 * Epoch ms after which worker `index` cannot be running any more: its start (from its status,
 * else its planned start), its hard stop, and the slack. A status that still says running past
 * this is a lost worker's. One rule for `runs`, the report's re-render and the follow loop.
 */
export function workerDeadline(plan: Plan, index: number, status?: Pick<WorkerStatus, 'startedAt'>): number {
  const start = status?.startedAt ?? plan.createdAt + (plan.workers[index]?.startOffsetMs ?? 0);
  return start + plan.hardStopMs + DEADLINE_SLACK_MS;
}
