// Compressed soak (issue 12, item 2): one worker under an open model of short users at a high
// arrival rate, and at the same time one worker under a closed model of long-lived users, both
// against a loopback HTTP target; each worker's RSS is sampled from /proc every few seconds.
// Every minute the worker is also asked (SIGUSR2 to bench/lib/probe.cjs, --expose-gc) for its
// heap after a full GC: RSS can keep memory V8 or malloc took in a burst and did not give back,
// the live heap cannot, so a leak shows there as a steady slope.
// Reported: RSS growth after warm-up (median of the first fifth against the last fifth, and a
// least-squares slope), the live heap's slope, and the 48 h projection of each.
import * as path from 'node:path';
import { startServer, log, rssOf, sleep, median, ROOT } from '../lib/proc.mjs';
import { runLoadfarm, workerStatus, failure, cleanup } from '../lib/loadfarm.mjs';

export const title = 'Compressed soak: worker RSS over time (open model of short users, closed model of long-lived users)';

/** Seconds of soak (both runs at once); BENCH_SOAK_SECONDS overrides. */
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 900);
const RATE = 500; // new users per second, open model
const USERS = 200; // long-lived users, closed model
const SAMPLE_MS = 5000;
const HEAP_EVERY_MS = 60_000;
const HOURS_48 = 48;

