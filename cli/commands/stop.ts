import { Command } from 'commander';
import { layout } from '../../worker/store/layout';
import { getJson } from '../../worker/store/store';
import type { Plan } from '../../worker/plan/plan';
import { UsageError } from '../errors';
import { openWhere, whereFlagsText, whereOptions, whereOrThrow, type WhereFlags } from '../run/where';

export function stopCommand(): Command {
  return whereOptions(
    new Command('stop')
      .description("stop a run: its workers end their load, write their last snapshot and exit")
      .argument('<runId>', 'the run id printed by `loadfarm run`'),
  ).action(async (runId: string, flags: WhereFlags) => {
    whereOrThrow(flags);
    const { store } = await openWhere(flags);
    const plan = await getJson<Plan>(store, layout.plan(runId));
    if (!plan) throw new UsageError(`no run ${runId} in ${store.url} (see \`loadfarm runs\`)`);
    await store.put(layout.stop(runId), String(Date.now()));
    const where = whereFlagsText(flags);
    process.stdout.write(`stop marker written for ${runId}: its workers stop within a few seconds and give users in flight up to ${plan.graceMs / 1000} s; then \`loadfarm report ${runId}${where ? ` ${where}` : ''}\`\n`);
  });
}
