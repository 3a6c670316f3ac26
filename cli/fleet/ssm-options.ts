/** What an SSM fleet is given, with the defaults it applies, and the retry policy of its SendCommand/CancelCommand calls. */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { isThrottling, type RetryOptions } from '../aws/backoff';
import type { Clock } from '../aws/poll';

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

/** `maxPollMs`'s default, and the longest wait between retries of a throttled call, ms. */
export const BACKOFF_MAX_MS = 15_000;

/** How SendCommand/CancelCommand are retried: throttling only, with `sendAttempts` / `sendBackoffMs`. */
export function commandRetry(o: SsmFleetOptions, clock: Clock): RetryOptions {
  return {
    attempts: o.sendAttempts ?? 6,
    baseMs: o.sendBackoffMs ?? 1000,
    maxMs: BACKOFF_MAX_MS,
    random: o.random,
    retryable: isThrottling,
    sleep: (ms: number) => clock.sleep(ms),
  };
}
