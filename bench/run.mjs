#!/usr/bin/env node
// `npm run bench [-- --only http,ws-idle] [--runs 3] [--seconds 10] [--quick] [--profile] [--no-write]`
//
// Measures loadfarm against its goals and against other load generators on the same loopback
// targets in one run: the targets on core 0, the generators on core 1 (taskset). Everything that
// sends load runs inside a network namespace of its own with only loopback in it: the bench
// installs the peers it needs first (the registries must be reachable for that), then re-executes
// itself under `unshare -n`, brings `lo` up, checks that no other interface exists, and only then
// starts targets and tools. Results go to bench/results/ and BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCH_DIR, ROOT, PINNED, TARGET_CPU, GENERATOR_CPU, log, sleep } from './lib/proc.mjs';
import { installPeers, versions, k6Availability, installedVersion, hasCommand } from './lib/peers.mjs';
import { writeBenchmarks, table } from './lib/report.mjs';
import { committedBuild, currentBuild, BUILD_ENV } from './lib/build.mjs';

export const PARTS = ['http', 'ws-idle', 'socketio-idle', 'tcp', 'ws-rr', 'merge', 'many', 'scale-s3', 'scale-soak'];
const NETNS_MARK = 'LOADFARM_BENCH_NETNS';

function parseArgs(argv) {
  const o = { only: PARTS, runs: 3, seconds: 10, quick: false, profile: true, write: true, full: false, commit: 'HEAD' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--quick') o.quick = true;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--profile') o.profile = true;
    else if (a === '--no-write') o.write = false;
    else if (a === '--merge-full') o.full = true;
    else if (a === '--commit') o.commit = val();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  const bad = o.only.filter((p) => !PARTS.includes(p));
  if (bad.length) usage(`unknown part(s) ${bad.join(', ')}: one of ${PARTS.join(', ')}`);
  if (!(o.runs >= 1) || !(o.seconds >= 2)) usage('--runs ≥ 1 and --seconds ≥ 2');
  if (o.quick) {
    o.runs = Math.min(o.runs, 1);
    o.seconds = Math.min(o.seconds, 5);
  }
  return o;
}

function usage(problem) {
  const text = `usage: npm run bench -- [--only ${PARTS.join(',')}] [--runs N] [--seconds S] [--quick] [--no-profile] [--no-write] [--merge-full]
  --only       parts to run (default: all)
  --runs       repetitions of each timed measurement; medians are reported (default 3)
  --seconds    length of each timed measurement (default 10)
  --quick      1 run of 5 s, smaller connection counts: a smoke test, not figures to keep
  --no-profile skip the CPU profile of loadfarm's worker for goals it misses
  --no-write   print the table but leave BENCHMARKS.md alone
  --merge-full merge the full 100 workers × 1 h run even when the timed sample shows it is slow
  --commit     the commit to build and measure (default HEAD); the working tree's edits are never measured`;
  if (problem) {
    console.error(`bench: ${problem}\n${text}`);
    process.exit(1);
  }
  console.log(text);
  process.exit(0);
}

