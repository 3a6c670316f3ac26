import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { workerCommand } from '../../../cli/fleet/fleet';
import { workerScript } from '../../../cli/fleet/ssm-script';
import { START_SCRIPT_EXIT, WORKER_EXIT } from '../../../worker/plan/plan';

const A = 'i-0aaaaaaaaaaaaaaaa';
const B = 'i-0bbbbbbbbbbbbbbbb';

/** A fake worker: node printing its arguments and AWS_REGION as JSON. */
const PRINT = 'console.log(JSON.stringify({ args: process.argv.slice(1), region: process.env.AWS_REGION ?? null }))';
const TRICKY = `it's "quoted" $HOME \`id\` ; exit 7`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-ssm-script-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Shells to run the script with: /bin/sh here (dash on Debian), and bash (Amazon Linux's /bin/sh). */
const SHELLS = ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s));
let shell = '/bin/sh';

/** Runs `script` as the SSM agent would (a file run by the shell), with only `env` set (plus PATH). */
function run(script: string, env: Record<string, string>) {
  const file = path.join(dir, `script-${Math.random().toString(36).slice(2)}.sh`);
  fs.writeFileSync(file, script);
  const r = spawnSync(shell, [file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(SHELLS)('workerScript run by %s', (sh) => {
  beforeAll(() => {
    shell = sh;
  });

  const script = workerScript({
    entries: [
      { instanceId: A, argv: [process.execPath, '-e', PRINT, '--', '--worker', '0', 'a b'] },
      { instanceId: B, argv: [process.execPath, '-e', PRINT, '--', '--worker', '1', TRICKY] },
    ],
  });

  it('is set -eu, region, ulimit, then a case that execs each instance its own argv', () => {
    const lines = script.trimEnd().split('\n');
    expect(lines[0]).toBe('set -eu');
    expect(script).toContain('export AWS_REGION="$AWS_SSM_REGION_NAME"');
    expect(script).toMatch(/ulimit -n .*\|\| true/);
    expect(lines.filter((l) => /^\s+i-\w+\) start_worker .*; exec /.test(l))).toHaveLength(2);
    expect(lines[lines.length - 1]).toBe('esac');
  });

  it('runs the first instance\'s worker, arguments with spaces intact', () => {
    const r = run(script, { AWS_SSM_INSTANCE_ID: A, AWS_SSM_REGION_NAME: 'eu-west-1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ args: ['--worker', '0', 'a b'], region: 'eu-west-1' });
  });

  it('runs the second instance\'s worker, quotes and shell characters passed literally', () => {
    const r = run(script, { AWS_SSM_INSTANCE_ID: B });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ args: ['--worker', '1', TRICKY], region: null });
  });

  it('keeps an AWS_REGION that is already set', () => {
    const r = run(script, { AWS_SSM_INSTANCE_ID: A, AWS_SSM_REGION_NAME: 'eu-west-1', AWS_REGION: 'us-west-2' });
    expect(JSON.parse(r.stdout).region).toBe('us-west-2');
  });

  it('exits 80 (its own code) with one line on stderr for an instance it has no worker for', () => {
    const r = run(script, { AWS_SSM_INSTANCE_ID: 'i-0cccccccccccccccc' });
    expect(r.code).toBe(START_SCRIPT_EXIT.noWorker);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      "loadfarm: instance 'i-0cccccccccccccccc' has no worker in this command (AWS_SSM_INSTANCE_ID)",
    ]);
  });

  it('exits 80 when AWS_SSM_INSTANCE_ID is not set at all (set -u does not trip first)', () => {
    const r = run(script, {});
    expect(r.code).toBe(START_SCRIPT_EXIT.noWorker);
    expect(r.stderr).toContain("instance '' has no worker");
  });

  it('passes the worker\'s own exit code through (exec)', () => {
    const s = workerScript({ entries: [{ instanceId: A, argv: [process.execPath, '-e', 'process.exit(3)'] }] });
    expect(run(s, { AWS_SSM_INSTANCE_ID: A }).code).toBe(3);
  });

  it('refuses to start on a machine that is not ready, and starts once it is', () => {
    const ready = path.join(dir, `ready dir ${path.basename(sh)}`, 'ready');
    const s = workerScript({ entries: [{ instanceId: A, argv: [process.execPath, '-e', PRINT] }], readyFile: ready });
    const before = run(s, { AWS_SSM_INSTANCE_ID: A });
    expect(before.code).toBe(START_SCRIPT_EXIT.notReady);
    expect(before.stderr.trim()).toBe(
      `loadfarm: instance ${A} is not ready: ${ready} is missing (its setup has not finished, or failed)`,
    );
    fs.mkdirSync(path.dirname(ready), { recursive: true });
    fs.writeFileSync(ready, '');
    expect(run(s, { AWS_SSM_INSTANCE_ID: A }).code).toBe(0);
  });

  it('quotes the real worker command line as shellQuote does', () => {
    const argv = workerCommand({ node: '/usr/bin/node', workerScript: '/opt/loadfarm/worker.js', store: 's3://bucket/', runId: 'r1', index: 4 });
    const s = workerScript({ entries: [{ instanceId: A, argv }] });
    expect(s).toContain(`  ${A}) start_worker /usr/bin/node ''; exec /usr/bin/node /opt/loadfarm/worker.js --store s3://bucket/ --run r1 --worker 4 ;;`);
  });

  it('exits 82 with one line when node is missing, and 83 when the bundle is: never 1, the worker\'s own code', () => {
    const bundle = path.join(dir, `worker ${path.basename(sh)}.js`);
    fs.rmSync(bundle, { force: true });
    const noNode = workerScript({ entries: [{ instanceId: A, argv: [path.join(dir, 'no-node'), bundle], bundle }] });
    const r1 = run(noNode, { AWS_SSM_INSTANCE_ID: A });
    expect(r1.code).toBe(START_SCRIPT_EXIT.noNode);
    expect(r1.stderr.trim()).toBe(`loadfarm: instance ${A} cannot run node: ${path.join(dir, 'no-node')} is missing or not executable (the machine's setup failed)`);
    const noBundle = workerScript({ entries: [{ instanceId: A, argv: [process.execPath, bundle], bundle }] });
    const r2 = run(noBundle, { AWS_SSM_INSTANCE_ID: A });
    expect(r2.code).toBe(START_SCRIPT_EXIT.noBundle);
    expect(r2.stderr.trim()).toBe(`loadfarm: instance ${A} has no worker bundle: ${bundle} is missing or unreadable (the machine's setup failed)`);
    const codes = [...Object.values(START_SCRIPT_EXIT)];
    for (const c of Object.values(WORKER_EXIT)) expect(codes).not.toContain(c);
    // Once the bundle is there, the worker runs; node found in PATH by name works too.
    fs.writeFileSync(bundle, 'process.exit(4)');
    expect(run(noBundle, { AWS_SSM_INSTANCE_ID: A }).code).toBe(4);
    const byName = workerScript({ entries: [{ instanceId: A, argv: ['node', bundle], bundle }] });
    expect(run(byName, { AWS_SSM_INSTANCE_ID: A, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` }).code).toBe(4);
  });

  it('rejects programming errors: no entries, malformed or repeated ids, empty argv', () => {
    expect(() => workerScript({ entries: [] })).toThrow(/at least one entry/);
    expect(() => workerScript({ entries: [{ instanceId: 'i-1*', argv: ['x'] }] })).toThrow(/malformed instance id/);
    expect(() => workerScript({ entries: [{ instanceId: A, argv: ['x'] }, { instanceId: A, argv: ['y'] }] })).toThrow(/twice/);
    expect(() => workerScript({ entries: [{ instanceId: A, argv: [] }] })).toThrow(/empty argv/);
  });
});
