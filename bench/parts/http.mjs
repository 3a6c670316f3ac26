// HTTP keep-alive, 50 connections: CPU time per request in the generator.
// One target (bench/targets/http-server.mjs on the target core) for every tool, each run in turn
// on the generator core for the same time; the tools take turns within each repetition so that
// drift on the machine spreads over all of them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServer, runTool, median, log, ROOT } from '../lib/proc.mjs';
import { runLoadfarm, steadyState, cleanup, profileLoadfarm, failure } from '../lib/loadfarm.mjs';
import { FRAMES } from '../lib/frames.mjs';
import { peerBin } from '../lib/peers.mjs';

export const title = 'HTTP keep-alive, 50 connections: generator CPU per request';

const CONNS = 50;

export async function run(ctx) {
  const D = ctx.seconds;
  const server = await startServer(['node', 'bench/targets/http-server.mjs']);
  const url = `http://127.0.0.1:${server.port}/`;
  const tools = {
    loadfarm: async () => {
      const r = await runLoadfarm(lfArgs, { env: lfEnv });
      const m = r.report?.metrics?.['http.GET /'];
      const requests = m?.count ?? 0;
      const steady = steadyState(r.snapshots, 'http.GET /');
      const errors = Object.values(r.report?.errors ?? {}).reduce((a, b) => a + b, 0);
      cleanup(r);
      // Like every peer: the kernel's CPU of the whole process tree (CLI and worker) over the whole run.
      return {
        requests,
        errors,
        cpuMs: r.cpuMs,
        usPerReq: requests && r.cpuMs !== undefined ? (r.cpuMs * 1000) / requests : undefined,
        workerUsPerReq: requests ? (r.workerCpuMs * 1000) / requests : undefined,
        perSecond: requests / D,
        steadyUsPerReq: steady.usPerOp,
        cliCpuMs: r.cliCpuMs,
        failed: failure(r),
        status: r.report?.status ?? `exit ${r.code}: ${r.stderr.slice(-300)}`,
      };
    },
    autocannon: ctx.peers.autocannon && (async () => {
      const r = await runTool(['node', peerBin('autocannon'), '-c', String(CONNS), '-d', String(D), '-j', url], { timeoutMs: (D + 30) * 1000 });
      const j = JSON.parse(r.stdout);
      const requests = j.requests.total;
      return { requests, errors: j.errors + j.non2xx, cpuMs: r.cpuMs, usPerReq: (r.cpuMs * 1000) / requests, perSecond: requests / j.duration };
    }),
    wrk: ctx.peers.wrk && (async () => {
      const r = await runTool(['wrk', '-t1', `-c${CONNS}`, `-d${D}s`, url], { timeoutMs: (D + 30) * 1000 });
      const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
      return { requests, cpuMs: r.cpuMs, usPerReq: (r.cpuMs * 1000) / requests, perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]) };
    }),
    'undici Pool': async () => baseline('bench/baselines/undici-pool.mjs'),
    'undici Pool (dispatch)': async () => baseline('bench/baselines/undici-dispatch.mjs'),
    'node http.Agent': async () => baseline('bench/baselines/http-agent.mjs'),
    artillery: ctx.peers.artillery && (async () => {
      // Artillery's start-up alone costs seconds of CPU: a run of one request measures it, and
      // only the CPU beyond it is counted (in Artillery's favour).
      const tiny = await artillery(url, 1, 1);
      const full = await artillery(url, CONNS, ctx.quick ? 100 : 300);
      const requests = full.requests - tiny.requests;
      const cpuMs = full.cpuMs - tiny.cpuMs;
      return { requests: full.requests, cpuMs: full.cpuMs, startupCpuMs: tiny.cpuMs, usPerReq: (cpuMs * 1000) / requests, wholeUsPerReq: (full.cpuMs * 1000) / full.requests, perSecond: full.perSecond };
    }),
  };
  async function baseline(script) {
    const r = await runTool(['node', script, '-c', String(CONNS), '-d', String(D), url], { timeoutMs: (D + 30) * 1000 });
    const j = JSON.parse(r.stdout);
    return { requests: j.requests, errors: j.errors, cpuMs: r.cpuMs, usPerReq: (r.cpuMs * 1000) / j.requests, perSecond: j.requests / j.seconds };
  }

  const lfArgs = ['run', 'bench/scenarios/http.js', '--workers', '1', '--interval', '1s', '--target', url.slice(0, -1)];
  const lfEnv = { BENCH_USERS: String(CONNS), BENCH_SECONDS: String(D) };
  const samples = {};
  let profile;
  try {
    for (let rep = 0; rep < ctx.runs; rep++) {
      for (const [name, fn] of Object.entries(tools)) {
        if (!fn) continue;
        // Artillery is slow and its cost is stable: one run is enough to place it.
        if (name === 'artillery' && rep > 0) continue;
        try {
          const s = await fn();
          (samples[name] ??= []).push(s);
          log(`http ${name} #${rep + 1}: ${fmt(s.usPerReq)} µs/req, ${Math.round(s.perSecond ?? 0)} req/s, ${s.requests} requests`);
        } catch (err) {
          (samples[name] ??= []).push({ error: err.message });
          log(`http ${name} #${rep + 1}: failed: ${err.message}`);
        }
      }
    }
    const lfMedian = median((samples.loadfarm ?? []).map((s) => s.usPerReq));
    if (ctx.profile && !(lfMedian <= 16)) {
      log('http: profiling the loadfarm worker');
      profile = await profileLoadfarm(lfArgs, {
        env: lfEnv,
        what: `${CONNS} users looping u.http.get('/') for ${D} s`,
        inclusive: FRAMES.http,
      });
    }
  } finally {
    await server.stop();
  }

  const tools_ = {};
  for (const [name, list] of Object.entries(samples)) {
    const ok = list.filter((s) => !s.error && !s.failed && s.usPerReq);
    tools_[name] = {
      usPerReq: median(ok.map((s) => s.usPerReq)),
      perSecond: median(ok.map((s) => s.perSecond)),
      runs: list,
    };
  }
  const lf = tools_.loadfarm ?? {};
  const lfFailed = (lf.runs ?? []).map((s) => s.error ?? s.failed).filter(Boolean);
  const peers = Object.entries(tools_).filter(([n, t]) => n !== 'loadfarm' && t.usPerReq);
  const best = [...peers].sort((a, b) => a[1].usPerReq - b[1].usPerReq)[0];
  const ac = tools_.autocannon?.usPerReq;
  const scale = ac ? ac / 13 : undefined;
  return {
    title,
    tools: tools_,
    profile,
    machineScale: scale,
    toolColumns: [
      { key: 'usPerReq', label: 'CPU µs/request (median)', unit: '' },
      { key: 'perSecond', label: 'requests/s', unit: '' },
    ],
    method:
      `${CONNS} keep-alive connections for ${D} s against \`bench/targets/http-server.mjs\` (node:http, \`200 ok\`). loadfarm: ` +
      `\`bench/scenarios/http.js\`, a closed model of ${CONNS} users looping \`await u.http.get('/')\` on 1 worker (every request timed into ` +
      `its HDR histogram, snapshots every second). Plain baselines in \`bench/baselines/\`, ${CONNS} loops each: undici Pool ` +
      `(\`request()\` + read the body), undici Pool (dispatch) (\`dispatch()\` with a handler keeping the chunks: no stream, no AbortSignal), ` +
      `node http.Agent (keep-alive). autocannon \`-c ${CONNS}\`, wrk \`-t1 -c${CONNS}\`. Artillery: ${CONNS} VUs each looping GET / a fixed number of times; ` +
      'its start-up CPU (measured by a one-request run) is subtracted, and it is run once (its cost is two orders above the rest). ' +
      "Every tool's CPU is the kernel's count for its whole process tree over its whole run (loadfarm: the CLI and its worker, the worker's own share shown apart), " +
      'divided by the requests it completed in that run; a loadfarm run that exits non-zero or leaves no report is a failure and never meets a goal.',
    rows: [
      {
        what: 'HTTP keep-alive, 50 conns: generator CPU per request',
        unit: 'µs/req',
        better: 'lower',
        loadfarm: lf.usPerReq,
        peer: best?.[1].usPerReq,
        peerName: best?.[0],
        peers: Object.fromEntries(peers.map(([n, t]) => [n, t.usPerReq])),
        failed: lfFailed.length > 0 ? lfFailed.join('; ') : undefined,
        ratioGoals: [
          { peer: 'autocannon', max: 1.2, text: '≤ 1.2× autocannon' },
          { peer: 'undici Pool (dispatch)', max: 1.15, text: '≤ 1.15× undici dispatch loop' },
        ],
        goal: 16,
        goalText: '≤ 16 µs',
        scaledGoal: scale ? 16 * scale : undefined,
        scaledGoalText: scale ? `≤ ${fmt(16 * scale)} µs (16/13 × autocannon here)` : undefined,
        extra: {
          'loadfarm steady-state µs/req (snapshots)': median((lf.runs ?? []).map((s) => s.steadyUsPerReq)),
          'loadfarm worker process alone µs/req (its share of the tree figure)': median((lf.runs ?? []).map((s) => s.workerUsPerReq)),
          'loadfarm CLI CPU ms (counted in the tree figure)': median((lf.runs ?? []).map((s) => s.cliCpuMs)),
          'loadfarm ÷ autocannon': lf.usPerReq && tools_.autocannon?.usPerReq ? lf.usPerReq / tools_.autocannon.usPerReq : undefined,
          'loadfarm ÷ undici dispatch loop': lf.usPerReq && tools_['undici Pool (dispatch)']?.usPerReq ? lf.usPerReq / tools_['undici Pool (dispatch)'].usPerReq : undefined,
        },
      },
    ],
  };
}

