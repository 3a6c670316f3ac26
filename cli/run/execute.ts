import { layout } from '../../worker/store/layout';
import { putJson, type Store } from '../../worker/store/store';
import { mergeSnapshots } from '../merge/merge';
import { RunReader } from '../merge/reader';
import { buildReport } from '../report/build';
import { ProgressTracker, type ProgressView } from './progress';
import type { Plan } from '../../worker/plan/plan';
import type { Fleet, FleetWorkerState } from '../fleet/fleet';
import type { Report } from '../report/types';
import type { Snapshot } from '../../worker/metrics/snapshot';

export interface ExecuteOptions {
  store: Store;
  fleet: Fleet;
  plan: Plan;
  scenarioCode: string;
  /** The argv that starts worker `index`. */
  command: (index: number) => string[];
  /** Called about every `pollMs` while the run goes on. */
  onProgress?: (view: ProgressView) => void;
  /** Called with each batch of snapshots as they arrive. */
  onSnapshots?: (fresh: Snapshot[]) => void;
  /** Aborting it stops the run: a stop marker for the workers, a cancel through the fleet. */
  stopSignal?: AbortSignal;
  /** @default 1000 */
  pollMs?: number;
}

/** Slack beyond a worker's own hard stop before the CLI gives it up as lost, ms. */
const LOST_AFTER_MS = 15_000;

/**
 * Runs a planned load test on a fleet: writes plan and scenario to the store, starts worker i at
 * t0 + i·stagger, follows snapshots and fleet states until every worker has ended (or is given up
 * as lost), then merges everything into the report, which it also writes to the store.
 */
export async function executeRun(o: ExecuteOptions): Promise<Report> {
  const { store, fleet, plan } = o;
  const pollMs = o.pollMs ?? 1000;
  await store.put(layout.scenario(plan.runId), o.scenarioCode);
  await putJson(store, layout.plan(plan.runId), plan);

  const reader = new RunReader(store, plan.runId);
  const tracker = new ProgressTracker();
  const states = new Map<number, FleetWorkerState>(plan.workers.map((w) => [w.index, { state: 'pending' }]));
  let stopped = false;
  const t0 = Date.now();
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await store.put(layout.stop(plan.runId), String(Date.now()));
    await Promise.all(plan.workers.map((w) => (states.get(w.index)?.state === 'running' ? fleet.cancel(w.index) : undefined)));
  };
  const onStop = () => void stopAll().catch(() => undefined);
  o.stopSignal?.addEventListener('abort', onStop, { once: true });
  if (o.stopSignal?.aborted) onStop();

  // Start workers on the stagger schedule, while the watch loop below runs.
  const starting = (async () => {
    for (const w of plan.workers) {
      const wait = t0 + w.startOffsetMs - Date.now();
      if (wait > 0) await sleep(wait, () => stopped);
      if (stopped) {
        states.set(w.index, { state: 'exited', exitCode: 0, detail: 'not started: the run was stopped' });
        continue;
      }
      try {
        await fleet.start(w.index, o.command(w.index));
        states.set(w.index, { state: 'running' });
      } catch (err) {
        states.set(w.index, { state: 'lost', detail: `could not be started: ${(err as Error).message}` });
      }
    }
  })();

  const lastStart = t0 + Math.max(...plan.workers.map((w) => w.startOffsetMs));
  const giveUpAt = lastStart + plan.hardStopMs + LOST_AFTER_MS;
  for (;;) {
    await sleep(pollMs);
    await Promise.all(
      plan.workers.map(async (w) => {
        const s = states.get(w.index)!;
        if (s.state === 'running') states.set(w.index, await fleet.status(w.index));
      }),
    );
    const fresh = await reader.refresh();
    tracker.add(fresh);
    if (fresh.length > 0) o.onSnapshots?.(fresh);
    o.onProgress?.(tracker.view(Date.now() - t0, [...states.values()]));
    const allEnded = [...states.values()].every((s) => s.state === 'exited' || s.state === 'lost');
    if (allEnded) break;
    if (Date.now() > giveUpAt) {
      for (const [i, s] of states) if (s.state === 'running' || s.state === 'pending') states.set(i, { state: 'lost', detail: 'no end reported by its deadline' });
      break;
    }
  }
  await starting;
  o.stopSignal?.removeEventListener('abort', onStop);
  const last = await reader.refresh();
  if (last.length > 0) o.onSnapshots?.(last);
  const merged = mergeSnapshots(reader.snapshots, plan.intervalMs);
  const report = buildReport({ plan, merged, statuses: reader.statuses, fleet: states, stopped });
  await putJson(store, layout.report(plan.runId), report);
  return report;
}

function sleep(ms: number, cancelled?: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (!cancelled) return void setTimeout(resolve, ms);
    const started = Date.now();
    const tick = () => (cancelled() || Date.now() - started >= ms ? resolve() : setTimeout(tick, Math.min(100, ms)));
    tick();
  });
}
