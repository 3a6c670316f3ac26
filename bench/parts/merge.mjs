// Merging results: `loadfarm report <runId>` over 100 workers × 1 h of 5 s snapshots × 20 metrics.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { runTool, log, ROOT } from '../lib/proc.mjs';
import { CLI } from '../lib/loadfarm.mjs';
import { summarise } from '../lib/profile.mjs';

export const title = 'Merging results: 100 workers × 1 h of 5 s snapshots × 20 metrics';

const WORKERS = 100;
const FULL = 720; // 1 h of 5 s snapshots
const METRICS = 20;
const VALUES = 1000; // values per metric per interval (200/s per endpoint per worker)

function buildGenerator(dir) {
  const esbuild = createRequire(path.join(ROOT, 'package.json'))('esbuild');
  const out = path.join(dir, 'gen.cjs');
  esbuild.buildSync({ entryPoints: [path.join(ROOT, 'bench', 'merge', 'gen.ts')], bundle: true, platform: 'node', target: 'node20', outfile: out, logLevel: 'warning' });
  return out;
}

async function generate(gen, store, snapshots) {
  const r = await runTool(['node', gen, store, String(WORKERS), String(snapshots), String(METRICS), String(VALUES), '60'], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`generating snapshots failed: ${r.stderr.slice(-400)}`);
  return JSON.parse(r.stdout);
}

async function report(store, runId, { profile = false, timeoutMs }) {
  const r = await runTool(['node', CLI, 'report', runId, '--store', `file://${store}`, '--json'], {
    timeoutMs,
    probe: profile,
    probeEnv: profile ? { BENCH_CPU_PROF: 'bin/loadfarm\\.js$', BENCH_CPU_PROF_US: '1000' } : {},
  });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    parsed = undefined;
  }
  const prof = r.probeDir ? fs.readdirSync(r.probeDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  return { seconds: r.wallMs / 1000, cpuSeconds: r.cpuMs / 1000, timedOut: r.timedOut, ok: parsed?.runId === runId, metrics: parsed ? Object.keys(parsed.metrics ?? {}).length : 0, profileFile: prof && path.join(r.probeDir, prof), probeDir: r.probeDir, stderr: r.stderr.slice(-300) };
}

