/**
 * The SSM fleet: workers run on an environment's EC2 instances, started with SSM Run Command
 * (`AWS-RunShellScript`), watched through their command invocations, cancelled with
 * CancelCommand. Plus discovery: from an environment's name to its facts and to the instances
 * that can run a worker.
 *
 * SDK clients are passed in (tests give mocked ones; the CLI makes them in cli/aws/clients.ts).
 * Endpoints are never set here, so `AWS_ENDPOINT_URL_SSM` / `_EC2` keep working.
 */
import { EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  GetParametersCommand,
  paginateDescribeInstanceInformation,
  paginateListCommandInvocations,
  SendCommandCommand,
  SSMClient,
  type CommandInvocation,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { ENV_TAG, envFactsFromParameters, parameterNames, parameterPrefix, WORKER_PATHS, type EnvFacts } from '../../infra/names';
import { layout } from '../../worker/store/layout';
import { isThrottling, retryWithBackoff } from '../aws/backoff';
import { realClock, type Clock } from '../aws/poll';
import { UsageError } from '../errors';
import type { Fleet, FleetWorkerState } from './fleet';
import { workerScript } from './ssm-script';

/** SendCommand accepts at most this many InstanceIds. */
export const MAX_INSTANCES_PER_COMMAND = 50;
/** SendCommand's TimeoutSeconds (delivery timeout) must lie in this range. */
export const DELIVERY_TIMEOUT_RANGE_SECONDS = { min: 30, max: 2_592_000 } as const;
/** AWS-RunShellScript's executionTimeout must lie in this range. */
export const EXECUTION_TIMEOUT_RANGE_SECONDS = { min: 1, max: 172_800 } as const;
/** SendCommand's Comment is at most this long. */
export const MAX_COMMENT_LENGTH = 100;

// ---------------------------------------------------------------------------------------------
// Clients

/** The clients discovery calls (a part of cli/aws/clients.ts's AwsClients). */
export interface AwsClients {
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
}

// ---------------------------------------------------------------------------------------------
// Discovery

/** An instance of the environment that SSM cannot reach right now. */
export interface LostInstance {
  readonly instanceId: string;
  /** SSM's PingStatus (`ConnectionLost`, `Inactive`), or `NotRegistered` when SSM does not know the instance. */
  readonly pingStatus: string;
}

export interface WorkerDiscovery {
  readonly facts: EnvFacts;
  /** Running instances whose SSM agent is Online, sorted by id (stable across calls). */
  readonly online: readonly string[];
  /** Running instances SSM cannot reach, sorted by id. */
  readonly lost: readonly LostInstance[];
}

export interface DiscoverOptions {
  /**
   * Instance ids per DescribeInstanceInformation filter.
   * @default 50
   */
  readonly chunkSize?: number;
}

/** `pingStatus` of a running instance that SSM has no record of (agent never registered). */
export const NOT_REGISTERED = 'NotRegistered';

/**
 * Finds environment `env`: its facts (SSM parameters under `/loadfarm/<env>/`), its running
 * instances (EC2, tag `loadfarm:env=<env>`), and which of those SSM can reach (PingStatus).
 * @throws UsageError when the environment has no parameters (not deployed, or another region)
 *   or malformed ones
 */
export async function discoverWorkers(clients: AwsClients, env: string, options: DiscoverOptions = {}): Promise<WorkerDiscovery> {
  const facts = await readEnvFacts(clients.ssm, env);
  const instanceIds = await runningInstances(clients.ec2, env);
  const pings = await pingStatuses(clients.ssm, instanceIds, options.chunkSize ?? MAX_INSTANCES_PER_COMMAND);
  const online: string[] = [];
  const lost: LostInstance[] = [];
  for (const instanceId of instanceIds) {
    const pingStatus = pings.get(instanceId) ?? NOT_REGISTERED;
    if (pingStatus === 'Online') online.push(instanceId);
    else lost.push({ instanceId, pingStatus });
  }
  return { facts, online, lost };
}

/** The facts of `env` from its SSM parameters (one GetParameters call: 7 names, at most 10 allowed). */
export async function readEnvFacts(ssm: SSMClient, env: string): Promise<EnvFacts> {
  const names = Object.values(parameterNames(env));
  const out = await ssm.send(new GetParametersCommand({ Names: names }));
  const parameters = out.Parameters ?? [];
  if (parameters.length === 0) {
    throw new UsageError(
      `environment "${env}" was not found: no SSM parameters under ${parameterPrefix(env)} in this region ` +
        `(deploy it first, or check the region)`,
    );
  }
  const result = envFactsFromParameters(env, parameters);
  if (!result.ok) {
    const [first, ...rest] = result.problems;
    const more = rest.length > 0 ? ` (and ${rest.length} more)` : '';
    throw new UsageError(`environment "${env}" is incomplete: ${first}${more}; deploy it again`, [...result.problems]);
  }
  return result.facts;
}

/** Ids of the running instances tagged `loadfarm:env=<env>`, sorted. */
async function runningInstances(ec2: EC2Client, env: string): Promise<string[]> {
  const ids: string[] = [];
  const pages = paginateDescribeInstances(
    { client: ec2, pageSize: 1000 },
    {
      Filters: [
        { Name: `tag:${ENV_TAG}`, Values: [env] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    },
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) if (instance.InstanceId) ids.push(instance.InstanceId);
    }
  }
  return [...new Set(ids)].sort();
}

/** PingStatus by instance id, for those SSM knows. */
async function pingStatuses(ssm: SSMClient, instanceIds: readonly string[], chunkSize: number): Promise<Map<string, string>> {
  const pings = new Map<string, string>();
  for (const chunk of chunks(instanceIds, Math.max(1, chunkSize))) {
    const pages = paginateDescribeInstanceInformation(
      { client: ssm, pageSize: MAX_INSTANCES_PER_COMMAND },
      { Filters: [{ Key: 'InstanceIds', Values: [...chunk] }] },
    );
    for await (const page of pages) {
      for (const info of page.InstanceInformationList ?? []) {
        if (info.InstanceId) pings.set(info.InstanceId, info.PingStatus ?? NOT_REGISTERED);
      }
    }
  }
  return pings;
}

export interface WorkerChoice {
  /** Instances to run workers on: worker i runs on `instances[i]`. */
  readonly instances: readonly string[];
  /** Lost instances left out (only with `excludeLost`). */
  readonly excluded: readonly LostInstance[];
  /** Lines the person should see before the run starts (instances left out, fewer than deployed). */
  readonly notes: readonly string[];
}

/** How many instance ids a one-line message names before "and N more". */
const NAMED_IN_MESSAGE = 5;

/**
 * Decides which instances a run uses. A lost instance refuses the run (one line naming the
 * instances) unless `excludeLost` (the `--exclude-lost` flag), which runs on the others.
 * @throws UsageError when instances are lost and not excluded, or when none is usable
 */
export function chooseWorkers(d: WorkerDiscovery, o: { readonly excludeLost: boolean }): WorkerChoice {
  const env = d.facts.env;
  if (d.online.length === 0 && d.lost.length === 0) {
    throw new UsageError(
      `environment "${env}" has no running worker instance (deployed with ${d.facts.workers}; ` +
        `it scales to zero at ${d.facts.expiresAt}): deploy it again to get workers`,
    );
  }
  if (d.lost.length > 0 && (!o.excludeLost || d.online.length === 0)) {
    const which = nameLost(d.lost);
    const count = d.lost.length === 1 ? '1 worker instance' : `${d.lost.length} worker instances`;
    const hint = d.online.length === 0 ? 'wait for them to come back, or deploy the environment again' : `wait and retry, or pass --exclude-lost to run on the other ${d.online.length}`;
    throw new UsageError(
      `${count} of environment "${env}" cannot be reached over SSM: ${which}; ${hint}`,
      d.lost.map((l) => `${l.instanceId}: ${describePing(l.pingStatus)}`),
    );
  }
  const notes: string[] = [];
  if (d.lost.length > 0) notes.push(`running without ${d.lost.length} unreachable instance(s): ${nameLost(d.lost)}`);
  const found = d.online.length + d.lost.length;
  if (found < d.facts.workers) notes.push(`environment "${env}" has ${found} running instance(s) of the ${d.facts.workers} it was deployed with`);
  return { instances: [...d.online], excluded: o.excludeLost ? [...d.lost] : [], notes };
}

function nameLost(lost: readonly LostInstance[]): string {
  const named = lost.slice(0, NAMED_IN_MESSAGE).map((l) => `${l.instanceId} (${describePing(l.pingStatus)})`);
  const rest = lost.length - named.length;
  return named.join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

function describePing(pingStatus: string): string {
  return pingStatus === NOT_REGISTERED ? 'not registered with SSM' : pingStatus;
}

// ---------------------------------------------------------------------------------------------
// Naming of one run's commands

/**
 * Output prefix and comment for the commands of run `runId`. Output lands under
 * `runs/<runId>/workers/<i>/ssm/…`, which the instance role may write (`runs/*\/workers/*`).
 */
export function ssmRunNaming(runId: string): { outputPrefix: (index: number) => string; commentFor: (indexes: readonly number[]) => string } {
  return {
    outputPrefix: (index) => `${layout.workerPrefix(runId, index)}ssm`,
    commentFor: (indexes) => commandComment(runId, indexes),
  };
}

/**
 * `loadfarm <runId> worker 3`, or `loadfarm <runId> workers 0-49,60` for a batch; at most 100
 * characters (SendCommand's limit), cut with `...`.
 */
export function commandComment(runId: string, indexes: readonly number[]): string {
  const text = indexes.length === 1 ? `loadfarm ${runId} worker ${indexes[0]}` : `loadfarm ${runId} workers ${ranges(indexes)}`;
  return text.length <= MAX_COMMENT_LENGTH ? text : `${text.slice(0, MAX_COMMENT_LENGTH - 3)}...`;
}

/** `[0,1,2,5,7,8]` → `0-2,5,7-8`. */
function ranges(indexes: readonly number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

// ---------------------------------------------------------------------------------------------
// Invocation status

export type InvocationClass =
  | { readonly kind: 'running' }
  | { readonly kind: 'success' }
  /** Ran and ended non-zero: the exit code comes from GetCommandInvocation's ResponseCode. */
  | { readonly kind: 'failed' }
  /** `cancelled`: the command was cancelled (by someone). */
  | { readonly kind: 'lost'; readonly detail: string; readonly cancelled?: boolean };

/**
 * What an invocation's `Status` (+ `StatusDetails`) means for its worker. Pending, InProgress,
 * Delayed and Cancelling are still running; Failed is the worker's own non-zero exit unless
 * the details say the worker never ran or was killed (Undeliverable, Terminated, Execution
 * Timed Out, …); TimedOut, Cancelled, Undeliverable and Terminated lose the worker. A status
 * this code does not know counts as running (the run's deadline still bounds it).
 */
export function classifyInvocation(inv: { readonly Status?: string; readonly StatusDetails?: string }): InvocationClass {
  const status = squash(inv.Status);
  const details = squash(inv.StatusDetails);
  switch (status) {
    case 'pending':
    case 'inprogress':
    case 'delayed':
    case 'cancelling':
      return { kind: 'running' };
    case 'success':
      return { kind: 'success' };
    case 'failed':
      return LOST_BY_DETAILS.has(details) ? { kind: 'lost', detail: LOST_BY_DETAILS.get(details)! } : { kind: 'failed' };
    case 'timedout':
      return { kind: 'lost', detail: LOST_BY_DETAILS.get(details === 'deliverytimedout' ? details : 'executiontimedout')! };
    case 'cancelled':
      return { kind: 'lost', detail: 'the SSM command was cancelled', cancelled: true };
    default:
      return LOST_BY_DETAILS.has(status) ? { kind: 'lost', detail: LOST_BY_DETAILS.get(status)! } : { kind: 'running' };
  }
}

/** Why a worker is lost, by squashed status or status details. */
const LOST_BY_DETAILS: ReadonlyMap<string, string> = new Map([
  ['undeliverable', 'SSM could not deliver the command (Undeliverable): the instance is gone or its agent is not responding'],
  ['terminated', 'SSM terminated the invocation before it ran (Terminated)'],
  ['deliverytimedout', 'SSM could not deliver the command before its delivery timeout (Delivery Timed Out)'],
  ['executiontimedout', "SSM killed the worker at the command's execution timeout (Execution Timed Out)"],
  ['accessdenied', 'SSM refused the command on the instance (Access Denied)'],
  ['invalidplatform', 'the instance cannot run AWS-RunShellScript (Invalid Platform)'],
]);

/** `"Delivery Timed Out"` → `deliverytimedout`. */
function squash(s: string | undefined): string {
  return (s ?? '').replace(/[\s_-]+/g, '').toLowerCase();
}

/** How many lines of a failed worker's stderr go into its detail. */
const STDERR_TAIL_LINES = 3;
const STDERR_TAIL_CHARS = 300;

/** The last few non-empty lines of `text`, joined with ` | `, at most 300 characters. */
export function stderrTail(text: string | undefined): string | undefined {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return undefined;
  const tail = lines.slice(-STDERR_TAIL_LINES).join(' | ');
  return tail.length <= STDERR_TAIL_CHARS ? tail : `...${tail.slice(-(STDERR_TAIL_CHARS - 3))}`;
}

// ---------------------------------------------------------------------------------------------
// The fleet

export interface SsmFleetOptions {
  readonly ssm: SSMClient;
  /** Worker i runs on `instances[i]`; ids are distinct. */
  readonly instances: readonly string[];
  /** Bucket for the commands' stdout/stderr (the results bucket). */
  readonly bucket: string;
  /**
   * S3 key prefix of worker i's command output; must be writable by the instance role, e.g.
   * `runs/<runId>/workers/<i>/ssm` (`ssmRunNaming`). A batch uses its first worker's prefix:
   * SSM appends `<commandId>/<instanceId>/…`, so outputs never collide.
   */
  readonly outputPrefix: (index: number) => string;
  /** `Comment` of a command starting these workers; cut to 100 characters (`ssmRunNaming`). */
  readonly commentFor: (indexes: readonly number[]) => string;
  /** AWS-RunShellScript's executionTimeout: the agent kills the worker after this, s (1..172800). */
  readonly executionTimeoutSeconds: number;
  /**
   * SendCommand's TimeoutSeconds: a worker not delivered by then never starts, s (30..2592000).
   * @default 120
   */
  readonly deliveryTimeoutSeconds?: number;
  /**
   * For messages.
   * @default 'ssm'
   */
  readonly name?: string;
  /**
   * A worker machine without this file is not set up: the script exits 1 saying so. `null`: no check.
   * @default WORKER_PATHS.ready
   */
  readonly readyFile?: string | null;
  /**
   * Shortest time between two ListCommandInvocations of one command, ms; doubled on throttling
   * (or an invocation not there yet) up to `maxPollMs`, halved back on a clean refresh.
   * @default 2000
   */
  readonly pollMs?: number;
  /** @default 15000 */
  readonly maxPollMs?: number;
  /**
   * How long after SendCommand a missing invocation counts as `pending`; after it, `lost`, ms.
   * @default 60000
   */
  readonly missingGraceMs?: number;
  /**
   * SendCommand/CancelCommand calls in all when throttled (the SDK's own retries come on top).
   * @default 6
   */
  readonly sendAttempts?: number;
  /** First retry delay of a throttled SendCommand, ms; doubles up to 15 s. @default 1000 */
  readonly sendBackoffMs?: number;
  /** SendCommands of one `startBatch` in flight at once. @default 4 */
  readonly sendConcurrency?: number;
  /**
   * `cancel` first waits this long for the worker to end by itself (it watches the store's stop
   * marker), then sends CancelCommand, which kills the process: no last snapshot. ms.
   * @default 0
   */
  readonly cancelGraceMs?: number;
  /** @default realClock */
  readonly clock?: Clock;
  /** Jitter source for backoff, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

interface SentCommand {
  readonly id: string;
  readonly instanceIds: readonly string[];
  readonly sentAt: number;
  /** Latest invocations by instance id. */
  invocations: Map<string, CommandInvocation>;
  fetchedAt?: number;
  refreshing?: Promise<void>;
}

interface StartedWorker {
  readonly instanceId: string;
  readonly command: SentCommand;
  /** Once known, the state never changes. */
  final?: FleetWorkerState;
  /** When a failed invocation's exit code may be asked for (again), ms. */
  detailsAfter?: number;
  cancelled?: boolean;
}

const BACKOFF_MAX_MS = 15_000;

/**
 * Workers on EC2 instances through SSM Run Command. Worker i runs on `instances[i]`; `start`
 * sends one command per worker, `startBatch` one per 50 workers (the script picks each
 * instance's argv). Status comes from ListCommandInvocations, at most once per `pollMs` per
 * command, whatever the number of callers; a failed worker's exit code from one
 * GetCommandInvocation. Throttling never fails a status: the last known state is returned and
 * polling slows down.
 */
export class SsmFleet implements Fleet {
  readonly name: string;
  private readonly o: SsmFleetOptions;
  private readonly clock: Clock;
  private readonly basePollMs: number;
  private readonly maxPollMs: number;
  /** Current interval between refreshes of one command, ms (adaptive, fleet-wide). */
  private pollMs: number;
  private readonly workers = new Map<number, StartedWorker>();

  constructor(options: SsmFleetOptions) {
    const exec = options.executionTimeoutSeconds;
    if (!Number.isInteger(exec) || exec < EXECUTION_TIMEOUT_RANGE_SECONDS.min || exec > EXECUTION_TIMEOUT_RANGE_SECONDS.max) {
      throw new RangeError(`SsmFleet executionTimeoutSeconds must be a whole number in 1..172800; got ${exec}`);
    }
    const delivery = options.deliveryTimeoutSeconds ?? 120;
    if (!Number.isInteger(delivery) || delivery < DELIVERY_TIMEOUT_RANGE_SECONDS.min || delivery > DELIVERY_TIMEOUT_RANGE_SECONDS.max) {
      throw new RangeError(`SsmFleet deliveryTimeoutSeconds must be a whole number in 30..2592000; got ${delivery}`);
    }
    const dup = options.instances.find((id, i) => options.instances.indexOf(id) !== i);
    if (dup !== undefined) throw new RangeError(`SsmFleet instances must be distinct; ${dup} appears twice`);
    this.o = options;
    this.name = options.name ?? 'ssm';
    this.clock = options.clock ?? realClock;
    this.basePollMs = options.pollMs ?? 2000;
    this.maxPollMs = Math.max(this.basePollMs, options.maxPollMs ?? BACKOFF_MAX_MS);
    this.pollMs = this.basePollMs;
  }

  /** The current interval between refreshes of one command, ms (for tests and progress). */
  get currentPollMs(): number {
    return this.pollMs;
  }

  async start(index: number, command: string[]): Promise<void> {
    const problem = this.cannotStart(index);
    if (problem) throw new Error(`could not start worker ${index}: ${problem}`);
    const instanceId = this.o.instances[index];
    try {
      await this.send([index], () => command);
    } catch (err) {
      throw new Error(`could not start worker ${index} on ${instanceId}: ${describeError(err)}`, { cause: err });
    }
  }

  /**
   * One SendCommand per 50 workers (in `indexes` order), up to `sendConcurrency` at once.
   * Resolves with the workers that could not be started and why; never rejects.
   */
  async startBatch(indexes: number[], command: (index: number) => string[]): Promise<Map<number, string>> {
    const failures = new Map<number, string>();
    const ok = new Set<number>();
    for (const index of indexes) {
      const problem = ok.has(index) ? 'it appears twice in the batch' : this.cannotStart(index);
      if (problem) failures.set(index, problem);
      else ok.add(index);
    }
    const batches = chunks([...ok], MAX_INSTANCES_PER_COMMAND);
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        try {
          await this.send(batch, command);
        } catch (err) {
          const message = describeError(err);
          for (const index of batch) failures.set(index, `SendCommand to ${this.o.instances[index]} failed: ${message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.sendConcurrency ?? 4) }, lane));
    return failures;
  }

  async status(index: number): Promise<FleetWorkerState> {
    const w = this.workers.get(index);
    if (!w) return { state: 'pending' };
    if (w.final) return w.final;
    await this.refresh(w.command);
    const inv = w.command.invocations.get(w.instanceId);
    if (!inv) {
      const waited = this.clock.now() - w.command.sentAt;
      if (waited < (this.o.missingGraceMs ?? 60_000)) return { state: 'pending' };
      return (w.final = {
        state: 'lost',
        detail: `SSM has no invocation of command ${w.command.id} on ${w.instanceId} ${Math.round(waited / 1000)} s after it was sent`,
      });
    }
    const c = classifyInvocation(inv);
    switch (c.kind) {
      case 'running':
        return { state: 'running' };
      case 'success':
        return (w.final = { state: 'exited', exitCode: 0 });
      case 'lost':
        return (w.final = { state: 'lost', detail: w.cancelled && c.cancelled ? 'cancelled by loadfarm (SSM CancelCommand)' : c.detail });
      case 'failed':
        return (await this.failure(w)) ?? { state: 'running' };
    }
  }

  /**
   * CancelCommand for this worker's instance (after `cancelGraceMs` if it does not end by
   * itself). Nothing happens for a worker not started or already ended.
   */
  async cancel(index: number): Promise<void> {
    const w = this.workers.get(index);
    if (!w || w.final) return;
    const graceMs = this.o.cancelGraceMs ?? 0;
    if (graceMs > 0) {
      const until = this.clock.now() + graceMs;
      while (this.clock.now() < until) {
        const s = await this.status(index);
        if (s.state === 'exited' || s.state === 'lost') return;
        await this.clock.sleep(Math.min(this.pollMs, Math.max(0, until - this.clock.now())));
      }
    }
    const inv = w.command.invocations.get(w.instanceId);
    if (inv && classifyInvocation(inv).kind !== 'running') return;
    w.cancelled = true;
    try {
      await retryWithBackoff(
        () => this.o.ssm.send(new CancelCommandCommand({ CommandId: w.command.id, InstanceIds: [w.instanceId] })),
        this.retryOptions(),
      );
    } catch (err) {
      // The invocation ended (or was never created) meanwhile: nothing is left to cancel.
      if (hasName(err, ALREADY_DONE)) return;
      throw err;
    }
  }

  /** The clients are the caller's: nothing to release. Running workers stop by their deadline. */
  async close(): Promise<void> {}

  /**
   * Takes over workers another CLI process started (`loadfarm attach`): worker i is followed
   * through command `commandIds[i]`, as if this fleet had sent it at `sentAt` (epoch ms).
   */
  adopt(commandIds: ReadonlyMap<number, string>, sentAt: number): void {
    const byId = new Map<string, SentCommand>();
    for (const [index, id] of commandIds) {
      let sent = byId.get(id);
      if (!sent) {
        const instanceIds = [...commandIds].filter(([, c]) => c === id).map(([i]) => this.o.instances[i]);
        sent = { id, instanceIds, sentAt, invocations: new Map() };
        byId.set(id, sent);
      }
      this.workers.set(index, { instanceId: this.o.instances[index], command: sent });
    }
  }

  /** The SSM command id that started worker `index`, if started. */
  commandId(index: number): string | undefined {
    return this.workers.get(index)?.command.id;
  }

  private cannotStart(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.o.instances.length) {
      return `there is no instance for it (the fleet has ${this.o.instances.length})`;
    }
    const w = this.workers.get(index);
    if (w) return `it was already started (SSM command ${w.command.id})`;
    return undefined;
  }

  /** Sends one command for `indexes` (at most 50), retrying throttling, and records the workers. */
  private async send(indexes: readonly number[], command: (index: number) => string[]): Promise<void> {
    const entries = indexes.map((index) => ({ instanceId: this.o.instances[index], argv: command(index) }));
    const readyFile = this.o.readyFile === undefined ? WORKER_PATHS.ready : this.o.readyFile ?? undefined;
    const input: SendCommandCommandInput = {
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: entries.map((e) => e.instanceId),
      Parameters: {
        commands: [workerScript({ entries, readyFile })],
        executionTimeout: [String(this.o.executionTimeoutSeconds)],
      },
      TimeoutSeconds: this.o.deliveryTimeoutSeconds ?? 120,
      Comment: cut(this.o.commentFor(indexes), MAX_COMMENT_LENGTH),
      OutputS3BucketName: this.o.bucket,
      OutputS3KeyPrefix: this.o.outputPrefix(indexes[0]),
      // Every instance at once, and one worker failing never stops SSM sending to the others
      // (the default MaxErrors of 0 would).
      MaxConcurrency: '100%',
      MaxErrors: '100%',
    };
    const out = await retryWithBackoff(() => this.o.ssm.send(new SendCommandCommand(input)), this.retryOptions());
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SSM SendCommand answered without a command id');
    const sent: SentCommand = { id, instanceIds: input.InstanceIds!, sentAt: this.clock.now(), invocations: new Map() };
    indexes.forEach((index, k) => this.workers.set(index, { instanceId: entries[k].instanceId, command: sent }));
  }

  private retryOptions() {
    return {
      attempts: this.o.sendAttempts ?? 6,
      baseMs: this.o.sendBackoffMs ?? 1000,
      maxMs: BACKOFF_MAX_MS,
      random: this.o.random,
      retryable: isThrottling,
      sleep: (ms: number) => this.clock.sleep(ms),
    };
  }

  /**
   * Refreshes the invocations of `command` unless done less than `pollMs` ago; concurrent
   * callers share one refresh. Throttling and not-yet-existing invocations keep what was known
   * and slow polling down; other errors reject (this time only).
   */
  private refresh(command: SentCommand): Promise<void> {
    if (command.refreshing) return command.refreshing;
    if (command.fetchedAt !== undefined && this.clock.now() - command.fetchedAt < this.pollMs) return Promise.resolve();
    command.refreshing = (async () => {
      try {
        const fresh = new Map<string, CommandInvocation>();
        const pages = paginateListCommandInvocations(
          { client: this.o.ssm, pageSize: MAX_INSTANCES_PER_COMMAND },
          { CommandId: command.id, Details: false },
        );
        for await (const page of pages) {
          for (const inv of page.CommandInvocations ?? []) if (inv.InstanceId) fresh.set(inv.InstanceId, inv);
        }
        command.invocations = fresh;
        if (command.instanceIds.every((id) => fresh.has(id))) this.speedUp();
        else this.slowDown();
      } catch (err) {
        if (isThrottling(err) || hasName(err, NOT_THERE_YET)) this.slowDown();
        else throw err;
      } finally {
        command.fetchedAt = this.clock.now();
        command.refreshing = undefined;
      }
    })();
    return command.refreshing;
  }

  /** The final state of a worker whose invocation Failed, or undefined to ask again later (throttled). */
  private async failure(w: StartedWorker): Promise<FleetWorkerState | undefined> {
    if (w.detailsAfter !== undefined && this.clock.now() < w.detailsAfter) return undefined;
    // Concurrent callers meanwhile see the worker running, rather than asking twice.
    w.detailsAfter = this.clock.now() + this.pollMs;
    let out;
    try {
      out = await this.o.ssm.send(new GetCommandInvocationCommand({ CommandId: w.command.id, InstanceId: w.instanceId }));
    } catch (err) {
      if (!isThrottling(err)) throw err;
      this.slowDown();
      w.detailsAfter = this.clock.now() + this.pollMs;
      return undefined;
    }
    const code = out.ResponseCode;
    const said = stderrTail(out.StandardErrorContent);
    if (code === undefined || code < 0) {
      const why = out.StatusDetails ? `SSM: ${out.StatusDetails}` : 'SSM: Failed';
      return (w.final = { state: 'lost', detail: `${why}, with no exit code (${code ?? 'none'})${said ? `: ${said}` : ''}` });
    }
    return (w.final = { state: 'exited', exitCode: code, detail: said ?? (out.StatusDetails ? `SSM: ${out.StatusDetails}` : undefined) });
  }

  private slowDown(): void {
    this.pollMs = Math.min(this.maxPollMs, this.pollMs * 2);
  }

  private speedUp(): void {
    this.pollMs = Math.max(this.basePollMs, Math.floor(this.pollMs / 2));
  }
}

/** Errors of a just-sent command whose invocations SSM does not show yet. */
const NOT_THERE_YET = new Set(['InvocationDoesNotExist', 'InvalidCommandId']);
/** CancelCommand errors meaning there is nothing left to cancel. */
const ALREADY_DONE = new Set(['InvocationDoesNotExist', 'InvalidCommandId', 'InvalidInstanceId']);

function hasName(err: unknown, names: ReadonlySet<string>): boolean {
  return typeof err === 'object' && err !== null && names.has(String((err as { name?: unknown }).name));
}

/** `ThrottlingException: Rate exceeded` (the SDK's name and message). */
function describeError(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
