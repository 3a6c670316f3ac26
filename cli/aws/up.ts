/**
 * `loadfarm up`: shows what an environment will cost, asks, deploys it, and waits until
 * every worker machine answers SSM. Every AWS edge comes in through `UpDeps`.
 */
import type { Stack } from '@aws-sdk/client-cloudformation';
import { type LoadfarmConfig, SELF_DELETE_GRACE_MINUTES, parseContext, selfDeleteAt } from '../../infra/config';
import { costPerHour } from '../../infra/cost';
import { type EnvFacts, type EnvFactsResult, stackName as stackNameOf } from '../../infra/names';
import { formatDuration } from '../../worker/scenario/duration';
import { EXIT, UsageError } from '../errors';
import { type AwsClients, firstCall, resolveRegion } from './clients';
import { type BuildWorkerFn, type CdkContext, type DeployFn, isBootstrapped } from './deploy';
import { describeStack, readEnvFacts } from './environments';
import { costLine, formatUsd, formatUtc, timeLeft } from './format';
import type { Output } from './output';
import type { Clock } from './poll';
import { type ConfirmFn, confirmed } from './prompt';
import { waitForWorkers } from './ready';
import { resultsBucketRetained } from './teardown';

/** What `up` was asked for, already checked (see `cli/commands/up.ts`). */
export interface UpOptions {
  readonly env: string;
  readonly workers: number;
  readonly instanceType: string;
  readonly spot: boolean;
  readonly ttlHours: number;
  /** Absent: the SDK's default region. */
  readonly region?: string;
  /** Absent: the app's default (cdk.json context, else 10.64.0.0/16). */
  readonly vpcCidr?: string;
  readonly privateWorkers: boolean;
  /**
   * true `--keep-results`, false `--no-keep-results`, undefined neither: a new environment
   * does not keep its results, an existing one keeps what it was deployed with.
   */
  readonly keepResults?: boolean;
  readonly yes: boolean;
  /** How long to wait, after the deploy, for every worker to be Online in SSM. */
  readonly readyTimeoutMs: number;
}

export interface UpDeps {
  readonly clients: (region: string) => AwsClients;
  readonly defaultRegion: () => Promise<string | undefined>;
  readonly deploy: DeployFn;
  readonly buildWorker: BuildWorkerFn;
  /** Whether a person can be asked (stdin and stderr are terminals). */
  readonly interactive: boolean;
  readonly confirm: ConfirmFn;
  readonly out: Output;
  readonly now: () => Date;
  readonly clock?: Clock;
  /** First delay between looks at the workers. @default 5000 */
  readonly pollDelayMs?: number;
}

/**
 * The CDK context of a deploy (keys of `infra/config.ts`). Every key `up` has a flag for is
 * set, so a deploy means what its flags say; `vpcCidr` only when given (a different range
 * replaces the network); `keepResults` as resolved by `resolveKeepResults`.
 */
export function upContext(options: UpOptions, region: string, keepResults: boolean, workerBundle?: string): CdkContext {
  return {
    env: options.env,
    workers: options.workers,
    instanceType: options.instanceType,
    spot: options.spot,
    ttlHours: options.ttlHours,
    keepResults,
    privateWorkers: options.privateWorkers,
    region,
    ...(options.vpcCidr !== undefined ? { vpcCidr: options.vpcCidr } : {}),
    ...(workerBundle !== undefined ? { workerBundle } : {}),
  };
}

/**
 * Whether an environment keeps its results after this deploy: what the flag says, else what
 * the environment was deployed with (`existing`), else not. Retention never flips silently.
 */
export function resolveKeepResults(flag: boolean | undefined, existing: boolean | undefined): boolean {
  return flag ?? existing ?? false;
}

/**
 * Whether the deployed environment keeps its results: its `keep-results` fact, or, for an
 * environment deployed before that fact existed, its template's DeletionPolicy.
 */
async function deployedKeepResults(clients: AwsClients, name: string, facts: EnvFactsResult | undefined): Promise<boolean> {
  if (facts?.ok && facts.facts.keepResults !== undefined) return facts.facts.keepResults;
  return resultsBucketRetained(clients.cloudFormation, name);
}

/** The line about the results bucket: what happens to it, and whether this deploy changes that. */
export function resultsLine(keep: boolean, existing: boolean | undefined): string {
  if (existing === undefined) {
    return keep
      ? 'results: kept: the bucket stays when the environment is deleted, and nothing in it expires'
      : 'results: the bucket is emptied and deleted with the environment (--keep-results keeps it)';
  }
  if (existing === keep) {
    return keep
      ? 'results: kept, as deployed: the bucket stays and nothing in it expires (--no-keep-results changes that)'
      : 'results: deleted with the environment, as deployed (--keep-results keeps them)';
  }
  return keep
    ? 'results: CHANGED to kept: the bucket will stay when the environment is deleted, and nothing in it expires'
    : 'results: CHANGED to not kept (--no-keep-results): the bucket and everything in it will be deleted with the environment, ' +
        'and objects older than 30 days expire';
}

/** Stack states in which CloudFormation refuses another operation. */
function busy(stack: Stack | undefined): boolean {
  return stack?.StackStatus?.endsWith('_IN_PROGRESS') ?? false;
}