/**
 * `users` virtual users arriving in the first second, each looping GET / `perUser` times on its
 * own keep-alive connection: Artillery's closest shape to 50 looping connections. A fixed number
 * of requests, not a fixed time: CPU per request does not depend on how long that takes.
 */
async function artillery(url, users, perUser) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-artillery-'));
  const cfg = path.join(dir, 'http.yml');
  const out = path.join(dir, 'report.json');
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      config: { target: url.slice(0, -1), phases: [{ duration: 1, arrivalCount: users }], http: { timeout: 10 } },
      scenarios: [{ flow: [{ loop: [{ get: { url: '/' } }], count: perUser }] }],
    }),
  );
  const r = await runTool(['node', peerBin('artillery'), 'run', '--output', out, cfg], {
    timeoutMs: 240_000,
    env: { ARTILLERY_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: '1', ARTILLERY_TELEMETRY_DEFAULTS: '{}' },
  });
  let requests = 0;
  let seconds;
  try {
    const rep = JSON.parse(fs.readFileSync(out, 'utf8'));
    requests = rep.aggregate.counters['http.responses'] ?? 0;
    seconds = (rep.aggregate.lastMetricAt - rep.aggregate.firstMetricAt) / 1000;
  } catch (err) {
    throw new Error(`no Artillery report (exit ${r.code}): ${r.stderr.slice(-400) || r.stdout.slice(-400)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { requests, cpuMs: r.cpuMs, usPerReq: (r.cpuMs * 1000) / requests, perSecond: seconds ? requests / seconds : undefined, note: `${users} VUs × ${perUser} GETs` };
}

function fmt(x) {
  return x === undefined ? '–' : x.toFixed(1);
}

export { ROOT };
