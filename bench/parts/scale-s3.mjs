// A thousand workers (issue 12, item 4): the S3 protocol server (s3rver) on loopback, 1,000 fake
// workers writing 5 s snapshots, 1m roll-ups and statuses for a few minutes
// (bench/scale/s3-writer.ts), and a RunReader polling as the CLI does, refresh() every second
// (bench/scale/s3-reader.ts): store requests and wall time per poll, then complete() and the report.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { startServer, runTool, log, ROOT, BENCH_DIR, TARGET_CPU, GENERATOR_CPU } from '../lib/proc.mjs';
import { LF_ROOT } from '../lib/loadfarm.mjs';

export const title = 'A thousand workers: live progress polls against an S3 protocol server';

const WORKERS = 1000;
const SECONDS = 180;
const METRICS = 20;
/** RunReader's default workersPerRefresh (cli/merge/reader.ts), which the CLI uses. */
const PER_REFRESH = 256;

function bundle(dir, name) {
  const esbuild = createRequire(path.join(ROOT, 'package.json'))('esbuild');
  const out = path.join(dir, `${name}.cjs`);
  // From the build measured (its bench/ included): the reader is that commit's, not the working tree's.
  esbuild.buildSync({ entryPoints: [path.join(LF_ROOT, 'bench', 'scale', `${name}.ts`)], bundle: true, platform: 'node', target: 'node20', outfile: out, logLevel: 'warning' });
  return out;
}

const q = (xs, p) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(p * v.length))];
};

