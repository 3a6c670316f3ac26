/**
 * The SSM fleet: workers run on an environment's EC2 instances, started with SSM Run Command
 * (`AWS-RunShellScript`), watched through their command invocations, cancelled with
 * CancelCommand. Discovery (discovery.ts), command naming (naming.ts) and the meaning of an
 * invocation's status (invocation.ts) live apart; they are re-exported here.
 *
 * SDK clients are passed in (tests give mocked ones; the CLI makes them in cli/aws/clients.ts).
 * Endpoints are never set here, so `AWS_ENDPOINT_URL_SSM` / `_EC2` keep working.
 */
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  paginateListCommandInvocations,
  SendCommandCommand,
  SSMClient,
  type CommandInvocation,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { WORKER_PATHS } from '../../infra/names';
import { isThrottling, retryWithBackoff } from '../aws/backoff';
import { describeError } from '../aws/error-kind';
import { realClock, type Clock } from '../aws/poll';
import type { Fleet, FleetWorkerState } from './fleet';
import { classifyInvocation, startScriptProblem, stderrTail } from './invocation';
import {
  chunks,
  DELIVERY_TIMEOUT_RANGE_SECONDS,
  EXECUTION_TIMEOUT_RANGE_SECONDS,
  MAX_COMMENT_LENGTH,
  MAX_INSTANCES_PER_COMMAND,
} from './limits';
import { workerScript } from './ssm-script';

export * from './discovery';
export * from './invocation';
export * from './limits';
export * from './naming';

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
   * The file whose absence means an instance is not set up (the script then refuses to start).
   * `null` skips the check (tests running the script on a machine that is not a worker).
   * @default WORKER_PATHS.ready
   */
  readonly readyFile?: string | null;
  /**
   * The worker bundle in a worker's argv, which the script checks is there before starting it.
   * @default argv[1] (workerCommand's shape: node, bundle, flags)
   */
  readonly bundleOf?: (argv: readonly string[]) => string | undefined;
  /** For messages. @default 'ssm' */
  readonly name?: string;
  /**
   * Interval between refreshes of one command's invocations, ms. Each command keeps its own:
   * doubled up to `maxPollMs` while that command is throttled or failing (or its invocations are
   * missing past the consistency window), back to this on a clean refresh. An invocation not
   * yet visible inside the window is normal and never slows polling down.
   * @default 2000
   */
  readonly pollMs?: number;
  /** @default 15000 */
  readonly maxPollMs?: number;
  /**
   * SSM's consistency window: this long after SendCommand, an invocation SSM does not show is
   * `pending`; after it, `unknown` (the follow loop then goes by the store), ms.
   * @default 60000
   */
  readonly consistencyWindowMs?: number;
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
   * After the stop marker, how long the follow loop lets workers end by themselves before it
   * cancels them (Fleet.cancelGraceMs), ms. @default 0
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
  /** When SendCommand returned (or, for an adopted command, when it was recorded as sent), epoch ms. */
  readonly sentAt: number;
  /** Latest invocations by instance id. */
  invocations: Map<string, CommandInvocation>;
  fetchedAt?: number;
  /** This command's current interval between refreshes, ms. */
  intervalMs: number;
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
 * instance's argv). Status comes from ListCommandInvocations, at most once per command per its
 * own interval, whatever the number of callers; a failed worker's exit code from one
 * GetCommandInvocation. Throttling never fails a status: the last known state is returned and
 * that command's polling slows down. Other errors reject that one call (the caller decides).
 */
