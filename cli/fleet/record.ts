/**
 * The fleet record, `runs/<runId>/fleet.json`: how a run's workers were (or are to be) started,
 * so that another CLI process can follow the run, finish its start schedule (`loadfarm
 * attach`), and a report can say which workers never started.
 *
 * Written before the first worker starts (every worker `not-started`), again after each start
 * (or group of starts due together), and by `attach` as it finishes the schedule. Each write
 * replaces the whole object. Version 1 (written only after the last start, before this file)
 * is still read: its workers with a command are `started`, the others `never-started`.
 */
import { layout } from '../../worker/store/layout';
import { getJson, putJson, type Store } from '../../worker/store/store';

export const fleetRecordKey = (runId: string) => `${layout.run(runId)}fleet.json`;

/**
 * Where a worker is in the start schedule:
 * - `not-started`: due later (or its CLI stopped before starting it): `attach` starts it;
 * - `started`: its fleet accepted it (`commandId` says which SSM command);
 * - `start-failed`: the fleet refused it (`detail` says why); it never ran;
 * - `never-started`: it will not be started in this run (`detail`: the run was stopped, or
 *   `attach --skip-unstarted` left it out).
 */
export type WorkerStart = 'not-started' | 'started' | 'start-failed' | 'never-started';

export interface FleetRecordWorker {
  readonly index: number;
  /** The EC2 instance it runs (or is to run) on. */
  readonly instanceId: string;
  readonly start: WorkerStart;
  /** With `started`: the SSM command that started it. */
  readonly commandId?: string;
  /** With `started`: when SendCommand returned, epoch ms. */
  readonly startedAt?: number;
  /** Why, with `start-failed` and `never-started`. */
  readonly detail?: string;
  /** True when `loadfarm attach` started it after the CLI that started the run had gone. */
  readonly resumed?: boolean;
}

/** What `attach` needs to start the workers not started yet, exactly as the run would have. */
export interface FleetLaunch {
  /** Node on the worker machines. */
  readonly node: string;
  /** The worker bundle on the worker machines. */
  readonly script: string;
  /** The ready file checked before starting; null: no check. */
  readonly readyFile: string | null;
  /** The store URL workers write to (`s3://BUCKET[/PREFIX]`). */
  readonly store: string;
  /** `--s3-endpoint` given to workers, when one was. */
  readonly s3Endpoint?: string;
  /** AWS-RunShellScript executionTimeout of every command, s. */
  readonly executionTimeoutSeconds: number;
  /** How long after the stop marker a worker still running is cancelled, ms. */
  readonly cancelGraceMs: number;
}

export interface FleetRecord {
  readonly v: 2;
  readonly kind: 'ssm';
  readonly env: string;
  readonly region: string;
  readonly bucket: string;
  /** Worker i runs on `instances[i]`. */
  readonly instances: string[];
  /** SSM command id per started worker index (also in `workers`; kept for version-1 readers). */
  readonly commands: Record<string, string>;
  /** t0 of the start schedule (worker i is due at t0 + its startOffsetMs), epoch ms. */
  readonly startedAt: number;
  /** When this record was written, epoch ms. */
  readonly updatedAt: number;
  /**
   * True while a loadfarm process works through the start schedule: it rewrites the record at
   * least every 10 s meanwhile (`updatedAt`), so a record that says so but is older than that
   * was left by a process that died. False once the schedule is done or its process left.
   */
  readonly starting: boolean;
  readonly launch?: FleetLaunch;
  /** One per worker of the plan, by index. */
  readonly workers: FleetRecordWorker[];
}

/** The version written before this file: after the last start only. */
interface FleetRecordV1 {
  kind: 'ssm';
  env: string;
  region: string;
  bucket: string;
  instances: string[];
  commands: Record<string, string>;
  startedAt: number;
}

/**
 * The fleet record of run `runId`, in version 2 whatever was stored; undefined when the run
 * has none (a local run, or a cloud run whose first record was never written).
 * @throws the store's error when it cannot be read
 */
export async function readFleetRecord(store: Store, runId: string): Promise<FleetRecord | undefined> {
  const raw = await getJson<FleetRecord | FleetRecordV1>(store, fleetRecordKey(runId));
  if (!raw) return undefined;
  if ('v' in raw && raw.v === 2) return { ...raw, starting: raw.starting === true };
  const v1 = raw as FleetRecordV1;
  const workers = v1.instances.map((instanceId, index): FleetRecordWorker => {
    const commandId = v1.commands[String(index)];
    return commandId
      ? { index, instanceId, start: 'started', commandId, startedAt: v1.startedAt }
      : { index, instanceId, start: 'never-started', detail: 'not recorded as started' };
  });
  return { ...v1, v: 2, updatedAt: v1.startedAt, starting: false, workers };
}

/** Writes `record` (every field; `commands` derived from `workers`). */
export function writeFleetRecord(store: Store, runId: string, record: Omit<FleetRecord, 'v' | 'commands' | 'updatedAt'>): Promise<void> {
  const commands: Record<string, string> = {};
  for (const w of record.workers) if (w.start === 'started' && w.commandId) commands[String(w.index)] = w.commandId;
  const full: FleetRecord = { v: 2, ...record, commands, updatedAt: Date.now() };
  return putJson(store, fleetRecordKey(runId), full);
}