export async function run(ctx) {
  const workers = ctx.quick ? 100 : WORKERS;
  const seconds = ctx.quick ? 30 : SECONDS;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-s3-'));
  const s3dir = path.join(work, 's3');
  fs.mkdirSync(s3dir);
  const server = await startServer(['node', path.join(BENCH_DIR, 'scale', 's3rver.cjs'), s3dir], { env: { NODE_OPTIONS: '--openssl-legacy-provider' }, cpu: TARGET_CPU, name: 's3rver' });
  try {
    const writer = bundle(work, 's3-writer');
    const reader = bundle(work, 's3-reader');
    const endpoint = `http://127.0.0.1:${server.port}`;
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1' };
    const runId = `scale-s3-${workers}`;
    const done = path.join(work, 'writer-done');
    const [w, r] = await Promise.all([
      runTool(['node', writer, endpoint, 'bench', runId, String(workers), String(seconds), String(METRICS)], { env, cpu: GENERATOR_CPU, timeoutMs: (seconds + 300) * 1000 }).then((res) => {
        fs.writeFileSync(done, '1');
        return res;
      }),
      runTool(['node', reader, endpoint, 'bench', runId, done, String(seconds + 240)], { env, cpu: GENERATOR_CPU, timeoutMs: (seconds + 600) * 1000, probe: true }),
    ]);
    if (w.code !== 0) throw new Error(`the writer failed: ${w.stderr.slice(-400)}`);
    if (r.code !== 0) throw new Error(`the reader failed: ${r.stderr.slice(-400)}`);
    const wr = JSON.parse(w.stdout);
    const rd = JSON.parse(r.stdout);
    const readerExit = r.probes.find((p) => p.kind === 'exit');
    // Polls while the writers wrote (the first ones find nothing yet; all are kept).
    const polls = rd.polls;
    const ms = polls.map((p) => p.ms);
    const reqs = polls.map((p) => p.requests);
    const window = Math.min(workers, PER_REFRESH);
    // The bound, from the reader's code: per visited worker one snapshot listing, one status get,
    // its snapshots new since its last visit, and — once 24 raw snapshots pile up — two roll-up
    // listings and its new roll-ups. A worker is visited every ⌈workers / 256⌉ polls.
    const periodS = Math.max(1, q(polls.map((p, i) => (i ? p.at - polls[i - 1].at : 1)), 0.99));
    const visitGapS = Math.ceil(workers / window) * periodS;
    const newSnapshots = Math.ceil(visitGapS / 5) + 1;
    const newRollups = Math.ceil(visitGapS / 60) + 1;
    const perWorker = 2 + newSnapshots + 2 + newRollups;
    const bound = window * perWorker;
    log(`scale-s3: ${polls.length} polls of ${workers} workers: wall p50 ${q(ms, 0.5)} ms, p95 ${q(ms, 0.95)} ms, max ${Math.max(...ms)} ms; requests p50 ${q(reqs, 0.5)}, max ${Math.max(...reqs)} (bound ${bound}); complete() ${rd.complete.ms} ms / ${rd.complete.requests} requests, report ${rd.report.ms} ms; writer lag p99 ${wr.lagMsP99} ms, ${wr.failures} failures`);
    const failed = wr.failures > 0 ? `${wr.failures} writes failed` : rd.report.unusable > 0 ? `${rd.report.unusable} objects unusable` : undefined;
    return {
      title,
      tools: {
        [`RunReader, ${workers} workers`]: { pollMsP50: q(ms, 0.5), pollMsP95: q(ms, 0.95), pollMsMax: Math.max(...ms), requestsP50: q(reqs, 0.5), requestsMax: Math.max(...reqs), polls: polls.length },
      },
      toolColumns: [
        { key: 'pollMsP50', label: 'poll ms p50', unit: '' },
        { key: 'pollMsP95', label: 'poll ms p95', unit: '' },
        { key: 'pollMsMax', label: 'poll ms max', unit: '' },
        { key: 'requestsP50', label: 'requests per poll p50', unit: '' },
        { key: 'requestsMax', label: 'requests per poll max', unit: '' },
        { key: 'polls', label: 'polls', unit: '' },
      ],
      notes: [
        `Per poll (t s: ms, requests, new snapshots): ${polls.map((p) => `${p.at}: ${p.ms}/${p.requests}/${p.fresh}`).join('; ')}.`,
        `Bound on store requests per poll (cli/merge/reader.ts, workersPerRefresh ${PER_REFRESH}): min(workers, ${PER_REFRESH}) × (1 snapshot listing + 1 status get + the snapshots new since the worker's last visit + 2 roll-up listings and the new roll-ups when 24 raw snapshots piled up). ` +
          `A worker is visited every ⌈${workers}/${window}⌉ = ${Math.ceil(workers / window)} polls (${visitGapS.toFixed(1)} s at the measured poll period): at most ${newSnapshots} snapshots and ${newRollups} roll-ups new, so ≤ ${window} × ${perWorker} = ${bound} requests. ` +
          'In the steady state a poll costs 2 × 256 requests plus the new snapshots of the 256 workers visited: it does not grow with the run\'s length, and with the farm only up to 256 workers.',
      ],
      method:
        `s3rver (@20minutes/s3rver, \`--openssl-legacy-provider\`) on 127.0.0.1, core ${TARGET_CPU}, storing in a temp folder. \`bench/scale/s3-writer.ts\` fakes ${workers} workers for ${seconds} s through loadfarm's own S3Store: ` +
        `each writes, at its own offset in the 5 s interval, its snapshot (putNew, ${METRICS} HDR histograms, ~${wr.snapshotBytes} bytes), its 1m roll-up every 12 snapshots and its status every 30 s and at the end ` +
        `(${wr.puts.toLocaleString('en-US')} writes, ≤ 64 in flight; lag behind schedule p50 ${wr.lagMsP50} ms, p99 ${wr.lagMsP99} ms, max ${wr.lagMsMax} ms; ${wr.failures} failed). ` +
        `\`bench/scale/s3-reader.ts\` (core ${GENERATOR_CPU}, with the writer) polls as \`loadfarm run\` does: a RunReader with its defaults, \`refresh()\` every second (the next one at once when a poll took longer), ` +
        'counting `reader.requests` per poll; after the writer ends, `complete()` and `reportFromStore` (merge and report). s3rver is far slower per request than S3 (a Koa server writing each object and its metadata to files on a core shared with the bench), so the wall times are an upper bound for S3; the request counts are what S3 would see.',
      rows: [
        {
          what: `live progress poll, ${workers} workers (S3 protocol server): wall time, worst poll`,
          unit: 'ms',
          better: 'lower',
          loadfarm: Math.max(...ms),
          goal: 2000,
          goalText: '< 2 s per poll',
          failed,
          extra: {
            'poll ms p50 / p95 / max': `${q(ms, 0.5)} / ${q(ms, 0.95)} / ${Math.max(...ms)}`,
            polls: polls.length,
            // What the store gave the reader: a poll of N requests cannot be faster than N ÷ this.
            'store requests per second served to the reader during a poll, p50': q(polls.map((p) => (p.requests * 1000) / Math.max(1, p.ms)), 0.5),
            "writers' lag behind their schedule, ms p50 / p99 (the store keeping up with the farm)": `${wr.lagMsP50} / ${wr.lagMsP99}`, 'reader peak RSS (MiB)': readerExit?.maxRssKb ? readerExit.maxRssKb / 1024 : undefined },
        },
        {
          what: `live progress poll, ${workers} workers: store requests, worst poll`,
          unit: '',
          better: 'lower',
          loadfarm: Math.max(...reqs),
          goal: bound,
          goalText: `≤ ${bound} (stated bound)`,
          failed,
          extra: { 'requests per poll p50 / max': `${q(reqs, 0.5)} / ${Math.max(...reqs)}`, 'requests per poll minus new snapshots, max': Math.max(...polls.map((p) => p.requests - p.fresh)) },
        },
        {
          what: `final read and report of that run (${workers} workers × ${seconds} s): complete() + merge`,
          unit: 'ms',
          better: 'lower',
          loadfarm: rd.complete.ms + rd.report.ms,
          extra: { 'complete() ms': rd.complete.ms, 'complete() store requests': rd.complete.requests, 'objects held for the merge': rd.complete.held, 'merge + report ms': rd.report.ms, 'report status': rd.report.status, 'workers with a status': rd.report.workersWithStatus, 'unusable objects': rd.report.unusable },
        },
      ],
    };
  } finally {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
