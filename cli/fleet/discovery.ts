/**
 * Discovery of an environment's workers: from its name to its facts (read by
 * cli/aws/environments.ts) and to the running instances that can run a worker (EC2 tag, SSM
 * reachability), and the choice of the instances a run uses.
 *
 * SDK clients are passed in; endpoints are never set here, so `AWS_ENDPOINT_URL_SSM` / `_EC2`
 * keep working.
 */
import { EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { paginateDescribeInstanceInformation, SSMClient } from '@aws-sdk/client-ssm';
import { ENV_TAG, type EnvFacts } from '../../infra/names';
import { requireEnvFacts } from '../aws/environments';
import { UsageError } from '../errors';
import { chunks, MAX_INSTANCES_PER_COMMAND } from './limits';

/** The clients discovery calls (a part of cli/aws/clients.ts's AwsClients). */
export interface AwsClients {
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
}

/** An instance of the environment that SSM cannot reach right now. */
export interface LostInstance {
  readonly instanceId: string;
  /** SSM's PingStatus (`ConnectionLost`, `Inactive`), or `NotRegistered` when SSM does not know the instance. */
  readonly pingStatus: string;
}

export interface WorkerDiscovery {
  readonly facts: EnvFacts;
  /** Running instances whose SSM agent is Online, sorted by id (stable across calls). */
  readonly online: readonly string[];
  /** Running instances SSM cannot reach, sorted by id. */
  readonly lost: readonly LostInstance[];
}

export interface DiscoverOptions {
  /**
   * Instance ids per DescribeInstanceInformation filter.
   * @default 50
   */
  readonly chunkSize?: number;
}

/** `pingStatus` of a running instance that SSM has no record of (agent never registered). */
export const NOT_REGISTERED = 'NotRegistered';

/**
 * Finds environment `env`: its facts (SSM parameters under `/loadfarm/<env>/`), its running
 * instances (EC2, tag `loadfarm:env=<env>`), and which of those SSM can reach (PingStatus).
 * @throws UsageError when the environment has no parameters (not deployed, or another region)
 *   or malformed ones
 */
export async function discoverWorkers(clients: AwsClients, env: string, options: DiscoverOptions = {}): Promise<WorkerDiscovery> {
  const facts = await requireEnvFacts(clients.ssm, env);
  const instanceIds = await runningInstances(clients.ec2, env);
  const pings = await pingStatuses(clients.ssm, instanceIds, options.chunkSize ?? MAX_INSTANCES_PER_COMMAND);
  const online: string[] = [];
  const lost: LostInstance[] = [];
  for (const instanceId of instanceIds) {
    const pingStatus = pings.get(instanceId) ?? NOT_REGISTERED;
    if (pingStatus === 'Online') online.push(instanceId);
    else lost.push({ instanceId, pingStatus });
  }
  return { facts, online, lost };
}

/** Ids of the running instances tagged `loadfarm:env=<env>`, sorted. */
async function runningInstances(ec2: EC2Client, env: string): Promise<string[]> {
  const ids: string[] = [];
  const pages = paginateDescribeInstances(
    { client: ec2, pageSize: 1000 },
    {
      Filters: [
        { Name: `tag:${ENV_TAG}`, Values: [env] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    },
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) if (instance.InstanceId) ids.push(instance.InstanceId);
    }
  }
  return [...new Set(ids)].sort();
}

/** PingStatus by instance id, for those SSM knows. */
async function pingStatuses(ssm: SSMClient, instanceIds: readonly string[], chunkSize: number): Promise<Map<string, string>> {
  const pings = new Map<string, string>();
  for (const chunk of chunks(instanceIds, Math.max(1, chunkSize))) {
    const pages = paginateDescribeInstanceInformation(
      { client: ssm, pageSize: MAX_INSTANCES_PER_COMMAND },
      { Filters: [{ Key: 'InstanceIds', Values: [...chunk] }] },
    );
    for await (const page of pages) {
      for (const info of page.InstanceInformationList ?? []) {
        if (info.InstanceId) pings.set(info.InstanceId, info.PingStatus ?? NOT_REGISTERED);
      }
    }
  }
  return pings;
}

export interface WorkerChoice {
  /** Instances to run workers on: worker i runs on `instances[i]`. */
  readonly instances: readonly string[];
  /** Lost instances left out (only with `excludeLost`). */
  readonly excluded: readonly LostInstance[];
  /** Lines the person should see before the run starts (instances left out, fewer than deployed). */
  readonly notes: readonly string[];
}

/** How many instance ids a one-line message names before "and N more". */
const NAMED_IN_MESSAGE = 5;

/**
 * Decides which instances a run uses. A lost instance refuses the run (one line naming the
 * instances) unless `excludeLost` (the `--exclude-lost` flag), which runs on the others.
 * @throws UsageError when instances are lost and not excluded, or when none is usable
 */
export function chooseWorkers(d: WorkerDiscovery, o: { readonly excludeLost: boolean }): WorkerChoice {
  const env = d.facts.env;
  if (d.online.length === 0 && d.lost.length === 0) {
    throw new UsageError(
      `environment "${env}" has no running worker instance (deployed with ${d.facts.workers}; ` +
        `it scales to zero at ${d.facts.expiresAt}): deploy it again to get workers`,
    );
  }
  if (d.lost.length > 0 && (!o.excludeLost || d.online.length === 0)) {
    const which = nameLost(d.lost);
    const count = d.lost.length === 1 ? '1 worker instance' : `${d.lost.length} worker instances`;
    const hint = d.online.length === 0 ? 'wait for them to come back, or deploy the environment again' : `wait and retry, or pass --exclude-lost to run on the other ${d.online.length}`;
    throw new UsageError(
      `${count} of environment "${env}" cannot be reached over SSM: ${which}; ${hint}`,
      d.lost.map((l) => `${l.instanceId}: ${describePing(l.pingStatus)}`),
    );
  }
  const notes: string[] = [];
  if (d.lost.length > 0) notes.push(`running without ${d.lost.length} unreachable instance(s): ${nameLost(d.lost)}`);
  const found = d.online.length + d.lost.length;
  if (found < d.facts.workers) notes.push(`environment "${env}" has ${found} running instance(s) of the ${d.facts.workers} it was deployed with`);
  return { instances: [...d.online], excluded: o.excludeLost ? [...d.lost] : [], notes };
}

function nameLost(lost: readonly LostInstance[]): string {
  const named = lost.slice(0, NAMED_IN_MESSAGE).map((l) => `${l.instanceId} (${describePing(l.pingStatus)})`);
  const rest = lost.length - named.length;
  return named.join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

function describePing(pingStatus: string): string {
  return pingStatus === NOT_REGISTERED ? 'not registered with SSM' : pingStatus;
}
