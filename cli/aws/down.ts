/**
 * `loadfarm down`: deletes an environment's stack and checks, by tag, that nothing of it is
 * left. Every AWS edge comes in through `DownDeps`.
 *
 * `--keep-results` does not change the stack: whether the results bucket stays is decided
 * when the environment is deployed (`up --keep-results` sets its DeletionPolicy to Retain).
 * `down --keep-results` on an environment deployed without it refuses, before deleting
 * anything, and says how to keep the results.
 */
import { stackName as stackNameOf } from '../../infra/names';
import { formatDuration } from '../../worker/scenario/duration';
import { EXIT, UsageError } from '../errors';
import { type AwsClients, firstCall, resolveRegion } from './clients';
import { describeStack, readEnvFacts, stackOutput } from './environments';
import type { Clock } from './poll';
import { type ConfirmFn, confirmed } from './prompt';
import { deleteStack, resultsBucketRetained, verifyTeardown } from './teardown';
import type { Output } from './output';

export interface DownOptions {
  readonly env: string;
  readonly region?: string;
  /** The results bucket is expected to stay (and must have been deployed to stay). */
  readonly keepResults: boolean;
  readonly yes: boolean;
  /** How long to wait for the stack deletion. */
  readonly timeoutMs: number;
}

export interface DownDeps {
  readonly clients: (region: string) => AwsClients;
  readonly defaultRegion: () => Promise<string | undefined>;
  readonly interactive: boolean;
  readonly confirm: ConfirmFn;
  readonly out: Output;
  readonly clock?: Clock;
  /** First delay between looks at the stack. @default 5000 */
  readonly pollDelayMs?: number;
  /** How long leftovers are looked for again while the tagging API catches up. @default 60000 */
  readonly settleMs?: number;
}

/**
 * Runs `down`. @returns the exit code: 0 nothing left (but what was kept on purpose), 2 the
 * deletion failed or something is left. Missing credentials or region, a refused
 * confirmation, and `--keep-results` on an environment that would lose its results throw
 * UsageError (exit 1) before anything is deleted.
 */
export async function tearDown(options: DownOptions, deps: DownDeps): Promise<number> {
  const out = deps.out;
  const region = await resolveRegion(options.region, deps.defaultRegion);
  const clients = deps.clients(region);
  const name = stackNameOf(options.env);
  const stack = await firstCall(() => describeStack(clients.cloudFormation, name));
  if (stack?.StackStatus?.endsWith('_IN_PROGRESS') && stack.StackStatus !== 'DELETE_IN_PROGRESS') {
    throw new UsageError(`stack ${name} is ${stack.StackStatus}: wait until it has finished (\`loadfarm envs\` shows it), then try again`);
  }

  let keepBuckets = options.keepResults;
  let failed = false;
  if (!stack) {
    out.info(`no stack ${name} in ${region}; looking for anything left of environment ${options.env}`);
  } else {
    const facts = await readEnvFacts(clients.ssm, options.env);
    const bucket = stackOutput(stack, 'BucketName') ?? (facts?.ok ? facts.facts.bucket : undefined);
    const retained = await resultsBucketRetained(clients.cloudFormation, name);
    if (options.keepResults && !retained) {
      const where = bucket ? `s3://${bucket}/` : 'the results bucket';
      throw new UsageError(
        `not destroying ${name}: ${where} was deployed without --keep-results and would be deleted with the stack; ` +
          `copy what you need first (aws s3 sync ${bucket ? `s3://${bucket}/` : 's3://BUCKET/'} ./results-${options.env}) and run down without --keep-results, ` +
          `or deploy again with \`loadfarm up --env ${options.env} --keep-results …\` (same flags) and then run down --keep-results`,
      );
    }
    keepBuckets = retained;
    const workers = facts?.ok ? `${facts.facts.workers} × ${facts.facts.instanceType}, ` : '';
    const results = bucket
      ? retained
        ? `results bucket ${bucket} is kept`
        : `results bucket ${bucket} is emptied and deleted`
      : 'no results bucket found';
    out.info(`destroying environment ${options.env} in ${region} (stack ${name}, ${stack.StackStatus}; ${workers}${results})`);
    const go = await confirmed({ yes: options.yes, interactive: deps.interactive, confirm: deps.confirm }, 'Destroy?', `destroy ${name}`);
    if (!go) {
      out.info('nothing destroyed');
      return EXIT.badInput;
    }
    const deleted = await deleteStack(clients.cloudFormation, stack, {
      timeoutMs: options.timeoutMs,
      onProgress: out.info,
      clock: deps.clock,
      initialDelayMs: deps.pollDelayMs,
    });
    if (deleted.ok) out.info(`stack ${name} deleted in ${formatDuration(deleted.elapsedMs)}`);
    else {
      out.problem(deleted.message);
      failed = true;
    }
  }

  out.info(`checking that nothing tagged loadfarm:env=${options.env} is left in ${region}`);
  const found = await verifyTeardown(clients, {
    env: options.env,
    keepBuckets,
    settleMs: stack && !failed ? (deps.settleMs ?? 60_000) : 0,
    clock: deps.clock,
    initialDelayMs: deps.pollDelayMs,
  });
  for (const arn of found.kept) {
    const bucket = arn.slice(arn.lastIndexOf(':') + 1);
    out.info(`kept: results bucket s3://${bucket}/ (remove it with \`aws s3 rb s3://${bucket} --force\` when done)`);
  }
  if (found.leftover.length > 0) {
    out.problem(`left of environment ${options.env} in ${region}: ${found.leftover.join(', ')}`);
    return EXIT.incomplete;
  }
  if (failed) return EXIT.incomplete;
  out.info(`nothing of environment ${options.env} is left in ${region}${found.kept.length > 0 ? ' but the kept results' : ''}`);
  return EXIT.passed;
}
