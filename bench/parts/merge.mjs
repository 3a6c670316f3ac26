// Merging results (issue 12): `loadfarm report <runId>` over 100 workers × 1 h and × 48 h of 5 s
// snapshots × 20 metrics as workers write them now (snapshots and the 1m/1h roll-ups they
// complete), and over the old layout (raw snapshots only) for comparison: wall time, bytes the
// CLI read from the store, and the CLI's peak RSS.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { runTool, log, median, ROOT, BENCH_DIR } from '../lib/proc.mjs';
import { CLI, LF_ROOT } from '../lib/loadfarm.mjs';
import { summarise } from '../lib/profile.mjs';

export const title = 'Merging results: 100 workers × 1 h and × 48 h of 5 s snapshots × 20 metrics (roll-ups), and the old layout';

const WORKERS = 100;
const HOUR = 720; // 1 h of 5 s snapshots
const METRICS = 20;
const VALUES = 1000; // values per metric per interval (200/s per endpoint per worker)
const POOL = 60; // distinct intervals; divides an hour (gen.ts `tail` needs it)
const COUNT_READS = path.join(BENCH_DIR, 'scale', 'count-reads.cjs');
const MiB = 2 ** 20;

function buildGenerator(dir) {
  const esbuild = createRequire(path.join(ROOT, 'package.json'))('esbuild');
  const out = path.join(dir, 'gen.cjs');
  // From the build measured (its bench/ included): the Recorder and RollupBuilder of that commit.
  esbuild.buildSync({ entryPoints: [path.join(LF_ROOT, 'bench', 'merge', 'gen.ts')], bundle: true, platform: 'node', target: 'node20', outfile: out, logLevel: 'warning' });
  return out;
}

async function generate(gen, store, workers, snapshots, layout) {
  const r = await runTool(['node', gen, store, String(workers), String(snapshots), String(METRICS), String(VALUES), String(POOL), layout], { timeoutMs: 1_800_000 });
  if (r.code !== 0) throw new Error(`generating the ${layout} run failed: ${r.stderr.slice(-400)}`);
  const g = JSON.parse(r.stdout);
  log(`merge: wrote ${workers}×${snapshots} (${layout}): ${g.files.toLocaleString('en-US')} files, ${(g.bytes / MiB).toFixed(0)} MiB (${JSON.stringify(g.kinds)}) in ${g.seconds.toFixed(1)} s`);
  return g;
}

/** One `loadfarm report`: wall and CPU time, what it read from the store, its peak RSS. */
async function report(store, runId, { profile = false, timeoutMs }) {
  const readsFile = path.join(os.tmpdir(), `bench-reads-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const r = await runTool(['node', CLI, 'report', runId, '--store', `file://${store}`, '--json'], {
    timeoutMs,
    probe: true,
    env: { NODE_OPTIONS: `--require ${COUNT_READS}`, BENCH_READS_ROOT: store, BENCH_READS_OUT: readsFile },
    probeEnv: profile ? { BENCH_CPU_PROF: 'bin/loadfarm\\.js$', BENCH_CPU_PROF_US: '1000' } : {},
  });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    parsed = undefined;
  }
  let reads = {};
  try {
    reads = JSON.parse(fs.readFileSync(readsFile, 'utf8'));
    fs.rmSync(readsFile, { force: true });
  } catch {
    // The process died before its exit hook.
  }
  const exit = r.probes.find((p) => p.kind === 'exit' && p.argv[0]?.endsWith('loadfarm.js'));
  const prof = r.probeDir ? fs.readdirSync(r.probeDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  const ok = parsed?.runId === runId && !r.timedOut;
  return {
    seconds: r.wallMs / 1000,
    cpuSeconds: r.cpuMs / 1000,
    timedOut: r.timedOut,
    ok,
    failed: ok ? undefined : `report failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.slice(-200).trim()}`,
    unusable: parsed?.unusable?.length ?? 0,
    metrics: parsed ? Object.keys(parsed.metrics ?? {}).length : 0,
    filesRead: reads.files,
    mibRead: reads.bytes === undefined ? undefined : reads.bytes / MiB,
    rcharMiB: reads.rchar === undefined ? undefined : reads.rchar / MiB,
    peakRssMiB: exit?.maxRssKb ? exit.maxRssKb / 1024 : reads.maxRssKb ? reads.maxRssKb / 1024 : undefined,
    profileFile: prof && path.join(r.probeDir, prof),
    probeDir: r.probeDir,
  };
}

/** `runs` reports of one store: the median wall time, and the read and RSS figures (the same each time) of the median run. */
async function measure(store, runId, runs, timeoutMs) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    const m = await report(store, runId, { timeoutMs });
    fs.rmSync(m.probeDir, { recursive: true, force: true });
    all.push(m);
    if (!m.ok) break;
  }
  const med = median(all.map((m) => m.seconds));
  const pick = all.find((m) => m.seconds === med) ?? all[0];
  return { ...pick, seconds: med, each: all.map((m) => m.seconds), peakRssMiB: Math.max(...all.map((m) => m.peakRssMiB ?? 0)), failed: all.find((m) => m.failed)?.failed };
}

