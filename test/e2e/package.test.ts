import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Report } from '../../cli/report/types';
import { ROOT, rmTemp, tempDir } from '../helpers/cli';
import { startCountingHttpServer, type CountingHttpServer } from '../helpers/counting-servers';

/**
 * The package as a person gets it. `npm pack` runs in a staging copy of the sources (its
 * prepack/prepare scripts rebuild dist/, which the other tests are running), the tarball is
 * installed into an empty project with `npm ci --offline` (npm's cache holds every package after
 * this repository's `npm ci`; nothing is fetched), a scenario is type-checked there under strict
 * options, and run on the local farm against a loopback server.
 *
 * `npm ci` of the repository caches tarballs but not registry metadata, so the project's lockfile
 * is made from this repository's: the packed tarball plus every non-dev entry (what a person
 * installing loadfarm gets), and typescript and @types/node at the versions used here.
 */
const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** What only `loadfarm up` needs: optional peer dependencies, not installed with loadfarm. */
const DEPLOY_ONLY = ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-cdk/toolkit-lib', 'tsx'];
/** What a person's strict project sets; skipLibCheck false makes tsc check loadfarm's .d.ts too. */
const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noPropertyAccessFromIndexSignature: true,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
  },
};
const SCENARIO = `import { defineScenario, type User } from 'loadfarm';

async function journey(u: User): Promise<void> {
  const item = await u.http.get(\`/items/\${u.id}\`, { name: '/items/:id' });
  u.check('item ok', item.status === 200);
  const echoed = await u.http.post('/echo', { id: u.id, pick: u.rng.pick(['a', 'b']) }, { name: '/echo', query: { u: u.id } });
  u.check('echo ok', echoed.status === 200);
  u.count('journeys');
}

export default defineScenario({
  name: 'strict-project',
  load: { phases: [{ name: 'steady', duration: '2s', arrivalRate: 10 }] },
  thresholds: { 'http.GET /items/:id': ['p(99) < 2000'], errors: ['rate < 0.01'] },
  grace: '5s',
  user: journey,
});
`;
/** The same scenario with a key loadfarm does not have: the types must refuse it. */
const WRONG = `import { defineScenario } from 'loadfarm';
export default defineScenario({ name: 'wrong', load: { users: 1, duration: '1s', rampup: '1s' }, async user() {} });
`;

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}
interface PackedFile {
  path: string;
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run(NPM, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  return stdout;
}

describe('the packed package in a person’s project', () => {
  let dir: string;
  let project: string;
  let packed: PackedFile[];
  let server: CountingHttpServer | undefined;

  beforeAll(async () => {
    dir = tempDir('loadfarm-package-');
    // A staging copy: what the package.json's "files" names, plus the sources its build reads.
    const stage = path.join(dir, 'stage');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const sources = ['package.json', 'README.md', 'worker', 'cli', 'scripts', 'tsconfig.json', 'tsconfig.build.json'];
    for (const entry of [...sources, ...pkg.files.filter((f) => !f.startsWith('dist'))]) {
      fs.cpSync(path.join(ROOT, entry), path.join(stage, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    const [info] = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], stage)) as Array<{ filename: string; files: PackedFile[] }>;
    if (!info) throw new Error('npm pack named no tarball');
    packed = info.files;
    const tarball = path.join(dir, info.filename);

    project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.copyFileSync(tarball, path.join(project, info.filename));
    writeProjectLock(project, info.filename);
    await npm(['ci', '--offline', '--no-audit', '--no-fund'], project);
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    rmTemp(dir);
  });

  it('ships the bundles, compiled types and the CDK app; no sources, tests or bench', () => {
    const files = packed.map((f) => f.path).sort();
    for (const f of ['bin/loadfarm.js', 'dist/cli.js', 'dist/index.js', 'dist/worker.js', 'dist/types/index.d.ts', 'infra/app.ts', 'cdk.json', 'package.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(bench|test|examples|scripts|worker|cli|_old)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/') && f.endsWith('.ts') && !f.startsWith('dist/types/'))).toEqual([]);
  });

  it('installs for the local farm without what only deploying needs', () => {
    const installed = (name: string) => fs.existsSync(path.join(project, 'node_modules', name, 'package.json'));
    expect(installed('loadfarm')).toBe(true);
    expect(DEPLOY_ONLY.filter(installed)).toEqual([]);
  });

  it('`up` without the CDK stops before any AWS call with one line naming the command that installs it', async () => {
    const bin = path.join(project, 'node_modules', 'loadfarm', 'bin', 'loadfarm.js');
    // Were any AWS call made, it would go to a closed loopback port, with made-up credentials.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    const res = await run(process.execPath, [bin, 'up', '--env', 'pkgtest', '--region', 'us-east-1', '--yes'], { cwd: project, env, timeout: 30_000 }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    expect(res).toEqual({
      code: 1,
      stdout: '',
      stderr: `loadfarm: loadfarm up needs the AWS CDK, which is not installed (missing ${DEPLOY_ONLY.join(', ')}): run \`npm i ${DEPLOY_ONLY.join(' ')}\`\n`,
    });
  });

  it('type-checks a scenario under strict options, and refuses a wrong one', async () => {
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ ...STRICT_TSCONFIG, files: ['scenario.ts'] }, null, 2));
    fs.writeFileSync(path.join(project, 'scenario.ts'), SCENARIO);
    const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    const ok = await run(process.execPath, [tsc, '-p', '.'], { cwd: project }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(ok).toBe('');

    fs.writeFileSync(path.join(project, 'tsconfig.wrong.json'), JSON.stringify({ ...STRICT_TSCONFIG, files: ['wrong.ts'] }, null, 2));
    fs.writeFileSync(path.join(project, 'wrong.ts'), WRONG);
    const wrong = await run(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], { cwd: project }).then(
      () => 'no error',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(wrong).toMatch(/wrong\.ts\(2,\d+\): error TS\d+: .*'rampup'/);
  }, 120_000);

  it('runs the scenario on the local farm: the server counts what the report counts', async () => {
    server = await startCountingHttpServer();
    const bin = path.join(project, 'node_modules', 'loadfarm', 'bin', 'loadfarm.js');
    const res = await run(process.execPath, [bin, 'run', 'scenario.ts', '--target', server.url, '--workers', '2', '--interval', '1s', '--quiet', '--json'], {
      cwd: project,
      timeout: 60_000,
    });
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('passed');
    const items = server.byRoute['GET /items/:id'] ?? 0;
    expect(items).toBeGreaterThanOrEqual(10);
    expect(server.byRoute['POST /echo']).toBe(items);
    expect(server.requests).toBe(2 * items);
    expect(report.requests).toBe(server.requests);
    expect(report.metrics['http.GET /items/:id']?.count).toBe(items);
    expect(report.checks['item ok']).toEqual({ pass: items, fail: 0 });
    expect(report.counters['journeys']).toBe(items);
    expect(server.errorResponses()).toBe(0);
  }, 90_000);
});

/**
 * package.json and package-lock.json of an empty project depending on the tarball `filename`
 * (in `project`), typescript and @types/node, resolved as this repository's lockfile resolves them.
 */
function writeProjectLock(project: string, filename: string): void {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const tools = ['typescript', '@types/node'];
  const dependencies: Record<string, string> = { loadfarm: `file:${filename}` };
  for (const t of tools) dependencies[t] = String(lock.packages[`node_modules/${t}`]?.version);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const bytes = fs.readFileSync(path.join(project, filename));
  const packages: Record<string, LockEntry> = {
    '': { name: 'strict-project', version: '1.0.0', dependencies },
    'node_modules/loadfarm': {
      version: String(manifest['version']),
      resolved: `file:${filename}`,
      integrity: `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`,
      ...pick(manifest, ['license', 'bin', 'engines', 'dependencies', 'peerDependencies', 'peerDependenciesMeta']),
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/')) continue;
    const tool = tools.some((t) => key === `node_modules/${t}`);
    if ((entry.dev || entry.devOptional) && !tool) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...rest } = entry;
    packages[key] = rest;
  }
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'strict-project', version: '1.0.0', private: true, dependencies }, null, 2));
  fs.writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify({ name: 'strict-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
