/**
 * The CDK app of one loadfarm environment: `npx cdk deploy -c env=NAME` (cdk.json runs
 * `npx tsx infra/app.ts`). Context keys and defaults: `./config.ts`. The stack is named
 * `loadfarm-<env>`, checked by cdk-nag's AWS Solutions rules on every synth.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_DEFAULTS, CONTEXT_KEYS, type LoadfarmConfig, parseContext } from './config';
import { stackName } from './names';
import { LoadfarmStack } from './stack';

/** Shipped instead of the worker bundle when `dist/worker.js` has not been built. */
export const PLACEHOLDER_WORKER_BUNDLE = path.join(__dirname, 'placeholder', 'worker.js');

/** Where the defaults come from that the context leaves open. */
export interface AppEnvironment {
  /** Account when the context has none (the CLI sets CDK_DEFAULT_ACCOUNT). */
  readonly defaultAccount?: string;
  /** Region when the context has none (the CLI sets CDK_DEFAULT_REGION). */
  readonly defaultRegion?: string;
  /** Directory relative bundle paths resolve from. */
  readonly cwd: string;
}

/**
 * Adds environment `config.env` to `app` (cdk-nag is the caller's: see `main`).
 * A missing default bundle (`dist/worker.js`) is replaced by a placeholder worker that exits
 * with code 1, with a synth warning; any other missing bundle path is an error.
 */
export function addLoadfarmStack(app: App, config: LoadfarmConfig, environment: AppEnvironment): LoadfarmStack {
  const account = config.account ?? environment.defaultAccount;
  const region = config.region ?? environment.defaultRegion;
  let bundlePath = path.resolve(environment.cwd, config.workerBundle);
  let placeholder = false;
  if (!fs.existsSync(bundlePath)) {
    if (config.workerBundle !== CONTEXT_DEFAULTS.workerBundle) {
      throw new Error(`context workerBundle: no file at ${bundlePath}`);
    }
    bundlePath = PLACEHOLDER_WORKER_BUNDLE;
    placeholder = true;
  }

  const stack = new LoadfarmStack(app, stackName(config.env), {
    env: account && region ? { account, region } : region ? { region } : undefined,
    envName: config.env,
    workers: config.workers,
    instanceType: new ec2.InstanceType(config.instanceType),
    spot: config.spot,
    expiresAt: config.expiresAt,
    vpcCidr: config.vpcCidr,
    maxAzs: config.maxAzs,
    privateWorkers: config.privateWorkers,
    keepResults: config.keepResults,
    resultsExpirationDays: config.resultsExpirationDays,
    workerBundlePath: bundlePath,
  });
  if (placeholder) {
    Annotations.of(stack).addWarningV2(
      'loadfarm:placeholder-worker',
      `${CONTEXT_DEFAULTS.workerBundle} not found: the workers get a placeholder that exits with code 1. ` +
        'Run `npm run build` before deploying.',
    );
  }
  return stack;
}

/** Reads the context of `app`, exits with one line per problem, and adds the stack. */
function main(): void {
  const app = new App();
  const context: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) context[key] = app.node.tryGetContext(key);
  const parsed = parseContext(context, new Date());
  if (!parsed.ok) {
    for (const problem of parsed.problems) process.stderr.write(`loadfarm: ${problem}\n`);
    process.exit(1);
  }
  addLoadfarmStack(app, parsed.config, {
    defaultAccount: process.env.CDK_DEFAULT_ACCOUNT,
    defaultRegion: process.env.CDK_DEFAULT_REGION,
    cwd: process.cwd(),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

if (require.main === module) main();
