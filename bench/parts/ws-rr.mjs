// WebSocket request → reply, 100 connections: round trips per second from one process.
import { startServer, runTool, median, log, sleep } from '../lib/proc.mjs';
import { runLoadfarm, steadyState, cleanup, profileLoadfarm, failure } from '../lib/loadfarm.mjs';
import { FRAMES } from '../lib/frames.mjs';

export const title = 'WebSocket request → reply, 100 connections: round trips per second';

const CONNS = 100;

export async function run(ctx) {
  const D = ctx.seconds;
  const server = await startServer(['node', 'bench/targets/ws-server.mjs']);
  const url = `ws://127.0.0.1:${server.port}`;
  const lfArgs = ['run', 'bench/scenarios/ws-rr.js', '--workers', '1', '--interval', '1s', '--target', url];
  const lfEnv = { BENCH_USERS: String(CONNS), BENCH_SECONDS: String(D) };
  const samples = { loadfarm: [], 'plain ws': [], 'plain ws, timed (HDR)': [] };
  let profile;
  try {
    for (let rep = 0; rep < ctx.runs; rep++) {
      {
        const r = await runLoadfarm(lfArgs, { env: lfEnv });
        const m = r.report?.metrics?.['ws.reply'];
        const steady = steadyState(r.snapshots, 'ws.reply');
        const s = {
          exchanges: m?.count,
          // The same window and CPU as the peers': the whole run, the whole process tree (CLI and worker).
          perSecond: m?.count / D,
          steadyPerSecond: steady.opsPerSec,
          failed: failure(r),
          wholeRunPerSecond: m?.count / D,
          usPerExchange: m?.count && r.cpuMs !== undefined ? (r.cpuMs * 1000) / m.count : undefined,
          workerUsPerExchange: m?.count ? (r.workerCpuMs * 1000) / m.count : undefined,
          p99Ms: m?.p99,
          status: r.report?.status ?? `exit ${r.code}: ${r.stderr.slice(-300)}`,
        };
        samples.loadfarm.push(s);
        log(`ws-rr loadfarm #${rep + 1}: ${Math.round(s.perSecond ?? 0)}/s whole run, ${fmt(s.usPerExchange)} µs CPU/exchange`);
        cleanup(r);
      }
      await sleep(1000);
      for (const [name, flags] of [['plain ws', []], ['plain ws, timed (HDR)', ['--timed']]]) {
        const r = await runTool(['node', 'bench/baselines/ws-rr.mjs', '-c', String(CONNS), '-d', String(D), ...flags, url], { timeoutMs: (D + 30) * 1000 });
        const j = JSON.parse(r.stdout);
        const s = { exchanges: j.exchanges, perSecond: j.perSecond, usPerExchange: (r.cpuMs * 1000) / j.exchanges, p99Ms: j.p99Us ? j.p99Us / 1000 : undefined };
        samples[name].push(s);
        log(`ws-rr ${name} #${rep + 1}: ${Math.round(s.perSecond)}/s, ${fmt(s.usPerExchange)} µs CPU/exchange`);
        await sleep(1000);
      }
    }
    const lfRate = 1e6 / median(samples.loadfarm.map((s) => s.usPerExchange));
    if (ctx.profile && !(lfRate >= 80_000)) {
      log('ws-rr: profiling the loadfarm worker');
      profile = await profileLoadfarm(lfArgs, { env: lfEnv, what: `${CONNS} users looping conn.request('ping') for ${D} s`, inclusive: FRAMES.ws });
    }
  } finally {
    await server.stop();
  }
  const tools = {};
  for (const [name, list] of Object.entries(samples)) {
    const usPerExchange = median(list.filter((s) => !s.failed).map((s) => s.usPerExchange));
    tools[name] = { perSecond: median(list.filter((s) => !s.failed).map((s) => s.perSecond)), usPerExchange, perCpuSecond: usPerExchange ? 1e6 / usPerExchange : undefined, p99Ms: median(list.map((s) => s.p99Ms)), runs: list };
  }
  // Judged per CPU-second of the generator, as in tcp.mjs: other work shares these cores.
  const plain = tools['plain ws'].perCpuSecond;
  const scale = plain ? plain / 105_000 : undefined;
  return {
    title,
    tools,
    profile,
    toolColumns: [
      { key: 'perCpuSecond', label: 'round trips per CPU-second', unit: '' },
      { key: 'usPerExchange', label: 'CPU µs/round trip (median)', unit: '' },
      { key: 'perSecond', label: 'round trips/s, wall (median)', unit: '' },
      { key: 'p99Ms', label: 'p99 ms', unit: '' },
    ],
    method:
      `Target: \`bench/targets/ws-server.mjs\` (\`ws\`, echoes every message), one process. loadfarm: \`bench/scenarios/ws-rr.js\`, ${CONNS} users ` +
      `each on one connection looping \`await conn.request('ping', () => true)\` (every exchange timed as \`ws.reply\` into its HDR histogram) for ` +
      `${D} s on 1 worker; every exchange of the run over its length and the CPU of its whole process tree (CLI and worker), as for the peers. plain ws: \`bench/baselines/ws-rr.mjs\`, ${CONNS} connections each ` +
      'sending the next message when the echo arrives; "timed" also records every exchange into an HDR histogram of the same settings. ' +
      'Other work shares these cores, so the goal is judged per CPU-second of the generator (1 s ÷ CPU per round trip, start-up included); wall-clock rates are shown too.',
    rows: [
      {
        what: `WebSocket request→reply, ${CONNS} conns: round trips per generator CPU-second`,
        unit: '/s',
        better: 'higher',
        loadfarm: tools.loadfarm.perCpuSecond,
        peer: plain,
        peerName: 'plain ws',
        goal: 80_000,
        goalText: '≥ 80,000/s',
        scaledGoal: scale ? 80_000 * scale : undefined,
        scaledGoalText: scale ? `≥ ${Math.round(80_000 * scale).toLocaleString('en-US')}/s (80/105 × plain ws here)` : undefined,
        extra: {
          'loadfarm wall rate, whole run (/s)': tools.loadfarm.perSecond,
          'plain ws wall rate (/s)': tools['plain ws'].perSecond,
          'plain ws timed into HDR, per CPU-second': tools['plain ws, timed (HDR)'].perCpuSecond,
        },
      },
    ],
  };
}

function fmt(x) {
  return x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1);
}
