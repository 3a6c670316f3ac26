/**
 * Fakes the store writes of WORKERS workers for SECONDS (bench/parts/scale-s3.mjs, issue 12):
 * each worker, at its own offset in the 5 s interval, writes its snapshot (putNew, run-stamped,
 * METRICS HDR histograms from a pool of 12 intervals recorded by the real Recorder), its 1m
 * roll-up every 12 snapshots (the real RollupBuilder's roll-up of the pool, re-stamped: every
 * minute is the same 12 intervals), and its status every 30 s and at the end (state done).
 * At most CONCURRENCY requests in flight; a write's lag is its completion time minus its due time.
 *
 * Usage: node s3-writer.cjs ENDPOINT BUCKET RUN_ID WORKERS SECONDS METRICS
 * Prints one JSON line at the end: { puts, failures, lagMsP50, lagMsP99, lagMsMax, bytes, seconds }.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store } from '../../worker/store/s3';
import { putJson, putNewJson } from '../../worker/store/store';
import { Recorder } from '../../worker/metrics/recorder';
import { RollupBuilder, type Rollup } from '../../worker/metrics/rollup';
import { decodeHistogram } from '../../worker/metrics/histogram';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import { layout } from '../../worker/store/layout';
import type { Snapshot } from '../../worker/metrics/snapshot';

const [endpoint, bucket, runId] = process.argv.slice(2, 5);
const [W, SECONDS, M] = process.argv.slice(5, 8).map(Number);
const INTERVAL = 5000;
const POOL = 12;
const CONCURRENCY = 64;

async function main() {
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = S3Store.fromUrl(`s3://${bucket}`, { endpoint, region: 'us-east-1' });
  const t0 = Date.now();
  const scenario = defineScenario({ name: 'scale-s3', target: 'http://127.0.0.1:1', load: { users: W, duration: SECONDS }, async user() {} });
  const plan = makePlan({ runId, scenario, scenarioFile: '/dev/null', target: 'http://127.0.0.1:1', workers: W, staggerMs: 0, seed: 1, intervalMs: INTERVAL, now: t0 });
  await putNewJson(store, layout.plan(runId), plan);

  const rec = new Recorder(0, t0);
  const pool: Snapshot[] = [];
  for (let p = 0; p < POOL; p++) {
    for (let m = 0; m < M; m++) for (let k = 0; k < 200; k++) rec.latency(`http.GET /api/endpoint-${m}`, 0.5 * Math.pow(1.35, m) * Math.exp(0.5 * Math.sin(p * 7 + k)));
    rec.count('check ok', 100);
    pool.push(rec.cut({ cpuPct: 40, loopLagP99Ms: 1, loopLagMaxMs: 3, rssMb: 150, saturated: false }, false, t0 + (p + 1) * INTERVAL));
  }
  const builder = new RollupBuilder(INTERVAL);
  for (const s of pool) builder.add(s, new Map(Object.entries(s.histograms).map(([k, v]) => [k, decodeHistogram(v)])));
  const minute = builder.take().find((r) => r.rollup.level === '1m')!;

  const ticks = Math.floor(SECONDS / 5);
  const jobs: { due: number; run: () => Promise<void> }[] = [];
  const snapAt = (w: number, k: number) => t0 + k * INTERVAL + Math.floor((w * INTERVAL) / W);
  const stamp = (w: number, k: number): Snapshot => ({ ...pool[k % POOL], worker: w, seq: k, start: snapAt(w, k) - INTERVAL + 1, end: snapAt(w, k), final: k === ticks - 1, run: runId });
  const status = (w: number, state: string, k: number) => ({ index: w, state, host: 'bench', pid: 1, startedAt: t0, ...(state === 'done' ? { endedAt: snapAt(w, k), exitCode: 0, completed: true, cutUsers: 0 } : {}) });
  let bytes = 0;
  for (let k = 0; k < ticks; k++) {
    for (let w = 0; w < W; w++) {
      const due = snapAt(w, k) + INTERVAL;
      jobs.push({ due, run: () => putNewJson(store, layout.snapshot(runId, w, k), stamp(w, k)).then(() => void (bytes += 18_000)) });
      if ((k + 1) % POOL === 0) {
        const from = k - POOL + 1;
        const r: Rollup = { ...minute, worker: w, seq: from, start: stamp(w, from).start, end: stamp(w, k).end, final: k === ticks - 1, rollup: { ...minute.rollup, seqFrom: from, seqTo: k }, run: runId };
        jobs.push({ due, run: () => putNewJson(store, layout.rollup(runId, w, '1m', from, k), r) });
      }
      if (k === 0 || k % 6 === 0 || k === ticks - 1) jobs.push({ due, run: () => putJson(store, layout.status(runId, w), status(w, k === ticks - 1 ? 'done' : 'running', k)) });
    }
  }
  jobs.sort((a, b) => a.due - b.due);
  const lags: number[] = [];
  let failures = 0;
  let next = 0;
  const lanes = Array.from({ length: CONCURRENCY }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const wait = job.due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        await job.run();
      } catch (err) {
        failures++;
        if (failures <= 3) process.stderr.write(`write failed: ${(err as Error).message}\n`);
      }
      lags.push(Date.now() - job.due);
    }
  });
  await Promise.all(lanes);
  lags.sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))];
  process.stdout.write(`${JSON.stringify({ puts: jobs.length, failures, lagMsP50: q(0.5), lagMsP99: q(0.99), lagMsMax: lags[lags.length - 1], snapshotBytes: JSON.stringify(pool[0]).length, seconds: (Date.now() - t0) / 1000 })}\n`);
  client.destroy();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
