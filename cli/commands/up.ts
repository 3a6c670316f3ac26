import { Command } from 'commander';
import { CONTEXT_DEFAULTS, CONTEXT_LIMITS, parseContext } from '../../infra/config';
import { DEFAULT_ENV_NAME } from '../../infra/names';
import { checkDeployPackages } from '../aws/cdk-loader';
import { checkEnvAndRegion, interactive } from '../aws/flags';
import { stdOutput } from '../aws/output';
import type { UpOptions } from '../aws/up';
import { UsageError } from '../errors';
import { Problems } from '../options';

export interface UpFlags {
  env: string;
  workers: string;
  instanceType: string;
  spot?: boolean;
  ttl: string;
  region?: string;
  vpcCidr?: string;
  private?: boolean;
  keepResults?: boolean;
  readyTimeout: string;
  yes?: boolean;
}

const HOUR_MS = 3_600_000;

export function upCommand(): Command {
  return new Command('up')
    .description('deploy an AWS environment of worker machines (CDK), after showing its cost, and wait until every worker is online')
    .option('--env <name>', 'environment name (stack loadfarm-<name>)', DEFAULT_ENV_NAME)
    .option('-w, --workers <n>', `worker machines (${CONTEXT_LIMITS.workers.min}-${CONTEXT_LIMITS.workers.max})`, String(CONTEXT_DEFAULTS.workers))
    .option('--instance-type <type>', 'EC2 instance type of the workers (Graviton types get the arm64 image)', CONTEXT_DEFAULTS.instanceType)
    .option('--spot', 'run the workers on Spot capacity (cheaper; AWS may reclaim a machine)')
    .option('--ttl <duration>', 'time to live: the workers scale to 0 after it (15m to 168h)', `${CONTEXT_DEFAULTS.ttlHours}h`)
    .option('--region <region>', 'AWS region (default: AWS_REGION, else the profile\'s region)')
    .option('--vpc-cidr <cidr>', `IPv4 range of the environment's VPC (default ${CONTEXT_DEFAULTS.vpcCidr})`)
    .option('--private', 'workers in private subnets behind a NAT gateway, with SSM endpoints (costs more)')
    .option('--keep-results', 'keep the results: the bucket outlives the environment and nothing in it expires')
    .option('--no-keep-results', 'stop keeping the results of an environment deployed with --keep-results')
    .option('--ready-timeout <duration>', 'how long to wait after the deploy for every worker to be online in SSM', '10m')
    .option('-y, --yes', 'deploy without asking (needed when stdin is not a terminal)')
    .addHelpText(
      'after',
      `
Credentials come from the standard AWS chain (AWS_PROFILE, \`aws sso login\`, AWS_ACCESS_KEY_ID…);
loadfarm never stores them. Deploying an environment that exists updates it to what the flags say
(workers, type, a new expiry from now): that is how to extend its time to live. Omitting
--vpc-cidr or --private on an environment deployed with them replaces its network.
At the expiry the workers scale to 0; an hour later the environment deletes itself (NAT gateway,
endpoints, and the results unless kept), so nothing bills by the hour for long.
Kept results (--keep-results) are a fact of the environment: a later up keeps them kept until it
is given --no-keep-results, and the summary says when a deploy changes that.
The same deploy without loadfarm: npx cdk deploy -c env=NAME -c workers=N (see infra/README.md).

Exit codes: 0 ready · 1 bad flags, no credentials or region, not confirmed · 2 the deploy failed,
or the workers did not come online in time.`,
    )
    .action(async (flags: UpFlags) => {
      const options = parseUpFlags(flags);
      checkDeployPackages();
      // The AWS SDK and the CDK toolkit load only when an AWS command runs.
      const { clientPool, sdkDefaultRegion } = await import('../aws/clients');
      const { buildWorkerBundle, toolkitDeploy } = await import('../aws/deploy');
      const { terminalConfirm } = await import('../aws/prompt');
      const { bringUp } = await import('../aws/up');
      const pool = clientPool();
      try {
        process.exitCode = await bringUp(options, {
          clients: pool.make,
          defaultRegion: sdkDefaultRegion,
          deploy: toolkitDeploy,
          buildWorker: buildWorkerBundle,
          interactive: interactive(),
          confirm: terminalConfirm(),
          out: stdOutput,
          now: () => new Date(),
        });
      } finally {
        pool.close();
      }
    });
}

/** Context keys whose problems `parseContext` reports, and the flags they come from. */
const FLAG_OF_KEY: Record<string, string> = { instanceType: '--instance-type', vpcCidr: '--vpc-cidr' };

/**
 * Checks every flag of `up` and collects all problems before any AWS call.
 * @throws UsageError naming each bad flag and the value received
 */
export function parseUpFlags(flags: UpFlags): UpOptions {
  const p = new Problems();
  checkEnvAndRegion(p, flags.env, flags.region);
  const workers = p.int('--workers', flags.workers, CONTEXT_LIMITS.workers.min, CONTEXT_LIMITS.workers.max);
  const ttlMs = p.durationMs('--ttl', flags.ttl);
  const { min, max } = CONTEXT_LIMITS.ttlHours;
  if (ttlMs !== undefined && (ttlMs < min * HOUR_MS || ttlMs > max * HOUR_MS)) {
    p.add('--ttl', `a duration from ${min * 60}m to ${max}h (7 days)`, flags.ttl);
  }
  const readyTimeoutMs = p.durationMs('--ready-timeout', flags.readyTimeout, 1000);
  const context = parseContext({ instanceType: flags.instanceType, vpcCidr: flags.vpcCidr }, new Date());
  if (!context.ok) {
    for (const problem of context.problems) {
      const key = Object.keys(FLAG_OF_KEY).find((k) => problem.startsWith(`context ${k} `));
      p.list.push(key ? `${FLAG_OF_KEY[key]}: ${problem.slice(`context ${key} `.length)}` : problem);
    }
  }
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
  return {
    env: flags.env,
    workers: workers!,
    instanceType: flags.instanceType,
    spot: flags.spot === true,
    ttlHours: ttlMs! / HOUR_MS,
    region: flags.region,
    vpcCidr: flags.vpcCidr,
    privateWorkers: flags.private === true,
    keepResults: flags.keepResults,
    yes: flags.yes === true,
    readyTimeoutMs: readyTimeoutMs!,
  };
}