/** The lines shown before asking. */
export function upSummary(input: {
  readonly options: UpOptions;
  readonly config: LoadfarmConfig;
  readonly region: string;
  readonly now: Date;
  readonly existing?: { readonly status?: string; readonly facts?: EnvFacts; readonly keepResults?: boolean };
  readonly bootstrapped: boolean;
}): string[] {
  const { options: o, config, existing } = input;
  const name = stackNameOf(o.env);
  const lines: string[] = [];
  if (!existing) lines.push(`new environment ${o.env} in ${input.region} (stack ${name})`);
  else {
    const now = existing.facts
      ? `: now ${existing.facts.workers} × ${existing.facts.instanceType}${existing.facts.spot ? ' spot' : ''}, ` +
        `${timeLeft(existing.facts.expiresAt, input.now)}`
      : '';
    lines.push(`update of environment ${o.env} in ${input.region} (stack ${name}, ${existing.status ?? 'unknown'}${now})`);
  }
  const network = o.privateWorkers ? 'private subnets behind a NAT gateway' : 'public subnets, no inbound access';
  lines.push(`workers: ${o.workers} × ${o.instanceType} (${o.spot ? 'spot' : 'on-demand'}), ${network}`);
  lines.push(
    `cost:    ${costLine({
      instanceType: o.instanceType, workers: o.workers, spot: o.spot, privateWorkers: o.privateWorkers, ttlHours: o.ttlHours,
    })}`,
  );
  const deletesAt = selfDeleteAt(config.expiresAt);
  lines.push(
    `expires: ${formatUtc(config.expiresAt)} (in ${formatDuration(o.ttlHours * 3_600_000)}): the workers scale to 0 then; ` +
      `at ${formatUtc(deletesAt)} (${SELF_DELETE_GRACE_MINUTES / 60}h later) the environment deletes itself` +
      `${config.keepResults ? '' : ', results included'}. \`loadfarm down --env ${o.env}\` removes it sooner`,
  );
  if (o.privateWorkers) {
    const fixed = costPerHour(o.instanceType, 0, o.spot, { privateWorkers: true })?.usdPerHourFixed;
    if (fixed !== undefined) {
      lines.push(`         the NAT gateway and SSM endpoints bill ${formatUsd(fixed)}/hour until then, also with the workers at 0`);
    }
  }
  lines.push(resultsLine(config.keepResults, existing?.keepResults));
  if (!input.bootstrapped) {
    lines.push(`cdk:     ${input.region} is not bootstrapped for the CDK: up bootstraps it first (stack CDKToolkit, kept afterwards)`);
  }
  return lines;
}

/**
 * Runs `up`. @returns the exit code: 0 ready, 2 the deploy failed or the workers did not come
 * online in time. Bad input, missing credentials or region, and a refused confirmation throw
 * UsageError (exit 1) before anything is deployed.
 */
export async function bringUp(options: UpOptions, deps: UpDeps): Promise<number> {
  const out = deps.out;
  const region = await resolveRegion(options.region, deps.defaultRegion);
  const checked = parseContext(upContext(options, region, options.keepResults ?? false), deps.now());
  if (!checked.ok) throw new UsageError(checked.problems[0], checked.problems.slice(1));
  const clients = deps.clients(region);
  const name = stackNameOf(options.env);
  const stack = await firstCall(() => describeStack(clients.cloudFormation, name));
  if (busy(stack)) {
    throw new UsageError(`stack ${name} is ${stack!.StackStatus}: wait until it has finished (\`loadfarm envs\` shows it), then try again`);
  }
  const existingFacts = stack ? await readEnvFacts(clients.ssm, options.env) : undefined;
  const existingKeep = stack ? await deployedKeepResults(clients, name, existingFacts) : undefined;
  const keepResults = resolveKeepResults(options.keepResults, existingKeep);
  const parsed = parseContext(upContext(options, region, keepResults), deps.now());
  if (!parsed.ok) throw new UsageError(parsed.problems[0], parsed.problems.slice(1));
  const bootstrapped = await isBootstrapped(clients.ssm);

  for (const line of upSummary({
    options,
    config: parsed.config,
    region,
    now: deps.now(),
    existing: stack
      ? { status: stack.StackStatus, facts: existingFacts?.ok ? existingFacts.facts : undefined, keepResults: existingKeep }
      : undefined,
    bootstrapped,
  })) {
    out.info(line);
  }
  const go = await confirmed({ yes: options.yes, interactive: deps.interactive, confirm: deps.confirm }, 'Deploy?', `deploy ${name}`);
  if (!go) {
    out.info('not deployed');
    return EXIT.badInput;
  }

  const bundle = await deps.buildWorker(out.info);
  out.info(`deploying ${name} to ${region}`);
  const outcome = await deps.deploy({
    stackName: name,
    context: upContext(options, region, keepResults, bundle),
    bootstrap: !bootstrapped,
    onProgress: out.info,
  });
  if (!outcome.ok) {
    out.problem(`deploying ${name} failed: ${outcome.message}`);
    return EXIT.incomplete;
  }

  const facts = await readEnvFacts(clients.ssm, options.env);
  if (!facts?.ok) {
    const problems = facts ? facts.problems : [`no SSM parameters under /loadfarm/${options.env}/`];
    out.problem(`${name} deployed, but its facts cannot be read: ${problems.join('; ')}`);
    return EXIT.incomplete;
  }
  out.info(`waiting for ${facts.facts.workers} worker(s) of group ${facts.facts.asg} to be online in SSM`);
  const ready = await waitForWorkers(clients, {
    groupName: facts.facts.asg,
    expected: facts.facts.workers,
    timeoutMs: options.readyTimeoutMs,
    onProgress: out.info,
    clock: deps.clock,
    initialDelayMs: deps.pollDelayMs,
  });
  if (!ready.ok) {
    out.problem(ready.message);
    return EXIT.incomplete;
  }
  out.info(
    `environment ${options.env} ready in ${region}: ${facts.facts.workers} × ${facts.facts.instanceType} online, ` +
      `results in s3://${facts.facts.bucket}/, expires ${formatUtc(facts.facts.expiresAt)} (${timeLeft(facts.facts.expiresAt, deps.now())})`,
  );
  return EXIT.passed;
}
