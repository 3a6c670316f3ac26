// Idle connections held by one worker process: RSS per connection, loadfarm against the plain
// client library. Shared by ws-idle.mjs and socketio-idle.mjs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, runTool, log, waitFor, sleep } from '../lib/proc.mjs';
import { runLoadfarm, snapshots, workerStatus, stopRun, cleanup } from '../lib/loadfarm.mjs';

/**
 * Runs `scenario` with `n` users on 1 worker; once the worker's snapshots show `n` connections
 * (or `waitMs` passes) asks the worker for its memory after a full GC (SIGUSR2 to the probe),
 * then stops the run through its stop marker.
 */
async function loadfarmHeld(scenario, url, n, { rampS, waitMs }) {
  let probe;
  let held = 0;
  const r = await runLoadfarm(['run', scenario, '--workers', '1', '--interval', '1s', '--target', url], {
    env: { BENCH_USERS: String(n), BENCH_RAMP: String(rampS), BENCH_SECONDS: String(Math.ceil(waitMs / 1000) + 30), NODE_OPTIONS: `--expose-gc ${process.env.BENCH_EXTRA_NODE_OPTIONS ?? ''}` },
    timeoutMs: waitMs + 90_000,
    onStart: async ({ probeDir, storeDir }) => {
      const deadline = Date.now() + waitMs;
      await waitFor(
        () => {
          const snaps = snapshots(storeDir);
          const last = snaps[snaps.length - 1];
          held = last?.gauges.connections ?? 0;
          return held >= n || Date.now() > deadline;
        },
        { timeoutMs: waitMs + 5000, everyMs: 500 },
      );
      // Let the last handshakes' garbage become garbage, then measure.
      await sleep(1500);
      const status = await waitFor(() => workerStatus(storeDir), { timeoutMs: 5000 });
      if (status?.pid) {
        process.kill(status.pid, 'SIGUSR2');
        probe = await waitFor(
          () => {
            const f = fs.readdirSync(probeDir).find((x) => x.startsWith(`${status.pid}.probe-`));
            return f ? JSON.parse(fs.readFileSync(path.join(probeDir, f), 'utf8')) : undefined;
          },
          { timeoutMs: 20_000, everyMs: 200 },
        );
      }
      stopRun(storeDir);
    },
  });
  const out = { held, probe, status: r.report?.status, problem: problemOf(r.report), errors: r.report?.errors, generatorErrors: r.report?.generatorErrors, workerMaxRssKb: r.workerMaxRssKb, stderr: r.report ? undefined : r.stderr.slice(-400) };
  cleanup(r);
  return out;
}

/**
 * Why a run this part stopped itself cannot be counted, or undefined. The bench ends the run with
 * its stop marker once measured: the report is then `incomplete` (stopped early, the waiting users
 * cut at the grace with no operation in flight), which is what this part asked for; anything else
 * that makes a run incomplete or failed (errors, a worker not done, objects not merged) counts.
 */
function problemOf(report) {
  if (!report) return 'no report';
  if (report.status === 'passed') return undefined;
  const errors = Object.keys(report.errors ?? {});
  const generatorErrors = Object.keys(report.generatorErrors ?? {});
  if (report.status !== 'incomplete') return `status ${report.status}`;
  if (errors.length > 0 || generatorErrors.length > 0) return `errors ${JSON.stringify(report.errors)} ${JSON.stringify(report.generatorErrors ?? {})}`;
  if ((report.unusable ?? []).length > 0) return `${report.unusable.length} object(s) not merged`;
  const notDone = (report.workers ?? []).filter((w) => w.state !== 'done');
  if (notDone.length > 0) return `worker(s) ${notDone.map((w) => w.state).join(', ')}`;
  if (!(report.warnings ?? []).includes('the run was stopped before the end of its load')) return 'incomplete, not stopped by the bench';
  return undefined;
}

