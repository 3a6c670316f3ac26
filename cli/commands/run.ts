import { Command } from 'commander';
import { openStore, storeUrlProblem } from '../../worker/store/open';
import { parseSourceIps } from '../../worker/net/source-ips';
import { UsageError } from '../errors';
import { LocalFleet } from '../fleet/local';
import { workerCommand } from '../fleet/fleet';
import { collect, Problems } from '../options';
import { workerScript } from '../paths';
import { makePlan, newRunId, randomSeed } from '../plan';
import { ceiling, describeCeiling, readLimits } from '../preflight';
import { emitReport } from '../report/output';
import { executeRun } from '../run/execute';
import { progressLine } from '../run/progress';
import { prepareScenario, type PreparedScenario } from '../scenario';
import { liveLine } from '../terminal';
import type { Report } from '../report/types';
import type { Snapshot } from '../../worker/metrics/snapshot';

export interface RunFlags {
  workers?: string;
  stagger?: string;
  seed?: string;
  target?: string;
  store: string;
  interval?: string;
  threshold?: string[];
  param?: string[];
  sourceIps?: string;
  json?: boolean;
  out?: string;
  quiet?: boolean;
  open?: boolean;
}

export const DEFAULT_STORE = 'file://.loadfarm';

export function runCommand(): Command {
  return new Command('run')
    .description('run a scenario on the local farm (worker processes on this machine)')
    .argument('<scenario>', 'scenario file (.ts or .js)')
    .option('-w, --workers <n>', 'worker processes', '2')
    .option('--stagger <duration>', 'delay between worker starts', '0s')
    .option('--seed <n>', 'run seed (worker i uses seed + i); random when absent')
    .option('--target <url>', "overrides the scenario's target")
    .option('--store <url>', 'where the run is kept: file://DIR or s3://BUCKET/PREFIX', DEFAULT_STORE)
    .option('--interval <duration>', 'snapshot interval', '5s')
    .option('--threshold <metric: expr>', "pass/fail rule, e.g. 'http.GET /: p(99) < 250' (repeatable)", collect)
    .option('--param <key=value>', 'a value the scenario reads as u.params.key (repeatable)', collect)
    .option('--source-ips <list>', 'local addresses for outgoing connections: 127.0.0.2-127.0.0.20, a,b,c or a CIDR')
    .option('--json', 'print report.json instead of the text report')
    .option('--out <dir>', 'also write report.json, report.txt and report.html here')
    .option('--open', 'open report.html in the browser when the run ends')
    .option('-q, --quiet', 'no live progress')
    .action(async (file: string, flags: RunFlags) => {
      process.exitCode = (await runLocal(file, flags)).exitCode;
    });
}

/** The flags every local-farm run shares, checked together: all problems at once. */
export interface LocalRunSettings {
  workers: number;
  staggerMs: number;
  seed: number;
  intervalMs: number;
  thresholds: Record<string, string[]>;
  params: Record<string, string>;
  sourceIps: string[];
}

export function parseRunFlags(flags: RunFlags, p = new Problems()): LocalRunSettings {
  const workers = p.int('--workers', flags.workers ?? '2', 1, 1024) ?? 1;
  const staggerMs = p.durationMs('--stagger', flags.stagger ?? '0s') ?? 0;
  const seed = flags.seed === undefined ? randomSeed() : p.int('--seed', flags.seed, 0, 0xffffffff) ?? 0;
  const intervalMs = p.durationMs('--interval', flags.interval ?? '5s', 100) ?? 5000;
  const thresholds = p.thresholds(flags.threshold);
  const params = p.params(flags.param);
  let sourceIps: string[] = [];
  if (flags.sourceIps !== undefined) {
    const parsed = parseSourceIps(flags.sourceIps);
    if ('problem' in parsed) p.add('--source-ips', `addresses like 127.0.0.2-127.0.0.20, a list or a CIDR block (${parsed.problem})`, flags.sourceIps);
    else sourceIps = parsed.ips;
  }
  const storeProblem = storeUrlProblem(flags.store);
  if (storeProblem) p.add('--store', storeProblem, flags.store);
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
  return { workers, staggerMs, seed, intervalMs, thresholds, params, sourceIps };
}

/** `loadfarm run` on the local fleet. */
export async function runLocal(file: string, flags: RunFlags, extra: LocalRunExtras = {}): Promise<Report> {
  const settings = parseRunFlags(flags);
  const prepared = await prepareScenario(file, flags.target);
  return runOnLocalFarm(prepared, settings, flags, extra);
}

export interface LocalRunExtras {
  env?: NodeJS.ProcessEnv;
  /** Replaces the standard progress line with the caller's own view of each batch of snapshots. */
  onSnapshots?: (fresh: Snapshot[], note: (line: string) => void) => void;
  /** Connections the run means to hold, for the preflight line. */
  connections?: number;
}

/** Plans and runs a prepared scenario on worker processes of this machine, then reports. */
export async function runOnLocalFarm(prepared: PreparedScenario, s: LocalRunSettings, flags: RunFlags, extra: LocalRunExtras = {}): Promise<Report> {
  const store = await openStore(flags.store);
  const runId = newRunId(prepared.scenario.name);
  const plan = makePlan({
    runId,
    scenario: prepared.scenario,
    scenarioFile: prepared.path,
    target: prepared.target,
    workers: s.workers,
    staggerMs: s.staggerMs,
    seed: s.seed,
    intervalMs: s.intervalMs,
    thresholds: s.thresholds,
    params: s.params,
    sourceIps: s.sourceIps,
  });
  const script = workerScript();
  const live = liveLine(!flags.quiet);
  const fleet = new LocalFleet({ env: extra.env, onLine: (i, line) => line && live.note(`worker ${i}: ${line}`) });
  live.note(`run ${runId}: ${s.workers} local worker(s), store ${store.url}`);
  live.note(describeCeiling(ceiling(readLimits(), s.workers, s.sourceIps.length), s.workers, s.sourceIps.length, extra.connections));

  const stop = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      live.note('stopping: workers end their load and write their last snapshot (Ctrl-C again to leave now)');
      stop.abort();
    } else {
      live.note('leaving now; workers stop by their own deadline');
      process.exit(2);
    }
  };
  process.on('SIGINT', onSigint);
  let report: Report;
  try {
    report = await executeRun({
      store,
      fleet,
      plan,
      scenarioCode: prepared.code,
      command: (index) => workerCommand({ node: process.execPath, workerScript: script, store: store.url, runId, index }),
      onProgress: extra.onSnapshots ? undefined : (view) => live.update(progressLine(view)),
      onSnapshots: extra.onSnapshots ? (fresh) => extra.onSnapshots!(fresh, (line) => live.note(line)) : undefined,
      stopSignal: stop.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
    live.done();
    await fleet.close();
  }
  await emitReport(report, { store, json: flags.json, outDir: flags.out, open: flags.open });
  return report;
}
