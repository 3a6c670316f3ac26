import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { WORKER_PATHS } from '../../infra/names';
import { openStore } from '../../worker/store/open';
import type { Store } from '../../worker/store/store';
import { HARD_STOP_SLACK_MS } from '../plan';
import { UsageError } from '../errors';
import { workerCommand, type Fleet } from '../fleet/fleet';
import { chooseWorkers, discoverWorkers } from '../fleet/discovery';
import { ssmRunNaming } from '../fleet/naming';
import { readFleetRecord, writeFleetRecord, type FleetLaunch, type FleetRecord, type FleetRecordWorker } from '../fleet/record';
import { SsmFleet } from '../fleet/ssm';
import { EXECUTION_TIMEOUT_RANGE_SECONDS } from '../fleet/limits';
import { loadDurationMs } from '../../worker/plan/split';
import { formatDuration, parseDuration } from '../../worker/scenario/duration';
import type { Plan } from '../../worker/plan/plan';
import type { PreparedScenario } from '../scenario';
import type { Report } from '../report/types';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { conductRun, type OutputFlags, type RunSettings } from './conduct';
import type { Resume, ScheduledWorker } from './execute';
import { whereFlagsText } from './where';

export { fleetRecordKey, readFleetRecord, type FleetRecord } from '../fleet/record';

/** Where a worker machine finds node and the worker bundle (tests point these at this machine). */
export interface WorkerInstall {
  node: string;
  script: string;
  /** The file a set-up machine has; null skips the check. */
  readyFile: string | null;
}

export const AWS_WORKER: WorkerInstall = { node: WORKER_PATHS.node, script: WORKER_PATHS.bundle, readyFile: WORKER_PATHS.ready };

export interface CloudTarget {
  env: string;
  region: string;
  clients: { ssm: SSMClient; ec2: EC2Client };
  /** Drop workers SSM cannot reach instead of refusing to run. */
  excludeLost: boolean;
  /** `--workers` when given: at most the instances online. */
  workers?: number;
  /** S3-compatible endpoint for the results store (given to workers too). */
  s3Endpoint?: string;
  install?: WorkerInstall;
  /** SSM status refresh interval per command, ms. @default 2000 */
  pollMs?: number;
  /** Replaces the standard progress line with the caller's own view of each batch of snapshots. */
  onSnapshots?: (fresh: Snapshot[], note: (line: string) => void) => void;
  /**
   * After a stop, how long workers get to end by the stop marker before SSM cancels them, ms.
   * @default the scenario's grace + 10 s
   */
  cancelGraceMs?: number;
  /** Opens the results store (tests wrap it). @default openStore */
  openStore?: (url: string) => Promise<Store>;
  /** SSM's consistency window (SsmFleetOptions.consistencyWindowMs), ms. @default 60000 */
  consistencyWindowMs?: number;
  /** Aborting it stops the run, as a first Ctrl-C does. */
  stopSignal?: AbortSignal;
  /** Aborting it ends following at once, leaving the workers running (a RunDetachedError). */
  leaveSignal?: AbortSignal;
}

/**
 * `loadfarm run --env NAME`: the environment's online instances run the workers through SSM,
 * the results bucket is the store. Everything that can be wrong with the scenario and flags was
 * checked before this is called; here the environment is looked up (the first AWS calls).
 * The fleet record (runs/<runId>/fleet.json) is written before the first start and after each.
 */
