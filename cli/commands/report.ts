import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { UsageError } from '../errors';
import { RunReader } from '../merge/reader';
import { reportFromStore } from '../report/from-store';
import { emitReport } from '../report/output';
import { openWhere, whereOptions, whereOrThrow, type WhereFlags } from '../run/where';

interface ReportFlags extends WhereFlags {
  json?: boolean;
  out?: string;
  open?: boolean;
}

export function reportCommand(): Command {
  return whereOptions(
    new Command('report')
      .description("merge a run's snapshots from the store into its report again (the same status and exit code as when it ran)")
      .argument('<runId>', 'the run id printed by `loadfarm run`'),
  )
    .option('--json', 'print report.json instead of the text report')
    .option('--out <dir>', 'also write report.json, report.txt and report.html here')
    .option('--open', 'open report.html in the browser')
    .action(async (runId: string, flags: ReportFlags) => {
      whereOrThrow(flags);
      const { store } = await openWhere(flags);
      const reader = new RunReader(store, runId);
      const plan = await reader.plan();
      if (!plan) {
        const runs = (await store.list(layout.runsPrefix)).filter((k) => k.endsWith('/plan.json')).map((k) => k.split('/')[1]);
        const hint = runs.length > 0 ? `; runs there: ${runs.slice(-5).join(', ')}` : '';
        throw new UsageError(`no run ${runId} in ${store.url}${hint}`);
      }
      await reader.complete();
      const report = await reportFromStore(reader, plan);
      await emitReport(report, { store, json: flags.json, outDir: flags.out, open: flags.open });
      process.exitCode = report.exitCode;
    });
}