export async function run(ctx) {
  const seconds = ctx.quick ? 60 : SECONDS;
  // Warm-up: the first fifth, at least one minute when the run allows (JIT, pools, heap growth).
  const warmupS = Math.min(Math.max(60, seconds * 0.2), seconds * 0.5);
  const server = await startServer(['node', 'bench/targets/http-server.mjs']);
  const target = `http://127.0.0.1:${server.port}`;
  try {
    const models = {
      [`open model, ${RATE} users/s, one GET each`]: { scenario: 'bench/scale/soak-open.js', env: { BENCH_RATE: String(RATE), BENCH_SECONDS: String(seconds) } },
      [`closed model, ${USERS} long-lived users (GET + 50–150 ms think)`]: { scenario: 'bench/scale/soak-closed.js', env: { BENCH_USERS: String(USERS), BENCH_SECONDS: String(seconds) } },
    };
    const results = await Promise.all(
      Object.entries(models).map(async ([name, m]) => {
        const samples = [];
        const r = await runLoadfarm(['run', path.join(ROOT, m.scenario), '--workers', '1', '--target', target], {
          env: { ...m.env, NODE_OPTIONS: '--expose-gc' },
          timeoutMs: (seconds + 120) * 1000,
          onStart: async ({ child, storeDir }) => {
            let pid;
            const t0 = Date.now();
            let lastHeap = t0;
            while (child.exitCode === null && child.signalCode === null && Date.now() - t0 < (seconds + 60) * 1000) {
              pid ??= workerStatus(storeDir)?.pid;
              if (pid) {
                const rss = rssOf(pid);
                if (rss > 0) samples.push({ t: (Date.now() - t0) / 1000, mib: rss / 2 ** 20 });
                if (Date.now() - lastHeap >= HEAP_EVERY_MS) {
                  lastHeap = Date.now();
                  try {
                    process.kill(pid, 'SIGUSR2');
                  } catch {
                    // The worker has just ended.
                  }
                }
              }
              await sleep(SAMPLE_MS);
            }
          },
        });
        const fail = failure(r);
        const own = r.snapshots.filter((s) => !s.final).map((s) => ({ t: (s.end - r.snapshots[0].start) / 1000, mib: s.health.rssMb }));
        const ops = r.report?.requests;
        const started = Math.min(...r.workerProbes.map((p) => p.startedAt));
        const heap = r.workerProbes.map((p) => ({ t: (p.at - started) / 1000, mib: p.heapUsed / 2 ** 20, rss: p.rss / 2 ** 20 })).sort((a, b) => a.t - b.t);
        cleanup(r);
        return { name, fail, samples, own, heap, ops, errors: r.report?.errors, maxRssKb: r.workerMaxRssKb };
      }),
    );
    const rows = [];
    const tools = {};
    const notes = [];
    for (const res of results) {
      const a = analyse(res.samples, warmupS);
      const own = analyse(res.own, warmupS);
      const heap = analyse(res.heap, warmupS, 3);
      log(`soak ${res.name}: ${res.samples.length} samples, ${a ? `${a.startMiB.toFixed(1)} → ${a.endMiB.toFixed(1)} MiB fitted after warm-up (${a.growthPct.toFixed(2)} %), slope ${a.slopeMiBPerHour.toFixed(2)} MiB/h, 48 h → ${a.projected48hMiB.toFixed(0)} MiB` : 'too few samples'}${a ? `; medians ${a.firstMedianMiB.toFixed(1)} → ${a.lastMedianMiB.toFixed(1)} MiB (${a.medianGrowthPct.toFixed(2)} %)` : ''}${heap ? `; heap after GC ${heap.startMiB.toFixed(1)} → ${heap.endMiB.toFixed(1)} MiB, ${heap.slopeMiBPerHour.toFixed(2)} MiB/h` : ''}${res.fail ? `; run failed: ${res.fail}` : ''}`);
      tools[res.name] = {
        seconds,
        samples: res.samples.length,
        startMiB: a?.startMiB,
        endMiB: a?.endMiB,
        slopeMiBPerHour: a?.slopeMiBPerHour,
        growthPct: a?.medianGrowthPct,
        heapSlopeMiBPerHour: heap?.slopeMiBPerHour,
        projected48hMiB: a?.projected48hMiB,
        runs: [{ growthPct: a?.medianGrowthPct, error: res.fail }],
      };
      rows.push({
        what: `worker RSS growth after warm-up over a ${Math.round(seconds / 60)} min soak: ${res.name}`,
        unit: '%',
        better: 'lower',
        loadfarm: res.fail || !a ? undefined : Math.abs(a.medianGrowthPct),
        goal: 5,
        goalText: '≤ 5 % (flat)',
        extra: {
          'operations (report)': res.ops,
          'errors (report)': JSON.stringify(res.errors ?? {}),
          [`RSS sampled from /proc every ${SAMPLE_MS / 1000} s: samples`]: res.samples.length,
          'warm-up left out (s)': warmupS,
          'RSS median, first fifth after warm-up → last fifth (MiB)': a ? `${a.firstMedianMiB.toFixed(1)} → ${a.lastMedianMiB.toFixed(1)}` : '–',
          'RSS growth, least-squares line over the window (%)': a?.growthPct,
          'RSS fitted at the end of warm-up (MiB)': a?.startMiB,
          'RSS fitted at the end of the run (MiB)': a?.endMiB,
          'RSS min / max after warm-up (MiB)': a ? `${a.minMiB.toFixed(1)} / ${a.maxMiB.toFixed(1)}` : '–',
          'slope after warm-up (MiB per hour, least squares)': a?.slopeMiBPerHour,
          '48 h projection of that slope (MiB)': a?.projected48hMiB,
          "the worker's own health.rssMb: slope (MiB per hour)": own?.slopeMiBPerHour,
          [`JS heap in use after a full GC, every ${HEAP_EVERY_MS / 1000} s after warm-up (MiB)`]: res.heap.filter((p) => p.t >= warmupS).map((p) => p.mib.toFixed(1)).join(' '),
          'heap after GC: slope (MiB per hour, least squares)': heap?.slopeMiBPerHour,
          'heap after GC: 48 h projection of that slope (MiB)': heap?.projected48hMiB,
          'peak RSS (MiB, getrusage at exit)': res.maxRssKb ? res.maxRssKb / 1024 : undefined,
          samples: a ? a.points.map((p) => `${Math.round(p.t)}s:${p.mib.toFixed(0)}`).join(' ') : '',
        },
      });
      if (res.fail) notes.push(`${res.name}: the run failed (${res.fail}); its figure is not counted.`);
    }
    notes.push(
      'The figure judged is the growth of the RSS median from the first fifth of the samples after warm-up to the last fifth (robust to a transient burst); the least-squares line over the same samples is shown beside it. ' +
        `The 48 h projection extends a straight line fitted to ${Math.round((seconds - warmupS) / 60)} min of samples: a slope within the noise of RSS sampling ` +
        `(GC cycles move RSS by a few MiB) becomes a large figure when multiplied by ${Math.round((HOURS_48 * 3600) / (seconds - warmupS))}; read it as an upper bound, and the growth over the measured window as the figure.`,
    );
    return {
      title,
      tools,
      notes,
      rows,
      toolColumns: [
        { key: 'startMiB', label: 'RSS after warm-up (MiB)', unit: '' },
        { key: 'endMiB', label: 'RSS at end (MiB)', unit: '' },
        { key: 'growthPct', label: 'growth % (medians)', unit: '' },
        { key: 'slopeMiBPerHour', label: 'RSS MiB per hour', unit: '' },
        { key: 'projected48hMiB', label: 'RSS 48 h projection (MiB)', unit: '' },
        { key: 'heapSlopeMiBPerHour', label: 'heap after GC, MiB per hour', unit: '' },
      ],
      method:
        `Two \`loadfarm run --workers 1\` at once on the generator core against \`bench/targets/http-server.mjs\` (loopback) for ${seconds} s: ` +
        `\`bench/scale/soak-open.js\` (${RATE} new users per second, each one GET with an id in the URL named \`/item/:id\`, a check and a counter; maxUsers 2,000) and ` +
        `\`bench/scale/soak-closed.js\` (${USERS} users looping a GET and a 50–150 ms think, per-user state in \`u.vars\`). ` +
        `The worker's pid comes from its status.json; its VmRSS is read from /proc every ${SAMPLE_MS / 1000} s. The first ${warmupS} s are warm-up; ` +
        `a least-squares line through the rest gives the slope. Every ${HEAP_EVERY_MS / 1000} s the worker also reports its JS heap in use after a full GC (SIGUSR2 to bench/lib/probe.cjs, \`--expose-gc\`).`,
    };
  } finally {
    await server.stop();
  }
}