export async function runOnFarm(prepared: PreparedScenario, settings: Omit<RunSettings, 'workers'>, output: OutputFlags, t: CloudTarget): Promise<Report> {
  const discovery = await discoverWorkers(t.clients, t.env);
  const choice = chooseWorkers(discovery, { excludeLost: t.excludeLost });
  if (t.workers !== undefined && t.workers > choice.instances.length) {
    throw new UsageError(`--workers ${t.workers}: environment ${t.env} has ${choice.instances.length} worker(s) online; deploy more with \`loadfarm up --env ${t.env} --workers ${t.workers}\``);
  }
  const instances = choice.instances.slice(0, t.workers ?? choice.instances.length);
  const bucket = discovery.facts.bucket;
  const storeUrl = `s3://${bucket}`;
  const store = await (t.openStore ?? ((url) => openStore(url, { s3Endpoint: t.s3Endpoint, s3Region: discovery.facts.region })))(storeUrl);
  const install = t.install ?? AWS_WORKER;
  const workers = instances.length;
  const graceMs = parseDuration(prepared.scenario.grace) ?? 10_000;
  const boundMs = executionBoundMs(prepared, settings.staggerMs, workers);
  if (boundMs > EXECUTION_TIMEOUT_RANGE_SECONDS.max * 1000) {
    throw new UsageError(
      `a run on the AWS farm lasts at most ${formatDuration(EXECUTION_TIMEOUT_RANGE_SECONDS.max * 1000)} (SSM's longest execution timeout), and this one needs ${formatDuration(boundMs)} (stagger span, load, grace and slack): shorten the load or run the soak as consecutive runs`,
    );
  }
  const launch: FleetLaunch = {
    node: install.node,
    script: install.script,
    readyFile: install.readyFile,
    store: storeUrl,
    ...(t.s3Endpoint ? { s3Endpoint: t.s3Endpoint } : {}),
    executionTimeoutSeconds: Math.ceil(boundMs / 1000),
    // Let workers end by the stop marker (writing their last snapshot) before SSM kills them.
    cancelGraceMs: t.cancelGraceMs ?? graceMs + 10_000,
  };
  const base = { kind: 'ssm' as const, env: t.env, region: t.region, bucket, instances: [...instances], launch };
  let t0: number | undefined;
  return conductRun({
    prepared,
    settings: { ...settings, workers },
    output,
    store,
    notes: choice.notes,
    onSnapshots: t.onSnapshots,
    where: whereFlagsText({ env: t.env, region: t.region, s3Endpoint: t.s3Endpoint }),
    stopSignal: t.stopSignal,
    leaveSignal: t.leaveSignal,
    fleet: (runId) => ({ fleet: ssmFleet(t.clients.ssm, runId, base, t.pollMs, t.consistencyWindowMs), command: launchCommand(launch, runId) }),
    onSchedule: (runId, fleet, scheduled, starting) => {
      t0 ??= Date.now();
      return writeFleetRecord(store, runId, { ...base, startedAt: t0, starting, workers: recordWorkers(scheduled, instances, fleet as SsmFleet) });
    },
    outDir: (runId) => `.loadfarm/runs/${runId}`,
  });
}

/** The longest a worker may run: the last start, the load, the grace and the slack, plus a minute. */
function executionBoundMs(prepared: PreparedScenario, staggerMs: number, workers: number): number {
  const graceMs = parseDuration(prepared.scenario.grace) ?? 10_000;
  return (workers - 1) * staggerMs + loadDurationMs(prepared.scenario.load) + graceMs + HARD_STOP_SLACK_MS + 60_000;
}

type RecordBase = Pick<FleetRecord, 'env' | 'bucket' | 'instances'> & { launch: FleetLaunch };

function ssmFleet(ssm: SSMClient, runId: string, base: RecordBase, pollMs: number | undefined, consistencyWindowMs?: number): SsmFleet {
  const naming = ssmRunNaming(runId);
  return new SsmFleet({
    ssm,
    instances: base.instances,
    bucket: base.bucket,
    outputPrefix: naming.outputPrefix,
    commentFor: naming.commentFor,
    executionTimeoutSeconds: base.launch.executionTimeoutSeconds,
    readyFile: base.launch.readyFile,
    name: `ssm env=${base.env}`,
    pollMs,
    consistencyWindowMs,
    cancelGraceMs: base.launch.cancelGraceMs,
  });
}

function launchCommand(launch: FleetLaunch, runId: string): (index: number) => string[] {
  return (index) => workerCommand({ node: launch.node, workerScript: launch.script, store: launch.store, runId, index, s3Endpoint: launch.s3Endpoint });
}