export async function run(ctx) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-merge-'));
  const notes = [];
  let profile;
  const tools = {};
  try {
    const gen = buildGenerator(work);
    // The fixed cost of a report (start-up, plan, writing the report) from a 1-worker, 1-snapshot run,
    // so that the projection scales only what grows with the run.
    const tinyStore = path.join(work, 'tiny');
    const tg = await runTool(['node', gen, tinyStore, '1', '1', String(METRICS), String(VALUES), '1'], { timeoutMs: 60_000 });
    const tiny = await report(tinyStore, JSON.parse(tg.stdout).runId, { timeoutMs: 60_000 });
    const sampleN = ctx.quick ? 6 : 36;
    const sampleStore = path.join(work, 'sample');
    const g = await generate(gen, sampleStore, sampleN);
    log(`merge: wrote ${g.files} files (${(g.bytes / 2 ** 20).toFixed(0)} MiB, ${g.histogramChars} chars per histogram) in ${g.seconds.toFixed(1)} s`);
    const sample = await report(sampleStore, g.runId, { timeoutMs: 600_000 });
    const histos = WORKERS * sampleN * METRICS;
    const projected = tiny.seconds + ((sample.seconds - tiny.seconds) * FULL) / sampleN;
    log(`merge: ${WORKERS}×${sampleN}×${METRICS} (${histos.toLocaleString('en-US')} histograms) in ${sample.seconds.toFixed(1)} s → ${((sample.seconds * 1e6) / histos).toFixed(0)} µs per histogram; full run projected ${projected.toFixed(0)} s`);
    tools['loadfarm report (sample)'] = { snapshots: WORKERS * sampleN, histograms: histos, seconds: sample.seconds, usPerHistogram: (sample.seconds * 1e6) / histos, bytes: g.bytes, runs: [{ seconds: sample.seconds, ok: sample.ok, error: sample.ok ? undefined : `report failed: ${sample.stderr}` }] };
    let full;
    if (ctx.full || projected < 90) {
      fs.rmSync(sampleStore, { recursive: true, force: true });
      const fullStore = path.join(work, 'full');
      const gf = await generate(gen, fullStore, FULL);
      log(`merge: wrote the full run, ${gf.files} files (${(gf.bytes / 2 ** 20).toFixed(0)} MiB) in ${gf.seconds.toFixed(1)} s`);
      full = await report(fullStore, gf.runId, { timeoutMs: 1_800_000 });
      log(`merge: full run merged in ${full.seconds.toFixed(1)} s${full.timedOut ? ' (timed out)' : ''}`);
      tools['loadfarm report (full)'] = { snapshots: WORKERS * FULL, histograms: WORKERS * FULL * METRICS, seconds: full.seconds, usPerHistogram: (full.seconds * 1e6) / (WORKERS * FULL * METRICS), bytes: gf.bytes, runs: [{ seconds: full.seconds, ok: full.ok, error: full.ok ? undefined : `report failed or timed out: ${full.stderr}` }] };
    } else {
      notes.push(
        `The full run (${(WORKERS * FULL).toLocaleString('en-US')} snapshot files) was not merged: the ${sampleN}-snapshot sample projects ${projected.toFixed(0)} s ` +
          `(merging is linear in the number of histograms), far past the goal. \`npm run bench -- --only merge --merge-full\` merges it for real.`,
      );
    }
    if (ctx.profile) {
      const pStore = path.join(work, 'profile');
      const gp = await generate(gen, pStore, ctx.quick ? 6 : 12);
      const pr = await report(pStore, gp.runId, { profile: true, timeoutMs: 600_000 });
      if (pr.profileFile) {
        const s = summarise(pr.profileFile, ROOT);
        const inc = (pred) => s.inclusive(pred);
        profile = {
          what: `\`loadfarm report\` of ${WORKERS} workers × ${ctx.quick ? 6 : 12} snapshots × ${METRICS} metrics (the CLI process)`,
          totalMs: s.totalMs,
          files: s.files.slice(0, 15),
          functions: s.functions.slice(0, 25),
          inclusive: {
            'mergeSnapshots (cli/merge/merge.ts)': inc((f) => f.name === 'mergeSnapshots'),
            'decoding encoded histograms (readEncoded, decodeHistogram)': inc((f) => f.name === 'readEncoded' || f.name === 'decodeHistogram'),
            'zlib inflate': inc((f) => f.file === 'node:zlib'),
            'adding counts (cli/merge add, hdr-histogram-js add)': inc((f) => f.name === 'add' && (f.file.startsWith('cli/merge/') || f.file.includes('hdr-histogram-js'))),
            'reading the store (fs, getJson)': inc((f) => f.name === 'getJson' || f.file.startsWith('node:internal/fs') || ['openFileHandle', 'read', 'readFileUtf8', 'fstat', 'close', 'readdir'].includes(f.name)),
            'buildReport (cli/report)': inc((f) => f.name === 'buildReport'),
            'garbage collector': inc((f) => f.name === '(garbage collector)'),
          },
        };
      }
      fs.rmSync(pr.probeDir, { recursive: true, force: true });
    }
    const best = full ?? sample;
    const figure = full ? full.seconds : projected;
    return {
      title,
      tools,
      profile,
      notes,
      toolColumns: [
        { key: 'seconds', label: 'wall s', unit: '' },
        { key: 'usPerHistogram', label: 'µs per histogram', unit: '' },
        { key: 'histograms', label: 'histograms', unit: '' },
        { key: 'snapshots', label: 'snapshot files', unit: '' },
      ],
      method:
        `\`bench/merge/gen.ts\` (built with esbuild at bench time) writes a run into a file store as workers do: the real \`Recorder\` records ` +
        `${VALUES} lognormal latencies per metric per interval (medians 0.5 ms to ~150 ms, a 1 % slow tail; ~${g.histogramChars} base64 chars per ` +
        `histogram) and cuts snapshots with the real HDR encoding, ${METRICS} metrics each, 5 s apart, with the real plan and status files. ` +
        `Timed: \`loadfarm report <runId> --store file://… --json\` from start to exit (reading every file, merging, report.json/html). ` +
        `A sample of ${sampleN} snapshots per worker is always merged; the full ${FULL} when its projection is short or with \`--merge-full\`.`,
      rows: [
        {
          what: `merge ${WORKERS} workers × 1 h of 5 s snapshots × ${METRICS} metrics${full ? '' : ' (projected from a sample)'}`,
          unit: 's',
          better: 'lower',
          loadfarm: figure,
          goal: 5,
          goalText: '< 5 s',
          extra: {
            [`sample: ${WORKERS}×${sampleN} snapshots merged in (s)`]: sample.seconds,
            'µs per histogram merged': (best.seconds * 1e6) / (full ? WORKERS * FULL * METRICS : WORKERS * sampleN * METRICS),
            'CPU s of the report process (sample)': sample.cpuSeconds,
            'fixed cost of a report (1 worker × 1 snapshot), s': tiny.seconds,
          },
        },
      ],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
