/**
 * Deploying an environment: the CDK app in `infra/` (the command in cdk.json, the same one
 * `npx cdk deploy -c env=NAME` runs) through @aws-cdk/toolkit-lib, with its messages turned
 * into progress lines. Callers see only `DeployFn`, so tests inject a fake.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { packageRoot } from '../paths';
import { loadToolkit } from './cdk-loader';

/** CDK context values, the keys of `infra/config.ts` (what `-c key=value` sets). */
export type CdkContext = Readonly<Record<string, string | number | boolean>>;

export interface DeployRequest {
  /** The one stack to deploy (`loadfarm-<env>`). */
  readonly stackName: string;
  readonly context: CdkContext;
  /** Bootstrap the CDK in the stack's account and region first (a `CDKToolkit` stack). */
  readonly bootstrap: boolean;
  /** One line per step worth showing (synth, assets, stack events, warnings). */
  readonly onProgress: (line: string) => void;
}

export type DeployOutcome =
  | { readonly ok: true; readonly outputs: Readonly<Record<string, string>> }
  /** The deploy failed (CloudFormation rolled back, synth failed, …): `message` says why. */
  | { readonly ok: false; readonly message: string };

export type DeployFn = (request: DeployRequest) => Promise<DeployOutcome>;

/** The parameter `cdk bootstrap` (default qualifier) writes; its absence means "not bootstrapped". */
export const BOOTSTRAP_VERSION_PARAMETER = '/cdk-bootstrap/hnb659fds/version';

/** Whether the region of `ssm` has been bootstrapped for the CDK with the default qualifier. */
export async function isBootstrapped(ssm: SSMClient): Promise<boolean> {
  try {
    await ssm.send(new GetParameterCommand({ Name: BOOTSTRAP_VERSION_PARAMETER }));
    return true;
  } catch (err) {
    if (err instanceof ParameterNotFound) return false;
    throw err;
  }
}

/** The CDK app command from `<root>/cdk.json` (`npx tsx infra/app.ts`). */
export function cdkAppCommand(root: string): string {
  const file = path.join(root, 'cdk.json');
  const app = JSON.parse(fs.readFileSync(file, 'utf8')).app;
  if (typeof app !== 'string' || app === '') throw new Error(`${file} has no "app" command`);
  return app;
}

/** Messages the toolkit sends at these levels are shown; debug and trace are not. */
const SHOWN_LEVELS = new Set(['error', 'warn', 'info', 'result']);
/** "Deploy these security-sensitive changes?": the person already confirmed the deploy. */
const DEPLOY_CONFIRMATION = 'CDK_TOOLKIT_I5060';

/**
 * The real deploy: synthesizes the app in the loadfarm package root with `request.context`
 * (on top of cdk.json and cdk.context.json, like `cdk deploy -c`), bootstraps if asked, and
 * deploys the one stack. A failure the toolkit reports (synth, rollback, …) is an outcome;
 * anything else is thrown.
 */
export async function toolkitDeploy(request: DeployRequest): Promise<DeployOutcome> {
  const lib = await loadToolkit();
  const root = packageRoot();
  const say = request.onProgress;
  const toolkit = new lib.Toolkit({
    color: false,
    emojis: false,
    ioHost: {
      notify: async (msg) => {
        if (!SHOWN_LEVELS.has(msg.level)) return;
        for (const line of msg.message.split('\n')) if (line.trim() !== '') say(line);
      },
      requestResponse: async <T>(msg: { code: string; defaultResponse: T }): Promise<T> =>
        msg.code === DEPLOY_CONFIRMATION ? (true as T) : msg.defaultResponse,
    },
  });
  try {
    const source = await toolkit.fromCdkApp(cdkAppCommand(root), {
      workingDirectory: root,
      contextStore: new lib.CdkAppMultiContext(root, { ...request.context }),
    });
    const assembly = await toolkit.synth(source);
    try {
      if (request.bootstrap) await toolkit.bootstrap(lib.BootstrapEnvironments.fromCloudAssemblySource(assembly));
      const result = await toolkit.deploy(assembly, {
        stacks: { strategy: lib.StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [request.stackName] },
      });
      return { ok: true, outputs: result.stacks[0]?.outputs ?? {} };
    } finally {
      await assembly.dispose();
    }
  } catch (err) {
    if (lib.ToolkitError.isToolkitError(err)) return { ok: false, message: err.message };
    throw err;
  }
}

export type BuildWorkerFn = (onProgress: (line: string) => void) => Promise<string>;

/**
 * Makes sure the worker bundle the stack ships is current: in a source checkout (where
 * `scripts/build.js` is) it runs the build; in an installed package it uses the bundle that
 * came with it.
 * @returns the absolute path of `dist/worker.js`
 */
export const buildWorkerBundle: BuildWorkerFn = async (onProgress) => {
  const root = packageRoot();
  const script = path.join(root, 'scripts', 'build.js');
  const bundle = path.join(root, 'dist', 'worker.js');
  if (fs.existsSync(script)) {
    onProgress('building the worker bundle (npm run build)');
    await promisify(execFile)(process.execPath, [script], { cwd: root });
  }
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` in ${root}`);
  return bundle;
};
