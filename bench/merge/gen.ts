/**
 * Writes a synthetic run into a file store: `workers` workers × `snapshots` snapshots of
 * `metrics` latency metrics each, as the real worker writes them (the real Recorder and its HDR
 * encoding, the real plan). Compiled on the fly with esbuild by bench/parts/merge.mjs.
 *
 * Histograms: a pool of distinct interval snapshots is recorded once (lognormal latencies, a
 * different median per metric, a slow tail), and each worker's snapshot `seq` takes one from the
 * pool, shifted by worker so that neighbours differ. Merging still decodes every one of them.
 *
 * Layouts (LAYOUT, default `rollups`):
 * - `raw`: snapshots only, without the `run` stamp: the layout before roll-ups (issue 12).
 * - `rollups`: what a worker writes now (worker/run-worker.ts): every snapshot stamped with its
 *   run, and every roll-up the real RollupBuilder completes, fed each snapshot with the interval's
 *   histograms as Recorder.cut feeds it.
 * - `tail`: for runs too long to write whole (48 h is ~3.5 M snapshot files, ~62 GB): the last
 *   hour is written as in `rollups` (its snapshots, 1m and 1h roll-ups, from the real builder),
 *   and each earlier hour as its 1h roll-up only — the one object the reader reads of it. An
 *   earlier hour's roll-up is the last hour's, re-stamped (seq, times, final): exact, because the
 *   pool's length divides an hour's snapshots, so every hour of a worker is the same sequence of
 *   intervals; worker 0's hour 0 is also built for real and compared, and a mismatch exits 1.
 *   Missing from the store, compared with a real run: the earlier hours' 1m roll-ups and
 *   snapshots, which the reader skips (StartAfter) and never reads.
 *
 * Usage: node gen.js DIR WORKERS SNAPSHOTS METRICS VALUES_PER_INTERVAL POOL [LAYOUT]
 * Prints one JSON line: { runId, files, bytes, seconds, histogramChars, kinds: { snapshot, 1m, 1h } }.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Recorder } from '../../worker/metrics/recorder';
import { RollupBuilder, type Rollup } from '../../worker/metrics/rollup';
import { decodeHistogram, type Histogram } from '../../worker/metrics/histogram';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import { layout } from '../../worker/store/layout';
import type { Snapshot } from '../../worker/metrics/snapshot';

const [dir, W, S, M, K, P] = [process.argv[2], ...process.argv.slice(3, 8).map(Number)];
const LAYOUT = process.argv[8] ?? 'rollups';
if (!['raw', 'rollups', 'tail'].includes(LAYOUT)) {
  process.stderr.write(`gen: layout ${LAYOUT}: expected raw, rollups or tail\n`);
  process.exit(1);
}
const HOUR = 3_600_000 / 5000; // snapshots per hour at 5 s
if (LAYOUT === 'tail' && (S % HOUR !== 0 || HOUR % P !== 0)) {
  process.stderr.write(`gen: layout tail needs whole hours (${HOUR} snapshots each) and a pool that divides an hour\n`);
  process.exit(1);
}
const intervalMs = 5000;
const t0 = Date.now();
const runStart = Date.UTC(2026, 10, 23, 12, 0, 0);

let seed = 42;
function rand() {
  // mulberry32: reproducible synthetic data
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function normal() {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const names = Array.from({ length: M }, (_, i) => (i < M - 2 ? `http.GET /api/endpoint-${i}` : i === M - 2 ? 'ws.connect' : 'loadfarm.schedule_lag'));
const medians = names.map((_, i) => 0.5 * Math.pow(1.35, i)); // 0.5 ms … ~150 ms

// The pool of distinct interval snapshots.
const rec = new Recorder(0, runStart);
const pool: Snapshot[] = [];
for (let p = 0; p < P; p++) {
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const tail = rand() < 0.01 ? 8 : 1;
      rec.latency(names[m], medians[m] * Math.exp(0.5 * normal()) * tail);
    }
  }
  for (let c = 0; c < 6; c++) rec.count(`check step ${c}: pass`, 1 + Math.floor(rand() * 100));
  if (rand() < 0.2) rec.error('HTTP 503');
  pool.push(rec.cut({ cpuPct: 40 + rand() * 20, loopLagP99Ms: rand() * 5, loopLagMaxMs: rand() * 20, rssMb: 150 + rand() * 50, saturated: false }, false, runStart + (p + 1) * intervalMs));
}

// Each pool entry's histograms, as the worker's Recorder hands them to its RollupBuilder.
const poolHists: Map<string, Histogram>[] = pool.map((p) => new Map(Object.entries(p.histograms).map(([k, v]) => [k, decodeHistogram(v)])));

const scenario = defineScenario({ name: 'merge-bench', target: 'http://127.0.0.1:1', load: { users: W * 100, duration: (S * intervalMs) / 1000 }, async user() {} });
const plan = makePlan({ runId: `merge-bench-${LAYOUT}-${W}x${S}x${M}`, scenario, scenarioFile: '/dev/null', target: 'http://127.0.0.1:1', workers: W, staggerMs: 0, seed: 1, intervalMs, now: runStart });
const runId = plan.runId;
const kinds: Record<string, number> = { snapshot: 0, '1m': 0, '1h': 0 };
const put = (key: string, body: string) => {
  const file = path.join(dir, ...key.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  bytes += body.length;
  files++;
};
let bytes = 0;
let files = 0;

/** Worker w's snapshot `seq`, as Recorder.cut returns it (unstamped), and its histograms. */
function snapshotOf(w: number, seq: number): { snap: Snapshot; hists: Map<string, Histogram> } {
  const p = (seq + w * 7) % P;
  const snap: Snapshot = { ...pool[p], worker: w, seq, start: runStart + seq * intervalMs, end: runStart + (seq + 1) * intervalMs, final: seq === S - 1, gauges: { users: 100, usersMax: 100, connections: 100, connectionsMax: 100 } };
  return { snap, hists: poolHists[p] };
}

