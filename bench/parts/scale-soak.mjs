// Compressed soak (issue 12, item 2): one worker under an open model of short users at a high
// arrival rate, and at the same time one worker under a closed model of long-lived users, both
// against a loopback HTTP target; each worker's RSS is sampled from /proc every few seconds.
// Reported: the RSS slope after warm-up (least squares), the growth over the measured window and
// the 48 h projection of that slope.
import * as path from 'node:path';
import { startServer, log, rssOf, sleep, ROOT } from '../lib/proc.mjs';
import { runLoadfarm, workerStatus, failure, cleanup } from '../lib/loadfarm.mjs';

export const title = 'Compressed soak: worker RSS over time (open model of short users, closed model of long-lived users)';

/** Seconds of soak (both runs at once); BENCH_SOAK_SECONDS overrides. */
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 900);
const RATE = 500; // new users per second, open model
const USERS = 200; // long-lived users, closed model
const SAMPLE_MS = 5000;
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
          env: m.env,
          timeoutMs: (seconds + 120) * 1000,
          onStart: async ({ child, storeDir }) => {
            let pid;
            const t0 = Date.now();
            while (child.exitCode === null && child.signalCode === null && Date.now() - t0 < (seconds + 60) * 1000) {
              pid ??= workerStatus(storeDir)?.pid;
              if (pid) {
                const rss = rssOf(pid);
                if (rss > 0) samples.push({ t: (Date.now() - t0) / 1000, mib: rss / 2 ** 20 });
              }
              await sleep(SAMPLE_MS);
            }
          },
        });
        const fail = failure(r);
        const own = r.snapshots.filter((s) => !s.final).map((s) => ({ t: (s.end - r.snapshots[0].start) / 1000, mib: s.health.rssMb }));
        const ops = r.report?.requests;
        cleanup(r);
        return { name, fail, samples, own, ops, errors: r.report?.errors, maxRssKb: r.workerMaxRssKb };
      }),
    );
    const rows = [];
    const tools = {};
    const notes = [];
    for (const res of results) {
      const a = analyse(res.samples, warmupS);
      const own = analyse(res.own, warmupS);
      log(`soak ${res.name}: ${res.samples.length} samples, ${a ? `${a.startMiB.toFixed(1)} → ${a.endMiB.toFixed(1)} MiB fitted after warm-up (${a.growthPct.toFixed(2)} %), slope ${a.slopeMiBPerHour.toFixed(2)} MiB/h, 48 h → ${a.projected48hMiB.toFixed(0)} MiB` : 'too few samples'}${res.fail ? `; run failed: ${res.fail}` : ''}`);
      tools[res.name] = {
        seconds,
        samples: res.samples.length,
        startMiB: a?.startMiB,
        endMiB: a?.endMiB,
        slopeMiBPerHour: a?.slopeMiBPerHour,
        growthPct: a?.growthPct,
        projected48hMiB: a?.projected48hMiB,
        runs: [{ growthPct: a?.growthPct, error: res.fail }],
      };
      rows.push({
        what: `worker RSS growth after warm-up over a ${Math.round(seconds / 60)} min soak: ${res.name}`,
        unit: '%',
        better: 'lower',
        loadfarm: res.fail || !a ? undefined : Math.abs(a.growthPct),
        goal: 5,
        goalText: '≤ 5 % (flat)',
        extra: {
          'operations (report)': res.ops,
          'errors (report)': JSON.stringify(res.errors ?? {}),
          [`RSS sampled from /proc every ${SAMPLE_MS / 1000} s: samples`]: res.samples.length,
          'warm-up left out (s)': warmupS,
          'RSS fitted at the end of warm-up (MiB)': a?.startMiB,
          'RSS fitted at the end of the run (MiB)': a?.endMiB,
          'RSS min / max after warm-up (MiB)': a ? `${a.minMiB.toFixed(1)} / ${a.maxMiB.toFixed(1)}` : '–',
          'slope after warm-up (MiB per hour, least squares)': a?.slopeMiBPerHour,
          '48 h projection of that slope (MiB)': a?.projected48hMiB,
          "the worker's own health.rssMb: slope (MiB per hour)": own?.slopeMiBPerHour,
          'peak RSS (MiB, getrusage at exit)': res.maxRssKb ? res.maxRssKb / 1024 : undefined,
          samples: a ? a.points.map((p) => `${Math.round(p.t)}s:${p.mib.toFixed(0)}`).join(' ') : '',
        },
      });
      if (res.fail) notes.push(`${res.name}: the run failed (${res.fail}); its figure is not counted.`);
    }
    notes.push(
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
        { key: 'growthPct', label: 'growth %', unit: '' },
        { key: 'slopeMiBPerHour', label: 'MiB per hour', unit: '' },
        { key: 'projected48hMiB', label: '48 h projection (MiB)', unit: '' },
      ],
      method:
        `Two \`loadfarm run --workers 1\` at once on the generator core against \`bench/targets/http-server.mjs\` (loopback) for ${seconds} s: ` +
        `\`bench/scale/soak-open.js\` (${RATE} new users per second, each one GET with an id in the URL named \`/item/:id\`, a check and a counter; maxUsers 2,000) and ` +
        `\`bench/scale/soak-closed.js\` (${USERS} users looping a GET and a 50–150 ms think, per-user state in \`u.vars\`). ` +
        `The worker's pid comes from its status.json; its VmRSS is read from /proc every ${SAMPLE_MS / 1000} s. The first ${warmupS} s are warm-up; ` +
        'a least-squares line through the rest gives the slope; growth = (fitted end − fitted start) ÷ fitted start.',
    };
  } finally {
    await server.stop();
  }
}

/** Least-squares fit of RSS over time after `warmupS`: slope, fitted start/end, growth, 48 h projection. */
function analyse(samples, warmupS) {
  const pts = samples.filter((p) => p.t >= warmupS);
  if (pts.length < 4) return undefined;
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
  return {
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
