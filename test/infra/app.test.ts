/** infra/app.ts: the bundle fallback, and the one-line errors of a bad context. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { PLACEHOLDER_WORKER_BUNDLE, addLoadfarmStack } from '../../infra/app';
import { type LoadfarmConfig, parseContext } from '../../infra/config';
import { ROOT, cdkJsonContext, cleanup, makeTempDir } from './helpers';

let dir: string;
beforeAll(() => { dir = makeTempDir(); });
afterAll(() => cleanup({ dir }));

function config(overrides: Record<string, unknown> = {}): LoadfarmConfig {
  const r = parseContext({ env: 'apptest', account: '123456789012', region: 'us-east-1', ...overrides }, new Date());
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

function warnings(app: App): string[] {
  return app.node.findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === 'aws:cdk:warning')
    .map((m) => String(m.data));
}

function bundleSourceHash(app: App): string {
  const stack = app.node.findChild('loadfarm-apptest');
  const asset = stack.node.findChild('Workers').node.findChild('WorkerBundle') as unknown as { assetHash: string };
  return asset.assetHash;
}

test('without dist/worker.js the placeholder is shipped, with a warning', () => {
  const cwd = path.join(dir, 'no-build');
  fs.mkdirSync(cwd);
  const app = new App({ outdir: path.join(dir, 'out1'), context: cdkJsonContext() });
  addLoadfarmStack(app, config(), { cwd });
  expect(warnings(app).join('\n')).toMatch(/dist\/worker\.js not found: .*placeholder.*npm run build/);
  expect(fs.readFileSync(PLACEHOLDER_WORKER_BUNDLE, 'utf8')).toContain('process.exit(1)');
});

test('with dist/worker.js that file is shipped, and no warning', () => {
  const cwd = path.join(dir, 'built');
  fs.mkdirSync(path.join(cwd, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(cwd, 'dist', 'worker.js'), '// a built worker\n');
  const built = new App({ outdir: path.join(dir, 'out2'), context: cdkJsonContext() });
  addLoadfarmStack(built, config(), { cwd });
  expect(warnings(built)).toEqual([]);

  const placeholder = new App({ outdir: path.join(dir, 'out3'), context: cdkJsonContext() });
  addLoadfarmStack(placeholder, config(), { cwd: path.join(dir, 'no-build') });
  expect(bundleSourceHash(built)).not.toBe(bundleSourceHash(placeholder));
});

test('a workerBundle path given explicitly must exist', () => {
  const app = new App({ outdir: path.join(dir, 'out4'), context: cdkJsonContext() });
  expect(() => addLoadfarmStack(app, config({ workerBundle: 'nowhere/worker.js' }), { cwd: dir }))
    .toThrow(/^context workerBundle: no file at .*nowhere\/worker\.js$/);
});

test('the account and region come from the context first, then the CLI defaults', () => {
  const app = new App({ outdir: path.join(dir, 'out5'), context: cdkJsonContext() });
  const fromContext = addLoadfarmStack(app, config(), { cwd: dir, defaultAccount: '111111111111', defaultRegion: 'eu-west-1' });
  expect([fromContext.account, fromContext.region]).toEqual(['123456789012', 'us-east-1']);

  const app2 = new App({ outdir: path.join(dir, 'out6'), context: cdkJsonContext() });
  const cfg = parseContext({ env: 'apptest' }, new Date());
  if (!cfg.ok) throw new Error('unexpected');
  const fromDefaults = addLoadfarmStack(app2, cfg.config, { cwd: dir, defaultAccount: '123456789012', defaultRegion: 'us-east-1' });
  expect([fromDefaults.account, fromDefaults.region]).toEqual(['123456789012', 'us-east-1']);
  expect(fromDefaults.stackName).toBe('loadfarm-apptest');
});

test('a bad context stops the app with one line per problem and exit code 1', () => {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['infra/app.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ env: 'Nope', workers: '-1' }),
      CDK_OUTDIR: path.join(dir, 'out7'),
    },
  });
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/^loadfarm: context env: environment name must be .*; got "Nope"$/),
    'loadfarm: context workers must be a whole number from 1 to 200; got "-1"',
  ]);
});