/** Drives a RollupBuilder over snapshots from..to-1 as the worker does, writing what it would write. */
function writeRange(w: number, from: number, to: number, write: boolean): Rollup[] {
  const builder = new RollupBuilder(intervalMs);
  const done: Rollup[] = [];
  for (let seq = from; seq < to; seq++) {
    const { snap, hists } = snapshotOf(w, seq);
    if (LAYOUT !== 'raw') builder.add(snap, hists);
    if (write) {
      put(layout.snapshot(runId, w, seq), JSON.stringify(LAYOUT === 'raw' ? snap : { ...snap, run: runId }));
      kinds.snapshot++;
    }
    for (const r of builder.take()) {
      done.push(r);
      if (!write) continue;
      put(layout.rollup(runId, w, r.rollup.level, r.rollup.seqFrom, r.rollup.seqTo), JSON.stringify({ ...r, run: runId }));
      kinds[r.rollup.level]++;
    }
  }
  return done;
}

/** The last hour's 1h roll-up moved to hour `h` (what the builder gives for that hour: see the header). */
function restamp(r: Rollup, h: number): Rollup {
  const from = h * HOUR;
  return { ...r, seq: from, start: runStart + from * intervalMs, end: runStart + (from + HOUR) * intervalMs, final: false, rollup: { ...r.rollup, seqFrom: from, seqTo: from + HOUR - 1 } };
}

put(layout.plan(runId), JSON.stringify(plan));
put(layout.scenario(runId), 'module.exports = {};');
for (let w = 0; w < W; w++) {
  if (LAYOUT === 'tail') {
    const lastHour = S / HOUR - 1;
    const hourly = writeRange(w, lastHour * HOUR, S, true).find((r) => r.rollup.level === '1h')!;
    if (w === 0) {
      const real = writeRange(0, 0, HOUR, false).find((r) => r.rollup.level === '1h')!;
      if (JSON.stringify(real) !== JSON.stringify(restamp(hourly, 0))) {
        process.stderr.write('gen: a re-stamped hourly roll-up differs from the one the builder makes for that hour\n');
        process.exit(1);
      }
    }
    for (let h = 0; h < lastHour; h++) {
      const r = restamp(hourly, h);
      put(layout.rollup(runId, w, '1h', r.rollup.seqFrom, r.rollup.seqTo), JSON.stringify({ ...r, run: runId }));
      kinds['1h']++;
    }
  } else {
    writeRange(w, 0, S, true);
  }
  put(layout.status(runId, w), JSON.stringify({ index: w, state: 'done', host: 'bench', pid: 1, startedAt: runStart, endedAt: runStart + S * intervalMs, exitCode: 0, completed: true, cutUsers: 0 }));
}
process.stdout.write(`${JSON.stringify({ runId, layout: LAYOUT, files, bytes, kinds, seconds: (Date.now() - t0) / 1000, histogramChars: Math.round(pool.reduce((a, s) => a + Object.values(s.histograms).reduce((b, h) => b + h.length, 0), 0) / pool.length / M) })}\n`);
