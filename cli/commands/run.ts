import { Command } from 'commander';
import { parseSourceIps } from '../../worker/net/source-ips';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { UsageError } from '../errors';
import { LocalFleet } from '../fleet/local';
import { workerCommand } from '../fleet/fleet';
import { collect, Problems } from '../options';
import { LIMITS, showLimit } from '../../worker/scenario/limits';
import { REPORT_EVERY_MIN_MS } from '../../worker/scenario/validate';
import { workerScript } from '../paths';
import { randomSeed } from '../plan';
import { ceiling, describeCeiling, readLimits } from '../preflight';
import { conductRun, type OutputFlags, type RunSettings } from '../run/conduct';
import { checkWhere, openWhere, whereOptions, type WhereFlags } from '../run/where';
import { prepareScenario, type PreparedScenario } from '../scenario';
import type { Report } from '../report/types';

export { DEFAULT_STORE } from '../run/where';

export interface RunFlags extends WhereFlags, OutputFlags {
  workers?: string;
  stagger?: string;
  seed?: string;
  target?: string;
  interval?: string;
  every?: string;
  threshold?: string[];
  param?: string[];
  sourceIps?: string;
  excludeLost?: boolean;
  rawEvents?: boolean;
}

/** Local workers when neither --workers nor --env says otherwise. */
export const DEFAULT_LOCAL_WORKERS = 2;

export function runCommand(): Command {
  return runOptions(
    new Command('run')
      .description('run a scenario on the local farm (worker processes here) or, with --env, on an AWS environment')
      .argument('<scenario>', 'scenario file (.ts or .js)')
      .option('--target <url>', "overrides the scenario's target")
      .option('--threshold <metric: expr>', "pass/fail rule, e.g. 'http.GET /: p(99) < 250' (repeatable)", collect)
      .option('--param <key=value>', 'a value the scenario reads as u.params.key (repeatable)', collect)
      .option('--seed <n>', 'run seed (worker i uses seed + i); random when absent')
      .option('--stagger <duration>', 'delay between worker starts', '0s')
      .option('--interval <duration>', 'snapshot interval', '5s')
      .option('--every <duration>', "a rolling report per period of a long run (runs/<id>/reports/), e.g. 1h; wins over the scenario's reportEvery")
      .option('--raw-events', 'also keep every operation (time, worker, user, metric, latency, bytes, outcome) as gzip NDJSON in the store'),
  ).action(async (file: string, flags: RunFlags) => {
    const settings = parseRunFlags(flags);
    const prepared = await prepareScenario(file, flags.target);
    process.exitCode = (await dispatchRun(prepared, settings, flags)).exitCode;
  });
}

/** The options `run` and `hold` share: where the workers run and where the report goes. */
export function runOptions(cmd: Command): Command {
  return whereOptions(
    cmd
      .option('-w, --workers <n>', `worker processes (local, default ${DEFAULT_LOCAL_WORKERS}) or instances (--env, default all online)`)
      .option('--exclude-lost', 'with --env: run on the instances SSM can reach, leaving out lost ones')
      .option('--source-ips <list>', 'local farm: local addresses for outgoing connections: 127.0.0.2-127.0.0.20, a,b,c or a CIDR')
      .option('--json', 'print report.json instead of the text report')
      .option('--out <dir>', 'also write report.json, report.txt and report.html here')
      .option('--open', 'open report.html in the browser when the run ends')
      .option('-q, --quiet', 'no live progress'),
  );
}