export class SsmFleet implements Fleet {
  readonly name: string;
  readonly cancelGraceMs: number;
  private readonly o: SsmFleetOptions;
  private readonly clock: Clock;
  private readonly basePollMs: number;
  private readonly maxPollMs: number;
  private readonly windowMs: number;
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
    this.cancelGraceMs = options.cancelGraceMs ?? 0;
    this.clock = options.clock ?? realClock;
    this.basePollMs = options.pollMs ?? 2000;
    this.maxPollMs = Math.max(this.basePollMs, options.maxPollMs ?? BACKOFF_MAX_MS);
    this.windowMs = options.consistencyWindowMs ?? 60_000;
  }

  /** The current interval between refreshes of the command that started worker `index`, ms (undefined: not started). */
  pollIntervalMs(index: number): number | undefined {
    return this.workers.get(index)?.command.intervalMs;
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
  async startBatch(indexes: number[], command: (index: number) => string[]): Promise<Map<number, Error>> {
    const failures = new Map<number, Error>();
    const ok = new Set<number>();
    for (const index of indexes) {
      const problem = ok.has(index) ? 'it appears twice in the batch' : this.cannotStart(index);
      if (problem) failures.set(index, new Error(problem));
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
          for (const index of batch) failures.set(index, new Error(`SendCommand to ${this.o.instances[index]} failed: ${message}`, { cause: err }));
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
      if (waited < this.windowMs) return { state: 'pending' };
      return { state: 'unknown', detail: `SSM shows no invocation of command ${w.command.id} on ${w.instanceId} ${Math.round(waited / 1000)} s after it was sent` };
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
   * CancelCommand for this worker's instance, now (the follow loop decides when: after the
   * workers had their grace to end by the stop marker). Throttling is retried; an invocation
   * that ended meanwhile is nothing to cancel; other errors reject. Nothing happens for a worker
   * not started or already ended.
   */
  async cancel(index: number): Promise<void> {
    const w = this.workers.get(index);
    if (!w || w.final) return;
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
   * through its recorded command, as if this fleet had sent it at its `sentAt` (epoch ms).
   */
  adopt(started: ReadonlyMap<number, { readonly commandId: string; readonly sentAt: number }>): void {
    const byId = new Map<string, SentCommand>();
    for (const [index, { commandId, sentAt }] of started) {
      let sent = byId.get(commandId);
      if (!sent) {
        const instanceIds = [...started].filter(([, s]) => s.commandId === commandId).map(([i]) => this.o.instances[i]);
        sent = { id: commandId, instanceIds, sentAt, invocations: new Map(), intervalMs: this.basePollMs };
        byId.set(commandId, sent);
      }
      this.workers.set(index, { instanceId: this.o.instances[index], command: sent });
    }
  }

  /** The SSM command id that started worker `index`, and when it was sent (epoch ms), if started. */
  started(index: number): { commandId: string; sentAt: number } | undefined {
    const w = this.workers.get(index);
    return w && { commandId: w.command.id, sentAt: w.command.sentAt };
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
    const bundleOf = this.o.bundleOf ?? ((argv: readonly string[]) => argv[1]);
    const entries = indexes.map((index) => {
      const argv = command(index);
      return { instanceId: this.o.instances[index], argv, bundle: bundleOf(argv) };
    });
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
    const sent: SentCommand = { id, instanceIds: input.InstanceIds!, sentAt: this.clock.now(), invocations: new Map(), intervalMs: this.basePollMs };
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
   * Refreshes the invocations of `command` unless done less than its interval ago; concurrent
   * callers share one refresh. Throttling, and invocations not there yet, keep what was known;
   * other errors reject (this time only). See `pollMs` for how the interval moves.
   */
  private refresh(command: SentCommand): Promise<void> {
    if (command.refreshing) return command.refreshing;
    if (command.fetchedAt !== undefined && this.clock.now() - command.fetchedAt < command.intervalMs) return Promise.resolve();
    command.refreshing = (async () => {
      const inWindow = this.clock.now() - command.sentAt < this.windowMs;
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
        if (inWindow || command.instanceIds.every((id) => fresh.has(id))) this.speedUp(command);
        else this.slowDown(command);
      } catch (err) {
        if (hasName(err, NOT_THERE_YET) && inWindow) return;
        this.slowDown(command);
        if (!isThrottling(err) && !hasName(err, NOT_THERE_YET)) throw err;
      } finally {
        command.fetchedAt = this.clock.now();
        command.refreshing = undefined;
      }
    })();
    return command.refreshing;
  }

  /**
   * The final state of a worker whose invocation Failed, or undefined to ask again later
   * (throttled, or the invocation not visible to GetCommandInvocation yet); `unknown` when SSM
   * says it does not exist past the consistency window.
   */
  private async failure(w: StartedWorker): Promise<FleetWorkerState | undefined> {
    if (w.detailsAfter !== undefined && this.clock.now() < w.detailsAfter) return undefined;
    // Concurrent callers meanwhile see the worker running, rather than asking twice.
    w.detailsAfter = this.clock.now() + w.command.intervalMs;
    let out;
    try {
      out = await this.o.ssm.send(new GetCommandInvocationCommand({ CommandId: w.command.id, InstanceId: w.instanceId }));
    } catch (err) {
      if (hasName(err, NOT_THERE_YET)) {
        const waited = this.clock.now() - w.command.sentAt;
        if (waited < this.windowMs) return undefined;
        return { state: 'unknown', detail: `SSM says the invocation of command ${w.command.id} on ${w.instanceId} does not exist (${describeError(err)})` };
      }
      this.slowDown(w.command);
      w.detailsAfter = this.clock.now() + w.command.intervalMs;
      if (isThrottling(err)) return undefined;
      throw err;
    }
    const code = out.ResponseCode;
    const said = stderrTail(out.StandardErrorContent);
    if (code === undefined || code < 0) {
      const why = out.StatusDetails ? `SSM: ${out.StatusDetails}` : 'SSM: Failed';
      return (w.final = { state: 'lost', detail: `${why}, with no exit code (${code ?? 'none'})${said ? `: ${said}` : ''}` });
    }
    const scriptProblem = startScriptProblem(code, w.instanceId, said);
    if (scriptProblem) return (w.final = { state: 'lost', detail: scriptProblem });
    return (w.final = { state: 'exited', exitCode: code, detail: said ?? (out.StatusDetails ? `SSM: ${out.StatusDetails}` : undefined) });
  }

  private slowDown(command: SentCommand): void {
    command.intervalMs = Math.min(this.maxPollMs, command.intervalMs * 2);
  }

  private speedUp(command: SentCommand): void {
    command.intervalMs = this.basePollMs;
  }
}

/** Errors of a command or invocation SSM does not show (yet, or any more). */
const NOT_THERE_YET = new Set(['InvocationDoesNotExist', 'InvalidCommandId']);
/** CancelCommand errors meaning there is nothing left to cancel. */
const ALREADY_DONE = new Set(['InvocationDoesNotExist', 'InvalidCommandId', 'InvalidInstanceId']);

function hasName(err: unknown, names: ReadonlySet<string>): boolean {
  return typeof err === 'object' && err !== null && names.has(String((err as { name?: unknown }).name));
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
