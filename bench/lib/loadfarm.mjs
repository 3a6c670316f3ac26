// Running loadfarm itself as a bench subject: `node bin/loadfarm.js run|hold … --json` on the
// generator core, a file store of its own, and ways to look inside the run while it goes on
// (status.json for the worker's pid, snapshots for counts, the stop marker to end it early).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runTool, readProbes } from './proc.mjs';
import { summarise } from './profile.mjs';
import { currentBuild } from './build.mjs';

/** The loadfarm measured: the committed build the bench made (bench/lib/build.mjs). */
export const LF_ROOT = currentBuild().root;
export const CLI = path.join(LF_ROOT, 'bin', 'loadfarm.js');

/** A fresh file store for one run. */
export function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  return { dir, url: `file://${dir}` };
}

/** The run folders of a store (there is one per loadfarm invocation). */
export function runsIn(storeDir) {
  const d = path.join(storeDir, 'runs');
  return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Worker `index`'s status.json of the store's (only) run, while or after it runs. */
export function workerStatus(storeDir, index = 0) {
  const [run] = runsIn(storeDir);
  return run ? readJson(path.join(storeDir, 'runs', run, 'workers', String(index), 'status.json')) : undefined;
}

/** Every snapshot of every worker of the store's run, in (worker, seq) order. */
export function snapshots(storeDir) {
  const [run] = runsIn(storeDir);
  if (!run) return [];
  const base = path.join(storeDir, 'runs', run, 'workers');
  const out = [];
  if (!fs.existsSync(base)) return out;
  for (const w of fs.readdirSync(base)) {
    const dir = path.join(base, w, 'snapshots');
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.endsWith('.json')) continue;
      const s = readJson(path.join(dir, f));
      if (s) out.push(s);
    }
  }
  return out;
}

/** Writes the run's stop marker: its workers end their load (users get the grace, then are cut). */
export function stopRun(storeDir) {
  const [run] = runsIn(storeDir);
  if (run) fs.writeFileSync(path.join(storeDir, 'runs', run, 'stop'), String(Date.now()));
}

/**
 * `loadfarm run <scenario> --workers 1 --json` (or any args) on the generator core, with the
 * probe in every node process. Returns the report, the worker's and the CLI's own CPU, the
 * snapshots, and what `runTool` returns.
 */
export async function runLoadfarm(args, { env = {}, timeoutMs = 180_000, probeEnv = {}, onStart, profile } = {}) {
  const store = tempStore();
  if (profile) probeEnv = { ...probeEnv, BENCH_CPU_PROF: profile === true ? 'dist/worker\\.js$' : profile };
  const r = await runTool(['node', CLI, ...args, '--store', store.url, '--json', '-q'], {
    env,
    timeoutMs,
    probe: true,
    probeEnv,
    onStart: onStart ? (child, probeDir) => onStart({ child, probeDir, storeDir: store.dir }) : undefined,
  });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = undefined;
  }
  const exits = r.probes.filter((p) => p.kind === 'exit');
  const workers = exits.filter((p) => p.argv.some((a) => a.endsWith('worker.js')));
  const cli = exits.find((p) => p.argv[0]?.endsWith('loadfarm.js'));
  const cpuMs = (p) => (p ? (p.userUs + p.systemUs) / 1000 : undefined);
  const snaps = snapshots(store.dir);
  const out = {
    ...r,
    report,
    storeDir: store.dir,
    snapshots: snaps,
    workerCpuMs: workers.reduce((s, p) => s + cpuMs(p), 0),
    workerMaxRssKb: Math.max(0, ...workers.map((p) => p.maxRssKb)),
    cliCpuMs: cpuMs(cli),
    workerProbes: r.probes.filter((p) => p.kind.startsWith('probe-')),
    profiles: r.probeDir ? fs.readdirSync(r.probeDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(r.probeDir, f)) : [],
  };
  return out;
}

/**
 * Why a loadfarm run cannot be counted, or undefined when it can: it exited non-zero (a run whose
 * thresholds failed exits 1 or 2 too: a bench run has none but its own), timed out, or left no report.
 */
export function failure(r) {
  if (r.timedOut) return 'timed out';
  if (r.report === undefined) return `no report (exit ${r.code}): ${r.stderr.slice(-200).trim()}`;
  if (r.code !== 0) return `exit ${r.code} (status ${r.report.status})`;
  return undefined;
}

/** Removes what a run left in the temp folder (stores can hold thousands of files). */
export function cleanup(res) {
  for (const d of [res.storeDir, res.probeDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
}

/**
 * CPU per operation in the steady part of a run, from the worker's own snapshots: each snapshot
 * carries its interval's CPU % (process.cpuUsage) and the operations it timed. The first and last
 * intervals (start-up, ramp, drain) are left out.
 */
export function steadyState(snaps, metric) {
  const mine = snaps.filter((s) => s.worker === 0).sort((a, b) => a.seq - b.seq);
  const mid = mine.slice(1, -1).filter((s) => !s.final);
  let cpuMs = 0;
  let ops = 0;
  let ms = 0;
  for (const s of mid) {
    const span = s.end - s.start;
    cpuMs += (s.health.cpuPct / 100) * span;
    ms += span;
    ops += countOf(s, metric);
  }
  return { cpuMs, ops, ms, usPerOp: ops > 0 ? (cpuMs * 1000) / ops : undefined, opsPerSec: ms > 0 ? (ops * 1000) / ms : undefined };
}

/** How many values the snapshot's histogram `metric` holds (decoded lazily through the report when absent). */
export function countOf(s, metric) {
  const c = s.counters?.[`bench.count ${metric}`];
  if (c !== undefined) return c;
  return s.histograms?.[metric] ? histogramCount(s.histograms[metric]) : 0;
}

let hdr;
function histogramCount(encoded) {
  hdr ??= requireFromRoot('hdr-histogram-js');
  return hdr.decodeFromCompressedBase64(encoded, 64, false).totalCount;
}

import { createRequire } from 'node:module';
export const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));

export { readProbes };

/**
 * Profiles loadfarm's worker through one more run of `args` and summarises where its CPU went:
 * top files/packages and functions by self time, and inclusive time for the frames in `inclusive`
 * ({ label: (frame) => boolean }, frame = { name, file, line }).
 */
export async function profileLoadfarm(args, { env = {}, what, inclusive = {}, top = 25, timeoutMs } = {}) {
  const r = await runLoadfarm(args, { env, profile: true, timeoutMs });
  try {
    const file = r.profiles[0];
    if (!file) return { what, error: `no profile written (exit ${r.code}): ${r.stderr.slice(-300)}` };
    const s = summarise(file, LF_ROOT);
    const inc = {};
    for (const [label, pred] of Object.entries(inclusive)) inc[label] = s.inclusive(pred);
    return {
      what,
      totalMs: s.totalMs,
      idleMs: s.idleMs,
      files: s.files.slice(0, 15).map(({ file, selfMs, selfPct }) => ({ file, selfMs, selfPct })),
      functions: s.functions.slice(0, top).map(({ name, file, line, selfMs, selfPct }) => ({ name, file, line, selfMs, selfPct })),
      inclusive: inc,
      report: r.report ? { status: r.report.status } : undefined,
    };
  } finally {
    cleanup(r);
  }
}