/** Least-squares fit of RSS over time after `warmupS`: slope, fitted start/end, growth, 48 h projection. */
function analyse(samples, warmupS, least = 4) {
  const pts = samples.filter((p) => p.t >= warmupS);
  if (pts.length < least) return undefined;
  const n = pts.length;
  const mt = pts.reduce((a, p) => a + p.t, 0) / n;
  const mm = pts.reduce((a, p) => a + p.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p.mib - mm);
    den += (p.t - mt) ** 2;
  }
  const slope = den > 0 ? num / den : 0; // MiB per second
  const t0 = pts[0].t;
  const t1 = pts[n - 1].t;
  const startMiB = mm + slope * (t0 - mt);
  const endMiB = mm + slope * (t1 - mt);
  const fifth = Math.max(1, Math.floor(n / 5));
  const firstMedianMiB = median(pts.slice(0, fifth).map((p) => p.mib));
  const lastMedianMiB = median(pts.slice(n - fifth).map((p) => p.mib));
  return {
    firstMedianMiB,
    lastMedianMiB,
    medianGrowthPct: ((lastMedianMiB - firstMedianMiB) / firstMedianMiB) * 100,
    slopeMiBPerHour: slope * 3600,
    startMiB,
    endMiB,
    growthPct: ((endMiB - startMiB) / startMiB) * 100,
    projected48hMiB: endMiB + slope * (HOURS_48 * 3600 - t1),
    minMiB: Math.min(...pts.map((p) => p.mib)),
    maxMiB: Math.max(...pts.map((p) => p.mib)),
    points: pts.filter((_, i) => i % Math.max(1, Math.round(n / 24)) === 0),
  };
}
