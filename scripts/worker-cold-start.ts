/**
 * Cold start of built workers: `npx tsx scripts/worker-cold-start.ts [--runs N] WORKER.js …`.
 * For each bundle, N times (bundles interleaved, so that a busy machine slows all alike): a
 * one-worker run of a no-op scenario (one user whose journey does nothing, 50 ms of load) in a
 * fresh file store, then the worker started as the fleets start it (`node WORKER.js --store
 * file://… --run … --worker 0`). Measured from spawn, in ms:
 * - running: until the store's status.json says `running` (read every 2 ms: ±2 ms);
 * - exit: until the process has exited.
 * Prints one line per bundle: size in bytes, medians (and min–max) of both, and the figures as
 * JSON on the last line. A worker that exits with a code other than 0 stops the measurement.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { layout } from '../worker/store/layout';
import { writeClosedRun } from '../test/worker/process/run-fixture';

const SCENARIO = `module.exports = { default: { name: 'noop', load: { users: 1, duration: '50ms' }, async user() {} } };`;
const LOAD_MS = 50;
const POLL_MS = 2;
const RUN_TIMEOUT_MS = 30_000;

interface Sample {
  runningMs: number;
  exitMs: number;
}

async function once(worker: string): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-cold-'));
  try {
    const runId = writeClosedRun(dir, 'cold', { scenario: SCENARIO, users: 1, loadMs: LOAD_MS, graceMs: 0, intervalMs: 1000 });
    const statusFile = path.join(dir, layout.status(runId, 0));
    const start = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - start) / 1e6;
    const child = spawn(process.execPath, [worker, '--store', `file://${dir}`, '--run', runId, '--worker', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    let runningMs: number | undefined;
    const poll = setInterval(() => {
      if (runningMs !== undefined) return;
      try {
        if ((JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { state: string }).state === 'running') runningMs = since();
      } catch (err) {
        // Absent, or being replaced (the file store renames into place): asked again next tick.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
      }
    }, POLL_MS);
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    const exitMs = since();
    clearInterval(poll);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${worker} exited with ${code}: ${stderr.trim()}`);
    if (runningMs === undefined) {
      // Running and done within one poll: the status went by unseen.
      throw new Error(`${worker}: status 'running' was never seen (poll every ${POLL_MS} ms)`);
    }
    return { runningMs, exitMs };
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
    const running = s.map((x) => x.runningMs);
    const exit = s.map((x) => x.exitMs);
    return {
      worker: w,
      bytes: fs.statSync(w).size,
      runs,
      runningMedianMs: +median(running).toFixed(1),
      runningRangeMs: [+Math.min(...running).toFixed(1), +Math.max(...running).toFixed(1)],
      exitMedianMs: +median(exit).toFixed(1),
      exitRangeMs: [+Math.min(...exit).toFixed(1), +Math.max(...exit).toFixed(1)],
    };
  });
  for (const f of figures) {
    console.log(
      `${f.worker}: ${f.bytes} bytes; spawn→running median ${f.runningMedianMs} ms (${f.runningRangeMs.join('–')}); spawn→exit median ${f.exitMedianMs} ms (${f.exitRangeMs.join('–')}); ${runs} runs`,
    );
  }
  console.log(JSON.stringify(figures));
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
