import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { getJson } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import { UsageError } from '../errors';
import { ObservedFleet } from '../fleet/observed';
import { emitReport } from '../report/output';
import { followRun } from '../run/execute';
import { progressLine } from '../run/progress';
import { openWhere, whereOptions, whereOrThrow, type WhereFlags } from '../run/where';
import { liveLine } from '../terminal';
import type { Report } from '../report/types';
import type { Fleet } from '../fleet/fleet';

export function attachCommand(): Command {
  return whereOptions(
    new Command('attach')
      .description('follow a run started elsewhere (or before the CLI was closed): live progress, then the report')
      .argument('<runId>', 'the run id printed by `loadfarm run`')
      .option('--json', 'print report.json instead of the text report')
      .option('--out <dir>', 'also write the report files here')
      .option('-q, --quiet', 'no live progress'),
  ).action(async (runId: string, flags: WhereFlags & { json?: boolean; out?: string; quiet?: boolean }) => {
    whereOrThrow(flags);
    const { store, aws } = await openWhere(flags);
    const plan = await getJson<Plan>(store, layout.plan(runId));
    if (!plan) throw new UsageError(`no run ${runId} in ${store.url} (see \`loadfarm runs\`)`);
    let fleet: Fleet | undefined;
    if (aws) {
      const { reattachFleet } = await import('../run/cloud');
      fleet = await reattachFleet(store, plan, aws.ssm);
    }
    fleet ??= new ObservedFleet(store, runId);
    const live = liveLine(!flags.quiet);
    live.note(`attached to ${runId} (${plan.workers.length} worker(s) on ${fleet.name}); Ctrl-C stops the run, twice leaves`);
    const stop = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts === 1) {
        live.note('stopping: workers end their load and write their last snapshot (Ctrl-C again to leave now)');
        stop.abort();
      } else process.exit(2);
    };
    process.on('SIGINT', onSigint);
    let report: Report;
    try {
      report = await followRun({ store, fleet, plan, stopSignal: stop.signal, onProgress: (v) => live.update(progressLine(v)) });
    } finally {
      process.off('SIGINT', onSigint);
      live.done();
    }
    await emitReport(report, { store, json: flags.json, outDir: flags.out });
    process.exitCode = report.exitCode;
  });
}
