import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { layout } from '../../../worker/store/layout';
import { ROOT, rmTemp, tempDir } from '../../helpers/cli';
import { writeClosedRun } from './run-fixture';

/** The built worker writes snapshots write-once: it never replaces one it did not write. */

let dir: string;
beforeEach(() => (dir = tempDir('loadfarm-once-')));
afterEach(() => rmTemp(dir));

test('a snapshot already at the key (another process of the same index) is kept, and the worker exits 2 saying so', async () => {
  const scenario = `module.exports = { default: { name: 'idle', load: { users: 1, duration: '1s' }, async user(u) { await u.think(0.1); } } };`;
  writeClosedRun(dir, 'w1', { scenario, users: 1, loadMs: 1000, graceMs: 500, intervalMs: 5000 });
  const first = path.join(dir, layout.snapshot('w1', 0, 0));
  fs.mkdirSync(path.dirname(first), { recursive: true });
  fs.writeFileSync(first, '{"someone":"else"}');

  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'worker.js'), '--store', `file://${dir}`, '--run', 'w1', '--worker', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', resolve);
  });

  expect(code).toBe(2);
  expect(stderr).toContain('already exists');
  expect(fs.readFileSync(first, 'utf8')).toBe('{"someone":"else"}');
  const status = JSON.parse(fs.readFileSync(path.join(dir, layout.status('w1', 0)), 'utf8'));
  expect(status).toMatchObject({ state: 'failed', exitCode: 2 });
});
