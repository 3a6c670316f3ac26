import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Store } from '../../worker/store/store';
import type { Fleet } from '../fleet/fleet';
import { makePlan, newRunId } from '../plan';
import { plannedData, prepareData, uploadData } from '../data/prepare';
import { emitReport } from '../report/output';
import type { Report } from '../report/types';
import type { PreparedScenario } from '../scenario';
import { liveLine, type LiveLine } from '../terminal';
import { executeRun, type ScheduledWorker } from './execute';
import { whereFlagsText } from './where';
import { progressLine } from './progress';

/** The settings every run shares (flags already checked). */
export interface RunSettings {
  workers: number;
  staggerMs: number;
  seed: number;
  intervalMs: number;
  /** `--every`: rolling reports' period, ms. */
  reportEveryMs?: number;
  thresholds: Record<string, string[]>;
  params: Record<string, string>;
  sourceIps: string[];
  /** Keep every operation as gzip NDJSON in the store. */
  rawEvents?: boolean;
}

export interface OutputFlags {
  json?: boolean;
  out?: string;
  quiet?: boolean;
  open?: boolean;
}

export interface ConductOptions {
  prepared: PreparedScenario;
  settings: RunSettings;
  output: OutputFlags;
  store: Store;
  /** Made once the run id is known: the fleet and the argv that starts worker i on it. */
  fleet: (runId: string, live: LiveLine) => { fleet: Fleet; command: (index: number) => string[] };
  /** Lines told before the workers start (where the run goes, preflight). */
  notes?: readonly string[];
  /** Replaces the standard progress line with the caller's own view of each batch of snapshots. */
  onSnapshots?: (fresh: Snapshot[], note: (line: string) => void) => void;
  /** Told where every worker is in its start schedule (cloud: the fleet record for `attach`); see FollowOptions. */
  onSchedule?: (runId: string, fleet: Fleet, workers: readonly ScheduledWorker[], starting: boolean) => Promise<void>;
  /** Aborting it ends following at once, leaving the workers running (a RunDetachedError). */
  leaveSignal?: AbortSignal;
  /** Aborting it stops the run, as a first Ctrl-C does. */
  stopSignal?: AbortSignal;
  /** After a stop, how long workers get to end by themselves before the fleet cancels them, ms. @default 0 */
  cancelGraceMs?: number;
  /**
   * The flags that find this run again in commands printed for later (`--env perf --region
   * eu-west-1`). @default from the store: '' for the default store, else `--store URL`
   */
  where?: string;
  /** Where report files are written besides the store (the person's machine, for a cloud run). */
  outDir?: (runId: string) => string | undefined;
}

/**
 * One run from plan to report, on any fleet: plans it, starts the workers, shows live progress,
 * turns Ctrl-C into a stop (twice: leave now), and prints and saves the report.
 */
export async function conductRun(o: ConductOptions): Promise<Report> {
  const s = o.settings;
  const runId = newRunId(o.prepared.scenario.name);
  // Data files are read and checked before anything is launched (a UsageError).
  const data = prepareData(o.prepared.scenario, o.prepared.path, s.workers);
  const plan = makePlan({
    runId,
    scenario: o.prepared.scenario,
    scenarioFile: o.prepared.path,
    target: o.prepared.target,
    workers: s.workers,
    staggerMs: s.staggerMs,
    seed: s.seed,
    intervalMs: s.intervalMs,
    reportEveryMs: s.reportEveryMs,
    thresholds: s.thresholds,
    params: s.params,
    sourceIps: s.sourceIps,
    rawEvents: s.rawEvents,
    data: plannedData(data, runId),
  });
  const live = liveLine(!o.output.quiet);
  const { fleet, command } = o.fleet(runId, live);
  live.note(`run ${runId}: ${s.workers} worker(s) on ${fleet.name}, store ${o.store.url}`);
  for (const line of o.notes ?? []) live.note(line);
  for (const line of data.warnings) live.note(line);
  await uploadData(o.store, runId, data);

  const where = o.where ?? whereFlagsText({ store: o.store.url });
  const stop = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      live.note('stopping: workers end their load and write their last snapshot (Ctrl-C again to leave now)');
      stop.abort();
    } else {
      live.note(`leaving now; workers stop by their own deadline. Later: loadfarm report ${runId}${where ? ` ${where}` : ''}`);
      process.exit(2);
    }
  };
  process.on('SIGINT', onSigint);
  const onStop = () => stop.abort();
  o.stopSignal?.addEventListener('abort', onStop, { once: true });
  let report: Report;
  try {
    report = await executeRun({
      store: o.store,
      fleet,
      plan,
      scenarioCode: o.prepared.code,
      command,
      // -q shows no progress line: no view is made (its p99 decodes every new snapshot's histograms).
      onProgress: o.onSnapshots || o.output.quiet ? undefined : (view) => live.update(progressLine(view)),
      onSnapshots: o.onSnapshots ? (fresh) => o.onSnapshots!(fresh, (line) => live.note(line)) : undefined,
      onSchedule: o.onSchedule ? (workers, starting) => o.onSchedule!(runId, fleet, workers, starting) : undefined,
      leaveSignal: o.leaveSignal,
      onNote: (line) => live.note(line),
      cancelGraceMs: o.cancelGraceMs,
      where,
      stopSignal: stop.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
    o.stopSignal?.removeEventListener('abort', onStop);
    live.done();
    await fleet.close();
  }
  await emitReport(report, { store: o.store, json: o.output.json, outDir: o.output.out ?? o.outDir?.(runId), open: o.output.open });
  return report;
}