export async function idleMemory(ctx, { label, scenario, serverArgv, scheme, n, rampS, baselineScript, goalKb, baselineText, waitMs = 60_000 }) {
  const server = await startServer(serverArgv);
  const url = `${scheme}://127.0.0.1:${server.port}`;
  const result = { tools: {}, notes: [] };
  try {
    log(`${label}: loadfarm, ${n} connections`);
    const big = await loadfarmHeld(scenario, url, n, { rampS, waitMs });
    log(`${label}: loadfarm held ${big.held}; rss ${(big.probe?.rss / 2 ** 20).toFixed(0)} MiB`);
    await sleep(2000);
    const one = await loadfarmHeld(scenario, url, 1, { rampS: 0, waitMs: 10_000 });
    log(`${label}: loadfarm, 1 connection: rss ${(one.probe?.rss / 2 ** 20).toFixed(0)} MiB`);
    const per = (k) => (big.probe && one.probe && big.held > 1 ? (big.probe[k] - one.probe[k]) / (big.held - 1) : undefined);
    result.tools.loadfarm = {
      connections: big.held,
      kbPerConn: per('rss') / 1024,
      heapKbPerConn: per('heapUsed') / 1024,
      heapTotalKbPerConn: per('heapTotal') / 1024,
      externalKbPerConn: per('external') / 1024,
      rssMiB: big.probe?.rss / 2 ** 20,
      rss1MiB: one.probe?.rss / 2 ** 20,
      runs: [{ kbPerConn: per('rss') / 1024, status: big.status, problem: big.problem, errors: big.errors, generatorErrors: big.generatorErrors, error: big.probe ? undefined : `no memory probe: ${big.stderr ?? ''}` }],
    };
    await sleep(2000);
    log(`${label}: plain client, ${n} connections`);
    const b = await runTool(['node', '--expose-gc', baselineScript, '-n', String(n), url], { timeoutMs: waitMs + 60_000 });
    let j;
    try {
      j = JSON.parse(b.stdout);
    } catch {
      j = undefined;
    }
    result.tools[baselineText] = j
      ? { connections: j.connections, kbPerConn: j.rssPerConn / 1024, heapKbPerConn: j.heapPerConn / 1024, heapTotalKbPerConn: (j.after.heapTotal - j.before.heapTotal) / 1024 / (j.connections - 1), externalKbPerConn: (j.after.external - j.before.external) / 1024 / (j.connections - 1), rssMiB: j.after.rss / 2 ** 20, rss1MiB: j.before.rss / 2 ** 20, dialSeconds: j.dialSeconds, runs: [{ kbPerConn: j.rssPerConn / 1024 }] }
      : { runs: [{ error: `exit ${b.code}: ${b.stderr.slice(-300)}` }] };
    log(`${label}: plain client ${fmt(result.tools[baselineText].kbPerConn)} KB/conn, loadfarm ${fmt(result.tools.loadfarm.kbPerConn)} KB/conn`);
  } finally {
    await server.stop();
  }
  const lf = result.tools.loadfarm;
  const base = result.tools[baselineText];
  if (lf.connections < n) result.notes.push(`loadfarm held ${lf.connections} of ${n} connections when measured (errors: ${JSON.stringify(lf.runs[0].errors ?? {})} ${JSON.stringify(lf.runs[0].generatorErrors ?? {})}).`);
  result.rows = [
    {
      what: `${label}: RSS per idle connection at ${n.toLocaleString('en-US')} (1 worker)`,
      unit: 'KB',
      better: 'lower',
      loadfarm: lf.kbPerConn,
      // Not every connection held (dials failed), or the run did not pass: never "met".
      failed: lf.connections < n || lf.runs?.[0]?.problem !== undefined ? `held ${lf.connections} of ${n} (${lf.runs?.[0]?.problem ?? `status ${lf.runs?.[0]?.status}`})` : undefined,
      peer: base?.kbPerConn,
      peerName: baselineText,
      goal: goalKb,
      goalText: `≤ ${goalKb} KB`,
      extra: {
        'loadfarm JS heap per connection (KB)': lf.heapKbPerConn,
        [`${baselineText} JS heap per connection (KB)`]: base?.heapKbPerConn,
        'loadfarm worker RSS with all held / with 1 (MiB)': `${fmt(lf.rssMiB)} / ${fmt(lf.rss1MiB)}`,
        [`${baselineText} RSS with all held / with 1 (MiB)`]: `${fmt(base?.rssMiB)} / ${fmt(base?.rss1MiB)}`,
      },
    },
  ];
  result.toolColumns = [
    { key: 'kbPerConn', label: 'RSS KB/conn', unit: '' },
    { key: 'heapKbPerConn', label: 'JS heap used KB/conn', unit: '' },
    { key: 'heapTotalKbPerConn', label: 'JS heap committed KB/conn', unit: '' },
    { key: 'externalKbPerConn', label: 'external KB/conn', unit: '' },
    { key: 'connections', label: 'connections held', unit: '' },
  ];
  return result;
}

function fmt(x) {
  return x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1);
}
