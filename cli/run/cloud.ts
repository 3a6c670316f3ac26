import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { WORKER_PATHS } from '../../infra/names';
import { openStore } from '../../worker/store/open';
import { getJson, putJson, type Store } from '../../worker/store/store';
import { HARD_STOP_SLACK_MS } from '../plan';
import { UsageError } from '../errors';
import { workerCommand, type Fleet } from '../fleet/fleet';
import { chooseWorkers, discoverWorkers, ssmRunNaming, SsmFleet } from '../fleet/ssm';
import { loadDurationMs } from '../../worker/plan/split';
import { parseDuration } from '../../worker/scenario/duration';
import type { Plan } from '../../worker/plan/plan';
import type { PreparedScenario } from '../scenario';
import type { Report } from '../report/types';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { conductRun, type OutputFlags, type RunSettings } from './conduct';

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
  /** SSM status refresh interval, ms. @default 2000 */
  pollMs?: number;
  /** Replaces the standard progress line with the caller's own view of each batch of snapshots. */
  onSnapshots?: (fresh: Snapshot[], note: (line: string) => void) => void;
}

/** runs/<runId>/fleet.json: what `loadfarm attach` needs to follow a run started elsewhere. */
export interface FleetRecord {
  kind: 'ssm';
  env: string;
  region: string;
  bucket: string;
  instances: string[];
  /** SSM command id per worker index. */
  commands: Record<string, string>;
  startedAt: number;
}

export const fleetRecordKey = (runId: string) => `runs/${runId}/fleet.json`;

/**
 * `loadfarm run --env NAME`: the environment's online instances run the workers through SSM,
 * the results bucket is the store. Everything that can be wrong with the scenario and flags was
 * checked before this is called; here the environment is looked up (the first AWS calls).
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
  const store = await openStore(storeUrl, { s3Endpoint: t.s3Endpoint });
  const install = t.install ?? AWS_WORKER;
  const workers = instances.length;
  const executionTimeoutSeconds = Math.ceil((executionBoundMs(prepared, settings.staggerMs, workers)) / 1000);
  const graceMs = parseDuration(prepared.scenario.grace) ?? 10_000;
  return conductRun({
    prepared,
    settings: { ...settings, workers },
    output,
    store,
    notes: choice.notes,
    onSnapshots: t.onSnapshots,
    fleet: (runId) => {
      const naming = ssmRunNaming(runId);
      const fleet = new SsmFleet({
        ssm: t.clients.ssm,
        instances,
        bucket,
        outputPrefix: naming.outputPrefix,
        commentFor: naming.commentFor,
        executionTimeoutSeconds,
        readyFile: install.readyFile,
        name: `ssm env=${t.env}`,
        pollMs: t.pollMs,
        // Let workers end by the stop marker (writing their last snapshot) before SSM kills them.
        cancelGraceMs: graceMs + 10_000,
      });
      const command = (index: number) =>
        workerCommand({ node: install.node, workerScript: install.script, store: storeUrl, runId, index, s3Endpoint: t.s3Endpoint });
      return { fleet, command };
    },
    onStarted: (runId, fleet) => recordFleet(store, runId, t, bucket, instances, fleet as SsmFleet),
    outDir: (runId) => `.loadfarm/runs/${runId}`,
  });
}

/** The longest a worker may run: the last start, the load, the grace and the slack, plus a minute. */
function executionBoundMs(prepared: PreparedScenario, staggerMs: number, workers: number): number {
  const graceMs = parseDuration(prepared.scenario.grace) ?? 10_000;
  return (workers - 1) * staggerMs + loadDurationMs(prepared.scenario.load) + graceMs + HARD_STOP_SLACK_MS + 60_000;
}

async function recordFleet(store: Store, runId: string, t: CloudTarget, bucket: string, instances: string[], fleet: SsmFleet): Promise<void> {
  const commands: Record<string, string> = {};
  instances.forEach((_, i) => {
    const id = fleet.commandId(i);
    if (id) commands[String(i)] = id;
  });
  const record: FleetRecord = { kind: 'ssm', env: t.env, region: t.region, bucket, instances, commands, startedAt: Date.now() };
  await putJson(store, fleetRecordKey(runId), record);
}

/** An SSM fleet following the commands a recorded run sent (`loadfarm attach`). */
export async function reattachFleet(store: Store, plan: Plan, ssm: SSMClient, pollMs?: number): Promise<Fleet | undefined> {
  const record = await getJson<FleetRecord>(store, fleetRecordKey(plan.runId));
  if (!record) return undefined;
  const naming = ssmRunNaming(plan.runId);
  const fleet = new SsmFleet({
    ssm,
    instances: record.instances,
    bucket: record.bucket,
    outputPrefix: naming.outputPrefix,
    commentFor: naming.commentFor,
    executionTimeoutSeconds: 60,
    name: `ssm env=${record.env}`,
    pollMs,
    cancelGraceMs: plan.graceMs + 10_000,
  });
  fleet.adopt(new Map(Object.entries(record.commands).map(([i, id]) => [Number(i), id])), record.startedAt);
  return fleet;
}
