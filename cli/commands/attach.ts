import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { getJson } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import { UsageError } from '../errors';
import { ObservedFleet } from '../fleet/observed';
import { emitReport } from '../report/output';
import { followRun, type FollowOptions, type Resume } from '../run/execute';
import { progressLine } from '../run/progress';
import { openWhere, whereFlagsText, whereOptions, whereOrThrow, type WhereFlags } from '../run/where';
import { liveLine } from '../terminal';
import type { Report } from '../report/types';
import type { Fleet } from '../fleet/fleet';
import type { AwsClients } from '../aws/clients';

interface AttachFlags extends WhereFlags {
  json?: boolean;
  out?: string;
  quiet?: boolean;
  skipUnstarted?: boolean;
}

export function attachCommand(): Command {
  return whereOptions(
    new Command('attach')
      .description(
        'follow a run started elsewhere (or before the CLI was closed or lost its credentials): starts the workers its CLI had not started yet, shows live progress, then the report',
      )
      .argument('<runId>', 'the run id printed by `loadfarm run`')
      .option('--skip-unstarted', 'do not start the workers the run had not started yet: the report marks them "never started"')
      .option('--json', 'print report.json instead of the text report')
      .option('--out <dir>', 'also write the report files here')
      .option('-q, --quiet', 'no live progress'),
  ).action(async (runId: string, flags: AttachFlags) => {
    whereOrThrow(flags);
    const { store, aws } = await openWhere(flags);
    const plan = await getJson<Plan>(store, layout.plan(runId));
    if (!plan) throw new UsageError(`no run ${runId} in ${store.url} (see \`loadfarm runs\`)`);
    const { readFleetRecord } = await import('../fleet/record');
    const record = await readFleetRecord(store, runId);
    let fleet: Fleet;
    let resume: Resume | undefined;
    let onSchedule: FollowOptions['onSchedule'];
    let made: AwsClients | undefined;
    if (record) {
      // A cloud run: its SSM commands are followed (and the schedule finished) from the region it ran in.
      const { reattachFleet } = await import('../run/cloud');
      let ssm = aws?.ssm;
      if (!ssm) {
        const { awsClients } = await import('../aws/clients');
        made = awsClients(record.region);
        ssm = made.ssm;
      }
      const r = (await reattachFleet(store, plan, ssm, { mode: flags.skipUnstarted ? 'skip' : 'finish' }))!;
      ({ fleet, resume, onSchedule } = r);
    } else {
      fleet = new ObservedFleet(store, runId);
    }
    const where = whereFlagsText(flags);
    const live = liveLine(!flags.quiet);
    const left = resume?.workers.filter((w) => w.start === 'not-started').length ?? 0;
    live.note(`attached to ${runId} (${plan.workers.length} worker(s) on ${fleet.name}); Ctrl-C stops the run, twice leaves`);
    if (left > 0) live.note(flags.skipUnstarted ? `${left} worker(s) were never started: the report says so` : `starting the ${left} worker(s) the run had not started yet, keeping their spacing`);
    const stop = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts === 1) {
        live.note('stopping: workers end their load and write their last snapshot (Ctrl-C again to leave now)');
        stop.abort();
      } else {
        live.note(`leaving now; workers stop by their own deadline. Later: loadfarm report ${runId}${where ? ` ${where}` : ''}`);
        process.exit(2);
      }
    };
    process.on('SIGINT', onSigint);
    let report: Report;
    try {
      report = await followRun({
        store,
        fleet,
        plan,
        resume,
        onSchedule,
        where,
        stopSignal: stop.signal,
        onNote: (line) => live.note(line),
        onProgress: (v) => live.update(progressLine(v)),
      });
    } finally {
      process.off('SIGINT', onSigint);
      live.done();
      for (const clients of [made, aws]) if (clients) (await import('../aws/clients')).closeClients(clients);
    }
    await emitReport(report, { store, json: flags.json, outDir: flags.out });
    process.exitCode = report.exitCode;
  });
}
