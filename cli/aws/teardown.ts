/**
 * Tearing an environment down and checking that nothing of it is left: CloudFormation
 * DeleteStack with a wait that shows the stack's events, then a look for anything still
 * tagged `loadfarm:env=<env>` (Resource Groups Tagging API) and for worker instances not
 * terminated (EC2, the source of truth for instances).
 */
import {
  type CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { type EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { type ResourceGroupsTaggingAPIClient, paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import { ENV_TAG } from '../../infra/names';
import { formatDuration } from '../../worker/scenario/duration';
import { type Clock, pollUntil, realClock } from './poll';

/** DeletionPolicy values under which CloudFormation leaves a resource in place when the stack goes. */
const RETAINING_POLICIES = new Set(['Retain', 'RetainExceptOnCreate']);

/**
 * Pure: whether every S3 bucket of a (JSON) template is kept when the stack is deleted.
 * `undefined` when the template has no bucket.
 */
export function bucketsRetained(templateBody: string): boolean | undefined {
  const template = JSON.parse(templateBody) as { Resources?: Record<string, { Type?: string; DeletionPolicy?: string }> };
  const buckets = Object.values(template.Resources ?? {}).filter((r) => r.Type === 'AWS::S3::Bucket');
  if (buckets.length === 0) return undefined;
  return buckets.every((b) => b.DeletionPolicy !== undefined && RETAINING_POLICIES.has(b.DeletionPolicy));
}

/** Whether the deployed stack keeps its results bucket on delete (it was deployed with keepResults). */
export async function resultsBucketRetained(cfn: CloudFormationClient, stackName: string): Promise<boolean> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }));
  return bucketsRetained(out.TemplateBody ?? '{}') ?? false;
}

export interface DeleteStackOptions {
  readonly timeoutMs: number;
  readonly onProgress?: (line: string) => void;
  readonly clock?: Clock;
  /** @default 5000 */
  readonly initialDelayMs?: number;
}

export type DeleteStackOutcome =
  | { readonly ok: true; readonly elapsedMs: number }
  | { readonly ok: false; readonly status: string; readonly message: string };

/**
 * Deletes `stack` and waits for DELETE_COMPLETE, reporting each new stack event. The stack is
 * followed by its id, which CloudFormation keeps answering for after the deletion.
 */
export async function deleteStack(
  cfn: CloudFormationClient,
  stack: Pick<Stack, 'StackName' | 'StackId'>,
  options: DeleteStackOptions,
): Promise<DeleteStackOutcome> {
  const clock = options.clock ?? realClock;
  const id = stack.StackId ?? stack.StackName!;
  const started = new Date(clock.now());
  await cfn.send(new DeleteStackCommand({ StackName: stack.StackName }));
  const seen = new Set<string>();
  const result = await pollUntil<Stack | undefined>({
    clock,
    timeoutMs: options.timeoutMs,
    initialDelayMs: options.initialDelayMs ?? 5000,
    maxDelayMs: 10_000,
    check: async () => {
      const events = await cfn.send(new DescribeStackEventsCommand({ StackName: id }));
      for (const e of [...(events.StackEvents ?? [])].reverse()) {
        if (!e.EventId || seen.has(e.EventId) || (e.Timestamp && e.Timestamp < started)) continue;
        seen.add(e.EventId);
        const reason = e.ResourceStatusReason ? `: ${e.ResourceStatusReason}` : '';
        options.onProgress?.(`${e.ResourceStatus} ${e.ResourceType} ${e.LogicalResourceId}${reason}`);
      }
      const out = await cfn.send(new DescribeStacksCommand({ StackName: id }));
      const current = out.Stacks?.[0];
      const status = current?.StackStatus;
      return { done: status === 'DELETE_COMPLETE' || status === 'DELETE_FAILED', value: current };
    },
  });
  if (!result.done) {
    const status = result.last?.StackStatus ?? 'unknown';
    return {
      ok: false,
      status,
      message: `stack ${stack.StackName} is still ${status} after ${formatDuration(options.timeoutMs)}: see its events in the CloudFormation console`,
    };
  }
  if (result.value?.StackStatus === 'DELETE_COMPLETE') return { ok: true, elapsedMs: result.elapsedMs };
  const reason = result.value?.StackStatusReason ?? 'no reason given';
  return { ok: false, status: 'DELETE_FAILED', message: `deleting stack ${stack.StackName} failed: ${reason}` };
}

