import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Snapshot } from '../../../worker/metrics/snapshot';
import { layout } from '../../../worker/store/layout';
import { ROOT, rmTemp, tempDir } from '../../helpers/cli';
import { writeClosedRun } from './run-fixture';

/** The built worker (jest's global setup builds dist/) flags the interval its event loop froze in. */

const WORKER = path.join(ROOT, 'dist', 'worker.js');

let dir: string;
beforeEach(() => (dir = tempDir('loadfarm-sat-')));
afterEach(() => rmTemp(dir));

function runWorker(runId: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, '--store', `file://${dir}`, '--run', runId, '--worker', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function snapshots(runId: string): Snapshot[] {
  const folder = path.join(dir, layout.snapshotsPrefix(runId, 0));
  return fs
    .readdirSync(folder)
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')) as Snapshot);
}

test('a worker whose event loop froze for 1.1 s flags that interval as saturated, and only that one', async () => {
  // One user; its first journey holds the event loop for 1.1 s, 2.5 s into the run; the rest is idle.
  const scenario = `const { defineScenario } = require('loadfarm');
module.exports = { default: defineScenario({
  name: 'freeze',
  load: { users: 1, duration: '5s' },
  async user(u) {
    if (u.iteration === 0) {
      await u.think(2.5);
      const end = Date.now() + 1100;
      while (Date.now() < end);
    }
    await u.think(0.2);
  },
}) };`;
  writeClosedRun(dir, 'f1', { scenario, users: 1, loadMs: 5000, graceMs: 500, intervalMs: 2000 });
  expect(await runWorker('f1')).toBe(0);
  const snaps = snapshots('f1');
  // The freeze began 2.5 s in: inside the second interval [2 s, 4 s), which it flags.
  const frozen = snaps.find((s) => s.seq === 1)!;
  expect(frozen.health.saturated).toBe(true);
  expect(frozen.health.saturatedBy).toContain('loop-stall');
  expect(frozen.health.loopLagMaxMs).toBeGreaterThanOrEqual(1000);
  // No other interval carries it: the quiet ones after it are not flagged. (The first interval,
  // the worker's start, may flag a start-up stall of its own on a busy machine: a real one.)
  expect(snaps.filter((s) => s.seq !== 1 && s.health.loopLagMaxMs >= 1000)).toEqual([]);
  expect(snaps.filter((s) => s.seq > 1 && s.health.saturated)).toEqual([]);
  // The short last interval, written as the load ends, is judged over a window of at least 1 s.
  const last = snaps[snaps.length - 1];
  expect(last.final).toBe(true);
  expect(last.health.cpuWindowMs).toBeGreaterThanOrEqual(1000);
});
