import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { LoadfarmStack, type LoadfarmStackProps } from '../../infra/stack';

export const ROOT = path.resolve(__dirname, '../..');
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const EXPIRES_AT = '2030-01-02T03:04:00Z';

/** The context of cdk.json (feature flags, the fixed availability zones of ACCOUNT/REGION). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-infra-'));
}

/** A stand-in worker bundle in `dir`. */
export function writeFakeBundle(dir: string): string {
  const file = path.join(dir, 'worker.js');
  fs.writeFileSync(file, "console.log('fake worker');\n");
  return file;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: LoadfarmStack;
  readonly template: Template;
  readonly dir: string;
}

/**
 * Synthesizes a LoadfarmStack with cdk-nag's AWS Solutions checks, in a fixed account and
 * region, into a temp dir (removed by `cleanup`). Throws if any finding is unacknowledged.
 */
export function synthLoadfarm(overrides: Partial<LoadfarmStackProps> = {}): Synthesized {
  const dir = makeTempDir();
  const app = new App({ outdir: path.join(dir, 'cdk.out'), context: cdkJsonContext() });
  const stack = new LoadfarmStack(app, `loadfarm-${overrides.envName ?? 'test'}`, {
    env: { account: ACCOUNT, region: REGION },
    envName: 'test',
    workers: 3,
    expiresAt: EXPIRES_AT,
    workerBundlePath: writeFakeBundle(dir),
    ...overrides,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  return { app, stack, template, dir };
}

export function cleanup(s: { dir: string } | undefined): void {
  if (s) fs.rmSync(s.dir, { recursive: true, force: true });
}

export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` under `scope`, read back from construct metadata. */
export function acknowledgements(scope: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        found.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason: String(reason ?? '') });
      }
    }
  }
  return found;
}

/** The user data script of the launch template, with tokens shown as JSON. */
export function userDataScript(template: Template): string {
  const lts = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  expect(lts).toHaveLength(1);
  const userData = lts[0].Properties.LaunchTemplateData.UserData;
  const body = userData['Fn::Base64'];
  if (typeof body === 'string') return body;
  const parts: unknown[] = body['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, unknown>;
  Sid?: string;
}

/** All statements of the AWS::IAM::Policy resources, with their policy's logical id. */
export function policyStatements(template: Template): Array<Statement & { policy: string }> {
  const out: Array<Statement & { policy: string }> = [];
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const s of res.Properties.PolicyDocument.Statement as Statement[]) out.push({ ...s, policy: id });
  }
  return out;
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
