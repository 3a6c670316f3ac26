import { Command } from 'commander';
import { regionFlagProblem } from '../aws/flags';
import { stdOutput } from '../aws/output';
import { UsageError } from '../errors';

export function envsCommand(): Command {
  return new Command('envs')
    .description('list the AWS environments of a region: status, workers in service, instance type, time left')
    .option('--region <region>', 'AWS region (default: AWS_REGION, else the profile\'s region)')
    .option('--json', 'print the list as JSON')
    .action(async (flags: { region?: string; json?: boolean }) => {
      const regionProblem = regionFlagProblem(flags.region);
      if (regionProblem) throw new UsageError(regionProblem);
      const { clientPool, sdkDefaultRegion } = await import('../aws/clients');
      const { listEnvs } = await import('../aws/envs');
      const pool = clientPool();
      try {
        process.exitCode = await listEnvs(
          { region: flags.region, json: flags.json === true },
          { clients: pool.make, defaultRegion: sdkDefaultRegion, out: stdOutput, now: () => new Date() },
        );
      } finally {
        pool.close();
      }
    });
}
