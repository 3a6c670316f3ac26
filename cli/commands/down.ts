import { Command } from 'commander';
import { DEFAULT_ENV_NAME } from '../../infra/names';
import type { DownOptions } from '../aws/down';
import { checkEnvAndRegion, interactive } from '../aws/flags';
import { stdOutput } from '../aws/output';
import { UsageError } from '../errors';
import { Problems } from '../options';

export interface DownFlags {
  env: string;
  region?: string;
  keepResults?: boolean;
  timeout: string;
  yes?: boolean;
}

export function downCommand(): Command {
  return new Command('down')
    .description("destroy an AWS environment and check, by its tag, that nothing of it is left")
    .option('--env <name>', 'environment name (stack loadfarm-<name>)', DEFAULT_ENV_NAME)
    .option('--region <region>', 'AWS region (default: AWS_REGION, else the profile\'s region)')
    .option('--keep-results', 'the results bucket is expected to stay (the environment must have been deployed with up --keep-results)')
    .option('--timeout <duration>', 'how long to wait for the stack deletion', '30m')
    .option('-y, --yes', 'destroy without asking (needed when stdin is not a terminal)')
    .addHelpText(
      'after',
      `
Whether the results bucket stays is fixed when the environment is deployed: \`loadfarm up --keep-results\`
gives it a Retain policy, and then down keeps it (and says so) with or without --keep-results. Without
it the bucket is emptied and deleted with the stack, and \`down --keep-results\` refuses before deleting
anything: copy the results first (aws s3 sync s3://BUCKET/ DIR), or deploy again with --keep-results.

After the stack is gone, down looks for anything still tagged loadfarm:env=<name> (tagging API, and EC2
for instances not terminated) and names it. The same deletion without loadfarm: npx cdk destroy -c env=NAME.

Exit codes: 0 nothing left but kept results · 1 no credentials or region, not confirmed, results would be
lost with --keep-results · 2 the deletion failed or something is left.`,
    )
    .action(async (flags: DownFlags) => {
      const options = parseDownFlags(flags);
      const { clientPool, sdkDefaultRegion } = await import('../aws/clients');
      const { tearDown } = await import('../aws/down');
      const { terminalConfirm } = await import('../aws/prompt');
      const pool = clientPool();
      try {
        process.exitCode = await tearDown(options, {
          clients: pool.make,
          defaultRegion: sdkDefaultRegion,
          interactive: interactive(),
          confirm: terminalConfirm(),
          out: stdOutput,
        });
      } finally {
        pool.close();
      }
    });
}

/** Checks every flag of `down`; @throws UsageError naming each bad flag. */
export function parseDownFlags(flags: DownFlags): DownOptions {
  const p = new Problems();
  checkEnvAndRegion(p, flags.env, flags.region);
  const timeoutMs = p.durationMs('--timeout', flags.timeout, 60_000);
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
  return {
    env: flags.env,
    region: flags.region,
    keepResults: flags.keepResults === true,
    yes: flags.yes === true,
    timeoutMs: timeoutMs!,
  };
}