export async function run(ctx) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-merge-'));
  const workers = ctx.quick ? 10 : WORKERS;
  const hours48 = ctx.quick ? 2 : 48;
  const runs = ctx.runs;
  const notes = [];
  const tools = {};
  let profile;
  try {
    const gen = buildGenerator(work);
    // The fixed cost of a report (start-up, plan, writing the report) from a 1-worker, 1-snapshot run.
    const tinyStore = path.join(work, 'tiny');
    const tg = await generate(gen, tinyStore, 1, 1, 'rollups');
    const tiny = await measure(tinyStore, tg.runId, 1, 60_000);

    // 1 h, as workers write it now.
    const hStore = path.join(work, 'hour');
    const gh = await generate(gen, hStore, workers, HOUR, 'rollups');
    const hour = await measure(hStore, gh.runId, runs, 600_000);
    log(`merge: ${workers} workers × 1 h: ${hour.seconds.toFixed(2)} s, ${hour.filesRead} files / ${hour.mibRead?.toFixed(1)} MiB read, peak RSS ${hour.peakRssMiB?.toFixed(0)} MiB`);
    fs.rmSync(hStore, { recursive: true, force: true });

    // 48 h: every hour's roll-up, the last hour's minutes and snapshots (gen.ts `tail`).
    const dStore = path.join(work, 'days');
    const gd = await generate(gen, dStore, workers, HOUR * hours48, 'tail');
    const days = await measure(dStore, gd.runId, runs, 1_200_000);
    log(`merge: ${workers} workers × ${hours48} h: ${days.seconds.toFixed(2)} s, ${days.filesRead} files / ${days.mibRead?.toFixed(1)} MiB read, peak RSS ${days.peakRssMiB?.toFixed(0)} MiB`);
    if (ctx.profile) {
      const pr = await report(dStore, gd.runId, { profile: true, timeoutMs: 1_200_000 });
      if (pr.profileFile) {
        const s = summarise(pr.profileFile, LF_ROOT);
        const inc = (pred) => s.inclusive(pred);
        profile = {
          what: `\`loadfarm report\` of ${workers} workers × ${hours48} h (roll-ups; the CLI process)`,
          totalMs: s.totalMs,
          files: s.files.slice(0, 15),
          functions: s.functions.slice(0, 25),
          inclusive: {
            'RunReader (cli/merge/reader.ts)': inc((f) => f.file === 'cli/merge/reader.ts'),
            'mergeSnapshots (cli/merge/merge.ts)': inc((f) => f.name === 'mergeSnapshots'),
            'decoding encoded histograms (readEncoded, decodeHistogram)': inc((f) => f.name === 'readEncoded' || f.name === 'decodeHistogram'),
            'zlib inflate': inc((f) => f.file === 'node:zlib'),
            'JSON.parse': inc((f) => f.name === 'parse'),
            'buildReport (cli/report)': inc((f) => f.name === 'buildReport'),
            'garbage collector': inc((f) => f.name === '(garbage collector)'),
          },
        };
      }
      fs.rmSync(pr.probeDir, { recursive: true, force: true });
    }
    fs.rmSync(dStore, { recursive: true, force: true });

    // The old layout (raw snapshots only): a sample projected to 1 h, or the whole hour with --merge-full.
    const sampleN = ctx.full ? HOUR : ctx.quick ? 6 : 36;
    const oStore = path.join(work, 'old');
    const go = await generate(gen, oStore, workers, sampleN, 'raw');
    const old = await measure(oStore, go.runId, 1, 1_800_000);
    const scale = HOUR / sampleN;
    const oldSeconds = tiny.seconds + (old.seconds - tiny.seconds) * scale;
    const oldMiB = old.mibRead * scale;
    log(`merge: old layout ${workers}×${sampleN}: ${old.seconds.toFixed(1)} s, ${old.mibRead?.toFixed(0)} MiB read, peak RSS ${old.peakRssMiB?.toFixed(0)} MiB${scale > 1 ? ` → 1 h projected ${oldSeconds.toFixed(0)} s, ${oldMiB.toFixed(0)} MiB` : ''}`);
    fs.rmSync(oStore, { recursive: true, force: true });

    const tool = (m, g) => ({ seconds: m.seconds, mibRead: m.mibRead, filesRead: m.filesRead, peakRssMiB: m.peakRssMiB, filesInStore: g.files, mibInStore: g.bytes / MiB, runs: m.each.map((s) => ({ seconds: s, error: m.failed })) });
    tools[`report, ${workers} workers × 1 h (roll-ups)`] = tool(hour, gh);
    tools[`report, ${workers} workers × ${hours48} h (roll-ups; hours' roll-ups + last hour written)`] = tool(days, gd);
    tools[`report, ${workers} workers × ${sampleN} snapshots, old layout (raw only)`] = tool(old, go);
    if (scale > 1) notes.push(`The old layout's 1 h figures are projected from ${sampleN} snapshots per worker (wall time and bytes scale with the snapshots read; ${(old.seconds).toFixed(1)} s measured). \`--merge-full\` merges the whole hour.`);
    notes.push(
      `The ${hours48} h store holds, per worker, ${hours48} hourly roll-ups plus the last hour's 60 minute roll-ups and ${HOUR} snapshots (gen.ts \`tail\`): exactly what the reader reads. ` +
        `A real ${hours48} h run also holds the earlier hours' minute roll-ups and snapshots (~${Math.round((workers * HOUR * hours48 * 18.7) / 1024 / 1024)} GB), which the reader skips with StartAfter. ` +
        'On S3 that is the whole cost of them; the file store lists a folder by reading it whole (readdir), so with every snapshot present its listing of each worker\'s snapshots folder would read ~34,560 names more — not measured here.',
    );
    const oldRow = { peer: oldSeconds, peerName: 'old layout, 1 h' + (scale > 1 ? ' (projected)' : '') };
    return {
      title,
      tools,
      profile,
      notes,
      toolColumns: [
        { key: 'seconds', label: 'wall s (median)', unit: '' },
        { key: 'mibRead', label: 'MiB read from the store', unit: '' },
        { key: 'filesRead', label: 'objects read', unit: '' },
        { key: 'peakRssMiB', label: 'CLI peak RSS (MiB)', unit: '' },
        { key: 'filesInStore', label: 'objects in the store', unit: '' },
        { key: 'mibInStore', label: 'MiB in the store', unit: '' },
      ],
      method:
        `\`bench/merge/gen.ts\` (built with esbuild at bench time) writes runs into a file store as workers write them now: the real \`Recorder\` records ` +
        `${VALUES} lognormal latencies per metric per interval (medians 0.5 ms to ~150 ms, a 1 % slow tail) into a pool of ${POOL} intervals, and each worker's ` +
        `5 s snapshot (${METRICS} metrics) is one of them, stamped with the run id; each is fed with its histograms to the real \`RollupBuilder\`, and every ` +
        `1m and 1h roll-up it completes is written, as worker/run-worker.ts does. The old layout is raw snapshots only, without the run stamp. ` +
        `Timed: \`loadfarm report <runId> --store file://… --json\` from start to exit (plan, \`RunReader.complete()\`, merge, report.json/html), median of ${runs}. ` +
        `Bytes read: every file the CLI read under the store (\`bench/scale/count-reads.cjs\`, preloaded, counts \`fs.promises.readFile\` and \`fs.readFile(Sync)\`). ` +
        `Peak RSS: getrusage's maxRSS of the CLI process at exit (bench/lib/probe.cjs).`,
      rows: [
        { what: `merge ${workers} workers × 1 h (roll-ups), wall time`, unit: 's', better: 'lower', loadfarm: hour.seconds, goal: 5, goalText: '< 5 s', failed: hour.failed, ...oldRow, extra: { 'each run (s)': hour.each.map((s) => s.toFixed(2)).join(', '), 'fixed cost of a report (1 worker × 1 snapshot), s': tiny.seconds, 'CPU s of the report process': hour.cpuSeconds } },
        { what: `merge ${workers} workers × 1 h (roll-ups), read from the store`, unit: 'MiB', better: 'lower', loadfarm: hour.mibRead, goal: 50, goalText: '< 50 MiB', failed: hour.failed, peer: oldMiB, peerName: 'old layout, 1 h' },
        { what: `merge ${workers} workers × ${hours48} h (roll-ups), wall time`, unit: 's', better: 'lower', loadfarm: days.seconds, goal: 30, goalText: '< 30 s', failed: days.failed, extra: { 'each run (s)': days.each.map((s) => s.toFixed(2)).join(', '), 'CPU s of the report process': days.cpuSeconds, 'objects read': days.filesRead } },
        { what: `merge ${workers} workers × ${hours48} h (roll-ups), read from the store`, unit: 'MiB', better: 'lower', loadfarm: days.mibRead, goal: 500, goalText: '< 500 MiB', failed: days.failed },
        { what: `CLI peak RSS merging the largest case (${workers} × ${hours48} h)`, unit: 'MiB', better: 'lower', loadfarm: days.peakRssMiB, goal: 500, goalText: '< 500 MiB', failed: days.failed, extra: { 'CLI peak RSS, 1 h (MiB)': hour.peakRssMiB, [`CLI peak RSS, old layout ${sampleN} snapshots per worker (MiB)`]: old.peakRssMiB, 'CLI peak RSS, 1 worker × 1 snapshot (MiB)': tiny.peakRssMiB } },
        { what: `merge ${workers} workers × 1 h, old layout (raw snapshots only)${scale > 1 ? ', projected' : ''}`, unit: 's', better: 'lower', loadfarm: oldSeconds, extra: { 'MiB read': oldMiB, [`measured: ${sampleN} snapshots per worker (s)`]: old.seconds, [`MiB read for ${sampleN} snapshots per worker`]: old.mibRead } },
      ],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
