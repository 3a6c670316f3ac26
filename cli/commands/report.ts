import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { openStore } from '../../worker/store/open';
import { UsageError } from '../errors';
import { mergeSnapshots } from '../merge/merge';
import { RunReader } from '../merge/reader';
import { buildReport } from '../report/build';
import { emitReport } from '../report/output';
import { DEFAULT_STORE } from './run';

export function reportCommand(): Command {
  return new Command('report')
    .description("merge a run's snapshots from the store into its report again")
    .argument('<runId>', 'the run id printed by `loadfarm run`')
    .option('--store <url>', 'file://DIR or s3://BUCKET/PREFIX', DEFAULT_STORE)
    .option('--json', 'print report.json instead of the text report')
    .option('--out <dir>', 'also write report.json, report.txt and report.html here')
    .option('--open', 'open report.html in the browser')
    .action(async (runId: string, flags: { store: string; json?: boolean; out?: string; open?: boolean }) => {
      const store = await openStore(flags.store);
      const reader = new RunReader(store, runId);
      const plan = await reader.plan();
      if (!plan) {
        const runs = (await store.list(layout.runsPrefix)).filter((k) => k.endsWith('/plan.json')).map((k) => k.split('/')[1]);
        const hint = runs.length > 0 ? `; runs there: ${runs.slice(-5).join(', ')}` : '';
        throw new UsageError(`no run ${runId} in ${store.url}${hint}`);
      }
      await reader.refresh();
      const report = buildReport({ plan, merged: mergeSnapshots(reader.snapshots, plan.intervalMs), statuses: reader.statuses });
      await emitReport(report, { store, json: flags.json, outDir: flags.out, open: flags.open });
      process.exitCode = report.exitCode;
    });
}
