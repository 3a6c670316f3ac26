/**
 * Cold start of built workers: `npx tsx scripts/worker-cold-start.ts [--runs N] WORKER.js …`.
 * For each bundle, N times (bundles interleaved, so that a busy machine slows all alike): a
 * one-worker run of a no-op scenario (one user whose journey does nothing, 50 ms of load) in a
 * fresh file store, then the worker started as the fleets start it (`node WORKER.js --store
 * file://… --run … --worker 0`). Measured from spawn, in ms (wall clock, 1 ms resolution), from
 * the status the worker leaves in the store:
 * - started: its `startedAt` (the bundle loaded and its code running);
 * - running: when it wrote status `running` (`loadEndsAt` less the plan's load time);
 * - exit: until the process has exited;
 * and cpu: the worker process's CPU time (user + system, GNU time's 10 ms resolution), which a
 * busy machine disturbs less than the wall times.
 * Prints one line per bundle (size in bytes, medians and min–max) and the figures as JSON on
 * the last line. A worker that exits with a code other than 0 stops the measurement.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkerStatus } from '../worker/plan/plan';
import { layout } from '../worker/store/layout';
import { writeClosedRun } from '../test/worker/process/run-fixture';

const SCENARIO = `module.exports = { default: { name: 'noop', load: { users: 1, duration: '50ms' }, async user() {} } };`;
const LOAD_MS = 50;
const RUN_TIMEOUT_MS = 30_000;
/** GNU time: writes the child's user and system CPU seconds to a file. */
const GNU_TIME = '/usr/bin/time';

interface Sample {
  startedMs: number;
  runningMs: number;
  exitMs: number;
  cpuMs: number;
}

async function once(worker: string): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-cold-'));
  try {
    const runId = writeClosedRun(dir, 'cold', { scenario: SCENARIO, users: 1, loadMs: LOAD_MS, graceMs: 0, intervalMs: 1000 });
    const spawnedAt = Date.now();
    const start = process.hrtime.bigint();
    const cpuFile = path.join(dir, 'cpu');
    const child = spawn(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, worker, '--store', `file://${dir}`, '--run', runId, '--worker', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    const exitMs = Number(process.hrtime.bigint() - start) / 1e6;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${worker} exited with ${code}: ${stderr.trim()}`);
    const status = JSON.parse(fs.readFileSync(path.join(dir, layout.status(runId, 0)), 'utf8')) as WorkerStatus;
    if (status.loadEndsAt === undefined) throw new Error(`${worker}: its status has no loadEndsAt: ${JSON.stringify(status)}`);
    const [user, system] = fs.readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number);
    return { startedMs: status.startedAt - spawnedAt, runningMs: status.loadEndsAt - LOAD_MS - spawnedAt, exitMs, cpuMs: (user + system) * 1000 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '9' } }, allowPositionals: true });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || positionals.length === 0) {
    console.error('usage: npx tsx scripts/worker-cold-start.ts [--runs N] WORKER.js …  (N a whole number ≥ 1)');
    process.exit(1);
  }
  const workers = positionals.map((p) => path.resolve(p));
  const samples = new Map<string, Sample[]>(workers.map((w) => [w, []]));
  for (const w of workers) await once(w); // warms the OS file cache for each bundle
  for (let i = 0; i < runs; i++) for (const w of workers) samples.get(w)!.push(await once(w));
  const figures = workers.map((w) => {
    const s = samples.get(w)!;
    const stat = (pick: (x: Sample) => number) => {
      const xs = s.map(pick);
      return { medianMs: +median(xs).toFixed(1), minMs: +Math.min(...xs).toFixed(1), maxMs: +Math.max(...xs).toFixed(1) };
    };
    return { worker: w, bytes: fs.statSync(w).size, runs, started: stat((x) => x.startedMs), running: stat((x) => x.runningMs), exit: stat((x) => x.exitMs), cpu: stat((x) => x.cpuMs) };
  });
  const show = (name: string, x: { medianMs: number; minMs: number; maxMs: number }) => `spawn→${name} median ${x.medianMs} ms (${x.minMs}–${x.maxMs})`;
  for (const f of figures) {
    console.log(`${f.worker}: ${f.bytes} bytes; ${show('started', f.started)}; ${show('running', f.running)}; ${show('exit', f.exit)}; CPU to exit median ${f.cpu.medianMs} ms (${f.cpu.minMs}–${f.cpu.maxMs}); ${runs} runs`);
  }
  console.log(JSON.stringify(figures));
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
