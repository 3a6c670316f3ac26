import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { openStore, storeUrlProblem } from '../../worker/store/open';
import type { Store } from '../../worker/store/store';
import { compareExitCode, compareReports, COMPARE_DEFAULTS, parseTolerance, renderComparison } from '../compare';
import { UsageError } from '../errors';
import { Problems } from '../options';
import type { Report } from '../report/types';
import { DEFAULT_STORE } from './run';

const RULES = `
Each run is a run id in the store, a report.json file, or a folder holding one (--out DIR).

A is the baseline, B the candidate. A regression is:
  - a latency percentile (p50, p95, p99) of a metric up by more than --tolerance percent
    of A's value and by more than --min-delta milliseconds;
  - the error rate (failed share of requests) up by more than 0.01 (one point in a hundred);
  - a metric recorded in A that is missing from B.
Count and rate are shown, never flagged (the load model sets them); loadfarm.* metrics
measure the generator and are never flagged.

Exit codes: 0 no regression, 99 a regression, 1 bad input.
`;

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare two runs: per-metric changes, and regressions beyond a tolerance')
    .argument('<runA>', 'baseline: run id, report.json file, or folder with report.json')
    .argument('<runB>', 'candidate: run id, report.json file, or folder with report.json')
    .option('--store <url>', 'where run ids are looked up: file://DIR or s3://BUCKET/PREFIX', DEFAULT_STORE)
    .option('--tolerance <pct>', 'how much a latency percentile may rise, e.g. 10%', `${COMPARE_DEFAULTS.tolerancePct}%`)
    .option('--min-delta <ms>', 'a latency rise smaller than this many ms is never a regression', String(COMPARE_DEFAULTS.minDeltaMs))
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', RULES)
    .action(async (runA: string, runB: string, flags: { store: string; tolerance: string; minDelta: string; json?: boolean }) => {
      const p = new Problems();
      const tolerancePct = parseTolerance(flags.tolerance);
      if (tolerancePct === undefined) p.add('--tolerance', 'a percentage like 10%', flags.tolerance);
      const minDeltaMs = Number(flags.minDelta);
      if (!/^\s*\d+(\.\d+)?\s*$/.test(flags.minDelta)) p.add('--min-delta', 'milliseconds like 1 or 0.5', flags.minDelta);
      const storeProblem = storeUrlProblem(flags.store);
      if (storeProblem) p.add('--store', storeProblem, flags.store);
      if (p.any) throw new UsageError(p.list[0], p.list.slice(1));

      let store: Store | undefined;
      const storeOnce = async () => (store ??= await openStore(flags.store));
      const a = await loadReport(runA, storeOnce);
      const b = await loadReport(runB, storeOnce);
      const c = compareReports(a, b, { tolerancePct, minDeltaMs });
      process.stdout.write(flags.json ? `${JSON.stringify(c, null, 2)}\n` : `${renderComparison(c)}\n`);
      process.exitCode = compareExitCode(c);
    });
}

/**
 * A report from a path (report.json, or a folder holding one) or a run id in the store.
 * Throws UsageError naming what was looked for and where.
 */
async function loadReport(ref: string, store: () => Promise<Store>): Promise<Report> {
  const asFile = fs.existsSync(ref) && fs.statSync(ref).isDirectory() ? path.join(ref, 'report.json') : ref;
  if (fs.existsSync(asFile) && fs.statSync(asFile).isFile()) return parseReport(fs.readFileSync(asFile, 'utf8'), asFile);
  if (ref.endsWith('.json') || ref.includes(path.sep) || ref.includes('/')) {
    throw new UsageError(`no report at ${path.resolve(asFile)}`);
  }
  const s = await store();
  const body = await s.get(layout.report(ref));
  if (body) return parseReport(body.toString('utf8'), `${s.url} run ${ref}`);
  const runs = (await s.list(layout.runsPrefix)).filter((k) => k.endsWith('/plan.json')).map((k) => k.split('/')[1]);
  if (runs.includes(ref)) throw new UsageError(`run ${ref} in ${s.url} has no report.json yet: run \`loadfarm report ${ref} --store ${s.url}\` first`);
  const hint = runs.length > 0 ? `; runs there: ${runs.slice(-5).join(', ')}` : '; there are no runs there';
  throw new UsageError(`no run ${ref} in ${s.url}${hint}`);
}

function parseReport(text: string, where: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: not JSON (${(err as Error).message})`);
  }
  const r = value as Partial<Report> | null;
  if (!r || typeof r !== 'object' || r.v !== 1 || typeof r.metrics !== 'object' || typeof r.errorRate !== 'number') {
    throw new UsageError(`${where}: not a loadfarm report.json (expected v 1 with metrics and errorRate)`);
  }
  return r as Report;
}
