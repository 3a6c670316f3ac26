import * as path from 'node:path';
import { Command } from 'commander';
import { openStore, storeUrlProblem } from '../../worker/store/open';
import type { Store } from '../../worker/store/store';
import { checkEnvAndRegion } from '../aws/flags';
import { UsageError } from '../errors';
import { Problems } from '../options';
import { shellQuote } from '../fleet/fleet';
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
  const { requireEnvFacts } = await import('../aws/environments');
  const region = await resolveRegion(flags.region);
  const aws = awsClients(region);
  const facts = await firstCall(() => requireEnvFacts(aws.ssm, flags.env!));
  return { store: await openStore(`s3://${facts.bucket}`, { s3Endpoint: flags.s3Endpoint, s3Region: facts.region }), aws };
}

/** The flags that say where a run is kept, as a command line gives them (all optional). */
export interface StoreFlags {
  /** `--env NAME`: the environment's results bucket (wins over `store`). */
  env?: string;
  /** `--store URL`. @default DEFAULT_STORE */
  store?: string;
  /** `--region`, with `env`. @default the SDK's */
  region?: string;
  /** `--s3-endpoint URL`. */
  s3Endpoint?: string;
}

/**
 * The store that `{ env?, store?, region?, s3Endpoint? }` flags point at (for `loadfarm report
 * <id> --env NAME` and the like): with `env`, the environment's results bucket, read from its
 * facts (SSM parameters; the clients made for that are closed again); else `store`, or the
 * default store. Check the flags first (checkWhere).
 * @throws UsageError for an environment not found or credentials missing; StoreError for a store URL that cannot be used
 */
export async function storeFromFlags(flags: StoreFlags): Promise<Store> {
  const { store, aws } = await openWhere({ ...flags, store: flags.store ?? DEFAULT_STORE });
  if (aws) (await import('../aws/clients')).closeClients(aws);
  return store;
}

/**
 * The flags of a follow-up command that finds the same runs, shell-quoted, to print after
 * `loadfarm report <id>` or `loadfarm attach <id>`: `--env perf --region eu-west-1`
 * (`--s3-endpoint` too when one was given), `--store URL` for a store other than the default,
 * '' for the default store.
 */
export function whereFlagsText(flags: StoreFlags): string {
  const parts: string[] = [];
  if (flags.env !== undefined) {
    parts.push('--env', flags.env);
    if (flags.region) parts.push('--region', flags.region);
  } else if (flags.store !== undefined && !isDefaultStore(flags.store)) {
    parts.push('--store', flags.store);
  }
  if (flags.s3Endpoint) parts.push('--s3-endpoint', flags.s3Endpoint);
  return parts.length > 0 ? shellQuote(parts) : '';
}

/** True for the default store, however spelled (`file://.loadfarm`, or its absolute path from this directory). */
function isDefaultStore(url: string): boolean {
  return url === DEFAULT_STORE || url === `file://${path.resolve('.loadfarm')}`;
}

/** Checks the flags, all problems at once. */
export function whereOrThrow(flags: WhereFlags): void {
  const p = new Problems();
  checkWhere(p, flags);
  if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
}
