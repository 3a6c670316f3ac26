import { Command } from 'commander';
import { openStore, storeUrlProblem } from '../../worker/store/open';
import type { Store } from '../../worker/store/store';
import { checkEnvAndRegion } from '../aws/flags';
import { UsageError } from '../errors';
import { Problems } from '../options';
import type { AwsClients } from '../aws/clients';

/** Where runs are kept: a store URL, or an AWS environment whose results bucket is the store. */
export interface WhereFlags {
  store: string;
  env?: string;
  region?: string;
  s3Endpoint?: string;
}

export const DEFAULT_STORE = 'file://.loadfarm';

/** Adds --store, --env, --region and --s3-endpoint to a command. */
export function whereOptions(cmd: Command): Command {
  return cmd
    .option('--store <url>', 'where runs are kept: file://DIR or s3://BUCKET/PREFIX', DEFAULT_STORE)
    .option('--env <name>', "an AWS environment made by `loadfarm up`: its results bucket is the store")
    .option('--region <region>', 'AWS region of the environment (default: the SDK\'s, e.g. AWS_REGION)')
    .option('--s3-endpoint <url>', 'an S3-compatible endpoint for the store (AWS_ENDPOINT_URL_S3 works too)');
}

/** Collects the problems of these flags into `p` (nothing is called yet). */
export function checkWhere(p: Problems, flags: WhereFlags): void {
  if (flags.env !== undefined) checkEnvAndRegion(p, flags.env, flags.region);
  const problem = storeUrlProblem(flags.store);
  if (problem) p.add('--store', problem, flags.store);
}

/** Opens the store; with --env, looks the environment's bucket up first (the AWS calls start here). */
export async function openWhere(flags: WhereFlags): Promise<{ store: Store; aws?: AwsClients }> {
  if (flags.env === undefined) return { store: await openStore(flags.store, { s3Endpoint: flags.s3Endpoint }) };
  const { awsClients, resolveRegion, firstCall } = await import('../aws/clients');
  const { readEnvFacts } = await import('../fleet/ssm');
  const region = await resolveRegion(flags.region);
  const aws = awsClients(region);
  const facts = await firstCall(() => readEnvFacts(aws.ssm, flags.env!));
  return { store: await openStore(`s3://${facts.bucket}`, { s3Endpoint: flags.s3Endpoint }), aws };
}

/** Checks the flags, all problems at once. */
export function whereOrThrow(flags: WhereFlags): void {
  const p = new Problems();
  checkWhere(p, flags);
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
}
