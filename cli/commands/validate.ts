import { Command } from 'commander';
import { UsageError } from '../errors';
import { mergeSnapshots } from '../merge/merge';
import { Problems, collect } from '../options';
import { DEFAULT_TIMEOUT_MS, DEFAULT_WINDOW_MS } from '../run/once-defaults';
import { formatDuration } from '../../worker/scenario/duration';
import { LIMITS } from '../../worker/scenario/limits';
import { prepareScenario } from '../scenario';
import { openLocalData } from '../data/local';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a scenario, then run one user once against the target (no farm)')
    .argument('<scenario>', 'scenario file (.ts or .js)')
    .option('--target <url>', "overrides the scenario's target")
    .option('--param <key=value>', 'a value the scenario reads as u.params.key (repeatable)', collect)
    .option('--no-run', 'only check the scenario; do not run a user')
    .option('--window <duration>', `the dry run's load: u.endsIn() counts it down from each journey's start`, formatDuration(DEFAULT_WINDOW_MS))
    .option('--timeout <duration>', 'a journey still running this long after its start is cut (never before the window plus the grace)', formatDuration(DEFAULT_TIMEOUT_MS))
    .action(async (file: string, flags: { target?: string; param?: string[]; run: boolean; window: string; timeout: string }) => {
      const p = new Problems();
      const params = p.params(flags.param);
      const windowMs = p.durationMs('--window', flags.window, 0, { ms: LIMITS.validateWindowMs, what: 'the longest dry-run window' }) ?? DEFAULT_WINDOW_MS;
      const timeoutMs = p.durationMs('--timeout', flags.timeout, 1, { ms: LIMITS.timeoutMs, what: 'the longest timeout' }) ?? DEFAULT_TIMEOUT_MS;
      if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
      const prepared = await prepareScenario(file, flags.target);
      // Data files are checked as `run` checks them, and the dry run draws from them.
      const data = await openLocalData(prepared.scenario, prepared.path);
      const out = process.stdout;
      out.write(`scenario ${prepared.scenario.name}: valid (target ${prepared.target})\n`);
      for (const line of data.warnings) out.write(`${line}\n`);
      if (!flags.run) return data.close();
      // The dry run's protocol clients (undici, ws, socket.io-client) load only for a dry run.
      const { onceBounds, runOnce } = await import('../run/once');
      const bounds = onceBounds(prepared.scenario, { windowMs, timeoutMs });
      out.write(
        `dry run: one user, each journey once; u.endsIn() counts down a ${formatDuration(bounds.windowMs)} window (--window); ` +
          `a journey still running ${formatDuration(bounds.cutMs)} after its start is cut (--timeout)\n`,
      );
      const once = await runOnce(prepared.scenario, prepared.target, params, { windowMs, timeoutMs, data: data.sets }).finally(() => data.close());
      const merged = mergeSnapshots([once.snapshot], 1000);
      for (const j of once.journeys) out.write(`  ${j.name}: ${j.error ? `FAILED: ${j.error}` : 'ok'}\n`);
      for (const [name, h] of merged.metrics) {
        if (!name.startsWith('loadfarm.')) out.write(`  ${name}: ${h.totalCount} × ${(h.mean / 1000).toFixed(2)} ms\n`);
      }
      for (const [code, n] of Object.entries({ ...merged.errors, ...merged.generatorErrors })) out.write(`  error ${code}: ${n}\n`);
      const failed = once.journeys.some((j) => j.error) || Object.keys(merged.errors).length > 0;
      out.write(failed ? 'one user: FAILED\n' : 'one user: ok\n');
      process.exitCode = failed ? 1 : 0;
    });
}
