import { layout } from '../../worker/store/layout';
import { putJson, type Store } from '../../worker/store/store';
import { mergeSnapshots } from '../merge/merge';
import { RunReader } from '../merge/reader';
import { buildReport } from '../report/build';
import { ProgressTracker, type ProgressView } from './progress';
import type { Plan } from '../../worker/plan/plan';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Fleet, FleetWorkerState } from '../fleet/fleet';
import type { Report } from '../report/types';

export interface FollowOptions {
  store: Store;
  fleet: Fleet;
  plan: Plan;
  /** Called about every `pollMs` while the run goes on. */
  onProgress?: (view: ProgressView) => void;
  /** Called with each batch of snapshots as they arrive. */
  onSnapshots?: (fresh: Snapshot[]) => void;
  /** Aborting it stops the run: a stop marker for the workers, a cancel through the fleet. */
  stopSignal?: AbortSignal;
  /** @default 1000 */
  pollMs?: number;
}

export interface ExecuteOptions extends FollowOptions {
  scenarioCode: string;
  /** The argv that starts worker `index`. */
  command: (index: number) => string[];
  /** Called once every worker has been started (or failed to). */
  onStarted?: () => Promise<void>;
}

/** Slack beyond a worker's own hard stop before the CLI gives it up as lost, ms. */
const LOST_AFTER_MS = 15_000;

/** What the CLI knows of a run while it follows it. */
class Session {
  readonly states: Map<number, FleetWorkerState>;
  /** Workers the fleet accepted (or, when following, all of them). */
  readonly started = new Set<number>();
  stopped = false;

  constructor(
    readonly o: FollowOptions,
    initial: FleetWorkerState['state'],
  ) {
    this.states = new Map(o.plan.workers.map((w) => [w.index, { state: initial } as FleetWorkerState]));
    if (initial === 'running') for (const w of o.plan.workers) this.started.add(w.index);
  }

  /** Writes the stop marker and cancels running workers; they still write their last snapshot. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.o.store.put(layout.stop(this.o.plan.runId), String(Date.now()));
    await Promise.all(this.o.plan.workers.map((w) => (this.started.has(w.index) ? this.o.fleet.cancel(w.index) : undefined)));
  }
}

/**
 * Runs a planned load test on a fleet: writes plan and scenario to the store, starts worker i at
 * t0 + i·stagger (workers due together in one batch when the fleet can), then follows the run
 * (see followRun).
 */
export async function executeRun(o: ExecuteOptions): Promise<Report> {
  const { store, fleet, plan } = o;
  await store.put(layout.scenario(plan.runId), o.scenarioCode);
  await putJson(store, layout.plan(plan.runId), plan);
  const session = new Session(o, 'pending');
  const t0 = Date.now();

  const groups = new Map<number, number[]>();
  for (const w of plan.workers) groups.set(w.startOffsetMs, [...(groups.get(w.startOffsetMs) ?? []), w.index]);
  const starting = (async () => {
    for (const [offset, indexes] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
      const wait = t0 + offset - Date.now();
      if (wait > 0) await sleep(wait, () => session.stopped);
      if (session.stopped) {
        for (const i of indexes) session.states.set(i, { state: 'exited', exitCode: 0, detail: 'not started: the run was stopped' });
        continue;
      }
      if (indexes.length > 1 && fleet.startBatch) {
        const failed = await fleet.startBatch(indexes, o.command).catch((err: Error) => new Map(indexes.map((i) => [i, err.message])));
        for (const i of indexes) {
          const why = failed.get(i);
          session.states.set(i, why === undefined ? { state: 'running' } : { state: 'lost', detail: `could not be started: ${why}` });
          if (why === undefined) session.started.add(i);
        }
        continue;
      }
      await Promise.all(
        indexes.map(async (i) => {
          try {
            await fleet.start(i, o.command(i));
            session.states.set(i, { state: 'running' });
            session.started.add(i);
          } catch (err) {
            session.states.set(i, { state: 'lost', detail: `could not be started: ${(err as Error).message}` });
          }
        }),
      );
    }
    await o.onStarted?.();
  })();
  const lastStart = t0 + Math.max(...plan.workers.map((w) => w.startOffsetMs));
  return follow(session, t0, lastStart, starting);
}

/**
 * Follows a run that is already going (`loadfarm attach`): workers are taken as running and
 * the fleet says otherwise. Ends like executeRun: merged report in the store.
 */
export function followRun(o: FollowOptions): Promise<Report> {
  const session = new Session(o, 'running');
  const lastStart = o.plan.createdAt + Math.max(...o.plan.workers.map((w) => w.startOffsetMs));
  return follow(session, o.plan.createdAt, lastStart, Promise.resolve());
}

/**
 * Polls fleet states and new snapshots until every worker has ended (or is given up as lost
 * past its deadline), then merges everything into the report and writes it to the store.
 */
async function follow(session: Session, t0: number, lastStart: number, starting: Promise<void>): Promise<Report> {
  const { store, fleet, plan } = session.o;
  const o = session.o;
  const pollMs = o.pollMs ?? 1000;
  const onStop = () => void session.stop().catch(() => undefined);
  o.stopSignal?.addEventListener('abort', onStop, { once: true });
  if (o.stopSignal?.aborted) onStop();

  const reader = new RunReader(store, plan.runId);
  const tracker = new ProgressTracker();
  const giveUpAt = lastStart + plan.hardStopMs + LOST_AFTER_MS;
  const states = session.states;
  for (;;) {
    await sleep(pollMs);
    await Promise.all(
      plan.workers.map(async (w) => {
        const s = states.get(w.index)!;
        // A started worker may still be `pending` on its fleet (an SSM invocation not yet visible).
        if (s.state === 'running' || (s.state === 'pending' && session.started.has(w.index))) states.set(w.index, await fleet.status(w.index));
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
  const report = buildReport({ plan, merged, statuses: reader.statuses, fleet: states, stopped: session.stopped });
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