function recordWorkers(scheduled: readonly ScheduledWorker[], instances: readonly string[], fleet: SsmFleet): FleetRecordWorker[] {
  return scheduled.map((w): FleetRecordWorker => {
    const sent = w.start === 'started' ? fleet.started(w.index) : undefined;
    return {
      index: w.index,
      instanceId: instances[w.index],
      start: w.start,
      ...(sent ? { commandId: sent.commandId, startedAt: sent.sentAt } : {}),
      ...(w.detail ? { detail: w.detail } : {}),
      ...(w.resumed ? { resumed: true } : {}),
    };
  });
}

/**
 * A record that says its process is starting workers, but older than this, was left by a
 * process that is gone (it rewrites the record every 10 s while it waits), ms.
 */
const TAKEOVER_AFTER_MS = 30_000;

export interface Reattached {
  fleet: Fleet;
  /** The recorded schedule, for followRun. */
  resume: Resume;
  record: FleetRecord;
  /** Records the schedule as `attach` finishes it (for followRun's onSchedule). */
  onSchedule: (workers: readonly ScheduledWorker[], starting: boolean) => Promise<void>;
}

/**
 * An SSM fleet following the commands a recorded run sent (`loadfarm attach`), and what is
 * needed to finish its start schedule (`mode: 'finish'`: the workers not started yet are
 * started as the run would have; `'skip'`: they are marked never started). Undefined when the
 * run has no fleet record.
 */
export async function reattachFleet(
  store: Store,
  plan: Plan,
  ssm: SSMClient,
  o: { pollMs?: number; mode?: 'finish' | 'skip'; takeoverAfterMs?: number } = {},
): Promise<Reattached | undefined> {
  const record = await readFleetRecord(store, plan.runId);
  if (!record) return undefined;
  const waiting = record.workers.filter((w) => w.start === 'not-started').length;
  const age = Date.now() - record.updatedAt;
  const takeoverAfterMs = o.takeoverAfterMs ?? TAKEOVER_AFTER_MS;
  if (waiting > 0 && record.starting && age < takeoverAfterMs) {
    throw new UsageError(
      `run ${plan.runId} is still starting its workers from another loadfarm process (${waiting} to go; its record was updated ${Math.round(age / 1000)} s ago): ` +
        `attach once they are started, or in ${Math.ceil((takeoverAfterMs - age) / 1000)} s if that process is gone`,
    );
  }
  const launch: FleetLaunch = record.launch ?? {
    node: AWS_WORKER.node,
    script: AWS_WORKER.script,
    readyFile: AWS_WORKER.readyFile,
    store: `s3://${record.bucket}`,
    executionTimeoutSeconds: 60,
    cancelGraceMs: plan.graceMs + 10_000,
  };
  const base = { ...record, launch };
  const fleet = ssmFleet(ssm, plan.runId, base, o.pollMs);
  const started = new Map<number, { commandId: string; sentAt: number }>();
  const startedAt = new Map<number, number>();
  for (const w of record.workers) {
    if (w.start !== 'started' || !w.commandId) continue;
    started.set(w.index, { commandId: w.commandId, sentAt: w.startedAt ?? record.startedAt });
    startedAt.set(w.index, w.startedAt ?? record.startedAt);
  }
  fleet.adopt(started);
  const resume: Resume = {
    workers: record.workers.map((w) => ({ index: w.index, start: w.start, detail: w.detail, resumed: w.resumed })),
    startedAt,
    t0: record.startedAt,
    mode: o.mode ?? 'finish',
    command: record.launch ? launchCommand(launch, plan.runId) : undefined,
  };
  const onSchedule = (scheduled: readonly ScheduledWorker[], starting: boolean) =>
    writeFleetRecord(store, plan.runId, {
      starting,
      kind: 'ssm',
      env: record.env,
      region: record.region,
      bucket: record.bucket,
      instances: record.instances,
      launch,
      startedAt: record.startedAt,
      workers: recordWorkers(scheduled, record.instances, fleet).map((w) => {
        // Keep what the record knew of workers started before (adopted: same command and time).
        const before = record.workers.find((r) => r.index === w.index);
        return w.start === 'started' && !w.commandId && before?.commandId ? { ...w, commandId: before.commandId, startedAt: before.startedAt } : w;
      }),
    });
  return { fleet, resume, record, onSchedule };
}