/** An instance of the environment that is not terminated. */
export interface LiveInstance {
  readonly instanceId: string;
  readonly state: string;
}

export interface LeftoverInput {
  /** ARNs still tagged `loadfarm:env=<env>` according to the tagging API. */
  readonly taggedArns: readonly string[];
  /** Instances tagged with the environment and not terminated, according to EC2. */
  readonly liveInstances: readonly LiveInstance[];
  /**
   * The environment's S3 bucket (its results bucket, the only bucket it has) is meant to stay
   * (deployed with keepResults).
   */
  readonly keepBuckets: boolean;
}

export interface Leftovers {
  /** What should be gone and is not (ARNs, or `i-… (state)` for instances). */
  readonly leftover: readonly string[];
  /** What stays on purpose: ARNs of the results bucket kept with --keep-results. */
  readonly kept: readonly string[];
}

const INSTANCE_ARN = /^arn:[^:]+:ec2:[^:]*:[^:]*:instance\//;
/** `arn:aws:s3:::NAME`: a bucket (objects have a `/` after the name). */
const BUCKET_ARN = /^arn:[^:]+:s3:::[^/]+$/;

/**
 * Pure: sorts what is still there into leftovers and things kept on purpose. Instance ARNs
 * from the tagging API are ignored (it keeps listing terminated instances for a while):
 * EC2's own answer decides for instances.
 */
export function classifyLeftovers(input: LeftoverInput): Leftovers {
  const leftover: string[] = [];
  const kept: string[] = [];
  for (const arn of [...new Set(input.taggedArns)].sort()) {
    if (INSTANCE_ARN.test(arn)) continue;
    if (input.keepBuckets && BUCKET_ARN.test(arn)) kept.push(arn);
    else leftover.push(arn);
  }
  for (const i of [...input.liveInstances].sort((a, b) => a.instanceId.localeCompare(b.instanceId))) {
    leftover.push(`${i.instanceId} (${i.state})`);
  }
  return { leftover, kept };
}

/** ARNs of everything tagged `loadfarm:env=<env>` in the client's region. */
export async function taggedResources(tagging: ResourceGroupsTaggingAPIClient, env: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateGetResources({ client: tagging }, { TagFilters: [{ Key: ENV_TAG, Values: [env] }] })) {
    for (const r of page.ResourceTagMappingList ?? []) if (r.ResourceARN) arns.push(r.ResourceARN);
  }
  return arns;
}

/** Instances tagged `loadfarm:env=<env>` in any state but terminated. */
export async function liveInstances(ec2: EC2Client, env: string): Promise<LiveInstance[]> {
  const out: LiveInstance[] = [];
  const filters = [
    { Name: `tag:${ENV_TAG}`, Values: [env] },
    { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] },
  ];
  for await (const page of paginateDescribeInstances({ client: ec2 }, { Filters: filters })) {
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        if (i.InstanceId) out.push({ instanceId: i.InstanceId, state: i.State?.Name ?? 'unknown' });
      }
    }
  }
  return out;
}

export interface VerifyOptions {
  readonly env: string;
  /** See `LeftoverInput.keepBuckets`. */
  readonly keepBuckets: boolean;
  /**
   * The tagging API lags behind deletions: leftovers are looked for again until this passes.
   * @default 0 (one look)
   */
  readonly settleMs?: number;
  readonly clock?: Clock;
  /** @default 15000 */
  readonly initialDelayMs?: number;
}

/** Looks for what is left of environment `env` (again, while the tagging API settles). */
export async function verifyTeardown(
  clients: { readonly tagging: ResourceGroupsTaggingAPIClient; readonly ec2: EC2Client },
  options: VerifyOptions,
): Promise<Leftovers> {
  const result = await pollUntil<Leftovers>({
    clock: options.clock,
    timeoutMs: options.settleMs ?? 0,
    initialDelayMs: options.initialDelayMs ?? 15_000,
    maxDelayMs: 30_000,
    check: async () => {
      const [taggedArns, instances] = await Promise.all([
        taggedResources(clients.tagging, options.env),
        liveInstances(clients.ec2, options.env),
      ]);
      const value = classifyLeftovers({ taggedArns, liveInstances: instances, keepBuckets: options.keepBuckets });
      return { done: value.leftover.length === 0, value };
    },
  });
  return result.done ? result.value : result.last;
}
