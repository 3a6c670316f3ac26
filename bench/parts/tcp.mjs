// Raw TCP connections per second from one process: connect + close in a loop (50 at a time),
// and `loadfarm hold --delay 0` (every connection dialed at once), each against plain node:net.
import { startServer, runTool, median, log, sleep } from '../lib/proc.mjs';
import { runLoadfarm, steadyState, cleanup, profileLoadfarm, failure } from '../lib/loadfarm.mjs';
import { FRAMES } from '../lib/frames.mjs';

export const title = 'Raw TCP connect + close per second, one process';

const USERS = 50;
const HOLD_N = 15_000;

export async function run(ctx) {
  const D = ctx.seconds;
  const holdN = ctx.quick ? 3000 : HOLD_N;
  const server = await startServer(['node', 'bench/targets/tcp-server.mjs', '--processes', '2']);
  const target = `tcp://127.0.0.1:${server.port}`;
  const lfArgs = ['run', 'bench/scenarios/tcp-cc.js', '--workers', '1', '--interval', '1s', '--target', target];
  const lfEnv = { BENCH_USERS: String(USERS), BENCH_SECONDS: String(D) };
  const samples = { loadfarm: [], 'plain net': [], 'loadfarm hold': [], 'plain net burst': [] };
  const holdArgs = ['hold', target, '-c', String(holdN), '--delay', '0', '--hold', '1s', '--timeout', '15s', '--interval', '100ms', '--workers', '1'];
  let profile;
  let holdProfile;
  // Start-up and shutdown of a process (loading a 3 MB bundle, for loadfarm's worker) are no part of
  // a dial: a 1-connection burst of each measures them, and they are subtracted from the burst CPU.
  let lfFixedMs = 0;
  let plainFixedMs = 0;
  try {
    {
      const r = await runLoadfarm([...holdArgs.slice(0, 2), '-c', '1', ...holdArgs.slice(4)], { timeoutMs: 60_000 });
      // Like the peers': the kernel's CPU of loadfarm's whole process tree (CLI and worker).
      lfFixedMs = r.cpuMs;
      cleanup(r);
      const p = await runTool(['node', 'bench/baselines/tcp-connect.mjs', '--hold', '-n', '1', `http://127.0.0.1:${server.port}`], { timeoutMs: 30_000 });
      plainFixedMs = p.cpuMs;
      log(`tcp: fixed CPU of a 1-connection burst: loadfarm worker ${lfFixedMs.toFixed(0)} ms, plain net ${plainFixedMs.toFixed(0)} ms`);
    }
    for (let rep = 0; rep < ctx.runs; rep++) {
      {
        const r = await runLoadfarm(lfArgs, { env: lfEnv });
        const m = r.report?.metrics?.['tcp.connect'];
        const steady = steadyState(r.snapshots, 'tcp.connect');
        const s = {
          connects: m?.count,
          // The same window as the peer's: every connection of the whole run, over the run's length.
          perSecond: m?.count / D,
          steadyPerSecond: steady.opsPerSec,
          usPerConnect: m?.count && r.cpuMs !== undefined ? (r.cpuMs * 1000) / m.count : undefined,
          workerUsPerConnect: m?.count ? (r.workerCpuMs * 1000) / m.count : undefined,
          failed: failure(r),
          errors: { ...(r.report?.errors ?? {}), ...(r.report?.generatorErrors ?? {}) },
          status: r.report?.status ?? `exit ${r.code}: ${r.stderr.slice(-300)}`,
        };
        samples.loadfarm.push(s);
        log(`tcp loadfarm #${rep + 1}: ${Math.round(s.perSecond ?? 0)}/s whole run (${Math.round(s.steadyPerSecond ?? 0)}/s steady), ${fmt(s.usPerConnect)} µs CPU/connect ${JSON.stringify(s.errors)}`);
        cleanup(r);
      }
      await settle();
      {
        const r = await runTool(['node', 'bench/baselines/tcp-connect.mjs', '-c', String(USERS), '-d', String(D), `http://127.0.0.1:${server.port}`], { timeoutMs: (D + 30) * 1000 });
        const j = JSON.parse(r.stdout);
        const s = { connects: j.connects, perSecond: j.perSecond, usPerConnect: (r.cpuMs * 1000) / j.connects, errors: j.errors };
        samples['plain net'].push(s);
        log(`tcp plain net #${rep + 1}: ${Math.round(s.perSecond)}/s, ${fmt(s.usPerConnect)} µs CPU/connect, ${j.errors} errors`);
      }
      await settle();
      {
        const r = await runLoadfarm(holdArgs, { timeoutMs: 120_000 });
        const snaps = r.snapshots.filter((x) => (x.counters['hold.dials'] ?? 0) > 0 || (x.counters['hold.established'] ?? 0) > 0);
        const est = snaps.reduce((a, x) => a + (x.counters['hold.established'] ?? 0), 0);
        const firstDial = snaps.find((x) => (x.counters['hold.dials'] ?? 0) > 0);
        const lastEst = [...snaps].reverse().find((x) => (x.counters['hold.established'] ?? 0) > 0);
        const spanS = firstDial && lastEst ? (lastEst.end - firstDial.start) / 1000 : undefined;
        const s = {
          connects: est,
          perSecond: spanS ? est / spanS : undefined,
          spanS,
          usPerConnect: est > 1 && r.cpuMs !== undefined ? ((r.cpuMs - lfFixedMs) * 1000) / (est - 1) : undefined,
          workerCpuMs: r.workerCpuMs,
          failed: failure(r),
          errors: { ...(r.report?.errors ?? {}), ...(r.report?.generatorErrors ?? {}) },
          status: r.report?.status ?? `exit ${r.code}: ${r.stderr.slice(-300)}`,
        };
        samples['loadfarm hold'].push(s);
        log(`tcp loadfarm hold #${rep + 1}: ${est} established in ${fmt(spanS)} s → ${Math.round(s.perSecond ?? 0)}/s ${JSON.stringify(s.errors)}`);
        cleanup(r);
      }
      await settle();
      {
        const r = await runTool(['node', 'bench/baselines/tcp-connect.mjs', '--hold', '-n', String(holdN), `http://127.0.0.1:${server.port}`], { timeoutMs: 60_000 });
        const j = JSON.parse(r.stdout);
        samples['plain net burst'].push({ connects: j.connects, perSecond: j.perSecond, spanS: j.seconds, usPerConnect: ((r.cpuMs - plainFixedMs) * 1000) / (j.connects - 1), errors: j.errors });
        log(`tcp plain net burst #${rep + 1}: ${j.connects} in ${fmt(j.seconds)} s → ${Math.round(j.perSecond)}/s`);
      }
      await settle();
    }
    const perCpuS = (list) => 1e6 / median(list.map((s) => s.usPerConnect));
    if (ctx.profile && !(perCpuS(samples.loadfarm) >= 12_000)) {
      log('tcp: profiling the loadfarm worker (connect + close loop)');
      profile = await profileLoadfarm(lfArgs, { env: lfEnv, what: `${USERS} users looping tcp connect + close for ${D} s`, inclusive: FRAMES.tcp });
    }
    if (ctx.profile && !(perCpuS(samples['loadfarm hold']) >= 12_000)) {
      log('tcp: profiling the loadfarm worker (hold --delay 0)');
      holdProfile = await profileLoadfarm(holdArgs, { what: `\`hold -c ${holdN} --delay 0\``, inclusive: FRAMES.hold, timeoutMs: 120_000 });
    }
  } finally {
    await server.stop();
  }
  const tools = {};
  for (const [name, list] of Object.entries(samples)) {
    const usPerConnect = median(list.filter((s) => !s.failed).map((s) => s.usPerConnect));
    tools[name] = { perSecond: median(list.map((s) => s.perSecond)), usPerConnect, perCpuSecond: usPerConnect ? 1e6 / usPerConnect : undefined, runs: list };
  }
  // Other work shares these cores (the bench cannot stop it): wall-clock rates fall when the
  // generator is descheduled, CPU per connection does not. The goals are judged on connections per
  // CPU-second of the generator — what it would do on a core of its own — and wall rates are shown too.
  const plain = tools['plain net'].perCpuSecond;
  const scale = plain ? plain / 14_000 : undefined;
  const goal = (extra) => ({
    unit: '/s',
    better: 'higher',
    goal: 12_000,
    goalText: '≥ 12,000/s',
    scaledGoal: scale ? 12_000 * scale : undefined,
    scaledGoalText: scale ? `≥ ${Math.round(12_000 * scale).toLocaleString('en-US')}/s (12/14 × plain net loop here)` : undefined,
    ...extra,
  });
  return {
    title,
    tools,
    fixedCpuMs: { loadfarm: lfFixedMs, plain: plainFixedMs },
    profiles: [profile, holdProfile].filter(Boolean),
    toolColumns: [
      { key: 'perCpuSecond', label: 'connections per CPU-second', unit: '' },
      { key: 'usPerConnect', label: 'CPU µs/connection (median)', unit: '' },
      { key: 'perSecond', label: 'connections/s, wall (median)', unit: '' },
    ],
    method:
      `Target: \`bench/targets/tcp-server.mjs\` (accepts, reads, closes when the client does), 2 processes sharing the port. ` +
      `Loop: loadfarm \`bench/scenarios/tcp-cc.js\`, ${USERS} users looping \`const c = await u.tcp.connect(); await c.close()\` for ${D} s on 1 worker ` +
      `(every connection of the run over its length, as for the peer) against \`bench/baselines/tcp-connect.mjs\` (${USERS} loops of \`net.connect\` → \`end()\`). ` +
      `Burst: \`loadfarm hold tcp://… -c ${holdN.toLocaleString('en-US')} --delay 0 --workers 1 --interval 100ms\` (established ÷ time from the first dial ` +
      `to the last connection, from its 100 ms snapshots) against \`tcp-connect.mjs --hold\` (${holdN.toLocaleString('en-US')} \`net.connect\` at once); ` +
      'the CPU of a 1-connection burst of each (process start-up and shutdown) is subtracted from the burst figures. ' +
      'Every CPU figure is the kernel\'s count for the tool\'s whole process tree (loadfarm: CLI and worker). Other work shares these cores, so rates are judged per CPU-second of the generator (1 s ÷ CPU per connection); wall-clock rates are shown too.',
    rows: [
      goal({
        what: `TCP connect+close loop, ${USERS} users: connections per generator CPU-second`,
        loadfarm: tools.loadfarm.perCpuSecond,
        peer: plain,
        peerName: 'plain net',
        failed: failedOf(tools.loadfarm),
        extra: { 'loadfarm wall rate, steady (/s)': tools.loadfarm.perSecond, 'plain net wall rate (/s)': tools['plain net'].perSecond },
      }),
      goal({
        what: `\`hold --delay 0\`, ${holdN.toLocaleString('en-US')} at once: dials per generator CPU-second`,
        loadfarm: tools['loadfarm hold'].perCpuSecond,
        peer: tools['plain net burst'].perCpuSecond,
        peerName: 'plain net burst',
        peers: { 'plain net burst': tools['plain net burst'].perCpuSecond },
        ratioGoals: [{ peer: 'plain net burst', min: 0.8, text: '≥ 0.8× plain net burst' }],
        failed: failedOf(tools['loadfarm hold']),
        extra: {
          'loadfarm hold wall rate (/s)': tools['loadfarm hold'].perSecond,
          'plain net burst wall rate (/s)': tools['plain net burst'].perSecond,
        },
      }),
    ],
  };
}

/** Why some run of a tool cannot count (joined), or undefined when every run counts. */
function failedOf(tool) {
  const f = (tool?.runs ?? []).map((s) => s.failed).filter(Boolean);
  return f.length > 0 ? f.join('; ') : undefined;
}

/** Lets the last run's sockets leave TIME_WAIT pressure and the target settle. */
const settle = () => sleep(1500);

function fmt(x) {
  return x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1);
}
