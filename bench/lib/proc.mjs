// Processes for the bench: every child is tracked and killed (by its own pid) when the bench
// ends, every wait has a time limit, and CPU is read from the kernel, not from the tool.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT = path.dirname(BENCH_DIR);
export const PROBE = path.join(BENCH_DIR, 'lib', 'probe.cjs');
export const CLK_TCK = 100;

/** Cores: the target gets TARGET_CPU, every generator GENERATOR_CPU (when the machine has two). */
const cores = os.availableParallelism?.() ?? os.cpus().length;
export const TARGET_CPU = '0';
export const GENERATOR_CPU = cores > 1 ? '1' : '0';
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
export const PINNED = hasTaskset && cores > 1;

const live = new Set();
function killAll() {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** argv prefixed with taskset for `cpu` ('0', '1') when pinning is possible. */
export function pinned(cpu, argv) {
  return PINNED ? ['taskset', '-c', cpu, ...argv] : argv;
}

/**
 * Starts a long-lived process (a target) and resolves once it prints a line matching `ready`
 * (the match is returned). Rejects after `timeoutMs` or if it exits first.
 */
export function startServer(argv, { ready = /listening (\d+)/, timeoutMs = 15_000, env = {}, cpu = TARGET_CPU, name = argv.join(' ') } = {}) {
  const full = pinned(cpu, argv);
  const child = spawn(full[0], full.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name}: not ready within ${timeoutMs} ms: ${err.slice(-500)}`)), timeoutMs);
    const fail = (e) => {
      clearTimeout(timer);
      stop(child);
      reject(e);
    };
    child.stdout.setEncoding('utf8').on('data', (t) => {
      out += t;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, port: Number(m[1]), stop: () => stop(child) });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (t) => (err = (err + t).slice(-4000)));
    child.once('exit', (code) => fail(new Error(`${name}: exited (${code}) before it was ready: ${err.slice(-500)}`)));
  });
}

/** Ends a child (SIGTERM, then SIGKILL after 3 s) and resolves when it has exited. */
export function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 3000);
    child.once('exit', () => {
      clearTimeout(t);
      live.delete(child);
      resolve();
    });
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      clearTimeout(t);
      live.delete(child);
      resolve();
    }
  });
}

/**
 * Runs a generator to its end (killed at `timeoutMs`) on the generator core, wrapped in a shell
 * that reads its own /proc/<pid>/stat afterwards: cutime + cstime are the CPU of the whole tree
 * the tool ran as (every process it waited for). With `probe`, node processes also write their
 * own CPU and RSS (bench/lib/probe.cjs) into a fresh folder, returned as `probes`.
 */
export async function runTool(argv, { timeoutMs = 120_000, env = {}, cpu = GENERATOR_CPU, probe = false, probeEnv = {}, stdin = 'ignore', onStart } = {}) {
  const statFile = path.join(os.tmpdir(), `bench-stat-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const probeDir = probe ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-probe-')) : undefined;
  const script = '"$@"; rc=$?; cat /proc/$$/stat > "$BENCH_STAT_FILE"; exit $rc';
  const full = pinned(cpu, ['sh', '-c', script, 'sh', ...argv]);
  const childEnv = { ...process.env, ...env, BENCH_STAT_FILE: statFile };
  if (probeDir) {
    childEnv.BENCH_PROBE_DIR = probeDir;
    childEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${PROBE}`.trim();
    Object.assign(childEnv, probeEnv);
  }
  const started = performance.now();
  const child = spawn(full[0], full.slice(1), { cwd: ROOT, stdio: [stdin, 'pipe', 'pipe'], env: childEnv });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr = (stderr + t).slice(-20_000)));
  const watching = Promise.resolve(onStart?.(child, probeDir)).catch((err) => log(`while the tool ran: ${err.stack ?? err}`));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid);
  }, timeoutMs);
  const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
  clearTimeout(timer);
  live.delete(child);
  const wallMs = performance.now() - started;
  await watching;
  let cpuMs;
  try {
    const stat = fs.readFileSync(statFile, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpuMs = ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
    fs.rmSync(statFile, { force: true });
  } catch {
    cpuMs = undefined;
  }
  return { code, stdout, stderr, wallMs, cpuMs, timedOut, probeDir, probes: probeDir ? readProbes(probeDir) : [] };
}

/** Every probe file in `dir`: { kind: 'exit' | 'probe-N', ...body }. */
export function readProbes(dir) {
  const out = [];
  for (const f of fs.readdirSync(dir)) {
    const m = /^(\d+)\.(exit|probe-\d+)\.json$/.exec(f);
    if (!m) continue;
    try {
      out.push({ kind: m[2], ...JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) });
    } catch {
      // Half-written: the process died while writing.
    }
  }
  return out;
}

/** Kills a process and its descendants (found through /proc), each by its pid. */
export function killTree(pid) {
  const kids = childrenOf(pid);
  for (const k of kids) killTree(k);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

export function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(Number(d));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/** Resident set size of a process, bytes (0 when gone). */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then undefined). */
export async function waitFor(fn, { timeoutMs = 30_000, everyMs = 200 } = {}) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  return undefined;
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function log(line) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