/** Outside the namespace: install what is needed, then run this file again inside `unshare -n`. */
function outside(o, argv) {
  // The bench measures a build of a commit (HEAD unless --commit), made apart from the working
  // tree: edits in progress are never measured, and the figures name the commit they come from.
  const build = committedBuild(o.commit);
  const wantsHttp = o.only.includes('http');
  const notes = wantsHttp ? installPeers() : {};
  fs.mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
  fs.writeFileSync(path.join(BENCH_DIR, 'results', '.install-notes.json'), JSON.stringify({ notes, k6: k6Availability() }));

  const canUnshare = process.getuid?.() === 0 && hasCommand('unshare') && hasCommand('ip');
  if (!canUnshare) {
    console.error('bench: needs root, unshare and ip to run every tool in a loopback-only network namespace; refusing to send load outside one');
    process.exit(1);
  }
  const self = path.join(BENCH_DIR, 'run.mjs');
  const quoted = [process.execPath, self, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${quoted}`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, [NETNS_MARK]: '1', [BUILD_ENV]: `${build.commit}:${build.root}` },
  });
  process.exit(r.status ?? 1);
}

/** Inside: only `lo` may exist, and it must be up. */
function checkNamespace() {
  // /proc/net is this namespace's view (/sys/class/net shows the host's: sysfs was mounted outside).
  const ifaces = fs
    .readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
  if (ifaces.length !== 1 || ifaces[0] !== 'lo') {
    console.error(`bench: the network namespace has interfaces ${ifaces.join(', ')}: only lo is allowed; refusing to run`);
    process.exit(1);
  }
}

function machine() {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const build = currentBuild();
  let nofile = '';
  try {
    nofile = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  } catch {
    nofile = '?';
  }
  const lib = (n) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', n, 'package.json'), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  let dist = '';
  try {
    const st = fs.statSync(path.join(build.root, 'dist', 'worker.js'));
    const hash = spawnSync('sha256sum', [path.join(build.root, 'dist', 'worker.js')], { encoding: 'utf8' }).stdout.slice(0, 12);
    dist = `dist/worker.js built ${st.mtime.toISOString()} (sha256 ${hash})`;
  } catch {
    dist = 'dist/worker.js missing';
  }
  return {
    date: new Date().toISOString(),
    dist,
    commit: build.commit,
    committed: build.committed,
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    nofile,
    pinned: PINNED ? `targets on core ${TARGET_CPU}, generators on core ${GENERATOR_CPU} (taskset)` : 'not pinned (taskset or a second core missing)',
    loadfarm: build.committed ? `${build.commit.slice(0, 12)} (a build of that commit alone)` : `${build.commit.slice(0, 12)} + the working tree as it was (not a committed build)`,
    libraries: { undici: lib('undici'), ws: lib('ws'), 'socket.io-client': lib('socket.io-client'), 'socket.io (targets)': lib('socket.io'), 'hdr-histogram-js': lib('hdr-histogram-js') },
    tools: versions(),
  };
}

async function inside(o) {
  checkNamespace();
  const install = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'results', '.install-notes.json'), 'utf8'));
    } catch {
      return { notes: {} };
    }
  })();
  const ctx = {
    ...o,
    peers: {
      autocannon: !!installedVersion('autocannon'),
      artillery: !!installedVersion('artillery'),
      wrk: hasCommand('wrk'),
    },
    install,
  };
  const m = machine();
  log(`machine: ${m.nproc} cores (${m.cpuModel}), node ${m.node}; ${m.pinned}`);
  const results = {};
  const started = Date.now();
  for (const part of o.only) {
    const mod = await import(`./parts/${part}.mjs`);
    log(`── ${part}: ${mod.title}`);
    const t0 = Date.now();
    try {
      results[part] = { ...(await mod.run(ctx)), seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString() };
    } catch (err) {
      log(`${part} failed: ${err.stack ?? err}`);
      results[part] = { title: mod.title, error: String(err.message ?? err), rows: [], seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString() };
    }
    await sleep(500);
  }
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);

  fs.writeFileSync(
    path.join(BENCH_DIR, 'results', `${m.date.replace(/[:.]/g, '-')}${o.quick ? '-quick' : ''}.json`),
    JSON.stringify({ machine: m, options: { runs: o.runs, seconds: o.seconds, quick: o.quick }, parts: results }, null, 1),
  );
  console.log(`\n${table(PARTS.filter((p) => results[p]).map((p) => results[p]))}`);
  if (o.quick) {
    // Smoke-test figures (small counts, one short run) must not stand for the real ones.
    log('--quick: bench/results/latest.json and BENCHMARKS.md left alone (smoke-test figures)');
    return;
  }

  // Results of parts not run this time are kept from the last run that had them.
  const latestFile = path.join(BENCH_DIR, 'results', 'latest.json');
  let latest = { parts: {} };
  try {
    latest = JSON.parse(fs.readFileSync(latestFile, 'utf8'));
  } catch {
    // First run.
  }
  latest.machine = m;
  latest.install = install;
  latest.options = { runs: o.runs, seconds: o.seconds, quick: o.quick };
  for (const [k, v] of Object.entries(results)) latest.parts[k] = { ...v, machine: m, options: latest.options };
  fs.writeFileSync(latestFile, JSON.stringify(latest, null, 1));
  if (o.write) {
    writeBenchmarks(latest, PARTS);
    log('BENCHMARKS.md written');
  }
}

const argv = process.argv.slice(2);
const o = parseArgs(argv);
if (process.env[NETNS_MARK] !== '1') outside(o, argv);
else
  await inside(o).catch((err) => {
    console.error(err.stack ?? err);
    process.exit(1);
  });
