/**
 * Writes a synthetic run into a file store: `workers` workers × `snapshots` snapshots of
 * `metrics` latency metrics each, as the real worker writes them (the real Recorder and its HDR
 * encoding, the real plan). Compiled on the fly with esbuild by bench/parts/merge.mjs.
 *
 * Histograms: a pool of distinct interval snapshots is recorded once (lognormal latencies, a
 * different median per metric, a slow tail), and each worker's snapshot `seq` takes one from the
 * pool, shifted by worker so that neighbours differ. Merging still decodes every one of them.
 *
 * Usage: node gen.js DIR WORKERS SNAPSHOTS METRICS VALUES_PER_INTERVAL POOL
 * Prints one JSON line: { runId, files, bytes, seconds }.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Recorder } from '../../worker/metrics/recorder';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import { layout } from '../../worker/store/layout';
import type { Snapshot } from '../../worker/metrics/snapshot';

const [dir, W, S, M, K, P] = [process.argv[2], ...process.argv.slice(3).map(Number)];
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

const scenario = defineScenario({ name: 'merge-bench', target: 'http://127.0.0.1:1', load: { users: W * 100, duration: (S * intervalMs) / 1000 }, async user() {} });
const plan = makePlan({ runId: `merge-bench-${W}x${S}x${M}`, scenario, scenarioFile: '/dev/null', target: 'http://127.0.0.1:1', workers: W, staggerMs: 0, seed: 1, intervalMs, now: runStart });
const put = (key: string, body: string) => {
  const file = path.join(dir, ...key.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  bytes += body.length;
  files++;
};
let bytes = 0;
let files = 0;
put(layout.plan(plan.runId), JSON.stringify(plan));
put(layout.scenario(plan.runId), 'module.exports = {};');
for (let w = 0; w < W; w++) {
  for (let s = 0; s < S; s++) {
    const base = pool[(s + w * 7) % P];
    const snap: Snapshot = { ...base, worker: w, seq: s, start: runStart + s * intervalMs, end: runStart + (s + 1) * intervalMs, final: s === S - 1, gauges: { users: 100, usersMax: 100, connections: 100, connectionsMax: 100 } };
    put(layout.snapshot(plan.runId, w, s), JSON.stringify(snap));
  }
  put(layout.status(plan.runId, w), JSON.stringify({ index: w, state: 'done', host: 'bench', pid: 1, startedAt: runStart, endedAt: runStart + S * intervalMs, exitCode: 0, completed: true, cutUsers: 0 }));
}
process.stdout.write(`${JSON.stringify({ runId: plan.runId, files, bytes, seconds: (Date.now() - t0) / 1000, histogramChars: Math.round(pool.reduce((a, s) => a + Object.values(s.histograms).reduce((b, h) => b + h.length, 0), 0) / pool.length / M) })}\n`);
