/**
 * The SSM fleet: workers run on an environment's EC2 instances, started with SSM Run Command
 * (`AWS-RunShellScript`), watched through their command invocations, cancelled with
 * CancelCommand. The class keeps which command started which worker; sending (ssm-send.ts),
 * polling invocations (ssm-poll.ts), a failed worker's exit code (ssm-failure.ts) and cancel
 * (ssm-cancel.ts) live apart, as do discovery (discovery.ts), command naming (naming.ts) and the
 * meaning of an invocation's status (invocation.ts), which are re-exported here.
 *
 * SDK clients are passed in (tests give mocked ones; the CLI makes them in cli/aws/clients.ts).
 * Endpoints are never set here, so `AWS_ENDPOINT_URL_SSM` / `_EC2` keep working.
 */
import type { RetryOptions } from '../aws/backoff';
import { describeError } from '../aws/error-kind';
import { realClock } from '../aws/poll';
import type { Fleet, FleetWorkerState } from './fleet';
import { classifyInvocation } from './invocation';
import { chunks, DELIVERY_TIMEOUT_RANGE_SECONDS, EXECUTION_TIMEOUT_RANGE_SECONDS, MAX_INSTANCES_PER_COMMAND } from './limits';
import { cancelInvocation } from './ssm-cancel';
import { failedWorkerState } from './ssm-failure';
import { BACKOFF_MAX_MS, commandRetry, type SsmFleetOptions } from './ssm-options';
import { refreshInvocations, type PollPolicy } from './ssm-poll';
import { sendStartCommand } from './ssm-send';
import type { SentCommand, StartedWorker } from './ssm-state';

export * from './discovery';
export * from './invocation';
export * from './limits';
export * from './naming';
export type { SsmFleetOptions } from './ssm-options';

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
  private readonly poll: PollPolicy;
  private readonly retry: RetryOptions;
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
    const clock = options.clock ?? realClock;
    const basePollMs = options.pollMs ?? 2000;
    this.poll = {
      clock,
      basePollMs,
      maxPollMs: Math.max(basePollMs, options.maxPollMs ?? BACKOFF_MAX_MS),
      windowMs: options.consistencyWindowMs ?? 60_000,
    };
    this.retry = commandRetry(options, clock);
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
    await refreshInvocations(this.o.ssm, w.command, this.poll);
    const inv = w.command.invocations.get(w.instanceId);
    if (!inv) {
      const waited = this.poll.clock.now() - w.command.sentAt;
      if (waited < this.poll.windowMs) return { state: 'pending' };
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
        return (await failedWorkerState(this.o.ssm, w, this.poll)) ?? { state: 'running' };
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
    await cancelInvocation(this.o.ssm, w.command.id, w.instanceId, this.retry);
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
        sent = { id: commandId, instanceIds, sentAt, invocations: new Map(), intervalMs: this.poll.basePollMs };
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
    const { id, instanceIds } = await sendStartCommand(this.o, this.retry, indexes, command);
    const sent: SentCommand = { id, instanceIds, sentAt: this.poll.clock.now(), invocations: new Map(), intervalMs: this.poll.basePollMs };
    indexes.forEach((index, k) => this.workers.set(index, { instanceId: instanceIds[k], command: sent }));
  }
}