/** Every flag checked together: all problems at once, before anything is launched. */
export function parseRunFlags(flags: RunFlags, p = new Problems()): RunSettings & { workersGiven: boolean } {
  const workersGiven = flags.workers !== undefined;
  const workers = p.int('--workers', flags.workers ?? String(DEFAULT_LOCAL_WORKERS), 1, 1024) ?? 1;
  const staggerMs = p.durationMs('--stagger', flags.stagger ?? '0s', 0, { ms: LIMITS.staggerMs, what: "the longest delay between two workers' starts" }) ?? 0;
  // With --env and no --workers the count is known only once the instances are found.
  if ((workersGiven || flags.env === undefined) && (workers - 1) * staggerMs > LIMITS.staggerSpanMs) {
    p.add('--stagger', `(workers − 1) × stagger at most ${showLimit(LIMITS.staggerSpanMs)} (the last worker's start after the first's)`, `${flags.stagger} × ${workers - 1}`);
  }
  const seed = flags.seed === undefined ? randomSeed() : p.int('--seed', flags.seed, 0, 0xffffffff) ?? 0;
  const intervalMs = p.durationMs('--interval', flags.interval ?? '5s', LIMITS.intervalMinMs, { ms: LIMITS.intervalMaxMs, what: 'the longest snapshot interval' }) ?? 5000;
  const reportEveryMs = flags.every === undefined ? undefined : p.durationMs('--every', flags.every, REPORT_EVERY_MIN_MS, { ms: LIMITS.loadMs, what: 'the longest load' });
  const thresholds = p.thresholds(flags.threshold);
  const params = p.params(flags.param);
  let sourceIps: string[] = [];
  if (flags.sourceIps !== undefined) {
    const parsed = parseSourceIps(flags.sourceIps);
    if ('problem' in parsed) p.add('--source-ips', `addresses like 127.0.0.2-127.0.0.20, a list or a CIDR block (${parsed.problem})`, flags.sourceIps);
    else sourceIps = parsed.ips;
    if (flags.env !== undefined) p.add('--source-ips', 'no --env: source addresses are for the local farm (each AWS worker has its own address)', flags.sourceIps);
  }
  if (flags.excludeLost && flags.env === undefined) p.add('--exclude-lost', 'an --env to go with it', true);
  checkWhere(p, flags);
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
  return { workers, workersGiven, staggerMs, seed, intervalMs, reportEveryMs, thresholds, params, sourceIps, rawEvents: flags.rawEvents ?? false };
}

/** `loadfarm run` from a file (the demo's entry). */
export async function runLocal(file: string, flags: RunFlags): Promise<Report> {
  const settings = parseRunFlags(flags);
  const prepared = await prepareScenario(file, flags.target);
  return dispatchRun(prepared, settings, flags);
}

export interface RunExtras {
  /** Replaces the standard progress line with the caller's own view of each batch of snapshots. */
  onSnapshots?: (fresh: Snapshot[], note: (line: string) => void) => void;
  /** Connections the run means to hold, for the preflight line. */
  connections?: number;
}

/** Runs a prepared scenario where the flags say: an AWS environment (--env) or this machine. */
export async function dispatchRun(prepared: PreparedScenario, s: RunSettings & { workersGiven: boolean }, flags: RunFlags, extra: RunExtras = {}): Promise<Report> {
  if (flags.env !== undefined) {
    const { runOnFarm } = await import('../run/cloud');
    const { resolveRegion, awsClients, closeClients } = await import('../aws/clients');
    const region = await resolveRegion(flags.region);
    const clients = awsClients(region);
    try {
      return await runOnFarm(prepared, s, flags, {
        env: flags.env,
        region,
        clients,
        excludeLost: flags.excludeLost ?? false,
        workers: s.workersGiven ? s.workers : undefined,
        s3Endpoint: flags.s3Endpoint,
        onSnapshots: extra.onSnapshots,
      });
    } finally {
      closeClients(clients);
    }
  }
  const { store } = await openWhere(flags);
  const script = workerScript();
  return conductRun({
    prepared,
    settings: s,
    output: flags,
    store,
    notes: [describeCeiling(ceiling(readLimits(), s.workers, s.sourceIps.length), s.workers, s.sourceIps.length, extra.connections)],
    onSnapshots: extra.onSnapshots,
    fleet: (runId, live) => ({
      fleet: new LocalFleet({ onLine: (i, line) => line && live.note(`worker ${i}: ${line}`) }),
      command: (index) => workerCommand({ node: process.execPath, workerScript: script, store: store.url, runId, index }),
    }),
  });
}
