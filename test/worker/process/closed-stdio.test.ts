import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, rmTemp, tempDir } from '../../helpers/cli';
import { writeClosedRun } from './run-fixture';

/**
 * A worker whose stdout/stderr reader is gone (the CLI killed, `worker.js … 2>&1 | head -c N`)
 * must neither spin nor outlive its deadline. The worker here is the built `dist/worker.js`
 * (jest's global setup builds it), started the way cli/fleet/local.ts starts one.
 */

const WORKER = path.join(ROOT, 'dist', 'worker.js');
/** Linux reports process CPU time in USER_HZ ticks, 100 per second on every architecture. */
const TICKS_PER_S = 100;

/** A user whose journey leaves a stray throw behind: the worker reports each on stderr. */
const STRAY_SCENARIO = `const { defineScenario } = require('loadfarm');
module.exports = { default: defineScenario({
  name: 'stray',
  load: { users: 2, duration: '1s' },
  async user(u) {
    setTimeout(() => { throw new Error('stray') }, 5);
    await u.think(0.02);
  },
}) };`;

let dir: string;
let child: ChildProcess | undefined;

beforeEach(() => {
  dir = tempDir('loadfarm-stdio-');
});

afterEach(() => {
  if (child?.pid !== undefined && !gone(child.pid)) child.kill('SIGKILL');
  child = undefined;
  rmTemp(dir);
});

/** True once the process is no more, or only a zombie nobody reaped (PID 1 here reaps nothing). */
function gone(pid: number): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  return /^State:\s+Z/m.test(status);
}

/** CPU seconds (user + system) the process has used so far; undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** Starts the worker with both output streams piped here; each is closed once `bytes` came through it. */
function startWithShortReaders(runId: string, bytes: number): { proc: ChildProcess; exited: Promise<number | null>; heard: Promise<void> } {
  const proc = spawn(process.execPath, [WORKER, '--store', `file://${dir}`, '--run', runId, '--worker', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const heard = new Promise<void>((resolve) => {
    let seen = 0;
    proc.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen < bytes) return;
      // Our end of the pipe closes: every later write of the worker's fails with EPIPE.
      proc.stderr!.destroy();
      proc.stdout!.destroy();
      resolve();
    });
  });
  return { proc, exited, heard };
}

/** Waits until `pid` is gone or `ms` pass; true when it went. */
async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (gone(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return gone(pid);
}

test('with its stderr reader gone, a worker whose scenario throws stray errors ends by its deadline without spinning', async () => {
  const hardStopMs = 4000;
  writeClosedRun(dir, 'r1', { scenario: STRAY_SCENARIO, users: 2, loadMs: 1000, graceMs: 500, hardStopMs });
  const started = Date.now();
  const { proc, heard } = startWithShortReaders('r1', 200);
  child = proc;
  await heard;
  // Sampled just before the deadline: a spinning worker has burnt about a core since it started.
  await new Promise((r) => setTimeout(r, Math.max(0, started + hardStopMs - 500 - Date.now())));
  const cpu = cpuSeconds(proc.pid!);
  const wall = (Date.now() - started) / 1000;
  const ended = await waitGone(proc.pid!, Math.max(0, started + hardStopMs + 1000 - Date.now()));
  expect(ended).toBe(true);
  // Node's start-up and the short load cost well under a second; a spin costs the whole wall time.
  if (cpu !== undefined) expect(cpu).toBeLessThan(wall / 2);
  // The run itself finished: its last snapshot and status are in the store.
  const status = JSON.parse(fs.readFileSync(path.join(dir, 'runs/r1/workers/0/status.json'), 'utf8'));
  expect(status.state).toBe('done');
});

test('with its stderr reader gone, a worker still honours SIGTERM', async () => {
  // A load far longer than the test: only SIGTERM can end it in time.
  writeClosedRun(dir, 'r2', { scenario: STRAY_SCENARIO.replace("duration: '1s'", "duration: '60s'"), users: 2, loadMs: 60_000, graceMs: 500, hardStopMs: 65_000 });
  const { proc, exited, heard } = startWithShortReaders('r2', 200);
  child = proc;
  await heard;
  await new Promise((r) => setTimeout(r, 500));
  const cpu = cpuSeconds(proc.pid!);
  proc.kill('SIGTERM');
  expect(await waitGone(proc.pid!, 5000)).toBe(true);
  expect(await exited).toBe(0);
  if (cpu !== undefined) expect(cpu).toBeLessThan(2);
  const status = JSON.parse(fs.readFileSync(path.join(dir, 'runs/r2/workers/0/status.json'), 'utf8'));
  expect(status).toMatchObject({ state: 'done', completed: false });
});

test('a worker whose event loop never comes back (a scenario stuck in while (true)) is still gone shortly after its deadline', async () => {
  const hardStopMs = 2000;
  const stuck = `module.exports = { default: { name: 'stuck', load: { users: 1, duration: '1s' }, async user() { for (;;); } } };`;
  writeClosedRun(dir, 'r3', { scenario: stuck, users: 1, loadMs: 1000, graceMs: 500, hardStopMs });
  const started = Date.now();
  const proc = spawn(process.execPath, [WORKER, '--store', `file://${dir}`, '--run', 'r3', '--worker', '0'], { stdio: ['ignore', 'ignore', 'ignore'] });
  child = proc;
  const exit = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  // The deadline, the 2 s the worker gets to say why, and the backstop's 1 s slack.
  expect(await waitGone(proc.pid!, hardStopMs + 2000 + 1000 + 2000)).toBe(true);
  expect(await exit).toBe('SIGKILL');
  expect(Date.now() - started).toBeGreaterThanOrEqual(hardStopMs);
});
