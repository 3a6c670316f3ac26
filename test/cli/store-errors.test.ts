import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, rmTemp, runCli, tempDir, writeScenario, type CliResult } from '../helpers/cli';

// Store and URL problems reach the person as one line (`loadfarm: …`), exit 1, no stack trace.
// Runs the built CLI (npm run build).

let dir: string;
let scenario: string;

beforeAll(() => {
  dir = tempDir('loadfarm-store-errors-');
  // A scenario whose bundle is tens of KiB, for the file-size limit case; its target is never reached.
  scenario = writeScenario(
    dir,
    'big.ts',
    `import { defineScenario } from 'loadfarm';
export const PAD = ${JSON.stringify('x'.repeat(40_000))};
export default defineScenario({ name: 'big', target: 'http://127.0.0.1:9', load: { users: 1, duration: '1s' },
  async user(u) { u.count(PAD.slice(0, 1)); } });
`,
  );
});

afterAll(() => rmTemp(dir));

/** Exit 1 and exactly one `loadfarm:` line on stderr (progress lines may come before it), no stack trace. */
function expectOneLine(r: CliResult): string {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1 });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('loadfarm: '));
  expect(lines).toHaveLength(1);
  return lines[0];
}

test('a store path that is a regular file', async () => {
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'keep me');
  const line = expectOneLine(await runCli(['run', scenario, '--store', file], { cwd: dir }));
  expect(line).toBe(`loadfarm: file://${file}: ${file} is a file, not a folder; point --store at a folder (or move the file away)`);
  expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  expectOneLine(await runCli(['runs', '--store', file], { cwd: dir }));
});

test('a filesystem that makes no folders (/proc answers ENOENT): one line, and the CLI returns', async () => {
  const line = expectOneLine(await runCli(['run', scenario, '--store', '/proc/loadfarm-test-store'], { cwd: dir, timeoutMs: 30_000 }));
  expect(line).toMatch(/^loadfarm: file:\/\/\/proc\/loadfarm-test-store: cannot write runs\/.+: cannot create the folder .*ENOENT.*point --store at a writable folder$/);
});

test('a write cut short by the file-size limit: one line, and no temporary file left', async () => {
  const store = path.join(dir, 'limited');
  const r = await new Promise<CliResult>((resolve, reject) => {
    const child = spawn('bash', ['-c', 'ulimit -f 8 && exec "$0" "$@"', process.execPath, BIN, 'run', scenario, '--store', store], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(expectOneLine(r)).toMatch(/^loadfarm: file:\/\/.+: cannot write runs\/.+\/scenario\.js: file too large for this process's limit \(ulimit -f\)/);
  const left = (fs.readdirSync(store, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'));
  expect(left).toEqual([]);
});

test('--store file://%ZZ and --store s3://Bad_Bucket, for run and for report', async () => {
  for (const args of [
    ['run', scenario, '--store', 'file://%ZZ'],
    ['report', 'r1', '--store', 'file://%ZZ'],
  ]) {
    expect(expectOneLine(await runCli(args, { cwd: dir }))).toContain('"%ZZ" is not; write a literal % as %25');
  }
  for (const args of [
    ['run', scenario, '--store', 's3://Bad_Bucket'],
    ['report', 'r1', '--store', 's3://Bad_Bucket'],
  ]) {
    expect(expectOneLine(await runCli(args, { cwd: dir }))).toContain('("Bad_Bucket" has "B", "_"; bucket names are lowercase)');
  }
});

test('report ../../etc is refused as a run id', async () => {
  const line = expectOneLine(await runCli(['report', '../../etc', '--store', path.join(dir, 'store')], { cwd: dir }));
  expect(line).toMatch(/^loadfarm: run id "\.\.\/\.\.\/etc": expected letters, digits/);
});

test('report on a run whose plan.json is {} names the missing fields', async () => {
  const store = path.join(dir, 'empty-plan');
  fs.mkdirSync(path.join(store, 'runs', 'r-empty'), { recursive: true });
  fs.writeFileSync(path.join(store, 'runs', 'r-empty', 'plan.json'), '{}');
  const line = expectOneLine(await runCli(['report', 'r-empty', '--store', store], { cwd: dir }));
  expect(line).toContain('runs/r-empty/plan.json is not a usable plan: missing v, runId, createdAt');
});
