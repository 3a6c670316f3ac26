/**
 * The real CDK CLI synthesizes the app offline (cdk.json's `npx tsx infra/app.ts`), with
 * cdk-nag as a validation plugin: exit code 0 means no unacknowledged finding.
 * Takes 10-30 s.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, cleanup, makeTempDir } from './helpers';

let dir: string;
beforeAll(() => { dir = makeTempDir(); });
afterAll(() => cleanup({ dir }));

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        CDK_DISABLE_VERSION_CHECK: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('npx cdk synth -q --no-lookups works offline and writes loadfarm-<env>', async () => {
  const out = path.join(dir, 'cdk.out');
  const r = await run('npx', [
    'cdk', 'synth', '-q', '--no-lookups', '-o', out,
    '-c', 'env=ci', '-c', 'account=123456789012', '-c', 'region=us-east-1', '-c', 'workers=2',
  ]);
  if (r.code !== 0) throw new Error(`cdk synth exited ${r.code}:\n${r.stderr}`);
  const templateFile = path.join(out, 'loadfarm-ci.template.json');
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const types = Object.values(template.Resources).map((x) => x.Type);
  expect(types).toEqual(expect.arrayContaining([
    'AWS::EC2::VPC', 'AWS::S3::Bucket', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::AutoScaling::ScheduledAction',
    'AWS::SSM::Parameter',
  ]));
  const params = Object.values(template.Resources).filter((x) => x.Type === 'AWS::SSM::Parameter').map((x) => x.Properties.Name);
  expect(params).toContain('/loadfarm/ci/bucket');
  const report = JSON.parse(fs.readFileSync(path.join(out, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
  expect(report.pluginReports).toEqual([]);
}, 120_000);
